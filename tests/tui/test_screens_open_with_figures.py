"""A screen's key starts its read (DeskScreen.read_early): the KPI pane, the playbook, the deal
page and the queues' first rows are in the screen's first frame, laid out and drawn once,
when the read is in by the time the screen mounts; else (a server, a big desk) the screen
draws without them and its worker shows them when they come."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from tests.tui.drive import until
from textual.pilot import Pilot

from repdesk.tui.app import RepdeskApp
from repdesk.tui.screens import base
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.followups import FollowUpsScreen
from repdesk.tui.screens.kpi import KpiScreen
from repdesk.tui.screens.playbook import PlaybookScreen
from repdesk.tui.widgets.queue_list import QueueList

SIZE = (140, 40)

# (key, screen, what shows that its figures are in)
SCREENS: list[tuple[str, type[Any], Any]] = [
    ("3", KpiScreen, lambda screen: screen.pane is not None),
    ("4", PlaybookScreen, lambda screen: screen.data is not None),
    ("enter", DealScreen, lambda screen: screen.page is not None),
    ("2", FollowUpsScreen, lambda screen: bool(screen.query_one(QueueList).lines)),
]


def _count_worker_reads(monkeypatch: pytest.MonkeyPatch, screen: type[Any]) -> list[str]:
    """The reads a screen's worker collects (`first_read`), recorded by screen class."""
    reads: list[str] = []
    original = base.DeskScreen.first_read

    async def first_read(self: Any, fn: Any, **how: Any) -> Any:
        reads.append(type(self).__name__)
        return await original(self, fn, **how)

    monkeypatch.setattr(base.DeskScreen, "first_read", first_read)
    return reads


async def _open(pilot: Pilot[Any], key: str, screen: type[Any], ready: Any) -> Any:
    app = pilot.app
    await until(pilot, lambda: app.board.loaded and app.warmed.is_set())
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, screen) and ready(app.screen))
    return app.screen


@pytest.mark.parametrize(("key", "screen", "ready"), SCREENS, ids=[s[1].__name__ for s in SCREENS])
async def test_the_figures_come_with_the_screen(
    app: RepdeskApp, monkeypatch: pytest.MonkeyPatch, key: str, screen: type[Any], ready: Any
) -> None:
    mounted_with_figures: list[bool] = []
    original = screen.on_mount

    def on_mount(self: Any) -> None:
        original(self)
        # Right after the screen's own on_mount, before its first frame.
        mounted_with_figures.append(bool(ready(self)))

    monkeypatch.setattr(screen, "on_mount", on_mount)
    reads = _count_worker_reads(monkeypatch, screen)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, key, screen, ready)
        assert mounted_with_figures[:1] == [True]
        assert screen.__name__ not in reads  # no read after the first frame for them


@pytest.mark.parametrize(("key", "screen", "ready"), SCREENS, ids=[s[1].__name__ for s in SCREENS])
async def test_a_slow_read_comes_after_the_screen(
    app: RepdeskApp, monkeypatch: pytest.MonkeyPatch, key: str, screen: type[Any], ready: Any
) -> None:
    """Past the wait, the screen is drawn without its figures, and they follow."""
    monkeypatch.setattr(base, "EARLY_WAIT_SECONDS", 0.0)
    held = threading.Event()
    original = app.desk.report_now, app.desk.read_now

    def slow(call: Any) -> Any:
        def run(fn: Any) -> Any:
            if threading.current_thread().name == "repdesk-read":
                held.wait(10)  # the key's own read: slower than the screen
            return call(fn)

        return run

    reads = _count_worker_reads(monkeypatch, screen)
    monkeypatch.setattr(app, "read_ahead", lambda: None)  # no KPI pane read before the key
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded and app.warmed.is_set())
        monkeypatch.setattr(app.desk, "report_now", slow(original[0]))
        monkeypatch.setattr(app.desk, "read_now", slow(original[1]))
        await pilot.press(key)
        await until(pilot, lambda: isinstance(app.screen, screen))
        started = time.monotonic()
        await pilot.pause(0.1)
        assert not ready(app.screen)  # drawn without them, not waiting for the read
        held.set()
        await until(pilot, lambda: ready(app.screen))
        assert time.monotonic() - started < 10
        assert screen.__name__ in reads  # the worker collected the key's read
