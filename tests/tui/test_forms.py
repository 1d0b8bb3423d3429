"""What a new user's trial of the forms found: the last fields under the keys line, ctrl+y's
answer with the cursor before it, esc throwing a typed form away, and the forecast form's
category taking enter differently from the other pick fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.tui.drive import db, on_board, until
from tests.tui.test_board import form_open
from textual.errors import NoWidget
from textual.pilot import Pilot
from textual.widget import Widget

from repdesk.tui.app import RepdeskApp
from repdesk.tui.forms import FormScreen

# ------------------------------------------------------------------ every field in view


def drawn_whole(form: FormScreen, widget: Widget) -> bool:
    """Every line of `widget` is drawn on the terminal as `widget`: none scrolled out of the
    form, none under its keys line."""
    region = widget.region
    if not region:
        return False  # scrolled out of the form altogether
    for y in range(region.y, region.bottom):
        try:
            hit, _ = form.get_widget_at(region.x, y)
        except NoWidget:
            return False
        if hit is not widget and widget not in hit.ancestors:
            return False
    return True


def focused_field_drawn_whole(form: FormScreen) -> str | None:
    """None when the focused field's label, value and error (when it shows one) are all on
    screen; else the first part that is not, for the assertion's message."""
    focused = form.focused
    assert focused is not None and focused.id is not None
    name = focused.id.removeprefix("field-")
    label = list(form.query(".field-label"))[[spec.name for spec in form.fields].index(name)]
    error = form.query_one(f"#error-{name}")
    for part in (label, focused, error):
        if part.display and not drawn_whole(form, part):
            return f"{focused.id}: {part!r} at {part.region} is not on screen"
    return None


async def whole_soon(pilot: Pilot[Any], form: FormScreen) -> None:
    """The focused field comes whole on screen: the form scrolls to it after the refresh the
    focus brings, later than one pause on a busy machine (a flaky run)."""
    try:
        await until(pilot, lambda: focused_field_drawn_whole(form) is None, timeout=10)
    except AssertionError:
        assert focused_field_drawn_whole(form) is None  # says which part is not


async def tab_through(pilot: Pilot[Any], form: FormScreen) -> None:
    """Tab to every field and back (shift+tab), each one whole on screen when it has the
    cursor."""
    for key in ["tab"] * (len(form.fields) - 1) + ["shift+tab"] * (len(form.fields) - 1):
        await pilot.press(key)
        await whole_soon(pilot, form)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
@pytest.mark.parametrize("key", ["n", "e"], ids=["new deal", "edit deal"])
async def test_the_deal_forms_last_field_is_on_screen_when_tabbed_to(
    app: RepdeskApp, size: tuple[int, int], key: str
) -> None:
    """A new user's trial: tab to Segment showed its label alone, the value under the keys
    line (the fields ran one line under it), and pgdn did not help."""
    async with app.run_test(size=size) as pilot:
        await on_board(pilot)
        await pilot.press(key)
        form = await form_open(pilot)
        await pilot.press(*["tab"] * (len(form.fields) - 1))
        await pilot.pause()
        segment = form.query_one("#field-segment")
        assert form.focused is segment
        await whole_soon(pilot, form)
        assert drawn_whole(form, segment), segment.region
        await tab_through(pilot, form)


# The board's keys that open a form on the card under the cursor (the first one).
BOARD_FORMS = ["n", "e", "c", "f", "o", "F", "W", "x", "M"]


@pytest.mark.parametrize("key", BOARD_FORMS)
async def test_every_form_shows_the_focused_field_whole_at_80x24(app: RepdeskApp, key: str) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await on_board(pilot)
        await pilot.press(key)
        form = await form_open(pilot)
        assert isinstance(form, FormScreen)
        await whole_soon(pilot, form)
        await tab_through(pilot, form)


async def test_a_fields_error_is_scrolled_into_view_when_it_shows(app: RepdeskApp) -> None:
    """Phone on the form's last line at 80x24 (the wheel scrolled it there), a bad number saved
    from it: its message, a line below it, is scrolled into view. The field kept the cursor, so
    focusing it scrolled nothing."""
    async with app.run_test(size=(80, 24)) as pilot:
        await on_board(pilot)
        await pilot.press("n")
        form = await form_open(pilot)
        await pilot.press(*"Trial deal", *["tab"] * 8, *"x")  # Phone: after First contact, Email
        phone = form.query_one("#field-phone")
        assert form.focused is phone
        fields = form.query_one("#form-fields", Widget)
        fields.scroll_relative(y=phone.region.bottom - fields.region.bottom, animate=False)
        await until(pilot, lambda: phone.region.bottom == fields.region.bottom)
        await pilot.press("ctrl+s")
        error = form.query_one("#error-phone")
        await until(pilot, lambda: error.display and drawn_whole(form, error))
        assert "not valid" in str(error.render())
        assert focused_field_drawn_whole(form) is None
        assert isinstance(app.screen, FormScreen)


async def test_the_forms_own_error_of_two_lines_is_above_the_keys_line(app: RepdeskApp) -> None:
    """A refusal that names no field shows at the form's foot: both its lines on screen (the
    second sat under the keys line)."""
    from repdesk.core.errors import RepdeskError

    async def refused(values: dict[str, Any]) -> Any:
        raise RepdeskError(
            "The deal was closed in the shell meanwhile: a follow-up needs an open deal."
        )

    async with app.run_test(size=(80, 24)) as pilot:
        await on_board(pilot)
        await pilot.press("f")
        form = await form_open(pilot)
        form.submit = refused
        await pilot.press(*"tomorrow", "ctrl+s")
        error = form.query_one("#form-error", Widget)
        await until(pilot, lambda: error.display and error.region.height == 2)
        assert drawn_whole(form, error)
        assert drawn_whole(form, form.query_one("#form-keys", Widget))


# ------------------------------------------------------------------ ctrl+y in the objection form


async def test_ctrl_y_leaves_the_cursor_after_the_answer_it_put_in(app: RepdeskApp) -> None:
    """A new user's trial: ctrl+y, then typing, typed before the playbook's answer
    (`XYZShowed the payback…`). Below what was typed, the cursor at its end; ctrl+z takes the
    answer back out, leaving what was typed."""
    from textual.widgets import TextArea

    from repdesk.tui.widgets.playbook import ObjectionFormScreen

    async with app.run_test(size=(120, 36)) as pilot:
        await on_board(pilot)
        await pilot.press("o")
        form = await form_open(pilot)
        assert isinstance(form, ObjectionFormScreen)
        chosen = form.playbook.chosen
        assert chosen is not None
        await pilot.press(*"too pricey", "tab", "ctrl+y", *"XYZ")
        answer = form.query_one("#field-answer", TextArea)
        assert answer.text == f"{chosen.answer}XYZ"
        answer.clear()
        await pilot.press(*"Mine.", "ctrl+y")
        assert answer.text == f"Mine.\n{chosen.answer}"
        assert answer.cursor_location == answer.document.end
        await pilot.press("ctrl+z")
        await until(pilot, lambda: answer.text == "Mine.")


# ------------------------------------------------------------------ esc on a typed form


def question_on_top(app: RepdeskApp) -> str:
    """The words of the yes/no question on top, "" when none is."""
    from textual.widgets import Static

    from repdesk.tui.forms import ConfirmScreen

    if not isinstance(app.screen, ConfirmScreen):
        return ""
    return " ".join(str(static.render()) for static in app.screen.query(Static))


async def test_esc_on_a_typed_form_asks_before_throwing_it_away(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: a long note typed in the call form went with one esc. Now esc asks
    once; no (or esc) goes back to the form with everything typed; yes closes it, nothing
    saved, and `u` still takes back the write before it."""
    async with app.run_test(size=(120, 36)) as pilot:
        board = await on_board(pilot)
        stage = "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.id = ?"
        first = board.selected().deal_id
        await pilot.press("L")  # a write with an undo, before the form
        await until(pilot, lambda: db(home, stage, first) == [("Contacted",)])
        calls = db(home, "SELECT count(*) FROM activity")
        await pilot.press("c")
        form = await form_open(pilot)
        await pilot.press(*"connected", *["tab"] * 5, *"They want the numbers by Friday")
        typed = form.raw_values()
        assert typed["notes"] == "They want the numbers by Friday"

        await pilot.press("escape")
        await until(pilot, lambda: "Throw away what you typed" in question_on_top(app))
        await pilot.press("escape")  # no: back to the form, all of it kept
        await until(pilot, lambda: app.screen is form)
        assert form.raw_values() == typed

        await pilot.press("escape")
        await until(pilot, lambda: question_on_top(app) != "")
        await pilot.press("enter")  # a habitual enter keeps the form: only y throws away
        await until(pilot, lambda: app.screen is form)
        assert form.raw_values() == typed

        await pilot.press("escape")
        await until(pilot, lambda: question_on_top(app) != "")
        undos = len(app.board.undo_stack)
        await pilot.press("u")  # no answer: the question stays, the move is not undone
        await pilot.pause()
        assert question_on_top(app) and len(app.board.undo_stack) == undos
        assert db(home, stage, first) == [("Contacted",)]
        await pilot.press("y")
        await on_board(pilot)
        assert db(home, "SELECT count(*) FROM activity") == calls

        await pilot.press("u")  # the move before the form, not the form thrown away
        await until(pilot, lambda: db(home, stage, first) == [("Prospect",)])


@pytest.mark.parametrize("key", ["c", "e", "o"], ids=["call", "edit deal", "objection"])
async def test_esc_on_a_form_with_nothing_changed_closes_it_at_once(
    app: RepdeskApp, key: str
) -> None:
    """Nothing typed (an edit form shows the deal as it is): no question, the board at once.
    A change typed and taken back out is no change either."""
    async with app.run_test(size=(120, 36)) as pilot:
        await on_board(pilot)
        await pilot.press(key)
        await form_open(pilot)
        await pilot.press("escape")
        await on_board(pilot)
        await pilot.press(key)
        form = await form_open(pilot)
        await pilot.press("end", "x", "backspace", "escape")
        await on_board(pilot)
        assert not question_on_top(app)
        assert form not in app.screen_stack


# ------------------------------------------------------------------ the forecast form's category


def hint_of(form: FormScreen, name: str) -> str:
    """The hint under a field as drawn."""
    box = form.query_one(f"#field-{name}").parent
    assert box is not None
    hints = [str(w.render()) for w in box.query(".field-hint")]
    return " ".join(hints)


async def test_the_forecast_category_is_picked_as_the_other_pick_fields_are(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: in the objection form enter on Category opens its list; in the
    forecast form (F) Category was a text box, enter saved the form unchanged, and its hint
    said `now pipeline.` whatever was typed. Now enter opens the list there too, and the hint
    says what saving will store."""
    from textual.widgets import Select

    async with app.run_test(size=(120, 36)) as pilot:
        board = await on_board(pilot)  # the first card: ACME expansion, Prospect (10%)
        deal = board.selected().deal_id
        await pilot.press("F")
        form = await form_open(pilot)
        category = form.query_one("#field-forecast", Select)
        assert form.focused is category
        assert "saves auto: pipeline from its stage's 10%" in hint_of(form, "forecast")

        await pilot.press("enter")  # the list opens, as the objection form's category's does
        await until(pilot, lambda: category.expanded)
        assert isinstance(app.screen, FormScreen)
        await pilot.press("down", "enter")  # the one below auto: commit
        await until(pilot, lambda: not category.expanded)
        assert category.value == "commit"
        assert "saves commit, your call (now pipeline)" in hint_of(form, "forecast")

        category.value = "auto"
        await pilot.press("tab", *"75")  # its own probability: auto follows it
        await until(
            pilot, lambda: "saves auto: commit from its own 75%" in hint_of(form, "forecast")
        )
        await pilot.press("enter")  # from a text field enter saves, as in every form
        await on_board(pilot)
        assert db(home, "SELECT forecast, probability FROM deal WHERE id = ?", deal) == [(None, 75)]


async def test_a_fields_error_goes_once_its_value_is_put_right(app: RepdeskApp) -> None:
    """A hostile test: "Won on" refused, then typed right, kept its error under it until the
    next save. A change that comes after the save's check (typed just before ctrl+s) keeps it."""
    async with app.run_test(size=(120, 36)) as pilot:
        await on_board(pilot)
        await pilot.press("W")
        form = await form_open(pilot)
        field = form.query_one("#field-on")
        field.value = "2026-02-30"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        error = form.query_one("#error-on")
        await until(pilot, lambda: "2026-02-30" in str(error.render()))
        await pilot.pause()
        assert error.display  # the change that came after the check did not take it away
        await pilot.press("end", "backspace")
        await until(pilot, lambda: not error.display)
