"""The app's side of issue 21, driven by keys: the forecast call (F) on the board and the deal
page, the customer score (P) on a won deal's page, the weekly review (5) with its
commitments, and the KPI pane's forecast and lost-deal lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.tui.drive import db, on_board, screen_lines, until
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from repdesk.core.weeks import week_of_label
from repdesk.services import review
from repdesk.storage.store import make_engine, write_session
from repdesk.tui.app import RepdeskApp
from repdesk.tui.forms import FormScreen
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.kpi import KpiScreen
from repdesk.tui.screens.review import ReviewScreen

SIZE = (130, 45)


def deal_id(home: Path, title: str) -> int:
    return int(db(home, "SELECT id FROM deal WHERE title = ?", title)[0][0])


def text_of(screen: Any, selector: str) -> str:
    """What the widget draws, line by line (a Group renders as lines, not as one text)."""
    widget = screen.query_one(selector, Static)
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def form(pilot: Pilot[Any]) -> FormScreen:
    """The form on top, ready for keys (its fields mounted, the first one focused): a value
    set before that could be overwritten as the form finished its mount."""
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.keys_ready,
    )
    await pilot.pause()
    return pilot.app.screen  # type: ignore[return-value]


async def saved(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(pilot.app.screen, FormScreen))


async def test_f_on_the_board_makes_the_reps_forecast_call(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await on_board(pilot)
        await pilot.press("l", "l", "l", "l")  # Proposal: Fleet tracking rollout, best case
        column = board.current_column()
        assert column is not None and column.selected is not None
        fleet = column.selected.deal_id
        await pilot.press("F")
        screen = await form(pilot)
        assert screen.query_one("#field-forecast").value == "auto"  # type: ignore[attr-defined]
        screen.query_one("#field-probability").value = "nope"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "whole percentage" in text_of(screen, "#error-probability"))
        screen.query_one("#field-forecast").value = "commit"  # type: ignore[attr-defined]
        screen.query_one("#field-probability").value = "85"  # type: ignore[attr-defined]
        await saved(pilot)
        assert db(home, "SELECT forecast, probability FROM deal WHERE id = ?", fleet) == [
            ("commit", 85)
        ]
        assert db(home, "SELECT from_category, to_category FROM forecast_change") == [
            ("best_case", "commit")
        ]
        await pilot.press("u")  # the call is undone like any change
        await until(
            pilot, lambda: db(home, "SELECT forecast FROM deal WHERE id = ?", fleet) == [(None,)]
        )
        assert db(home, "SELECT count(*) FROM forecast_change") == [(0,)]


async def test_the_deal_page_shows_the_forecast_and_takes_a_won_customers_score(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        app.open_deal(deal_id(home, "40 seats renewal"))
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        page = app.screen
        await until(pilot, lambda: "commit (auto)" in text_of(page, "#deal-fields"))
        assert "70% (Negotiation's)" in text_of(page, "#deal-fields")
        await pilot.press("V")  # an open deal has no customer score yet
        await until(
            pilot, lambda: any("won customer" in str(n.message) for n in app._notifications)
        )
        assert not isinstance(app.screen, FormScreen)
        await pilot.press("F")
        screen = await form(pilot)
        screen.query_one("#field-forecast").value = "best_case"  # type: ignore[attr-defined]
        screen.query_one("#field-competitor").value = "FleetOne"  # type: ignore[attr-defined]
        await saved(pilot)
        # Both on screen: the competitor's row is one line more, drawn once the page is laid
        # out again (before that the widget's old height cuts it off).
        await until(
            pilot,
            lambda: (
                "best case (your call)" in text_of(page, "#deal-fields")
                and "FleetOne" in text_of(page, "#deal-fields")
            ),
        )

        await pilot.press("escape")
        await on_board(pilot)
        app.open_deal(deal_id(home, "Support contract"))  # won on 5 November
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        page = app.screen
        await pilot.press("V")
        screen = await form(pilot)
        screen.query_one("#field-score").value = "11"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "0 to 10" in text_of(screen, "#error-score"))
        screen.query_one("#field-score").value = "9"  # type: ignore[attr-defined]
        await saved(pilot)
        assert db(home, "SELECT nps, nps_on FROM deal WHERE title = 'Support contract'") == [
            (9, "2026-11-20")
        ]
        await until(pilot, lambda: "9 (2026-11-20)" in text_of(page, "#deal-fields"))


async def test_5_opens_the_weekly_review_and_its_commitments_are_marked_there(
    app: RepdeskApp, home: Path
) -> None:
    fleet = deal_id(home, "Fleet tracking rollout")
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:  # last week's, made on its Monday
        review.add_commitment(
            session=session, deal_id=fleet, text="Signed [b]order[/b] back",
            week=week_of_label(2026, 46), now=datetime(2026, 11, 9, 9, tzinfo=UTC),
        )  # fmt: skip
    engine.dispose()
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.page)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert "Week 2026-W47" in text_of(screen, "#review-heading")
        # Drawn line by line at the widget's size, which the next layout sets (seen under load:
        # only its first line, "New deals (0)", before it).
        await until(pilot, lambda: "Without a next step" in text_of(screen, "#review-changes"))
        changes = text_of(screen, "#review-changes")
        assert "Without a next step (2)" in changes
        assert "[bold]ACME[/] expansion [" in changes  # a title shown as typed, never markup
        options = screen.query_one("#review-commitments", OptionList)
        assert options.option_count == 1
        assert "Signed [b]order[/b] back" in str(options.get_option_at_index(0).prompt)
        assert "1 the week before; 1 of those to mark" in text_of(
            screen, "#review-commitments-title"
        )
        await pilot.press("plus")
        await until(pilot, lambda: db(home, "SELECT outcome FROM commitment") == [("kept",)])
        await until(pilot, lambda: "✓ kept" in str(options.get_option_at_index(0).prompt))

        await pilot.press("C")
        commit = await form(pilot)
        # A deal named by words several deals share: said under the deal, the cursor put
        # there (it stayed in the last field: a new-user trial).
        commit.query_one("#field-deal").value = "e"  # type: ignore[attr-defined]
        commit.query_one("#field-text").value = "Demo to the board booked"  # type: ignore[attr-defined]
        commit.query_one("#field-text").focus()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "matches several deals" in text_of(commit, "#error-deal"))
        assert app.focused is commit.query_one("#field-deal")
        commit.query_one("#field-deal").value = "Route planning"  # type: ignore[attr-defined]
        await saved(pilot)
        await until(pilot, lambda: options.option_count == 2)
        # A second one: the cursor goes to it (it stayed on the row it was on, the first, and
        # `+` marked another: a new user's trial).
        assert options.highlighted == 0
        await pilot.press("C")
        commit = await form(pilot)
        commit.query_one("#field-deal").value = "Warehouse pilot"  # type: ignore[attr-defined]
        commit.query_one("#field-text").value = "Pilot signed"  # type: ignore[attr-defined]
        await saved(pilot)
        await until(pilot, lambda: options.option_count == 3)
        await until(pilot, lambda: options.highlighted == 1)
        assert "Pilot signed" in str(options.get_option_at_index(1).prompt)
        await pilot.press("D")  # taken back: the rest of the test has the two
        await until(pilot, lambda: options.option_count == 2)
        assert db(home, "SELECT week, text FROM commitment ORDER BY id") == [
            ("2026-W46", "Signed [b]order[/b] back"),
            ("2026-W47", "Demo to the board booked"),
        ]

        await pilot.press("left_square_bracket")  # last week, kept as it ended
        await until(pilot, lambda: "Week 2026-W46" in text_of(screen, "#review-heading"))
        await until(pilot, lambda: "New deals (1)" in text_of(screen, "#review-changes"))
        assert "as it ended" in text_of(screen, "#review-heading")
        assert db(home, "SELECT week FROM weekly_review") == [("2026-W46",)]
        await pilot.press("right_square_bracket", "right_square_bracket")  # no week to come
        await until(pilot, lambda: "Week 2026-W47" in text_of(screen, "#review-heading"))
        assert any("not begun" in str(n.message) for n in app._notifications)


async def test_the_kpi_pane_shows_the_forecast_categories_and_what_lost_deals_teach(
    app: RepdeskApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, KpiScreen) and app.screen.pane)
        screen = app.screen
        forecast = text_of(screen, "#kpi-forecast")
        # Closing on 28 November: Negotiation is commit; Proposal and Demo best case; the rest
        # pipeline. Won so far: the €9,000 support contract.
        assert "commit €12,000 · best case €53,000 · pipeline €24,500" in forecast
        assert "Won + commit  €21,000  35% of quota" in forecast
        lessons = text_of(screen, "#kpi-lessons")
        assert "Lost by reason  price 1× €4,000" in lessons
        assert "no won customer of this period answered yet" in lessons


async def test_a_commitment_on_no_deal_says_so_under_the_deal_at_80x24(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: at 80x24 a commitment naming no deal was refused without a word on
    screen (the line sat below the form, off the terminal); at 120x36 it stood under "What
    will happen", cut off."""
    async with app.run_test(size=(80, 24)) as pilot:
        await on_board(pilot)
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.page)
        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        await pilot.press(*"zzznomatch", "tab", *"sign", "enter")
        await until(pilot, lambda: "no deal matches" in text_of(form, "#error-deal"))
        assert "zzznomatch" in text_of(form, "#error-deal")
        assert text_of(form, "#form-error") == ""
        assert form.query_one("#error-deal").region.bottom <= 24  # on the terminal, in view
        assert isinstance(app.screen, FormScreen)
        assert db(home, "SELECT count(*) FROM commitment") == [(0,)]


async def test_a_deal_typed_as_the_start_of_several_is_never_taken_as_the_first(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: "Bryan-Brown" then tab took the first of four deals it starts, and
    the commitment stood on a deal the rep did not mean; the shell refuses the same text."""
    from tests.shell import ok

    ok("--home", home, "deal", "add", "Fleet tracking phase 2", "--value", "100")
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.page)
        await pilot.press("C")
        screen = await form(pilot)
        await pilot.press(*"Fleet", "tab")
        assert screen.raw_values()["deal"] == "Fleet"  # nothing completed
        await pilot.press(*"sign", "enter")
        await until(pilot, lambda: "matches several deals" in text_of(screen, "#error-deal"))
        assert "Fleet tracking rollout" in text_of(screen, "#error-deal")
        assert db(home, "SELECT count(*) FROM commitment") == [(0,)]
        # The refused field has the cursor: typed further, it is one deal's, and completes.
        assert screen.focused is screen.query_one("#field-deal")
        await pilot.press("end", *" tracking r", "tab")
        assert screen.raw_values()["deal"] == "Fleet tracking rollout"
        await saved(pilot)
    fleet = deal_id(home, "Fleet tracking rollout")
    assert db(home, "SELECT deal_id, text FROM commitment") == [(fleet, "sign")]


async def test_a_mark_and_a_drop_are_undone_by_u_and_so_is_the_commitment_before_them(
    app: RepdeskApp, home: Path
) -> None:
    """A hostile test: `+` then `u` said the commitment "was changed since (by another
    program?)", and a dropped commitment could not be brought back."""
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await pilot.press("5")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.page)
        await pilot.press("C")
        await form(pilot)
        await pilot.press(*"Fleet tracking rollout", "tab", *"pilot signed", "enter")
        mine = "SELECT text, outcome FROM commitment WHERE text = 'pilot signed'"
        await until(pilot, lambda: db(home, mine) == [("pilot signed", None)])
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        options = screen.query_one("#review-commitments", OptionList)
        await until(pilot, lambda: options.option_count == 1)
        options.highlighted = 0
        await pilot.press("plus")
        await until(pilot, lambda: db(home, mine) == [("pilot signed", "kept")])
        await pilot.press("u")
        await until(pilot, lambda: db(home, mine) == [("pilot signed", None)])
        await pilot.press("D")
        await until(pilot, lambda: db(home, mine) == [])
        await pilot.press("u")
        await until(pilot, lambda: db(home, mine) == [("pilot signed", None)])
        await pilot.press("u")  # the commitment itself, made before the mark and the drop
        await until(pilot, lambda: db(home, mine) == [])
        assert not any("another program" in str(n.message) for n in app._notifications)


def test_the_commitments_of_the_two_weeks_line_up() -> None:
    # "this week ? open    #229" above "week before ✗ missed  #212" (a new user's trial).
    from repdesk.tui.screens.review import commitment_prompt

    def row(judged: str, this_week: bool) -> str:
        line = review.CommitmentLine(
            id=1, deal_id=7, title="Fleet", company="Acme", week="2026-W47", text="demo",
            outcome=None, judged=judged, since="",
        )  # fmt: skip
        return commitment_prompt(line, this_week).plain

    rows = [row("open", True), row("missed", False), row("kept", False)]
    assert len({line.index("#7") for line in rows}) == 1, rows


async def review_at_80x24(pilot: Pilot[Any], home: Path) -> ReviewScreen:
    """The review of the week at 80x24, with four commitments to read above what changed."""
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        for title in ("Fleet tracking rollout", "40 seats renewal", "Warehouse pilot"):
            review.add_commitment(
                session=session, deal_id=deal_id(home, title), text=f"{title} moves on",
                week=week_of_label(2026, 47), now=datetime(2026, 11, 16, 9, tzinfo=UTC),
            )  # fmt: skip
        review.add_commitment(
            session=session, deal_id=deal_id(home, "Route planning"), text="Scope agreed",
            week=week_of_label(2026, 46), now=datetime(2026, 11, 9, 9, tzinfo=UTC),
        )  # fmt: skip
    engine.dispose()
    app = pilot.app
    await on_board(pilot)
    await pilot.press("5")
    await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.page)
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    await until(pilot, lambda: screen.query_one("#review-commitments", OptionList).option_count)
    await until(pilot, lambda: "Without a next step" in text_of(screen, "#review-changes"))
    return screen


def seen(app: Any) -> str:
    return "\n".join(screen_lines(app))


async def test_the_whole_review_is_read_at_80x24_with_the_keys_it_shows(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: at 80x24 ↑↓, pgdn and End moved inside the commitments box, and
    what changed in the week (won, lost, slipped dates...) stayed below the screen; only tab,
    said nowhere, then pgdn reached it."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await review_at_80x24(pilot, home)
        options = screen.query_one("#review-commitments", OptionList)
        assert "Activity against the week before" not in seen(app)
        await pilot.press("end")  # the focus still in the commitments
        await until(pilot, lambda: "Activity against the week before" in seen(app))
        assert "Commitments (3 this week" not in seen(app)
        await pilot.press("home")
        await until(pilot, lambda: "Commitments (3 this week" in seen(app))
        await pilot.press("pagedown")
        await until(pilot, lambda: "Close dates that slipped" in seen(app))
        await pilot.press("pageup")
        await until(pilot, lambda: "Commitments (3 this week" in seen(app))
        assert options.highlighted == 0 and app.focused is options

        # ↓ goes through the commitments, then on into the review below them...
        await pilot.press("down", "down", "down")
        assert options.highlighted == 3
        assert "Scope agreed" in seen(app)  # the highlighted one kept in sight
        for _ in range(30):
            await pilot.press("j")
        await until(pilot, lambda: "Activity against the week before" in seen(app))
        assert options.highlighted == 3
        # ...and ↑ comes back the same way: up the review, then up the commitments.
        body = screen.query_one("#review-body")
        for _ in range(round(body.scroll_y)):
            await pilot.press("k")
        assert options.highlighted == 3 and body.scroll_y == 0
        assert "Commitments (3 this week" in seen(app)
        await pilot.press("up")
        assert options.highlighted == 2
        await pilot.press("plus")  # the marks still act on the commitment under the cursor
        mark = "SELECT outcome FROM commitment WHERE text = 'Warehouse pilot moves on'"
        await until(pilot, lambda: db(home, mark) == [("kept",)])
        await pilot.press("end", "left_square_bracket")  # the week before reads from its top
        await until(pilot, lambda: "Week 2026-W46" in text_of(screen, "#review-heading"))
        await until(pilot, lambda: "Commitments (1 this week" in seen(app))


async def test_the_footer_and_help_of_the_review_say_how_to_scroll_it(
    app: RepdeskApp, home: Path
) -> None:
    from repdesk.tui.screens.help import HelpScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await review_at_80x24(pilot, home)
        assert "pgdn" in screen_lines(app)[-1]
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        keys = {entry.binding_id: entry.keys_text for entry in help_screen.screen_keys}
        assert keys["review.down"] == "j ↓" and keys["review.up"] == "k ↑"
        assert keys["pane.page_down"] == "pgdn" and keys["pane.page_up"] == "pgup"
        assert keys["pane.top"] == "home" and keys["pane.bottom"] == "end"
