"""Plain, immutable rows that services hand to the shell commands and the UI.

They carry no session and no ORM state, so a widget can keep thousands of them cheaply and
draw them without touching the database. The board's rows are named tuples, not frozen
dataclasses: defining one costs a fifth (the app's first frame imports them) and making one
a sixth (the board makes 10,000 cards after it). Change one with `row._replace(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import NamedTuple


class StageRow(NamedTuple):
    """A pipeline stage as the board needs it."""

    id: int
    name: str
    position: int
    probability: int
    kind: str  # open | won | lost
    rot_days: int | None


class CardRow(NamedTuple):
    """One deal as a board card shows it."""

    deal_id: int
    title: str
    company: str
    contact: str
    value_cents: int
    currency: str
    stage_id: int
    days_in_stage: int
    next_due: date | None  # the earliest pending follow-up, None = "no next step"
    next_due_time: time | None
    overdue: bool
    open_objections: int
    rotting: bool  # in its stage longer than the stage's rot limit
    # A won or lost deal (the Won and Lost columns) shows when it closed, and why it was lost.
    status: str = "open"
    closed_on: date | None = None
    lost_reason: str = ""


@dataclass(frozen=True, slots=True)
class ColumnTotal:
    """A board column's figures, summed as the KPIs sum them: other currencies at the
    settings' rates, and a deal in a currency with no rate left out (and counted here).
    (A dataclass: its `count` would hide a tuple's.)"""

    count: int  # the deals in the total
    total_cents: int  # their value in the desk's currency
    left_out: int = 0  # deals whose currency has no rate
    left_out_currencies: tuple[str, ...] = ()
