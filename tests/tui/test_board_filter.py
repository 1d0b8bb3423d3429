"""Hostile tests of the board's filter (`/`, escape): keys right after escape act on the board."""

from __future__ import annotations

from typing import Any

import pytest
from tests.tui.drive import burst, on_board, until
from textual.widgets import Input

from repdesk.tui.app import RepdeskApp
from repdesk.tui.forms import FormScreen
from repdesk.tui.screens.board import BoardScreen

SIZE = (140, 40)


def field(board: BoardScreen) -> Input:
    return board.query_one("#filter", Input)


def at(board: BoardScreen) -> tuple[str | None, str | None]:
    column = board.current_column()
    card = board.selected()
    return (column.stage_name if column else None, card.title if card else None)


async def settled(pilot: Any) -> None:
    """Every key sent is handled: none queued for the app, waiting or under way. (A burst's
    keys reach the app's queue first: its last key may not have been read yet.)"""
    app = pilot.app

    def quiet() -> bool:
        return app._message_queue.empty() and not app._waiting_keys and not app._key_in_flight

    await until(pilot, quiet)
    await pilot.pause()
    await until(pilot, quiet)


async def test_escape_then_l_and_j_move_on_the_board(app: RepdeskApp) -> None:
    """/nordwind, escape, l, j in one burst: the cursor moves, the field stays empty."""
    async with app.run_test(size=SIZE) as pilot:
        board = await on_board(pilot)
        stages = [column.stage_name for column in board.columns()]
        two_on = stages[min(stages.index(at(board)[0]) + 2, len(stages) - 1)]
        await burst(pilot, "slash", *"nordwind", "escape", "l", "l")
        await until(pilot, lambda: at(board)[0] == two_on)  # both l's moved the cursor
        await settled(pilot)
        assert field(board).value == ""
        assert not field(board).display
        assert board.needle == ""


async def test_filter_with_no_match_then_escape_then_enter_opens_a_deal(app: RepdeskApp) -> None:
    """A filter that hides every card, escape, enter: the first card's page opens."""
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await burst(pilot, "slash", *"zzzz", "escape", "enter")
        await until(pilot, lambda: getattr(app.screen, "page", None) is not None)


async def test_filter_enter_escape_then_n_opens_the_new_deal_form(app: RepdeskApp) -> None:
    """/acme, enter (keeps the filter, back to the column), escape, n: the form opens and
    nothing was typed in the hidden field."""
    async with app.run_test(size=SIZE) as pilot:
        board = await on_board(pilot)
        await burst(pilot, "slash", *"acme", "enter", "escape", "n")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        assert field(board).value == ""
        assert board.needle == ""


async def test_escape_twice_and_on_an_empty_filter_keeps_the_keys_on_the_board(
    app: RepdeskApp,
) -> None:
    """/, escape, escape, l, /, escape, l: two columns on, no letter in the field."""
    async with app.run_test(size=SIZE) as pilot:
        board = await on_board(pilot)
        stages = [column.stage_name for column in board.columns()]
        await burst(pilot, "slash", "escape", "escape", "l", "slash", "escape", "l")
        await until(pilot, lambda: at(board)[0] == stages[2])
        await settled(pilot)
        assert field(board).value == ""


async def test_escape_then_slash_types_afresh(app: RepdeskApp) -> None:
    """/acme escape /nord: the field holds "nord" only and the board filters on it."""
    async with app.run_test(size=SIZE) as pilot:
        board = await on_board(pilot)
        await burst(pilot, "slash", *"acme", "escape", "slash", *"nordwind")
        # The field comes with the warm-up, which the keys wait for (RepdeskApp.keys_held).
        await until(pilot, lambda: not app.keys_held())
        await until(pilot, lambda: len(field(board).value) >= len("nordwind"))
        await settled(pilot)
        assert field(board).value == "nordwind"
        assert board.needle == "nordwind"
        shown = {c.title for column in board.columns() for c in column.cards}
        assert shown == {"40 seats renewal"}


@pytest.mark.parametrize(
    "text", ["[red]x[/]", "[/]", "\x1b[31mred", "a\x00b", "\u202eevil", "全角全角"]
)
async def test_hostile_filter_text_is_shown_literally_and_clears(
    app: RepdeskApp, text: str
) -> None:
    """Text pasted into the filter (a title copied from a mail, with markup, an escape
    sequence, NUL, an RTL override or wide characters): the board's status line repeats it
    after "filter:". It must show it as plain text: no markup styling, and no control
    character reaching the terminal (ESC [31m would turn the rest of the screen red, U+202E
    reverses the line), as every other place repdesk shows text does (core/text.printable).
    No crash; escape clears it."""
    from textual import events

    async with app.run_test(size=SIZE) as pilot:
        board = await on_board(pilot)
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(board.focused, Input))
        field(board).post_message(events.Paste(text))
        await until(pilot, lambda: board.needle != "")
        await pilot.pause()
        line = board.query_one("#board-status").render_line(0)
        drawn = "".join(segment.text for segment in line)
        assert "filter:" in drawn
        for control in ("\x1b", "\x00", "\u202e"):
            assert control not in drawn, repr(drawn)
        if text.startswith("["):
            assert text in drawn  # literally, brackets and all
        assert app.is_running
        await pilot.press("escape")
        await settled(pilot)
        assert board.needle == "" and field(board).value == ""
