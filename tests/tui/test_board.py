"""The board and the deal page, driven by keys through Textual's Pilot."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import db, reading, until
from textual.pilot import Pilot

from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.forms import ConfirmScreen, FormScreen
from repdesk.tui.screens.board import BoardScreen
from repdesk.tui.screens.deal import DealScreen

SIZE = (140, 40)


async def ready(pilot: Pilot[int]) -> BoardScreen:
    app = pilot.app
    assert isinstance(app, RepdeskApp)
    # Every card in, and the keys no longer held for the imports (RepdeskApp.keys_held).
    await until(pilot, lambda: app.board.loaded and not app.keys_held())
    await pilot.pause()
    return app.board


async def form_open(pilot: Pilot[int]) -> FormScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, FormScreen | ConfirmScreen))
    return pilot.app.screen  # type: ignore[return-value]


async def palette_searched(pilot: Pilot[int]) -> None:
    """Wait until the command palette has searched for what was typed and shows a hit."""
    from textual.command import CommandList

    def done() -> bool:
        palette = pilot.app.screen
        results = palette.query(CommandList)
        return not reading(palette) and bool(results) and results.first().option_count > 0

    await until(pilot, done)


async def deal_found_in_palette(pilot: Pilot[int], words: str) -> str:
    """Search the command palette for `words`, open the first deal found and return the deal
    page's fields as drawn."""
    from textual.command import CommandPalette

    app = pilot.app
    await ready(pilot)
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*words)
    await palette_searched(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
    await pilot.pause()
    return drawn_text(app.screen.query_one("#deal-fields"))


def drawn_text(widget: Any) -> str:
    """The lines a widget shows, as text."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


def column_titles(board: BoardScreen, stage: str) -> list[str]:
    for column in board.columns():
        if column.stage_name == stage:
            return [c.title for c in column.cards]
    raise AssertionError(f"no column {stage}")


def current(board: BoardScreen) -> tuple[str, str | None]:
    column = board.current_column()
    assert column is not None
    card = column.selected
    return column.stage_name, card.title if card else None


async def test_board_shows_open_stages_in_order_and_hides_won_and_lost(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        names = [column.stage_name for column in board.columns()]
        assert names == ["Prospect", "Contacted", "Qualified", "Demo", "Proposal", "Negotiation"]
        assert column_titles(board, "Proposal") == ["Fleet tracking rollout"]
        await pilot.press("v")
        await until(pilot, lambda: [b.stage_name for b in board.columns()][-2:] == ["Won", "Lost"])
        await until(pilot, lambda: column_titles(board, "Won") == ["Support contract"])


async def test_keys_move_between_columns_and_cards(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        assert current(board)[0] == "Prospect"
        await pilot.press("l", "l", "l")
        assert current(board) == ("Demo", "Warehouse pilot")
        await pilot.press("right")
        assert current(board) == ("Proposal", "Fleet tracking rollout")
        await pilot.press("h")
        assert current(board)[0] == "Demo"
        await pilot.press("j", "k", "G", "g")
        assert current(board) == ("Demo", "Warehouse pilot")


async def test_only_the_current_columns_header_is_lit(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)

        def lit() -> list[str]:
            accent = app.theme_variables["accent"].lower()
            return [
                column.stage_name
                for column in board.columns()
                if next(iter(column.render_line(0))).style.bgcolor.triplet.hex == accent
            ]

        assert lit() == ["Prospect"]
        await pilot.press("l", "l")
        assert lit() == ["Qualified"]  # the header left behind goes back to plain
        await pilot.press("h")
        assert lit() == ["Contacted"]


async def test_shift_l_moves_the_deal_and_the_cursor_follows_and_u_undoes(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l", "l", "l")  # Demo: Warehouse pilot
        await pilot.press("L")
        await ready(pilot)
        assert current(board) == ("Proposal", "Warehouse pilot")
        stage = db(home, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id "
                   "WHERE d.title = 'Warehouse pilot'")  # fmt: skip
        assert stage == [("Proposal",)]
        history = db(home, "SELECT count(*) FROM stage_change c JOIN deal d ON d.id = c.deal_id "
                     "WHERE d.title = 'Warehouse pilot'")  # fmt: skip
        assert history == [(2,)]
        await pilot.press("H", "H")
        await ready(pilot)
        assert current(board) == ("Qualified", "Warehouse pilot")
        await pilot.press("u")
        await ready(pilot)
        assert db(home, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id "
                  "WHERE d.title = 'Warehouse pilot'") == [("Demo",)]  # fmt: skip
        await pilot.press("u", "u")
        await ready(pilot)
        assert db(home, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id "
                  "WHERE d.title = 'Warehouse pilot'") == [("Demo",)]  # fmt: skip


async def test_u_after_a_move_puts_back_the_days_in_stage_and_the_cursor_follows(
    app: RepdeskApp, home: Path
) -> None:
    query = (
        "SELECT s.name, d.stage_entered_at, d.updated_at, "
        "(SELECT count(*) FROM stage_change c WHERE c.deal_id = d.id) "
        "FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.title = 'Warehouse pilot'"
    )
    before = db(home, query)
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l", "l", "l")  # Demo: Warehouse pilot, 40 days in the stage
        # Keys wait while the app's imports load (keys_held): on a busy machine, past the
        # press.
        await until(pilot, lambda: current(board) == ("Demo", "Warehouse pilot"))
        days = board.selected().days_in_stage  # type: ignore[union-attr]
        assert days == 40
        await pilot.press("L")
        await ready(pilot)
        assert current(board) == ("Proposal", "Warehouse pilot")
        await pilot.press("u")
        await until(pilot, lambda: current(board) == ("Demo", "Warehouse pilot"))
        assert board.selected().days_in_stage == days  # type: ignore[union-attr]
    assert db(home, query) == before  # stage, its start, the history: as before the move


async def test_w_asks_then_marks_won_and_x_takes_a_reason(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l", "l", "l", "l", "l")  # Negotiation: 40 seats renewal
        await pilot.press("w")
        assert isinstance(await form_open(pilot), ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert db(home, "SELECT status FROM deal WHERE title = '40 seats renewal'") == [("open",)]
        await pilot.press("w")
        await form_open(pilot)
        await pilot.press("y")
        await ready(pilot)
        assert db(home, "SELECT status, closed_on FROM deal WHERE title = '40 seats renewal'") == [
            ("won", "2026-11-20")
        ]
        assert column_titles(board, "Negotiation") == []
        await pilot.press("h")  # Proposal: Fleet tracking rollout
        await pilot.press("x")
        assert isinstance(await form_open(pilot), FormScreen)
        await pilot.press("enter")  # empty reason: refused by the field
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "needed" in str(app.screen.query_one("#error-reason").render())
        await pilot.press("p")  # "price" was used before: → accepts the suggestion
        await pilot.press("right", "enter")
        await ready(pilot)
        assert db(home, "SELECT status, lost_reason FROM deal WHERE title LIKE 'Fleet%'") == [
            ("lost", "price")
        ]


async def test_a_win_closes_the_deals_sales_steps_and_u_brings_them_back(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: a deal won with `w` kept its "Call procurement" step in the
    queues. The question says the step is done with the win, the undo brings it back, and
    `W` (won on a day) can keep it."""
    step = "SELECT note, done_at IS NOT NULL, outcome FROM follow_up WHERE note = 'Call the CFO'"
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "l")  # Negotiation: 40 seats renewal
        await pilot.press("w")
        confirm = await form_open(pilot)
        assert isinstance(confirm, ConfirmScreen)
        assert "(Its step Fri 20 Nov 10:00: Call the CFO done with the win; W keeps it.)" in (
            confirm.question
        )
        await pilot.press("y")
        await until(pilot, lambda: db(home, step) == [("Call the CFO", 1, "closed with the win")])
        await until(pilot, lambda: any(
            "its step Fri 20 Nov 10:00: Call the CFO done with the win" in str(n.message)
            for n in app._notifications
        ))  # fmt: skip
        await pilot.press("u")
        await until(pilot, lambda: db(home, step) == [("Call the CFO", 0, "")])
        assert any(
            "Undid the win of 40 seats renewal" in str(n.message) for n in app._notifications
        )
        await ready(pilot)
        await pilot.press("W")
        form = await form_open(pilot)
        labels = " ".join(str(label.render()) for label in form.query(".field-label"))
        assert "Its step Fri 20 Nov 10:00: Call the CFO" in labels
        form.query_one("#field-steps").value = "keep"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(
            pilot, lambda: db(home, "SELECT status FROM deal WHERE title = '40 seats renewal'")
            == [("won",)]
        )  # fmt: skip
        assert db(home, step) == [("Call the CFO", 0, "")]


async def test_n_adds_a_deal_in_the_current_column_with_inline_validation(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l", "l")  # Qualified
        await pilot.press("n")
        form = await form_open(pilot)
        assert isinstance(form, FormScreen)
        await pilot.press(*"Solar roofs")
        await pilot.press("tab", *"Sunny SA", "tab", "tab", "tab")  # title, company, contact
        await pilot.press(*"lots")  # the value field
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "'lots' is not an amount" in str(form.query_one("#error-value").render())
        assert db(home, "SELECT count(*) FROM deal WHERE title = 'Solar roofs'") == [(0,)]
        form.query_one("#field-value").value = "12.5k"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await ready(pilot)
        assert not isinstance(app.screen, FormScreen)
        rows = db(home, "SELECT d.value_cents, s.name, d.company FROM deal d "
                  "JOIN stage s ON s.id = d.stage_id WHERE d.title = 'Solar roofs'")  # fmt: skip
        assert rows == [(1_250_000, "Qualified", "Sunny SA")]
        assert "Solar roofs" in column_titles(board, "Qualified")


async def test_the_deal_form_takes_a_first_contact_so_an_earlier_win_can_be_said(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: a deal added today could not be won on Tuesday, and no form had a
    first contact to move. New (empty: today) and edited, the form takes one."""
    first = "SELECT first_contact FROM deal WHERE title = ?"
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n")
        form = await form_open(pilot)
        await pilot.press(*"Solar roofs")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: db(home, first, "Solar roofs") == [("2026-11-20",)])
        await ready(pilot)
        await pilot.press("n")
        form = await form_open(pilot)
        await pilot.press(*"Wind farms")
        form.query_one("#field-first_contact").value = "tue"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: db(home, first, "Wind farms") == [("2026-11-17",)])
        await ready(pilot)
        await pilot.press("e")  # the card under the cursor
        form = await form_open(pilot)
        field = form.query_one("#field-first_contact")
        assert field.value  # type: ignore[attr-defined]
        before = db(home, "SELECT id, first_contact FROM deal ORDER BY id")
        field.value = "2026-12-01"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        error = form.query_one("#error-first_contact")
        # Refused by the write, in the background: waited for, not one pause.
        await until(pilot, lambda: "today (2026-11-20) or earlier" in str(error.render()))
        assert db(home, "SELECT id, first_contact FROM deal ORDER BY id") == before


async def test_the_deal_form_checks_an_email_and_a_phone_as_a_contact_does(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: the deal form saved `not-an-email` and `abc☎` where `repdesk contact
    add` refuses both. What a deal already holds (an import keeps the CRM's text) passes as it
    is, so an edit of something else is not refused for it."""
    with contextlib.closing(sqlite3.connect(home / "desk.sqlite")) as conn, conn:
        conn.execute("UPDATE deal SET email = 'n/a' WHERE title = 'Cold lead'")  # as imported
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n")
        form = await form_open(pilot)
        await pilot.press(*"Solar roofs")
        form.query_one("#field-email").value = "not-an-email"  # type: ignore[attr-defined]
        form.query_one("#field-phone").value = "abc☎"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "is not valid" in str(form.query_one("#error-email").render()))
        assert "an address such as" in str(form.query_one("#error-email").render())
        assert "a phone number such as" in str(form.query_one("#error-phone").render())
        assert db(home, "SELECT count(*) FROM deal WHERE title = 'Solar roofs'") == [(0,)]
        form.query_one("#field-email").value = "sol@sunny.example"  # type: ignore[attr-defined]
        form.query_one("#field-phone").value = "+34 600 123 456"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, FormScreen))
        assert db(home, "SELECT email, phone FROM deal WHERE title = 'Solar roofs'") == [
            ("sol@sunny.example", "+34 600 123 456")
        ]
        await ready(pilot)
        await pilot.press("l")  # Contacted: Cold lead, whose email came in as 'n/a'
        await pilot.press("e")
        form = await form_open(pilot)
        form.query_one("#field-value").value = "2k"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, FormScreen))
        assert db(home, "SELECT value_cents, email FROM deal WHERE title = 'Cold lead'") == [
            (200_000, "n/a")
        ]


async def test_esc_cancels_a_form_and_saves_nothing(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        before = db(home, "SELECT count(*) FROM activity")
        await pilot.press("c")
        await form_open(pilot)
        await pilot.press(*"connected", "escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # typed: it asks
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        assert db(home, "SELECT count(*) FROM activity") == before


async def test_c_logs_a_call_with_the_next_step_in_a_few_keys(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l")  # Proposal: Fleet tracking rollout (overdue)
        await pilot.press("c")
        await form_open(pilot)
        await pilot.press("c", "o", "right", "tab", *"mon 10:00", "enter")
        await ready(pilot)
        assert isinstance(app.screen, BoardScreen)
        rows = db(home, "SELECT a.kind, a.outcome FROM activity a JOIN deal d ON d.id = a.deal_id "
                  "WHERE d.title LIKE 'Fleet%' ORDER BY a.id DESC LIMIT 1")  # fmt: skip
        assert rows == [("call", "connected")]
        pending = db(
            home,
            "SELECT f.due_on, f.due_time FROM follow_up f JOIN deal d ON d.id = f.deal_id "
            "WHERE d.title LIKE 'Fleet%' AND f.done_at IS NULL",
        )
        # The overdue follow-up was answered by the call; the next step is Monday 10:00.
        assert pending == [("2026-11-23", "10:00:00.000000")]
        # Said, as adding a deal is: the card only changes its next step.
        notices = [str(n.message) for n in app._notifications]
        assert any(
            n.startswith("Call on Fleet tracking rollout: saved, its step ")
            and n.endswith(" done · u undoes.")
            for n in notices
        )


async def test_c_refuses_a_bad_next_date_by_the_field(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("c")
        await form_open(pilot)
        await pilot.press(*"no answer", "tab", *"someday", "enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        assert "'someday' is not a date" in str(form.query_one("#error-next").render())
        assert form.raw_values()["outcome"] == "no answer"  # what was typed is kept


async def test_c_refuses_a_next_step_in_the_past_by_the_field(app: RepdeskApp, home: Path) -> None:
    calls = db(home, "SELECT count(*) FROM activity")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("c")
        form = await form_open(pilot)
        await pilot.press(*"no answer", "tab", *"yesterday", "enter")
        error = form.query_one("#error-next")
        await until(pilot, lambda: "use today or later" in str(error.render()))
        assert app.screen is form  # still open, nothing saved
    assert db(home, "SELECT count(*) FROM activity") == calls


async def test_f_and_o_add_a_follow_up_and_an_objection(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l")  # Contacted: Cold lead, no next step
        await pilot.press("f")
        await form_open(pilot)
        await pilot.press(*"tomorrow 9:00", "tab", *"Send case study", "enter")
        await ready(pilot)
        assert db(home, "SELECT f.due_on, f.note FROM follow_up f JOIN deal d ON d.id = f.deal_id "
                  "WHERE d.title = 'Cold lead'") == [("2026-11-21", "Send case study")]  # fmt: skip
        await pilot.press("o")
        await form_open(pilot)
        await pilot.press("tab", *"We already use a spreadsheet", "ctrl+s")
        await ready(pilot)
        assert db(home, "SELECT o.category, o.said, o.status FROM objection o JOIN deal d "
                  "ON d.id = o.deal_id WHERE d.title = 'Cold lead'") == [
            ("price", "We already use a spreadsheet", "open")
        ]  # fmt: skip
        # With an answer, and the status left as shown: addressed, as the shell makes it (the
        # form kept it open: a new-user trial).
        await pilot.press("o")
        await form_open(pilot)
        await pilot.press("tab", *"Too pricey", "tab", *"Pays back in a quarter", "ctrl+s")
        await ready(pilot)
        assert db(home, "SELECT status, answer FROM objection WHERE said = 'Too pricey'") == [
            ("addressed", "Pays back in a quarter")
        ]


async def test_in_an_answer_enter_starts_a_line_and_the_keys_line_says_so(
    app: RepdeskApp, home: Path
) -> None:
    """The form's keys line said "enter: save" in the answer too, where enter makes a new
    line; and an enter after the last word was kept as a ⏎ everywhere the answer shows."""
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "o")
        form = await form_open(pilot)
        keys = form.query_one("#form-keys")
        await pilot.press("tab", *"Too expensive vs Routely")
        assert "enter: save" in str(keys.render())
        await pilot.press("tab", *"Showed the ROI")
        await until(pilot, lambda: "enter: new line" in str(keys.render()))
        await pilot.press("enter")
        assert app.screen is form  # a new line, not a save
        await pilot.press("ctrl+s")
        await ready(pilot)
        assert db(home, "SELECT o.said, o.answer FROM objection o JOIN deal d "
                  "ON d.id = o.deal_id WHERE d.title = 'Cold lead'") == [
            ("Too expensive vs Routely", "Showed the ROI")
        ]  # fmt: skip


async def test_the_quota_form_names_a_quota_in_its_messages(app: RepdeskApp, home: Path) -> None:
    """It said "a deal value is 0 or more" and "the most a deal value can be" (a new user's
    trial): the parser's messages were the deal form's."""
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        quotas = db(home, "SELECT period, amount_cents FROM quota")
        await pilot.press("Q")
        form = await form_open(pilot)
        await pilot.press(*"-5000", "enter")
        await until(
            pilot, lambda: "a quota is above 0" in str(form.query_one("#error-amount").render())
        )
        await pilot.press("ctrl+a", "ctrl+k", *"2000000000", "enter")
        await until(
            pilot,
            lambda: "the most a quota can be" in str(form.query_one("#error-amount").render()),
        )
        assert "deal value" not in str(form.query_one("#error-amount").render())
        assert db(home, "SELECT period, amount_cents FROM quota") == quotas  # nothing saved


async def test_Q_on_the_board_sets_this_months_quota(app: RepdeskApp, home: Path) -> None:
    """The welcome screen teaches Q; on the board it did nothing (only the KPI pane had it)."""
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("Q")
        form = await form_open(pilot)
        assert form.raw_values()["period"] == "2026-11"
        await pilot.press(*"80k", "enter")
        await until(pilot, lambda: app.screen is board)
        assert db(home, "SELECT period, amount_cents FROM quota") == [("2026-11", 8_000_000)]
        strip = board.query_one("QuotaStrip")
        await until(pilot, lambda: "of €80,000" in strip.render_line(0).text)
        # And the palette finds it by name.
        await pilot.press("ctrl+p", *"set this month")
        await palette_searched(pilot)
        await pilot.press("enter")
        form = await form_open(pilot)
        assert form.raw_values() == {"amount": "80000", "period": "2026-11"}


@pytest.mark.parametrize(
    ("words", "screen"),
    [("overdue", "FollowUpsScreen"), ("going cold", "FollowUpsScreen"),
     ("commitments", "ReviewScreen"), ("quota pace", "KpiScreen")],
)  # fmt: skip
async def test_the_palette_finds_a_screen_by_what_a_rep_looks_for(
    app: RepdeskApp, words: str, screen: str
) -> None:
    """A new user's trial: "overdue", "going cold" and "commit" found no screen (only a contact
    whose name held their letters), and "quota" only the quota form."""
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p", *words)
        await palette_searched(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == screen)


async def test_Q_as_the_app_opens_shows_the_quota_the_strip_shows(app: RepdeskApp) -> None:
    """Until the read after the first frame was in, Q opened the form empty under a strip
    saying "of €60,000": the rep read it as no quota set."""
    # The first frame's read only: the full read after it never comes (the keys still wait
    # for the imports after the first frame, as always).
    app.board.reload = lambda: None  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        strip = app.board.query_one("#quota-strip")
        await until(pilot, lambda: "of €60,000" in strip.render_line(0).text)
        await pilot.press("Q")
        form = await form_open(pilot)
        assert form.raw_values() == {"amount": "60000", "period": "2026-11"}


async def test_slash_filters_as_you_type_and_esc_clears(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("slash", *"nordwind")
        await pilot.pause()
        shown = {t for column in board.columns() for t in (c.title for c in column.cards)}
        assert shown == {"40 seats renewal"}
        status = board.query_one("#board-status")
        assert "".join(s.text for s in status.render_line(0)).startswith("1 deal · sorted")
        await pilot.press("escape")
        await pilot.pause()
        shown = {t for column in board.columns() for t in (c.title for c in column.cards)}
        assert len(shown) == 6


async def test_a_lost_deals_page_says_its_steps_show_in_no_queue(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: a lost deal's page listed its steps as if they were work to do,
    where no queue shows them."""
    from tests.shell import ok

    ok("--home", home, "follow-up", "add", "Cold lead", "fri", "--note", "Send the quote")
    ok("--home", home, "deal", "lost", "Cold lead", "--reason", "timing")
    (deal_id,) = db(home, "SELECT id FROM deal WHERE title = 'Cold lead'")[0]
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.open_deal(deal_id)
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        steps = str(app.screen.query_one("#deal-next").render())
        assert "the deal is lost: these show in no queue (R reopens it)" in steps
        assert "Send the quote" in steps


async def test_enter_opens_the_deal_page_and_esc_returns_to_the_same_card(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l", "l", "l", "l", "enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        await pilot.pause()
        page = app.screen
        assert isinstance(page, DealScreen)
        text = drawn_text(page.query_one("#deal-timeline"))
        assert "Asked for 10% off" in text and "objection" in text
        objections = str(page.query_one("#deal-objections").render())
        assert "Too expensive compared to last year" in objections
        await pilot.press("escape")
        await pilot.pause()
        assert current(board) == ("Proposal", "Fleet tracking rollout")


async def test_the_deal_page_timeline_stacks_on_a_narrow_terminal(app: RepdeskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        await pilot.pause()
        lines = drawn_text(app.screen.query_one("#deal-timeline")).splitlines()
        # The time and the kind on one line, what happened indented below it at full width.
        at = next(i for i, line in enumerate(lines) if "call (20 min)" in line)
        assert lines[at].strip().startswith("15 Nov 09:30")
        assert lines[at + 1].startswith("  connected · Asked for 10% off")


async def test_markup_like_titles_are_shown_literally(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        column = board.columns()[0]
        lines = "\n".join(column.render_line(y).text for y in range(2, 5))
        # The narrow card cuts the title, but what shows is the literal text, brackets included.
        assert "[bold]ACME[/] expan" in lines and "Lone [ Bracket" in lines
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        await pilot.pause()
        fields = drawn_text(app.screen.query_one("#deal-fields"))
        assert "[bold]ACME[/] expansion [" in fields and "Lone [ Bracket Ltd" in fields


async def test_a_call_logged_from_the_shell_shows_up_within_two_seconds(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l")  # Contacted: Cold lead (no next step)
        result = subprocess.run(
            [sys.executable, "-m", "repdesk", "--home", str(home), "log", "call", "Cold lead",
             "--outcome", "connected", "--next", "tomorrow"],
            capture_output=True,
            text=True,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        await until(pilot, lambda: (card := board.selected()) and card.next_due is not None)
        card = board.selected()
        assert card is not None and card.title == "Cold lead"
        assert str(card.next_due) == "2026-11-21"


async def test_quota_strip_shows_this_month_and_updates_when_a_deal_is_won(
    app: RepdeskApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)

        def strip() -> str:
            return app.screen.query_one("#quota-strip").render_line(0).text

        await until(pilot, lambda: "won €" in strip())  # the figures are read after the paint
        assert "won €9,000 of €60,000" in strip() and "15%" in strip()
        assert "behind pace" in strip()
        await pilot.press("l", "l", "l", "l", "l", "w")
        await form_open(pilot)
        await pilot.press("y")  # 40 seats renewal: €12,000
        await until(pilot, lambda: "won €21,000 of €60,000" in strip())
        assert "35%" in strip()


async def test_a_narrow_strip_says_the_pace_in_short_with_no_sync_state_too(
    app: RepdeskApp,
) -> None:
    """The short pace and days were tried only beside a sync state: with none (the demo desk,
    a desk never synced) 70 columns cut the pace mid-figure, "▼ €6,…", and 50 the quota,
    "of €…", while "10 days left" stayed whole."""
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        strip = board.query_one("#quota-strip")
        await until(pilot, lambda: "behind pace" in strip.render_line(0).text)
        for width in (70, 60):
            await pilot.resize_terminal(width, 30)
            await until(pilot, lambda: "10d" in strip.render_line(0).text)
            line = strip.render_line(0).text
            assert "won €9,000 of €60,000  15%" in line and "…" not in line, line
        # Narrower, the figures are said as `quota --short` says them, not cut mid-figure
        # ("won €9,0…" read as another amount: a hostile test).
        for width in (40, 30):
            await pilot.resize_terminal(width, 30)
            await until(pilot, lambda: "€9k/€60k" in strip.render_line(0).text)
            assert strip.render_line(0).text.split() == ["€9k/€60k", "15%", "▼31k", "10d"]
        await pilot.resize_terminal(*SIZE)
        await until(pilot, lambda: "10 days left" in strip.render_line(0).text)
        assert "behind pace" in strip.render_line(0).text


async def test_a_screen_opened_on_a_quiet_desk_shows_the_strip_without_reading_it_again(
    app: RepdeskApp, home: Path
) -> None:
    """Every screen has the strip; on a desk nobody wrote to since, a new screen shows the
    last figures in its first frame. A write from the shell makes the next screen read."""
    from repdesk.tui.screens.followups import FollowUpsScreen

    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)

        def strip() -> str:
            return app.screen.query_one("#quota-strip").render_line(0).text

        await until(pilot, lambda: "won €9,000 of €60,000" in strip())
        reads = []
        read = app.desk.quota_figures
        app.desk.quota_figures = lambda: reads.append(1) or read()  # type: ignore[method-assign]
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen))
        assert "won €9,000 of €60,000" in strip()  # at once, before any read
        assert reads == []
        deal_id = db(home, "SELECT id FROM deal WHERE title = 'Warehouse pilot'")[0][0]
        subprocess.run(
            [sys.executable, "-m", "repdesk", "--home", str(home), "deal", "won", str(deal_id)],
            check=True, capture_output=True,
        )  # fmt: skip
        await until(pilot, lambda: "won €17,000 of €60,000" in strip())  # the change watch
        assert reads
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.board)
        assert "won €17,000 of €60,000" in strip()


async def test_a_keymap_in_the_settings_rebinds_an_action_by_its_id(home: Path) -> None:

    desk_home = build_small_desk(home)
    app = create_app(desk_home, settings().replace(keys={"board.next_stage": "ctrl+n"}))
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l", "l", "l", "ctrl+n")
        await ready(pilot)
        assert current(board) == ("Proposal", "Warehouse pilot")
        await pilot.press("L")  # the old key no longer moves the deal
        await ready(pilot)
        assert current(board) == ("Proposal", "Warehouse pilot")


async def test_a_keymap_entry_for_no_action_is_pointed_out(home: Path) -> None:

    desk_home = build_small_desk(home)
    keys = {"board.next_stage": "ctrl+n", "board.bogus": "z", "kpi.month": "M"}
    app = create_app(desk_home, settings().replace(keys=keys))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await until(pilot, lambda: any("[keys]" in str(n.message) for n in app._notifications))
        (note,) = [n for n in app._notifications if "[keys]" in str(n.message)]
        # Only the typo: the KPI pane's key is known although that screen was never opened.
        assert "names no action: board.bogus." in str(note.message)


async def test_the_palette_jumps_to_a_deal_by_company(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        assert "40 seats renewal" in await deal_found_in_palette(pilot, "nordwind")


async def test_the_palette_finds_won_and_lost_deals_the_board_does_not_show(
    app: RepdeskApp,
) -> None:
    """A rep goes to a won deal to record the customer's score: the palette knew only the
    cards on the board, and the Won and Lost columns are hidden by default."""
    async with app.run_test(size=SIZE) as pilot:
        assert "Kiosk screens" in await deal_found_in_palette(pilot, "kiosk")


async def test_a_won_deals_page_says_won_once(app: RepdeskApp) -> None:
    # "Nordwind Bank · Won · €9,000 · won": the status said again after the stage of its name
    # (a new-user trial).
    async with app.run_test(size=SIZE) as pilot:
        fields = await deal_found_in_palette(pilot, "support contract")
        assert "Nordwind Bank · Won · €9,000\n" in fields


async def test_keys_typed_before_the_closed_deals_are_read_still_find(
    app: RepdeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a desk of 30,000 won and lost deals their read took seconds: a key typed before it
    ended cancelled it with the search waiting on it, and the palette found nothing at all,
    not even its actions, until it was closed."""
    import threading

    from textual.command import CommandList, CommandPalette

    from repdesk.tui import commands

    gate = threading.Event()
    read = commands._closed_deals

    def slow_read(session: Any) -> Any:
        gate.wait(30)
        return read(session)

    monkeypatch.setattr(commands, "_closed_deals", slow_read)

    def shown() -> str:
        lists = app.screen.query(CommandList)
        if not lists:
            return ""
        found = lists.first()
        return "\n".join(
            str(found.get_option_at_index(i).prompt) for i in range(found.option_count)
        )

    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"set this")
        await until(pilot, lambda: "Set this month's quota" in shown())
        await pilot.press(*["backspace"] * 8, *"kiosk")
        gate.set()
        await until(pilot, lambda: "Kiosk screens" in shown())
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)


async def test_the_palette_runs_a_board_action_by_name(app: RepdeskApp) -> None:
    from textual.command import CommandPalette

    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"new deal")
        await palette_searched(pilot)
        await pilot.press("enter")
        await form_open(pilot)
        assert isinstance(app.screen, FormScreen) and app.screen.form_title == "New deal"


async def test_a_shell_change_keeps_an_open_form_and_what_was_typed(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "c")
        form = await form_open(pilot)
        await pilot.press(*"half typed")
        cards_before = app.board.cards
        result = subprocess.run(
            [sys.executable, "-m", "repdesk", "--home", str(home), "log", "call", "Cold lead"],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        await until(pilot, lambda: app.board.cards is not cards_before)  # the app saw the call
        await pilot.pause()
        assert app.screen is form
        assert form.raw_values()["outcome"] == "half typed"


async def test_the_deal_page_shows_a_call_logged_from_the_shell(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        result = subprocess.run(
            [sys.executable, "-m", "repdesk", "--home", str(home), "log", "call", "Fleet",
             "--note", "Signed off by legal"],
            capture_output=True,
            text=True,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        await until(
            pilot,
            lambda: "Signed off by legal" in drawn_text(app.screen.query_one("#deal-timeline")),
        )


@pytest.mark.parametrize("size", [(20, 8), (40, 12), (80, 24), (200, 60)])
async def test_the_board_survives_any_terminal_size(app: RepdeskApp, size: tuple[int, int]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.resize_terminal(*size)
        await pilot.press("j", "l", "L")
        await ready(pilot)
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        assert board.selected() is not None


async def test_e_edits_the_deal_and_u_takes_the_edit_back(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "e")
        form = await form_open(pilot)
        assert isinstance(form, FormScreen)
        assert form.raw_values()["title"] == "Fleet tracking rollout"
        form.query_one("#field-value").value = "50k"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await ready(pilot)
        assert db(home, "SELECT value_cents FROM deal WHERE title LIKE 'Fleet%'") == [(5_000_000,)]
        await pilot.press("u")
        await ready(pilot)
        assert db(home, "SELECT value_cents FROM deal WHERE title LIKE 'Fleet%'") == [(4_500_000,)]


async def test_s_switches_the_order_within_columns(home: Path) -> None:
    from repdesk.services import deals as deal_service
    from repdesk.storage.store import make_engine, write_session

    desk_home = build_small_desk(home)
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        for title, value in (("Small", 100_000), ("Big", 9_000_000)):
            deal_service.create_deal(
                session=session, title=title, currency="EUR", value_cents=value, stage="Proposal"
            )
    engine.dispose()
    app = create_app(desk_home, settings())
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        # Overdue first, then next step, then value; deals with no next step last.
        assert column_titles(board, "Proposal") == ["Fleet tracking rollout", "Big", "Small"]
        await pilot.press("s")
        await pilot.pause()
        assert column_titles(board, "Proposal") == ["Big", "Fleet tracking rollout", "Small"]


async def test_the_objection_form_offers_the_playbook_and_ctrl_y_copies(
    app: RepdeskApp, home: Path
) -> None:
    from repdesk.tui.widgets.playbook import ObjectionFormScreen

    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        await pilot.press("a")  # the open price objection on this deal
        form = await form_open(pilot)
        assert isinstance(form, ObjectionFormScreen)
        chosen = form.playbook.chosen
        assert chosen is not None and chosen.answer == "Split the licence over two budget years"
        assert chosen.deal_status == "won"
        await pilot.press("ctrl+y")
        assert form.raw_values()["answer"] == "Split the licence over two budget years"
        form.query_one("#field-status").value = "resolved"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, DealScreen))
        assert db(
            home, "SELECT status, answer FROM objection WHERE said LIKE 'Too expensive%'"
        ) == [("resolved", "Split the licence over two budget years")]


async def test_at_80_columns_the_playbook_beside_the_objection_form_stays_readable(
    app: RepdeskApp,
) -> None:
    """Ten cells wide at 80 columns ("▶ [won] Ro"): a new-user trial."""
    from repdesk.tui.widgets.playbook import ObjectionFormScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        await pilot.press("a")
        form = await form_open(pilot)
        assert isinstance(form, ObjectionFormScreen)
        await pilot.pause()
        assert form.playbook.size.width >= 30
        assert form.query_one("#form-main").size.width >= 36


async def test_ctrl_y_copies_the_answer_while_typing_in_the_answer_column(app: RepdeskApp) -> None:
    from textual.widgets import TextArea

    from repdesk.tui.widgets.playbook import ObjectionFormScreen

    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        await pilot.press("a")
        form = await form_open(pilot)
        assert isinstance(form, ObjectionFormScreen)
        form.query_one("#field-answer", TextArea).focus()
        await pilot.press("O", "k")
        await pilot.press("ctrl+y")  # the TextArea's own ctrl+y is redo
        assert form.raw_values()["answer"] == "Ok\nSplit the licence over two budget years"


async def test_a_desk_damaged_under_the_app_stops_it_with_one_line(
    app: RepdeskApp, home: Path
) -> None:
    from repdesk.tui.app import RepdeskStopped

    with pytest.raises(RepdeskStopped) as info:
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            # The disk goes bad under the open app: most pages get flipped bytes.
            data = bytearray((home / "desk.sqlite").read_bytes())
            for offset in range(4096, len(data), 97):
                data[offset] ^= 0xFF
            (home / "desk.sqlite").write_bytes(bytes(data))
            await pilot.press("2")  # the queues read the desk
            for _ in range(500):  # until that read meets the damage (slower under load)
                if app._exception is not None:
                    break
                await pilot.pause(0.01)
    message = info.value.__rich__().plain
    # The damage shows as "malformed" or as missing tables, depending on the pages hit.
    assert message.startswith(f"repdesk: {home / 'desk.sqlite'}")
    assert "Traceback" not in message


async def test_a_move_on_a_busy_desk_says_why_and_the_app_goes_on(
    app: RepdeskApp, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l", "l", "l")  # Demo: Warehouse pilot
        # Another program holds the write lock longer than the busy timeout allows.
        from repdesk.storage import desk_file

        monkeypatch.setattr(desk_file, "BUSY_TIMEOUT_MS", 50)
        holder = sqlite3.connect(home / "desk.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("L")
            await until(pilot, lambda: any("busy" in str(n.message) for n in app._notifications))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert current(board) == ("Demo", "Warehouse pilot")
        assert db(home, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id "
                  "WHERE d.title = 'Warehouse pilot'") == [("Demo",)]  # fmt: skip


async def test_the_new_deal_form_opens_at_its_top_on_a_short_terminal(app: RepdeskApp) -> None:
    from textual.containers import VerticalScroll
    from textual.widgets import Input

    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await pilot.press("n")
        form = await form_open(pilot)
        fields = form.query_one("#form-fields", VerticalScroll)
        await until(pilot, lambda: fields.max_scroll_y > 0)
        assert fields.max_scroll_y > 0  # the form is taller than the screen here
        assert fields.scroll_y == 0  # and shows "Title *" above the field that has the focus
        assert form.focused is form.query_one("#field-title", Input)
        await pilot.press(*"Ok")
        assert form.raw_values()["title"] == "Ok"


async def test_a_superscript_digit_in_the_empty_outcome_is_typed_not_a_crash(
    app: RepdeskApp, home: Path
) -> None:
    # `²`.isdigit() is true but int('²') raises: the digit that picks an outcome killed the app
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("c")
        form = await form_open(pilot)
        await pilot.press("²")
        await pilot.pause()
        assert app.screen is form and app.return_code is None
        assert isinstance(form, FormScreen) and form.raw_values()["outcome"] == "²"
        await pilot.press("escape", "y")  # something typed: esc asks, y throws it away
        await until(pilot, lambda: app.screen is app.board)
        await pilot.press("c")
        form = await form_open(pilot)
        await pilot.press("٢")  # an Arabic-Indic two: typed as it is, as the shell reads it
        await pilot.pause()
        assert isinstance(form, FormScreen) and form.raw_values()["outcome"] == "٢"
