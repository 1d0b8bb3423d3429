"""The app keeps what the rep typed when a save fails, and survives any terminal size
(issue 7, items 6 and 10). tests/tui/test_board.py resizes the board to 20x8 and up; here every
screen and form goes down to 1x1 and back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from tests.reliability.helpers import fill, health, rows, table_checksums, tmpfs
from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import until
from tests.tui.test_board import form_open, ready
from textual.pilot import Pilot
from textual.widgets import Static

from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.forms import ConfirmScreen, FormScreen
from repdesk.tui.screens.board import BoardScreen
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.followups import FollowUpsScreen
from repdesk.tui.screens.playbook import PlaybookScreen
from repdesk.tui.widgets.playbook import ObjectionFormScreen

SIZE = (140, 40)
TINY = [(1, 1), (10, 5), (20, 8)]
NOTES = "Asked about the fleet size; wants a pilot first.\n" * 2_000  # ~100 KB


# ---------------------------------------------------------------- a failed save keeps the form


@contextmanager
def refused_by_sqlite(app: RepdeskApp, pragma: str) -> Iterator[None]:
    """Every connection the app opens from now on gets `pragma` (SQLite refuses the write as
    a read-only file or a full disk would); taken away on exit."""

    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.execute(pragma)

    event.listen(app.desk.engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(app.desk.engine, "connect", on_connect)


@contextmanager
def full_tmpfs(point: Path) -> Iterator[None]:
    # The app holds its watch connection open, so the WAL stays: empty it first, or the
    # write would reuse its old frames and need no new space.
    with sqlite3.connect(point / "home" / "desk.sqlite") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = fill(point)
    try:
        yield
    finally:
        filler.unlink()


async def _save_fails_then_succeeds(
    app: RepdeskApp, desk: Path, failing: Callable[[], Any], words: str
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "c")  # Proposal: Fleet tracking rollout
        form = await form_open(pilot)
        assert isinstance(form, FormScreen)
        await pilot.press(*"co", "right")  # typed, and completed from the outcomes
        form.query_one("#field-next").value = "mon 10:00"  # type: ignore[attr-defined]
        form.query_one("#field-next_note").value = "send the quote"  # type: ignore[attr-defined]
        form.query_one("#field-notes").load_text(NOTES)  # type: ignore[attr-defined]
        typed = form.raw_values()
        assert typed["outcome"] == "connected" and typed["notes"] == NOTES
        before = table_checksums(desk)
        with failing():
            await pilot.press("ctrl+s")
            error = form.query_one("#form-error", Static)
            await until(pilot, lambda: "Not saved" in str(error.render()))
            assert words in str(error.render())
            assert "Your input is kept" in str(error.render())
            assert app.screen is form
            assert form.raw_values() == typed
            assert table_checksums(desk) == before
        await pilot.press("ctrl+s")  # the disk has room again: the same form saves
        await until(pilot, lambda: app.screen is not form)
    # All of it, but the enter after the last word (tests/tui/test_board.py says why).
    saved = NOTES.rstrip()
    assert rows(desk, "SELECT count(*) FROM activity WHERE text = ?", saved) == [(1,)]
    assert rows(desk, "SELECT note FROM follow_up WHERE done_at IS NULL AND deal_id = 1") == [
        ("send the quote",)
    ]
    assert health(desk) == ("ok", [])


@pytest.mark.parametrize(
    ("pragma", "words"),
    [("PRAGMA query_only = ON", "readonly"), ("PRAGMA max_page_count = {pages}", "full")],
    ids=["read-only (simulated in SQLite)", "full disk (simulated in SQLite)"],
)
async def test_a_form_whose_save_is_refused_keeps_everything_typed(
    home: Path, pragma: str, words: str
) -> None:
    desk_home = build_small_desk(home)
    desk = home / "desk.sqlite"
    pages = rows(desk, "PRAGMA page_count")[0][0]
    app = create_app(desk_home, settings())
    await _save_fails_then_succeeds(
        app, desk, lambda: refused_by_sqlite(app, pragma.format(pages=pages)), words
    )


@pytest.mark.slow
async def test_a_form_saved_onto_a_really_full_disk_keeps_everything_typed(tmp_path: Path) -> None:
    with tmpfs(tmp_path, 1536) as point:
        home = point / "home"
        home.mkdir()
        app = create_app(build_small_desk(home), settings())
        await _save_fails_then_succeeds(
            app, home / "desk.sqlite", lambda: full_tmpfs(point), "full"
        )


# ---------------------------------------------------------------- tiny terminals


async def squeeze(pilot: Pilot[int], *keys: str) -> None:
    """Down to tiny sizes and back, pressing harmless keys at each, on the current screen."""
    screen = pilot.app.screen
    for size in TINY:
        await pilot.resize_terminal(*size)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        assert pilot.app.screen is screen
    await pilot.resize_terminal(*SIZE)
    await pilot.pause()
    assert pilot.app.screen is screen


async def open_form(pilot: Pilot[int], key: str, kind: type) -> None:
    await pilot.press(key)
    form = await form_open(pilot)
    assert isinstance(form, kind), form
    await squeeze(pilot)
    await pilot.press("escape")
    await until(pilot, lambda: not isinstance(pilot.app.screen, FormScreen | ConfirmScreen))


@pytest.mark.slow
async def test_the_board_and_its_forms_survive_tiny_terminals(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l", "l", "l", "l")
        await squeeze(pilot, "j", "k")
        for key, kind in (("c", FormScreen), ("n", FormScreen), ("w", ConfirmScreen)):
            await open_form(pilot, key, kind)
        assert isinstance(app.screen, BoardScreen) and board.selected() is not None


@pytest.mark.slow
async def test_the_deal_page_and_its_forms_survive_tiny_terminals(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        await squeeze(pilot, "down", "up")
        await open_form(pilot, "a", ObjectionFormScreen)  # the playbook beside the form
        assert isinstance(app.screen, DealScreen)


@pytest.mark.slow
async def test_the_queues_and_the_playbook_survive_tiny_terminals(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen) and app.screen.loaded)
        await squeeze(pilot, "j", "k")
        await open_form(pilot, "space", FormScreen)
        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, PlaybookScreen) and app.screen.data)
        await squeeze(pilot, "down")
        await pilot.press("question_mark")  # the help screen, squeezed too
        await squeeze(pilot)
        await pilot.press("escape", "1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))


@pytest.mark.slow
async def test_the_weekly_review_and_the_forecast_forms_survive_tiny_terminals(
    app: RepdeskApp,
) -> None:
    from repdesk.tui.screens.review import ReviewScreen

    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l")
        await open_form(pilot, "F", FormScreen)  # the forecast call
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.page)
        await squeeze(pilot, "down", "up", "left_square_bracket", "0")
        await open_form(pilot, "C", FormScreen)  # a commitment
        assert isinstance(app.screen, ReviewScreen)
