"""Figures and queues in the app that tell the truth (issue 14): the board's totals at the
settings' rates, closed cards, a past period, going-cold rows, a follow-up done or snoozed."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

from tests.pinned import NOW, TODAY
from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import db, until
from textual.pilot import Pilot

from repdesk.core.dates import parse_period
from repdesk.services import deals, followups, quotas
from repdesk.settings import Settings
from repdesk.storage.store import make_engine, write_session
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.forms import FormScreen
from repdesk.tui.screens.followups import FollowUpsScreen
from repdesk.tui.screens.kpi import KpiScreen
from repdesk.tui.widgets.queue_list import QueueList
from repdesk.tui.widgets.stage_column import StageColumn

SIZE = (140, 40)


def _add(home: Path, write: Any) -> None:
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        write(session)
    engine.dispose()


def _column(app: RepdeskApp, stage: str) -> StageColumn:
    return next(b for b in app.board.columns() if b.stage_name == stage)


def _board_status(app: RepdeskApp) -> str:
    return app.board.query_one("#board-status").render_line(0).text


async def test_board_totals_use_the_rates_and_say_what_they_leave_out(home: Path) -> None:
    desk = build_small_desk(home)  # Proposal: €45,000

    def more(session: Any) -> None:
        for title, cents, currency in (("Dollars", 1_000_000, "USD"), ("Kronor", 5_000_000, "SEK")):
            deals.create_deal(session=session, title=title, value_cents=cents,
                              currency=currency, stage="Proposal", now=NOW)  # fmt: skip

    _add(home, more)
    app = create_app(desk, Settings(rates={"USD": 0.9}))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded)
        await pilot.pause()
        header = _column(app, "Proposal")
        # €45,000 + $10,000 x 0.9: the kronor have no rate, are left out, and it says so.
        assert header.figures(60) == "2 deals · €54k + 1 in SEK, no rate"
        assert header.figures(20) == "2 · €54k +1 SEK"  # narrow: the currency stays
        # With cards out of sight too, a narrow column kept only "↓18 of 2" (a new user's
        # trial: one column of six read "↓18 of 25" where the others had their totals).
        header.hidden_cards = lambda: (0, 18)  # type: ignore[method-assign]
        assert header.figures(15) == "2·€54k +1? ↓18"
        assert len(_column(app, "Proposal").cards) == 3  # still on the board
        status = _board_status(app)
        assert status.startswith("7 deals (+1 in SEK, no rate in settings) · sorted")
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, KpiScreen) and app.screen.pane)
        assert app.screen.pane.kpis.open_count == 7  # type: ignore[attr-defined]


async def test_won_and_lost_cards_show_the_close_the_reason_and_how_long_ago(
    app: RepdeskApp,
) -> None:
    async with app.run_test(size=(200, 40)) as pilot:  # eight columns of 25 cells
        await until(pilot, lambda: app.board.loaded)
        await pilot.press("v")
        await until(pilot, lambda: app.board.loaded and len(app.board.columns()) == 8)
        await until(pilot, lambda: bool(_column(app, "Lost").cards))
        # Drawn once the new columns are laid out (before that a column has no width).
        await until(
            pilot,
            lambda: (
                "won" in _column(app, "Won").render_line(4).text
                and "lost" in _column(app, "Lost").render_line(4).text
            ),
        )
        won = [_column(app, "Won").render_line(y).text for y in range(2, 5)]
        lost = [_column(app, "Lost").render_line(y).text for y in range(2, 5)]
        assert "won 05 Nov" in won[2] and "15d ago" in won[2]
        assert "lost 02 Nov: price" in lost[2] and lost[2].rstrip("▕ ").endswith(" 18d")
        assert "no next step" not in won[2] + lost[2]


async def test_a_past_month_reads_missed_by_not_behind_pace(home: Path) -> None:
    desk = build_small_desk(home)
    _add(home, lambda s: quotas.set_quota(session=s, period=parse_period("2026-10"),
                                          amount_cents=2_000_000))  # fmt: skip
    app = create_app(desk, settings())
    async with app.run_test(size=(130, 50)) as pilot:
        await until(pilot, lambda: app.board.loaded)
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, KpiScreen) and app.screen.pane)
        screen = app.screen
        assert isinstance(screen, KpiScreen)
        before = screen.pane
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: screen.pane is not before)
        await pilot.pause()
        headline = str(screen.query_one("#kpi-headline").render())
        period = str(screen.query_one("#kpi-period").render())
        assert "missed by €20,000" in headline and "ended 31 Oct" in headline
        assert "behind pace" not in headline and "days left" not in headline
        assert "past month" in period and "as of Sat 31 Oct" in period


async def _queues(pilot: Pilot[Any]) -> QueueList:
    app = pilot.app
    await until(pilot, lambda: app.board.loaded)  # type: ignore[attr-defined]
    await pilot.press("2")
    await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen) and app.screen.loaded)
    await pilot.pause()
    return app.screen.query_one(QueueList)


async def _select(pilot: Pilot[Any], listing: QueueList, title: str, section: str) -> None:
    for index, line in enumerate(listing.lines):
        if getattr(line, "title", None) == title and listing.sections[index] == section:
            listing._set(index)
            await pilot.pause()
            return
    raise AssertionError(f"no row {title} in {section}")


async def _reloaded(pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, FollowUpsScreen))
    for _ in range(20):
        await pilot.pause(0.01)


async def test_going_cold_rows_say_how_long_since_the_last_touch(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        listing = await _queues(pilot)
        cold = {
            line.title: listing.render_line(index).text
            for index, line in enumerate(listing.lines)
            if listing.sections[index] == "going_cold" and hasattr(line, "title")
        }
        # Warehouse pilot has a next step (in three days): it is cold for want of a touch.
        assert "never touched" in cold["Warehouse pilot"]
        assert "no next step" not in cold["Warehouse pilot"]


async def test_done_in_the_app_logs_the_call_and_the_deal_is_no_longer_cold(home: Path) -> None:
    desk = build_small_desk(home)
    _add(home, lambda s: followups.add_follow_up(session=s, deal_id=6, when=(TODAY, None),
                                                 note="wake it up", now=NOW))  # fmt: skip
    app = create_app(desk, settings())
    async with app.run_test(size=SIZE) as pilot:
        listing = await _queues(pilot)
        await _select(pilot, listing, "Cold lead", "today")
        await pilot.press("space")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"connected", "enter")
        await _reloaded(pilot)
        listing = app.screen.query_one(QueueList)
        await until(
            pilot, lambda: "Cold lead" not in [r.title for r in _rows(listing, "going_cold")]
        )
    assert db(home, "SELECT kind, outcome, text FROM activity WHERE deal_id = 6") == [
        ("call", "connected", "wake it up")
    ]


def _rows(listing: QueueList, section: str) -> list[Any]:
    return [
        line for index, line in enumerate(listing.lines)
        if listing.sections[index] == section and hasattr(line, "title")
    ]  # fmt: skip


async def test_a_repeating_follow_up_done_in_the_app_keeps_its_rhythm(home: Path) -> None:
    desk = build_small_desk(home)
    # Every week from Monday 16 Nov at 10:00, done on Friday the 20th.
    _add(home, lambda s: followups.add_follow_up(
        session=s, deal_id=6, when=(date(2026, 11, 16), time(10, 0)), note="weekly check-in",
        recur_days=7, now=NOW - timedelta(days=10)))  # fmt: skip
    app = create_app(desk, settings())
    async with app.run_test(size=SIZE) as pilot:
        listing = await _queues(pilot)
        await _select(pilot, listing, "Cold lead", "overdue")
        await pilot.press("space")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.raw_values()["next"] == "2026-11-23 10:00"  # type: ignore[attr-defined]
        await pilot.press(*"connected", "enter")
        await _reloaded(pilot)
    pending = (
        "SELECT due_on, due_time, recur_days FROM follow_up WHERE done_at IS NULL AND deal_id = 6"
    )
    assert db(home, pending) == [("2026-11-23", "10:00:00.000000", 7)]


async def test_snooze_in_the_app_keeps_the_time_of_day(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        listing = await _queues(pilot)
        await _select(pilot, listing, "40 seats renewal", "today")  # today 10:00
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("1", "enter")
        await _reloaded(pilot)
    assert db(home, "SELECT due_on, due_time FROM follow_up WHERE id = 2") == [
        ("2026-11-21", "10:00:00.000000")
    ]
