"""The app makes the collector's full passes while nobody types (background.collect_in_pauses):
a pass landing in a screen's opening made the KPI pane take 106 ms instead of 80."""

from __future__ import annotations

import time

import pytest
from tests.tui.drive import until

from repdesk import background
from repdesk.tui.app import RepdeskApp


async def test_the_app_collects_only_after_a_second_without_keys(
    app: RepdeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []
    monkeypatch.setattr(background, "collect_if_due", lambda: calls.append(1.0) or False)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.warmed.is_set() and not app.keys_held())
        await pilot.press("j")  # a key: the next tick does not collect
        calls.clear()
        app.check_for_changes()
        assert calls == []
        monkeypatch.setattr(app, "_last_input", time.monotonic() - 2)
        app.check_for_changes()
        assert calls == [1.0]
