"""The board's read model: every deal as a plain CardRow, grouped by stage and ordered."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from repdesk import clock, queries
from repdesk.views import CardRow, StageRow

ORDERS = ("due", "value", "age")
ORDER_LABELS = {
    "due": "overdue, then next step, then value",
    "value": "value",
    "age": "days in stage",
}


def card_rows(
    conn: Any, *, today: date, now: datetime, include_closed: bool = False
) -> dict[int, list[CardRow]]:
    """Cards by stage id (unordered). `conn` is a session or a sqlite3 connection."""
    columns: dict[int, list[CardRow]] = defaultdict(list)
    as_date, as_time, as_instant = queries.as_date, queries.as_time, queries.as_instant
    for row in queries.fetch(conn, "board_cards", include_closed=int(include_closed)):
        (deal_id, title, company, contact, value, currency, stage_id, entered, rot_days,
         due_on, due_time, objections) = row  # fmt: skip
        entered_at = as_instant(entered)
        days = (now - entered_at).days if entered_at else 0
        due = as_date(due_on)
        columns[stage_id].append(
            CardRow(
                deal_id=deal_id,
                title=title,
                company=company,
                contact=contact,
                value_cents=int(value),
                currency=currency,
                stage_id=stage_id,
                days_in_stage=days,
                next_due=due,
                next_due_time=as_time(due_time),
                overdue=due is not None and due < today,
                open_objections=int(objections),
                rotting=rot_days is not None and days > rot_days,
            )
        )
    return columns


BoardData = tuple[list[StageRow], dict[int, list[CardRow]]]


def load_board(conn: Any, *, include_closed: bool = False) -> BoardData:
    """The stages and every card: the board's whole read (a session or a sqlite3 connection)."""
    stages = [StageRow(*row) for row in queries.fetch(conn, "stages")]
    cards = card_rows(conn, today=clock.today(), now=clock.now(), include_closed=include_closed)
    return stages, cards


def sort_key(order: str) -> Callable[[CardRow], tuple[Any, ...]]:
    """Overdue first, then by next follow-up, then by value (or by value / age alone)."""
    if order == "value":
        return lambda c: (-c.value_cents, c.deal_id)
    if order == "age":
        return lambda c: (-c.days_in_stage, -c.value_cents, c.deal_id)
    return lambda c: (
        not c.overdue,
        c.next_due is None,
        c.next_due or date.max,
        -c.value_cents,
        c.deal_id,
    )


def ordered(cards: list[CardRow], order: str) -> list[CardRow]:
    return sorted(cards, key=sort_key(order))


def matches(card: CardRow, needle: str) -> bool:
    """The board filter: title, company or contact, case-insensitive."""
    return (
        needle in card.title.lower()
        or needle in card.company.lower()
        or needle in card.contact.lower()
    )
