"""The KPI screen's figures beyond the report itself: the won curve, the funnel with
stage-to-stage conversion from the stage history, slices and activity weeks.

Only the app needs these; the fast shell commands import `repdesk.reports.figures` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from repdesk.core import clock
from repdesk.core.dates import Period
from repdesk.core.domain import ACTIVITY_KINDS
from repdesk.core.kpi import Kpis
from repdesk.core.money import Conversion
from repdesk.core.weeks import same_moment_last_week
from repdesk.reports import figures, queries
from repdesk.reports.figures import ClosedFigures


@dataclass(frozen=True, slots=True)
class FunnelStage:
    """One open stage: what sits in it now, and how often deals that got this far went on."""

    name: str
    open_count: int
    open_value_cents: int
    reached: int  # deals that ever got to this stage or further (Lost aside)
    went_on: int  # of those, deals that got past it (to a later stage or Won)

    @property
    def conversion(self) -> float | None:
        return self.went_on / self.reached if self.reached else None


@dataclass(frozen=True, slots=True)
class SliceRow:
    value: str  # e.g. "referral" for source, "" when the deals had none
    figures: ClosedFigures


@dataclass(frozen=True, slots=True)
class ActivityWeeks:
    kind: str
    this_week: int
    last_week: int


@dataclass(frozen=True, slots=True)
class KpiPane:
    """Everything the KPI screen shows for one period, read in one go."""

    kpis: Kpis
    as_of: date
    won_by_day: list[tuple[date, int]]  # cumulative won value at the end of each close day
    funnel: list[FunnelStage]
    slices: dict[str, list[SliceRow]]
    activity: list[ActivityWeeks]


def kpi_pane(
    conn: Any, *, period: Period, as_of: date, conversion: Conversion, week_start: int = 0
) -> KpiPane:
    """The KPI screen's figures: the report, the won curve, the funnel, slices and activity.

    `week_start` is the first day of the week (0 Monday .. 6 Sunday) for the activity counts.
    """
    kpis = figures.kpi_report(conn, period=period, as_of=as_of, conversion=conversion)
    money = figures.Converter(conversion)
    when = figures.as_of_params(as_of)
    by_day: dict[date, Decimal] = {}
    for closed_on, currency, value in queries.fetch(
        conn, "won_by_day", start=period.start, end=period.end, **when
    ):
        converted = money.cents(value, currency, 1)
        day = queries.as_date(closed_on)
        if converted is not None and day is not None:
            by_day[day] = by_day.get(day, Decimal(0)) + converted
    running, won_by_day = Decimal(0), []
    for day in sorted(by_day):
        running += by_day[day]
        won_by_day.append((day, figures.whole(running)))
    return KpiPane(
        kpis=kpis,
        as_of=as_of,
        won_by_day=won_by_day,
        funnel=_funnel(conn, money, as_of),
        slices={
            dimension: _slices(conn, dimension, period, money, when)
            for dimension in queries.SLICE_DIMENSIONS
        },
        activity=_activity_weeks(conn, as_of, week_start),
    )


def _funnel(conn: Any, money: figures.Converter, as_of: date) -> list[FunnelStage]:
    when = figures.as_of_params(as_of)
    stages = queries.fetch(conn, "stages")
    furthest: dict[int, int] = {}
    for position, currency, count in queries.fetch(conn, "furthest_reached", **when):
        # A deal whose currency has no rate is left out of every figure, counts included (a
        # forecast trial: the funnel's percentages counted one the bars above left out).
        if money.conversion.cents(0, currency) is not None:
            furthest[int(position)] = furthest.get(int(position), 0) + int(count)

    def reached(position: int) -> int:
        return sum(count for at, count in furthest.items() if at >= position)

    open_now: dict[int, list[Any]] = {}
    for stage_id, _name, _pos, currency, count, value in queries.fetch(
        conn, figures.open_statement("open_by_stage", as_of), **when
    ):
        entry = open_now.setdefault(stage_id, [0, Decimal(0)])
        if currency is None:  # an empty stage (the LEFT JOIN found no deal)
            continue
        converted = money.cents(value, currency, int(count))
        if converted is not None:
            entry[0] += int(count)
            entry[1] += converted
    funnel: list[FunnelStage] = []
    later = [(int(pos), kind) for _id, _n, pos, _p, kind, _r in stages if kind != "lost"]
    for stage_id, name, position, _prob, kind, _rot in stages:
        if kind != "open":
            continue
        beyond = [pos for pos, _kind in later if pos > position]
        count, value = open_now.get(stage_id, [0, Decimal(0)])
        funnel.append(
            FunnelStage(
                name=name,
                open_count=count,
                open_value_cents=figures.whole(value),
                reached=reached(int(position)),
                went_on=reached(min(beyond)) if beyond else 0,
            )
        )
    return funnel


def _slices(
    conn: Any, dimension: str, period: Period, money: figures.Converter, when: dict[str, Any]
) -> list[SliceRow]:
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for value, *numbers in queries.fetch(
        conn, f"closed_by_{dimension}", start=period.start, end=period.end, **when
    ):
        grouped.setdefault(value or "", []).append(tuple(numbers))
    rows = [SliceRow(value, figures.closed_figures(rows, money)) for value, rows in grouped.items()]
    rows.sort(key=lambda row: (-row.figures.won_value_cents, row.value))
    return rows


def _activity_weeks(conn: Any, as_of: date, week_start: int) -> list[ActivityWeeks]:
    """This week up to `as_of` against the same span of last week: its same days, and read
    today, up to this moment of it, as the weekly review counts them (the pane said 60 calls
    last week where the review said 59, by the calls of last Thursday afternoon: a new-user
    trial)."""
    this_week = as_of - timedelta(days=(as_of.weekday() - week_start) % 7)
    days_so_far = timedelta(days=(as_of - this_week).days + 1)
    last_week = this_week - timedelta(days=7)

    def instant(day: date) -> datetime:  # local midnight, as an instant
        return datetime.combine(day, time()).astimezone(UTC)

    last_end = instant(last_week + days_so_far)
    if as_of == clock.today():
        # Up to this instant of the week before, that instant included (reports/review.py).
        last_end = min(last_end, same_moment_last_week(clock.now()))

    counts = {
        kind: (int(this), int(last))
        for kind, this, last in queries.fetch(
            conn,
            "activity_weeks",
            this_start=instant(this_week),
            this_end=instant(this_week + days_so_far),
            last_start=instant(last_week),
            last_end=last_end,
        )
    }
    return [ActivityWeeks(kind, *counts.get(kind, (0, 0))) for kind in ACTIVITY_KINDS]
