"""Quitting while a form is still being put together ends quietly (the new-deal form's stage
Select looked, as it mounted, for its list that the quit had already removed: "unexpected
error: NoMatches", seen under load)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.tui.drive import burst, on_board

from repdesk.tui.app import RepdeskApp


@pytest.mark.parametrize("pause_turns", [0, 1, 2, 3])
async def test_a_quit_right_after_n_ends_quietly(
    app: RepdeskApp, home: Path, pause_turns: int
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await on_board(pilot)
        await burst(pilot, "n")
        for _ in range(pause_turns):
            await pilot.pause(0)
        app.exit()
    assert not (home / "logs" / "crash.log").exists()
