"""The weekly review read from the desk: what changed in a week (core/review.py's shape).

Read from the histories the desk keeps (stage, close date and forecast changes, activities,
follow-ups with when they were made and done), so a week read after it ended reads as it
stood at its end; services/review.py stores it then, so later edits (a deal reopened, an
activity deleted) no longer change it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from repdesk.core import forecast
from repdesk.core.domain import ACTIVITY_KINDS
from repdesk.core.money import Conversion
from repdesk.core.review import ActivityCount, Line, Review, net_changes
from repdesk.core.weeks import Week, same_moment_last_week
from repdesk.reports import figures, queries


def _midnight(day: date) -> datetime:
    """The instant `day` begins where the rep is."""
    return datetime.combine(day, time()).astimezone(UTC)


def _line(row: tuple[Any, ...], **extra: Any) -> Line:
    deal_id, title, company, value, currency = row[:5]
    return Line(int(deal_id), title, company or "", int(value), currency, **extra)


def read_review(conn: Any, *, week: Week, now: datetime, conversion: Conversion) -> Review:
    """What changed in `week`, up to `now` while it runs, to its end once it is over."""
    start_at, end_at = _midnight(week.start), _midnight(week.end + timedelta(days=1))
    closed = end_at <= now
    # While the week runs nothing can have happened after now: reading to its end reads up
    # to now, this very instant included.
    as_of = week.end if closed else now.astimezone().date()
    span = {"start_at": start_at, "end_at": end_at}
    then = {"as_of_end": end_at, "as_of": as_of}
    stages = {
        int(stage_id): (name, int(position), kind)
        for stage_id, name, position, _prob, kind, _rot in queries.fetch(conn, "stages")
    }
    # Removed stages too: a move out of one still names it.
    for stage_id, name in _all_stage_names(conn):
        stages.setdefault(stage_id, (name, 0, "removed"))

    sections: dict[str, tuple[Line, ...]] = {}
    sections["new"] = tuple(
        _line(row, note=row[5])
        for row in queries.fetch(
            conn, "review_new_deals", **span, as_of_end=then["as_of_end"], start_day=week.start
        )
    )

    moves, deals_of = [], {}
    for row in queries.fetch(conn, "review_stage_moves", **span):
        left, entered = stages.get(int(row[5])), stages.get(int(row[6]))
        if left is None or entered is None or left[2] != "open" or entered[2] != "open":
            continue  # closing (won, lost) and reopening are read as such, not as moves
        moves.append((int(row[0]), int(row[5]), int(row[6])))
        deals_of[int(row[0])] = row
    advanced: list[Line] = []
    regressed: list[Line] = []
    for deal_id, (was_id, now_id) in net_changes(moves).items():
        was_stage, now_stage = stages[was_id], stages[now_id]
        line = _line(deals_of[deal_id], was=was_stage[0], now=now_stage[0])
        (advanced if now_stage[1] > was_stage[1] else regressed).append(line)
    sections["advanced"], sections["regressed"] = tuple(advanced), tuple(regressed)

    won_total, lost_total = figures.Converter(conversion), figures.Converter(conversion)
    won_sum, lost_sum = Decimal(0), Decimal(0)
    won, lost = [], []
    for row in queries.fetch(conn, "review_closed", start_day=week.start, as_of=as_of):
        status, closed_on, reason, competitor = row[5:9]
        day = queries.as_date(closed_on)
        if status == "won":
            won.append(_line(row, now=day.isoformat() if day else None))
            won_sum += won_total.cents(row[3], row[4], 1) or 0
        else:
            note = reason + (f" (to {competitor})" if competitor else "")
            lost.append(_line(row, now=day.isoformat() if day else None, note=note))
            lost_sum += lost_total.cents(row[3], row[4], 1) or 0
    sections["won"], sections["lost"] = tuple(won), tuple(lost)
    ((brought_in,),) = queries.fetch(conn, "review_brought_in", **span, start_day=week.start)
    sections["closed_late"] = tuple(
        _line(
            row,
            now=day.isoformat() if (day := queries.as_date(row[6])) else None,
            note=row[5] if row[5] == "won" else f"lost: {row[7]}",
        )
        for row in queries.fetch(conn, "review_closed_late", **span, start_day=week.start)
    )

    changes, rows_of = [], {}
    for row in queries.fetch(conn, "review_close_date_changes", **span):
        was_day, later_day = queries.as_date(row[5]), queries.as_date(row[6])
        changes.append((int(row[0]), was_day, later_day))
        rows_of[int(row[0])] = row
    slipped = [
        _line(rows_of[deal_id], was=was.isoformat(), now=later.isoformat(), note="moved later")
        for deal_id, (was, later) in net_changes(changes).items()
        if isinstance(was, date) and isinstance(later, date) and later > was
    ]
    moved = {line.deal_id for line in slipped}
    passed_before = week.end + timedelta(days=1) if closed else as_of
    for row in queries.fetch(
        conn, "review_close_passed", start_day=week.start, passed_before=passed_before, **then
    ):
        if int(row[0]) not in moved:
            day = queries.as_date(row[5])
            slipped.append(_line(row, was=day.isoformat() if day else None, note="passed"))
    sections["slipped"] = tuple(slipped)

    categories, category_rows = [], {}
    for row in queries.fetch(conn, "review_forecast_changes", **span):
        categories.append((int(row[0]), row[5], row[6]))
        category_rows[int(row[0])] = row
    sections["forecast"] = tuple(
        _line(category_rows[deal_id], was=forecast.label(str(was)), now=forecast.label(str(now_c)))
        for deal_id, (was, now_c) in net_changes(categories).items()
    )

    sections["no_next_step"] = tuple(
        _line(row, note=row[5]) for row in queries.fetch(conn, "review_no_next_step", **then)
    )

    return Review(
        week=week.label,
        start=week.start,
        end=week.end,
        as_of=end_at if closed else now,
        closed=closed,
        sections=sections,
        activity=_activity(conn, week, None if closed else now),
        brought_in=int(brought_in),
        won_value_cents=figures.whole(won_sum),
        lost_value_cents=figures.whole(lost_sum),
        left_out={
            key: (money.left_out_deals, tuple(sorted(money.left_out_currencies)))
            for key, money in (("won", won_total), ("lost", lost_total))
            if money.left_out_deals
        },
    )


def _all_stage_names(conn: Any) -> list[tuple[int, str]]:
    return [(int(i), n) for i, n in queries.fetch(conn, "all_stage_names")]


def _activity(conn: Any, week: Week, now: datetime | None) -> tuple[ActivityCount, ...]:
    """The week's calls, emails, meetings and notes against the week before: the whole week
    once it is over, else so far against the same span of the week before (a Monday morning
    is not measured against a whole week)."""
    before = week.prev()
    counts = {
        kind: (int(this), int(last))
        for kind, this, last in queries.fetch(
            conn,
            "activity_weeks",
            this_start=_midnight(week.start),
            this_end=_midnight(week.end + timedelta(days=1)),
            last_start=_midnight(before.start),
            # Up to this instant of the week before, that instant included.
            last_end=same_moment_last_week(now) if now else _midnight(week.start),
        )
    }
    return tuple(ActivityCount(kind, *counts.get(kind, (0, 0))) for kind in ACTIVITY_KINDS)
