"""The kept reads and the KPI pane read ahead (tui/gateway.py, screens/kpi.py) under the writes a
working day brings, from the app and from the shell: the pane and the quota strip never show
figures a write has made stale; each case agrees with `repdesk kpi --json`."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.conftest import cli_env
from tests.tui.drive import db, until
from tests.tui.test_kpi_screen import kpi_json
from textual.pilot import Pilot

from repdesk.core.dates import parse_period
from repdesk.tui.app import RepdeskApp
from repdesk.tui.screens.kpi import KpiScreen, kept_as

SIZE = (130, 50)
NOVEMBER = parse_period("2026-11")


def shell(home: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "repdesk", *args], env=cli_env(home),
                   capture_output=True, check=True)  # fmt: skip


async def agrees_with_the_command(pilot: Pilot[Any], home: Path) -> KpiScreen:
    """Open the pane (3): its figures are `repdesk kpi --period 2026-11 --json`'s."""
    screen = await open_kpis(pilot)
    assert screen.pane is not None
    assert screen.pane.kpis.to_json() == kpi_json(home, "2026-11")
    return screen


async def warmed(pilot: Pilot[Any]) -> RepdeskApp:
    app = pilot.app
    assert isinstance(app, RepdeskApp)
    await until(pilot, lambda: app.board.loaded and app.warmed.is_set())
    await until(pilot, lambda: app.desk.kept(kept_as(NOVEMBER)) is not None)
    return app


async def open_kpis(pilot: Pilot[Any]) -> KpiScreen:
    app = pilot.app
    await pilot.press("3")
    await until(pilot, lambda: isinstance(app.screen, KpiScreen) and app.screen.pane is not None)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, KpiScreen)
    return screen


async def test_a_lost_deal_from_the_shell_right_before_3_is_in_the_pane(
    app: RepdeskApp, home: Path
) -> None:
    """`repdesk deal lost` in a shell, then 3 at once: the pane's lost count, win rate and
    lessons must include it."""
    async with app.run_test(size=SIZE) as pilot:
        await warmed(pilot)
        shell(home, "deal", "lost", "Cold lead", "--reason", "timing", "--competitor", "Rival")
        await agrees_with_the_command(pilot, home)


async def test_undo_then_3_shows_the_figures_without_the_undone_win(
    app: RepdeskApp, home: Path
) -> None:
    """Win a deal on the board (w), undo it (u), press 3: the pane must not count the win."""
    async with app.run_test(size=SIZE) as pilot:
        await warmed(pilot)
        before = kpi_json(home, "2026-11")
        await pilot.press("l", "l", "l", "l", "l")  # Negotiation: 40 seats renewal
        await pilot.press("w")
        from repdesk.tui.forms import ConfirmScreen, FormScreen

        await until(pilot, lambda: isinstance(app.screen, FormScreen | ConfirmScreen))
        await pilot.press("enter")
        await until(pilot, lambda: db(home, "SELECT count(*) FROM deal WHERE status='won'")
                    != [(1,)])  # fmt: skip
        await until(pilot, lambda: app.screen is app.board)
        screen = await agrees_with_the_command(pilot, home)
        assert screen.pane is not None
        assert screen.pane.kpis.won_count == before["won_count"] + 1
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.board)
        await pilot.press("u")
        await until(pilot, lambda: kpi_json(home, "2026-11") == before)
        screen = await open_kpis(pilot)
        assert screen.pane is not None
        assert screen.pane.kpis.to_json() == before


async def test_period_keys_after_a_shell_write_show_fresh_figures(
    app: RepdeskApp, home: Path
) -> None:
    """On the pane: p (quarter), 0, m, then a win from the shell, then p and m again: each
    period shown matches `repdesk kpi --period` for it."""
    async with app.run_test(size=SIZE) as pilot:
        await warmed(pilot)
        screen = await open_kpis(pilot)
        for key in ("p", "m"):
            before = screen.pane
            await pilot.press(key)
            await until(pilot, lambda before=before: screen.pane is not before)
        shell(home, "deal", "won", "40 seats renewal")
        for key, period in (("p", "2026-Q4"), ("p", "2026"), ("m", "2026-11")):
            before = screen.pane
            await pilot.press(key)
            await until(pilot, lambda before=before: screen.pane is not before)
            await until(
                pilot,
                lambda period=period: (
                    screen.pane is not None and screen.pane.kpis.to_json() == kpi_json(home, period)
                ),
                timeout=10,
            )


async def test_a_write_during_the_read_ahead_is_not_lost(
    app: RepdeskApp, home: Path, monkeypatch: Any
) -> None:
    """The read ahead reads, then a win lands from the shell before it stores its figures:
    3 must show the win."""
    import repdesk.tui.screens.kpi as kpi

    original = kpi.load_pane
    gate = threading.Event()
    done = threading.Event()

    def slow(conn: Any, period: Any, settings: Any) -> Any:
        pane = original(conn, period, settings)
        if threading.current_thread().name == "repdesk-prepare" and not gate.is_set():
            gate.set()
            done.wait(20)
        return pane

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded and app.warmed.is_set())
        await until(pilot, lambda: app.desk.kept(kept_as(NOVEMBER)) is not None)
        app.desk.write_now(lambda session: None)  # stale: the next tick reads ahead again
        monkeypatch.setattr(kpi, "load_pane", slow)
        await until(pilot, gate.is_set)
        shell(home, "deal", "won", "40 seats renewal")
        done.set()
        await until(pilot, lambda: not app.desk._preparing)
        await agrees_with_the_command(pilot, home)


async def test_many_quick_shell_writes_and_3_agree_with_the_command(
    app: RepdeskApp, home: Path
) -> None:
    """Several writes in a row from the shell, 3 after each: the pane always agrees."""
    async with app.run_test(size=SIZE) as pilot:
        await warmed(pilot)
        for title in ("40 seats renewal", "Warehouse pilot", "Route planning"):
            shell(home, "deal", "won", title)
            await agrees_with_the_command(pilot, home)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.board)


async def test_quitting_during_a_read_ahead_leaves_no_crash(
    app: RepdeskApp, home: Path, monkeypatch: Any
) -> None:
    """q while the pane is being read ahead (slow desk): the app ends cleanly, no crash log."""
    import repdesk.tui.screens.kpi as kpi

    original = kpi.load_pane
    started = threading.Event()

    def slow(conn: Any, period: Any, settings: Any) -> Any:
        started.set()
        time.sleep(1.5)
        return original(conn, period, settings)

    monkeypatch.setattr(kpi, "load_pane", slow)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded and app.warmed.is_set())
        await until(pilot, started.is_set)
        await pilot.press("q")
    time.sleep(2)
    assert app.return_code in (0, None)
    assert not (home / "logs" / "crash.log").exists()
    assert not list(home.rglob("crash.log"))
