"""The fewest keys, and no traps (issue 14): a call in four keys and the date, a prefix never
saved as an outcome, `q` quits on every screen, one meaning per key, and keys typed in a burst
landing in order where they were meant to go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.shell import ok
from tests.tui.drive import burst, db, on_board, said, until
from textual.binding import Binding
from textual.pilot import Pilot

from repdesk.tui.app import RepdeskApp
from repdesk.tui.forms import FieldInput, FormScreen
from repdesk.tui.screens.board import BoardScreen
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.followups import FollowUpsScreen

SIZE = (140, 40)
LAST_CALL = "SELECT a.outcome FROM activity a WHERE a.kind = 'call' ORDER BY a.id DESC LIMIT 1"
CALLS = "SELECT count(*) FROM activity WHERE kind = 'call'"


async def board(pilot: Pilot[Any]) -> BoardScreen:
    return await on_board(pilot)  # type: ignore[no-any-return]


async def form(pilot: Pilot[Any]) -> FormScreen:
    await until(
        pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.keys_ready
    )
    return pilot.app.screen  # type: ignore[return-value]


def next_step(home: Path, title: str | None = None) -> list[tuple[Any, ...]]:
    """The pending follow-ups of the deal (by default: the one the last call was logged on)."""
    deal = (
        "d.title = ?"
        if title
        else ("d.id = (SELECT deal_id FROM activity WHERE kind = 'call' ORDER BY id DESC LIMIT 1)")
    )
    return db(
        home,
        "SELECT f.due_on, f.due_time, f.note FROM follow_up f JOIN deal d ON d.id = f.deal_id "
        f"WHERE {deal} AND f.done_at IS NULL",
        *([title] if title else []),
    )


# ------------------------------------------------------------------ the call in four keys


async def test_c_a_digit_the_date_and_enter_log_a_call_with_its_next_step(
    app: RepdeskApp, home: Path
) -> None:
    (calls,) = db(home, CALLS)[0]
    async with app.run_test(size=SIZE) as pilot:
        await board(pilot)
        await pilot.press("c")
        screen = await form(pilot)
        shown = str(screen.query_one(".field-picks").render())
        assert "1 connected  2 left voicemail  3 no answer" in shown
        await pilot.press("2")
        # The digit picked the outcome and stays, as a typed value does: tab goes on (going on
        # by itself, "2, tab" put every later value one field late: a new-user trial).
        assert screen.raw_values()["outcome"] == "left voicemail"
        assert screen.focused is screen.query_one("#field-outcome")
        await pilot.press("tab")
        assert screen.focused is screen.query_one("#field-next")
        await pilot.press(*"mon 10:00", "enter")
        await until(pilot, lambda: app.screen is app.board)
    assert db(home, CALLS) == [(calls + 1,)]
    assert db(home, LAST_CALL) == [("left voicemail",)]
    assert ("2026-11-23", "10:00:00.000000", "") in next_step(home)


async def test_a_digit_then_tab_puts_each_later_value_in_its_own_field(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await board(pilot)
        await pilot.press("c")
        screen = await form(pilot)
        await pilot.press("1", "tab", *"mon 10:00", "tab", *"Send the draft", "tab", *"25")
        values = screen.raw_values()
        assert (values["outcome"], values["next"], values["next_note"], values["minutes"]) == (
            "connected", "mon 10:00", "Send the draft", "25")  # fmt: skip
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is app.board)
    assert db(home, LAST_CALL) == [("connected",)]
    assert ("2026-11-23", "10:00:00.000000", "Send the draft") in next_step(home)


async def call_form_on_the_page_of(pilot: Pilot[Any], deal_id: int) -> FormScreen:
    """`c` on the deal's page, the form ready for keys."""
    await board(pilot)
    pilot.app.open_deal(deal_id)  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(pilot.app.screen, DealScreen) and pilot.app.screen.page)
    await pilot.press("c")
    return await form(pilot)


async def test_a_call_on_a_deal_with_a_step_to_come_asks_what_becomes_of_it(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: the call's next step stood beside the one still to come, two on one
    day, and nothing asked (a step due already is answered by the call, as before)."""
    (deal_id, note), *_ = db(home, "SELECT deal_id, note FROM follow_up WHERE done_at IS NULL "
                                   "AND due_on > '2026-11-20' ORDER BY id")  # fmt: skip
    pending = "SELECT note FROM follow_up WHERE deal_id = ? AND done_at IS NULL ORDER BY id"
    async with app.run_test(size=SIZE) as pilot:
        screen = await call_form_on_the_page_of(pilot, deal_id)
        field = screen.query_one("#field-pending")
        assert field.value == "keep"  # type: ignore[attr-defined]
        # Asked after the next step and its note, the step named where the cursor is.
        names = [spec.name for spec in screen.fields]
        assert names[:4] == ["outcome", "next", "next_note", "pending"]
        labels = [str(label.render()) for label in screen.query(".field-label")]
        assert any(label.startswith("Its next step, ") and note in label for label in labels)
        field.value = "done"  # type: ignore[attr-defined]
        await pilot.press("1", "tab", *"mon 10:00", "tab", *"Send the draft", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, DealScreen))
        assert said(app, f": {note} done · u undoes")
    assert db(home, pending, deal_id) == [("Send the draft",)]
    done = "SELECT note, outcome FROM follow_up WHERE deal_id = ? AND done_at IS NOT NULL"
    assert (note, "connected") in db(home, done, deal_id)
    calls = "SELECT count(*) FROM activity WHERE deal_id = ? AND kind = 'call' AND outcome = ?"
    assert db(home, calls, deal_id, "connected") == [(1,)]  # the call, logged once


async def test_a_call_says_which_due_step_it_answered(app: RepdeskApp, home: Path) -> None:
    """A new user's trial: a call marked the deal's overdue step done without a word."""
    (deal_id, note), *_ = db(home, "SELECT deal_id, note FROM follow_up WHERE done_at IS NULL "
                                   "AND due_on < '2026-11-20' ORDER BY due_on, id")  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        screen = await call_form_on_the_page_of(pilot, deal_id)
        assert not screen.query("#field-pending")  # nothing to ask: the call answers it
        await pilot.press("1", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, DealScreen))
        assert said(app, f": {note} done · u undoes")


async def test_a_step_the_shell_did_while_the_form_was_open_is_not_claimed(
    app: RepdeskApp, home: Path
) -> None:
    """A hostile test: the shell logged a call (answering the overdue step) while the app's
    call form was open; saving the form said it had done that step too."""
    (deal_id, note), *_ = db(home, "SELECT deal_id, note FROM follow_up WHERE done_at IS NULL "
                                   "AND due_on < '2026-11-20' ORDER BY due_on, id")  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await call_form_on_the_page_of(pilot, deal_id)
        ok("log", "call", str(deal_id), "--outcome", "from the shell")
        await pilot.press("2", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, DealScreen))
        await until(pilot, lambda: said(app, "saved"))
        assert not said(app, f": {note} done")
    done = "SELECT outcome FROM follow_up WHERE deal_id = ? AND note = ? AND done_at IS NOT NULL"
    assert db(home, done, deal_id, note) == [("from the shell",)]


async def test_digits_type_once_the_outcome_holds_text(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await board(pilot)
        await pilot.press("c")
        screen = await form(pilot)
        await pilot.press(*"called 2x", "9")
        assert screen.raw_values()["outcome"] == "called 2x9"
        assert screen.focused is screen.query_one("#field-outcome")
        await pilot.press("backspace", "ctrl+s")
        await until(pilot, lambda: app.screen is app.board)
    assert db(home, LAST_CALL) == [("called 2x",)]


@pytest.mark.parametrize(
    "keys", [("tab", *"fri", "enter"), ("right", "tab", *"fri", "enter"), ("enter",), ("ctrl+s",)]
)
async def test_a_typed_prefix_is_never_saved_as_the_outcome(
    app: RepdeskApp, home: Path, keys: tuple[str, ...]
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await board(pilot)
        await pilot.press("c")
        await form(pilot)
        await pilot.press("c", "o", *keys)
        await until(pilot, lambda: app.screen is app.board)
    assert db(home, LAST_CALL) == [("connected",)]


async def test_delete_drops_the_suggestion_to_keep_just_what_was_typed(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await board(pilot)
        await pilot.press("x")  # lost, with a reason: "price" was used before? make one that is
        screen = await form(pilot)
        field = screen.query_one("#field-reason", FieldInput)
        field.suggestions = ["price too high"]
        await pilot.press(*"price")
        assert field.completion(field.value) == "price too high"
        await pilot.press("delete", "enter")
        await until(pilot, lambda: app.screen is app.board)
    assert db(home, "SELECT lost_reason FROM deal WHERE status = 'lost' ORDER BY id DESC LIMIT 1")[
        0
    ] == ("price",)


async def test_the_done_form_on_the_queues_takes_a_digit_and_the_suggestion(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await board(pilot)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen) and app.screen.loaded)
        await pilot.press("space")  # Overdue: Fleet tracking rollout
        screen = await form(pilot)
        await pilot.press("4", "tab")
        assert screen.raw_values()["outcome"] == "meeting booked"
        assert screen.focused is screen.query_one("#field-next")
        # The next step's default is selected: typing replaces it.
        await pilot.press(*"+2d", "enter")
        await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen))
    assert db(home, LAST_CALL) == [("meeting booked",)]
    assert [row[0] for row in next_step(home, "Fleet tracking rollout")] == ["2026-11-22"]


# ------------------------------------------------------------------ bursts


async def test_keys_sent_in_one_burst_after_c_land_in_the_call_form(
    app: RepdeskApp, home: Path
) -> None:
    (calls,) = db(home, CALLS)[0]
    async with app.run_test(size=SIZE) as pilot:
        await board(pilot)
        # All queued at once, as tmux send-keys or a paste does: the form is not even pushed
        # when the keys after `c` are read.
        await burst(pilot, "c", "c", "o", "tab", *"mon 10:00", "tab", *"quote", "enter")
        await until(pilot, lambda: db(home, CALLS) == [(calls + 1,)])
        await until(pilot, lambda: app.screen is app.board)
    assert db(home, LAST_CALL) == [("connected",)]
    assert ("2026-11-23", "10:00:00.000000", "quote") in next_step(home)


async def test_a_burst_types_a_new_deal_field_by_field_and_goes_on_on_the_board(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board_screen = await board(pilot)
        # The keys after enter (the save) land on the board: `l` moves to the next column.
        await burst(pilot, "n", *"Quick quote", "tab", *"Quarry Ltd", "tab", *"Quinn", "enter",
                    "l")  # fmt: skip
        await until(pilot, lambda: db(home, "SELECT count(*) FROM deal WHERE title LIKE 'Q%'")
                    == [(1,)])  # fmt: skip
        await until(pilot, lambda: app.screen is app.board and current(board_screen) == "Contacted")
        assert app.is_running  # the q of "Quick" typed, it did not quit
    assert db(home, "SELECT title, company, contact FROM deal WHERE title LIKE 'Q%'") == [
        ("Quick quote", "Quarry Ltd", "Quinn")
    ]


async def test_a_burst_after_slash_or_N_lands_whole_in_the_field_it_opens(app: RepdeskApp) -> None:
    """`/` and `N` move the focus with Widget.focus(), which the app does a turn later: the
    first key of a burst after them went to the board ("/nordwind" filtered on "ordwind")."""
    from textual.widgets import Input, TextArea

    async with app.run_test(size=SIZE) as pilot:
        board_screen = await board(pilot)
        await burst(pilot, "slash", *"nordwind")
        field = board_screen.query_one("#filter", Input)
        await until(pilot, lambda: len(field.value) >= 7)
        await pilot.pause()
        assert field.value == "nordwind"
        # The filter cleared, then the first card's deal page: enter straight after escape went
        # to the hidden field, which still had the focus.
        await burst(pilot, "escape", "enter")
        await until(pilot, lambda: getattr(app.screen, "page", None) is not None)
        await burst(pilot, "N", *"Budget in Q1")
        notes = app.screen.query_one("#deal-notes", TextArea)
        await until(pilot, lambda: len(notes.text) >= 11)
        await pilot.pause()
        assert notes.text == "Budget in Q1"


def current(screen: BoardScreen) -> str | None:
    column = screen.current_column()
    return column.stage_name if column is not None else None


# ------------------------------------------------------------------ q and one meaning a key

SCREENS = {
    "board": (),
    "deal page": ("enter",),
    "queues": ("2",),
    "kpis": ("3",),
    "playbook": ("4",),
    "stages": ("S",),
    "trash": ("T",),
    "help": ("question_mark",),
    "won question": ("w",),
    "deal parts to delete": ("enter", "D"),
}


@pytest.mark.parametrize("keys", SCREENS.values(), ids=SCREENS.keys())
async def test_q_quits_on_every_screen(app: RepdeskApp, keys: tuple[str, ...]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await board(pilot)
        for key in keys:
            before = app.screen
            await pilot.press(key)
            await until(pilot, lambda before=before: app.screen is not before)
        await until(pilot, lambda: not getattr(app.screen, "reading", False))
        await pilot.press("q")
        await until(pilot, lambda: app._exit)


async def test_q_types_in_a_form_and_quits_nothing(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await board(pilot)
        await pilot.press("c")
        screen = await form(pilot)
        await pilot.press(*"quick q")
        assert screen.raw_values()["outcome"] == "quick q" and not app._exit


# Keys shared by screens with one gist: going back, the main thing on the row.
SAME_GIST = {"escape", "enter", "tab", "shift+tab", "question_mark"}  # ? opens and closes
# Different action names with the same meaning.
SYNONYMS = {
    "add": "new", "first_deal": "new", "remove": "delete", "restore": "bring back",
    "reopen": "bring back", "cancel": "back", "close": "back", "clear_filter": "back",
    "cycle_order": "sort", "app.quit": "quit", "card(1)": "down", "move(1)": "down",
    "scroll(1)": "down", "card(-1)": "up", "move(-1)": "up", "scroll(-1)": "up",
    "cursor_down": "down", "cursor_up": "up", "scroll_down": "down", "scroll_up": "up",
    "page_down": "page(1)", "page_up": "page(-1)", "scroll_home": "first", "scroll_end": "last",
    "section(1)": "next", "shift(1)": "next", "section(-1)": "previous", "shift(-1)": "previous",
}  # fmt: skip


def every_binding() -> dict[str, dict[str, set[str]]]:
    """key -> meaning -> the classes that bind it, over every screen, form and widget."""
    import importlib

    from textual.dom import DOMNode

    from repdesk.tui.app import DEFERRED_MODULES

    for name in DEFERRED_MODULES:  # every screen and form class is loaded
        importlib.import_module(name)

    found: dict[str, dict[str, set[str]]] = {}
    classes: list[type] = [DOMNode]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if not cls.__module__.startswith("repdesk."):
            continue
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding)
            for key in binding.key.split(","):
                meaning = SYNONYMS.get(binding.action, binding.action)
                found.setdefault(key.strip(), {}).setdefault(meaning, set()).add(cls.__name__)
    return found


def test_no_key_means_one_thing_here_and_another_there() -> None:
    clashes = {
        key: meanings
        for key, meanings in every_binding().items()
        if len(meanings) > 1 and key not in SAME_GIST
    }
    # A yes/no question reads y and n as its answers, whatever they do elsewhere.
    for key in ("y", "n"):
        meanings = clashes.pop(key, {})
        questions = {"ConfirmScreen", "DiscardScreen"}
        assert {m for m, where in meanings.items() if not where <= questions} <= {
            "new", "kind('year')"
        }  # fmt: skip
    assert clashes == {}
    assert set(every_binding()["q"]) == {"quit"}
