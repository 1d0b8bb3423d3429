"""The board's first read (what the app's first frame shows) against the full read, on both
engines: each stage's first cards in the board's order, and each stage's true size."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from tests.pinned import EUR, NOW, TODAY

from repdesk import reports
from repdesk.services import deals, followups, objections
from repdesk.services.board import board_window, first_screen, load_board, ordered
from repdesk.store import read_session, write_session

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
        assert window.sizes[stage_id] == (len(cards), sum(c.value_cents for c in cards))
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
        assert first.quota == reports.month_figures(session, conversion=EUR)
    assert first.quota.won_value == 9_900_000
    assert first.board.stages[0].name == "Prospect"


def test_the_window_reads_an_empty_desk(engine: Any) -> None:
    with read_session(engine) as session:
        window = board_window(session)
    assert window.cards == {} and window.sizes == {}
    assert [s.kind for s in window.stages].count("open") == 6
