"""The board's read model: every deal as a plain CardRow, grouped by stage and ordered."""

from __future__ import annotations

import heapq
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from repdesk.core import clock
from repdesk.core.money import Conversion
from repdesk.core.standing import QuotaStanding
from repdesk.core.views import CardRow, ColumnTotal, StageRow
from repdesk.reports import queries
from repdesk.reports.standing import Converter, month_standing, whole

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
    for row in queries.rows(conn, "board_cards", include_closed=int(include_closed)):
        card = _card(row, today=today, now=now)
        status, closed_on, reason = row[12:15]
        if status != "open":  # the Won and Lost columns: when it closed, and why it was lost
            card = card._replace(
                status=status, closed_on=queries.as_date(closed_on), lost_reason=reason
            )
        columns[card.stage_id].append(card)
    return columns


def _card(row: tuple[Any, ...], *, today: date, now: datetime) -> CardRow:
    """A card from the first twelve columns of `board_cards` / `board_window`."""
    (deal_id, title, company, contact, value, currency, stage_id, entered, rot_days,
     due_on, due_time, objections) = row[:12]  # fmt: skip
    entered_at = queries.as_instant(entered)
    days = (now - entered_at).days if entered_at else 0
    due = queries.as_date(due_on)
    return CardRow(
        deal_id=deal_id,
        title=title,
        # Shared, not one copy per card: a few hundred companies and currencies among
        # 100,000 cards (10 MB of the board's memory on a desk that size).
        company=sys.intern(company),
        contact=contact,
        value_cents=int(value),
        currency=sys.intern(currency),
        stage_id=stage_id,
        days_in_stage=days,
        next_due=due,
        next_due_time=queries.as_time(due_time),
        overdue=due is not None and due < today,
        open_objections=int(objections),
        rotting=rot_days is not None and days > rot_days,
    )


BoardData = tuple[list[StageRow], dict[int, list[CardRow]]]


def load_board(conn: Any, *, include_closed: bool = False) -> BoardData:
    """The stages and every card: the board's whole read (a session or a sqlite3 connection)."""
    stages = [StageRow(*row) for row in queries.fetch(conn, "stages")]
    cards = card_rows(conn, today=clock.today(), now=clock.now(), include_closed=include_closed)
    return stages, cards


# Cards per stage in the board's first read: more than the tallest terminal shows (the
# rest follows in the full read, before anyone scrolls that far).
WINDOW = 40


# A stage's deals by currency: currency -> (deals, their value in that currency's cents).
StageMoney = dict[str, tuple[int, int]]


def stage_money(cards: Iterable[CardRow]) -> StageMoney:
    money: StageMoney = {}
    for card in cards:
        deals, cents = money.get(card.currency, (0, 0))
        money[card.currency] = (deals + 1, cents + card.value_cents)
    return money


def column_total(money: StageMoney, conversion: Conversion) -> ColumnTotal:
    """A column's count and total exactly as the KPI pane sums the open pipeline: each
    currency's sum at the settings' rate, rounded once; no rate, left out and counted."""
    converter = Converter(conversion)
    total, counted = Decimal(0), 0
    for currency, (deals, cents) in sorted(money.items()):
        converted = converter.cents(cents, currency, deals)
        if converted is not None:
            total += converted
            counted += deals
    left_out = tuple(sorted(converter.left_out_currencies))
    return ColumnTotal(counted, whole(total), converter.left_out_deals, left_out)


class BoardWindow(NamedTuple):  # named tuples: see repdesk.core.views
    """The open stages' first cards in the default order, and every stage's true size."""

    stages: list[StageRow]
    cards: dict[int, list[CardRow]]
    sizes: dict[int, StageMoney]  # stage id -> every open deal of the stage, by currency


def board_window(conn: Any, *, per_stage: int | None = None) -> BoardWindow:
    """What the board shows first, read without building 10,000 cards nobody sees yet.

    The cards of each stage are the first `per_stage` (default WINDOW) of
    `ordered(all, "due")`, in that order: the deals with the earliest pending follow-ups (read
    in due order, only until every stage has its cards), then those with none, by value.
    """
    per_stage = per_stage or WINDOW
    today, now = clock.today(), clock.now()
    stages = [StageRow(*row) for row in queries.fetch(conn, "stages")]
    sizes: dict[int, StageMoney] = defaultdict(dict)
    for stage_id, currency, count, cents in queries.fetch(conn, "board_sizes"):
        sizes[stage_id][currency] = (int(count), int(cents))
    chosen = _first_deals(conn, set(sizes), per_stage)
    cards: dict[int, list[CardRow]] = defaultdict(list)
    for row in queries.rows(conn, "board_chosen_cards", ids=chosen):
        card = _card(row, today=today, now=now)
        cards[card.stage_id].append(card)
    return BoardWindow(stages, {k: ordered(v, "due") for k, v in cards.items()}, dict(sizes))


def _first_deals(conn: Any, stages: set[int], per_stage: int) -> list[int]:
    """The ids of each stage's first `per_stage` deals in the board's order."""
    firsts: dict[int, list[tuple[Any, int, int]]] = defaultdict(list)
    seen: set[int] = set()
    done: set[int] = set()
    day: Any = None
    for deal_id, due_on, stage_id, cents in queries.rows(conn, "board_due_order"):
        if due_on != day:
            # Every deal due before this day is in: a stage with enough of them is done.
            done.update(s for s in stages if len(firsts[s]) >= per_stage)
            if done >= stages:
                break
            day = due_on
        if deal_id in seen:
            continue  # a later step of a deal already placed by its earliest
        seen.add(deal_id)
        if stage_id not in done:
            firsts[stage_id].append((due_on, -int(cents), deal_id))
    chosen = []
    for stage_id in stages:
        first = heapq.nsmallest(per_stage, firsts[stage_id])
        chosen += [deal_id for *_, deal_id in first]
        if (missing := per_stage - len(first)) > 0:  # then those with no next step
            found = queries.fetch(conn, "board_unscheduled", stage_id=stage_id, limit=missing)
            chosen += [deal_id for (deal_id,) in found]
    return chosen


class FirstScreen(NamedTuple):
    """Everything the app's first frame shows: the board's window and the quota strip."""

    board: BoardWindow
    quota: QuotaStanding


def first_screen(conn: Any, *, conversion: Conversion) -> FirstScreen:
    """One read for the first frame (a session or a sqlite3 connection in a transaction)."""
    return FirstScreen(board_window(conn), month_standing(conn, conversion=conversion))


def sort_key(order: str) -> Callable[[CardRow], tuple[Any, ...]]:
    """Overdue first, then by next follow-up, then by value (or by value / age alone). A won
    or lost deal's card shows when it closed, not its next step: the latest closed come first,
    whatever steps (a won customer's check-in) it has (the Won column read 04 Aug, 07 Mar,
    03 Dec, 29 Jun, the deals with a check-in due first: new-user trials)."""
    if order == "value":
        return lambda c: (-c.value_cents, c.deal_id)
    if order == "age":
        return lambda c: (-c.days_in_stage, -c.value_cents, c.deal_id)
    return lambda c: (
        -c.closed_on.toordinal() if c.closed_on is not None else 0,
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
