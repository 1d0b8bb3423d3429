"""Results that arrive late (issue 22): a save still under way when esc is pressed, a read for a
screen that is going away or not composed yet. None of them may stop the app or pop a screen
the rep did not leave."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from tests.tui.drive import db, until
from textual.widgets import Static

from repdesk.tui.app import RepdeskApp
from repdesk.tui.forms import FormScreen
from repdesk.tui.lifecycle import can_show
from repdesk.tui.screens.board import BoardScreen

SIZE = (120, 36)


def hold_writes(app: RepdeskApp) -> asyncio.Event:
    """Every write of the app waits for the returned event (a slow disk, a busy machine)."""
    release = asyncio.Event()
    write = app.desk.write

    async def held(fn: Any) -> Any:
        await release.wait()
        return await write(fn)

    app.desk.write = held  # type: ignore[method-assign]
    return release


async def test_esc_while_a_call_is_saving_keeps_the_board_and_the_call(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded)
        await pilot.press("l", "l", "l", "l", "c")  # Proposal: Fleet tracking rollout
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        calls = "SELECT COUNT(*) FROM activity WHERE kind = 'call'"
        (before,) = db(home, calls)
        await pilot.press(*"connected")
        release = hold_writes(app)
        # Enter saves in the form's own task (Input.Submitted) while esc runs in the app's: a
        # task of its own here, so that Pilot does not wait for the held save to go idle.
        saving = asyncio.create_task(form.action_save())
        await until(pilot, lambda: form.saving)
        await pilot.press("escape")  # too late to cancel: the write is on its way
        assert app.screen is form
        release.set()
        await saving
        await until(pilot, lambda: app.screen is app.board)
        await pilot.pause()
        # One dismiss, not two: the board is still there, and the call is logged once.
        assert isinstance(app.screen, BoardScreen) and app._exception is None
        assert db(home, calls) == [(before[0] + 1,)]


async def test_a_result_for_a_widget_being_removed_is_not_shown(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded)
        # A widget of its own: the board's status line, removed, was still looked for by a
        # reload landing late under load (scripts/under-load), which stopped the app.
        status = Static("a result goes here")
        await app.board.mount(status)
        assert can_show(status)
        removal = status.remove()
        # Still attached while Textual removes it: the old check (is_attached) said "show".
        assert status.is_attached and not can_show(status)
        await removal
        assert not can_show(status)


async def test_a_change_seen_while_a_screen_is_being_pushed_reads_once_it_is_composed(
    app: RepdeskApp,
) -> None:
    from repdesk.tui.screens.kpi import KpiScreen

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded)
        app.desk.changed_elsewhere = lambda: True  # type: ignore[method-assign]
        screen = KpiScreen()
        app.push_screen(screen)
        app.check_for_changes()  # the one-second watch fires before the pane is composed
        await until(pilot, lambda: screen.pane is not None)
        await pilot.pause()
        assert app._exception is None
        assert "as of" in str(screen.query_one("#kpi-period", Static).render())


async def test_a_reload_cancelled_while_it_lays_out_the_columns_is_redone_by_the_next(
    app: RepdeskApp, home: Path
) -> None:
    """Undo on the stages screen reloads the board, and esc reloads it again: the second read
    cancelled the first while it was mounting the renamed columns, and the board kept the old
    names until the next change (CI, under load)."""
    async with app.run_test(size=SIZE) as pilot:
        board = app.board
        await until(pilot, lambda: board.loaded)
        mount = board._mount_columns
        held = asyncio.Event()

        async def hang_first_then_mount() -> None:
            board._mount_columns = mount  # type: ignore[method-assign]
            held.set()
            await asyncio.Event().wait()  # cancelled by the next reload

        board._mount_columns = hang_first_then_mount  # type: ignore[method-assign]
        conn = sqlite3.connect(home / "desk.sqlite")
        with conn:
            conn.execute("UPDATE stage SET name = 'Live demo' WHERE id = 4")
        conn.close()
        board.reload()
        await until(pilot, lambda: held.is_set())
        board.reload()
        await until(pilot, lambda: "Live demo" in [b.stage_name for b in board.columns()])
        assert app._exception is None


async def test_a_read_ahead_asked_for_as_the_app_quits_does_nothing(app: RepdeskApp) -> None:
    """(Found under scripts/under-load.) The start's last steps ask for the reads ahead (the
    warm-up's end, the board's first full read); when the app was quitting by then, its screens
    were gone and the ask stopped it with "unexpected error: ScreenStackError"."""
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded and not app.keys_held())
        stacks = app._screen_stacks
        app._screen_stacks = {mode: [] for mode in stacks}  # as at the end of a quit
        try:
            app.read_ahead()  # no screen on the stack: nothing to do, nothing raised
        finally:
            app._screen_stacks = stacks


async def test_the_end_of_the_warm_up_as_the_app_quits_stops_nothing(app: RepdeskApp) -> None:
    """(Found under scripts/under-load.) The warm-up ends in a worker of the app, which can
    run while a quit is removing the screens: the board's filter field went looking for the
    footer to go above, and the quit ended in "unexpected error: NoMatches"."""
    from textual.widgets import Input

    from repdesk.tui.widgets.footer import RepdeskFooter

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded and not app.keys_held())
        board = app.board
        await board.query_one("#filter", Input).remove()
        await board.query_one(RepdeskFooter).remove()  # as a quit's removal leaves the board
        board._pruning = True
        try:
            await app.warmed_up()  # nothing to do, nothing raised
        finally:
            board._pruning = False
        assert not board.query("#filter")


def test_terminal_input_that_is_not_utf8_reads_as_a_replacement_character() -> None:
    """Found by a hostile test: one byte that is not UTF-8 (an 8-bit Alt key, a Latin-1 paste)
    ended the app with a raw traceback from Textual's driver, losing the notes being edited."""
    from textual.drivers import linux_driver

    from repdesk.tui.app import lenient_terminal_input

    lenient_terminal_input()
    decode = linux_driver.getincrementaldecoder("utf-8")().decode
    assert decode(b"A\x9bB\xc3") + decode(b"\xa9", final=True) == "A\ufffdB\u00e9"
