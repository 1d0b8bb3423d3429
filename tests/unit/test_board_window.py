"""The board's first read (what the app's first frame shows) against the full read, on both
engines: each stage's first cards in the board's order, and each stage's true size."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from tests.pinned import EUR, NOW, TODAY

from repdesk.core.dates import parse_period
from repdesk.core.money import Conversion
from repdesk.reports import figures
from repdesk.reports.kpi_pane import kpi_pane
from repdesk.services import deals, followups, objections
from repdesk.services.board import (
    board_window,
    column_total,
    first_screen,
    load_board,
    ordered,
    stage_money,
)
from repdesk.storage.store import read_session, write_session

# (stage, value in cents, next step in days from today or None, at, open objections)
SPREAD: list[tuple[str, int, int | None, time | None, int]] = [
    ("Prospect", 500_000, -3, None, 0),  # overdue
    ("Prospect", 500_000, -3, None, 1),  # overdue, same day and value: the id decides
    ("Prospect", 900_000, -1, None, 0),
    ("Prospect", 100_000, 0, time(15, 0), 2),  # today, with a time
    ("Prospect", 200_000, 0, None, 0),  # today too, worth more: first of the two
    ("Prospect", 2_000_000, 4, None, 0),
    ("Prospect", 50_000, None, None, 0),  # no next step: after every dated one, by value
    ("Prospect", 2_000_000, None, None, 0),
    ("Demo", 700_000, 2, time(9, 0), 0),
    ("Demo", 700_000, 2, None, 1),
    ("Demo", 300_000, None, None, 0),
    ("Proposal", 1_000_000, -10, None, 0),
]


def _fill(engine: Any) -> None:
    with write_session(engine) as session:
        for n, (stage, value, due_in, at, open_objections) in enumerate(SPREAD):
            deal = deals.create_deal(
                session=session,
                title=f"Deal {n}",
                company=f"Company {n}",
                value_cents=value,
                currency="EUR",
                stage=stage,
                now=NOW - timedelta(days=20),
            )
            assert deal.id is not None
            if due_in is not None:
                when = (TODAY + timedelta(days=due_in), at)
                followups.add_follow_up(
                    session=session, deal_id=deal.id, when=when, now=NOW - timedelta(days=15)
                )
                # A later step too: the card shows the earliest pending one.
                later = (TODAY + timedelta(days=due_in + 5), None)
                followups.add_follow_up(
                    session=session, deal_id=deal.id, when=later, now=NOW - timedelta(days=15)
                )
            for k in range(open_objections):
                objections.add_objection(
                    session=session, deal_id=deal.id, category="price", said=f"too dear {k}"
                )
        closed = deals.create_deal(
            session=session, title="Closed", value_cents=9_900_000, currency="EUR", stage="Demo"
        )
        deals.win_deal(session=session, deal_id=closed.id, now=NOW)  # type: ignore[arg-type]


def test_the_window_is_the_head_of_every_column_of_the_full_board(engine: Any) -> None:
    _fill(engine)
    with read_session(engine) as session:
        _, every_card = load_board(session)
        window = board_window(session, per_stage=3)
    assert set(window.cards) == set(every_card)  # open stages with deals, no more
    for stage_id, cards in every_card.items():
        assert window.cards[stage_id] == ordered(cards, "due")[:3]
        assert window.sizes[stage_id] == stage_money(cards)
        assert column_total(window.sizes[stage_id], EUR).total_cents == sum(
            c.value_cents for c in cards
        )
    prospect = next(cards for cards in every_card.values() if len(cards) == 8)
    head = [c.title for c in ordered(prospect, "due")]
    # Overdue first (the older step first; a tie on day and value goes by id), then today
    # by value, then later steps, then "no next step" by value.
    assert head == [f"Deal {n}" for n in (0, 1, 2, 4, 3, 5, 7, 6)]


def test_a_window_larger_than_a_column_holds_the_whole_column(engine: Any) -> None:
    _fill(engine)
    with read_session(engine) as session:
        _, every_card = load_board(session)
        window = board_window(session)
    for stage_id, cards in every_card.items():
        assert window.cards[stage_id] == ordered(cards, "due")


def test_the_first_screen_carries_this_months_quota_figures(engine: Any) -> None:
    _fill(engine)
    with read_session(engine) as session:
        first = first_screen(session, conversion=EUR)
        assert first.quota == figures.month_standing(session, conversion=EUR)
    assert first.quota.won_value == 9_900_000
    assert first.board.stages[0].name == "Prospect"


def test_the_window_reads_an_empty_desk(engine: Any) -> None:
    with read_session(engine) as session:
        window = board_window(session)
    assert window.cards == {} and window.sizes == {}
    assert [s.kind for s in window.stages].count("open") == 6


RATES = Conversion("EUR", {"GBP": 1.15, "USD": 0.92})


def _mixed_currencies(engine: Any) -> None:
    with write_session(engine) as session:
        for n, (stage, cents, currency) in enumerate(
            [
                ("Prospect", 1_000_000, "EUR"),
                ("Prospect", 1_000_001, "GBP"),
                ("Prospect", 333_333, "USD"),
                ("Prospect", 500_000, "SEK"),  # no rate: left out, as the KPIs leave it out
                ("Demo", 250_000, "GBP"),
                ("Demo", 99, "JPY"),
            ]
        ):
            deals.create_deal(session=session, title=f"Deal {n}", value_cents=cents,
                              currency=currency, stage=stage, now=NOW)  # fmt: skip


def test_column_totals_convert_at_the_settings_rates_exactly_as_the_kpi_pane(engine: Any) -> None:
    _mixed_currencies(engine)
    with read_session(engine) as session:
        _, every_card = load_board(session)
        window = board_window(session, per_stage=1)  # most deals below the fold
        pane = kpi_pane(session, period=parse_period("2026-11"), as_of=TODAY, conversion=RATES)
    stage_ids = {s.name: s.id for s in window.stages}
    funnel = {stage.name: stage for stage in pane.funnel}
    for name in ("Prospect", "Demo"):
        stage_id = stage_ids[name]
        from_window = column_total(window.sizes[stage_id], RATES)
        from_cards = column_total(stage_money(every_card[stage_id]), RATES)
        assert from_window == from_cards
        assert (from_window.count, from_window.total_cents) == (
            funnel[name].open_count,
            funnel[name].open_value_cents,
        )
    prospect = column_total(window.sizes[stage_ids["Prospect"]], RATES)
    # €10,000 + £10,000.01 x 1.15 + $3,333.33 x 0.92 = 2,456,667.51 cents, rounded once;
    # SEK has no rate.
    assert prospect.total_cents == 2_456_668
    assert (prospect.count, prospect.left_out, prospect.left_out_currencies) == (3, 1, ("SEK",))
    # The board's open count is the KPI pane's: the deals it could not sum are left out of both.
    counted = sum(column_total(m, RATES).count for m in window.sizes.values())
    assert counted == pane.kpis.open_count == 4


def test_the_won_and_lost_columns_show_the_latest_closed_first() -> None:
    """With no next step to sort by, the Won column read 04 Aug, 07 Mar, 29 Jun, by value (a
    new-user trial)."""
    from datetime import date

    from repdesk.core.views import CardRow

    def won(deal_id: int, closed: date, cents: int) -> CardRow:
        return CardRow(deal_id, f"#{deal_id}", "", "", cents, "EUR", 7, 0, None, None,
                       False, 0, False, status="won", closed_on=closed)  # fmt: skip

    cards = [won(1, date(2026, 8, 4), 900), won(2, date(2026, 3, 7), 5_000),
             won(3, date(2026, 6, 29), 100), won(4, date(2026, 7, 26), 100)]  # fmt: skip
    assert [c.deal_id for c in ordered(cards, "due")] == [1, 4, 3, 2]
    # A won customer's check-in, overdue or not, does not lift its card above a deal won later
    # (the Won column read 04 Aug, 07 Mar, 03 Dec, 29 Jun: another new-user trial).
    checked = won(5, date(2026, 11, 20), 100)._replace(next_due=date(2026, 11, 25))
    cards = [cards[0]._replace(overdue=True, next_due=date(2026, 11, 1)), *cards[1:], checked]
    assert [c.deal_id for c in ordered(cards, "due")] == [5, 1, 4, 3, 2]
    assert [c.deal_id for c in ordered(cards, "value")] == [2, 1, 3, 4, 5]  # `s` still sorts
