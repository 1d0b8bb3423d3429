"""Review weeks: `2026-W48`, `this`, `last`, `next` or any day in the week. Standard library only.

A week is seven days from the rep's first day of the week (settings' `week_start`). Its label
is the ISO 8601 week of the one Monday among those days, so with the default Monday start the
label is the ISO week itself, and with a Sunday start 2026-W48 runs from Sunday 22 to Saturday
28 November 2026 (the Sunday before ISO week 48's Monday).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from repdesk.core.dates import DAY_RANGE, FIRST_DAY, LAST_DAY, DateInputError, parse_date

_LABEL = re.compile(r"([0-9]{4})-?[wW]([0-9]{1,2})")
WEEK_FORMS = "use YYYY-Www (2026-W48), this, last, next, or a day in the week (2026-11-26)"


class WeekInputError(ValueError):
    """A typed week that cannot be read; the message names the value and the accepted forms."""


@dataclass(frozen=True, slots=True)
class Week:
    start: date  # the first day (the rep's week_start)

    @property
    def end(self) -> date:
        """The last day, inclusive."""
        return self.start + timedelta(days=6)

    @property
    def label(self) -> str:
        monday = self.start + timedelta(days=(0 - self.start.weekday()) % 7)
        year, number, _ = monday.isocalendar()
        return f"{year:04d}-W{number:02d}"

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(7)]

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def prev(self) -> Week:
        return Week(self.start - timedelta(days=7))

    def next(self) -> Week:
        return Week(self.start + timedelta(days=7))


def span_text(start: date, end: date, joiner: str = " to ") -> str:
    """`Mon 16 Nov to Sun 22 Nov 2026`; a week across New Year names both years (`Mon 29 Dec
    2025 to Sun 04 Jan 2026`), else its first day reads as in the last day's year."""
    first = f"{start:%a %d %b}" + (f" {start:%Y}" if start.year != end.year else "")
    return f"{first}{joiner}{end:%a %d %b %Y}"


def same_moment_last_week(now: datetime) -> datetime:
    """Where "last week so far" ends, that instant included: a running week's activity is
    measured against the week before up to this moment of it, by the KPI pane and the weekly
    review alike (reports/kpi_pane.py, reports/review.py: they once disagreed)."""
    return now - timedelta(days=7, microseconds=-1)


def week_containing(day: date, week_start: int = 0) -> Week:
    """The week (starting on `week_start`, 0 Monday .. 6 Sunday) that `day` falls in."""
    return Week(day - timedelta(days=(day.weekday() - week_start) % 7))


def week_of_label(year: int, number: int, week_start: int = 0) -> Week:
    """The week labelled YEAR-Wnumber: the one holding that ISO week's Monday."""
    monday = date.fromisocalendar(year, number, 1)
    return week_containing(monday, week_start)


def parse_week(text: str, *, today: date, week_start: int = 0) -> Week:
    raw = text.strip().lower()
    this = week_containing(today, week_start)
    relative = {"this": this, "last": this.prev(), "next": this.next()}
    if raw in relative:
        return relative[raw]
    if match := _LABEL.fullmatch(raw):
        try:
            week = week_of_label(int(match[1]), int(match[2]), week_start)
        except ValueError:  # week 00 or 54, year 0000
            raise WeekInputError(f"{text!r} is not a week of its year: {WEEK_FORMS}") from None
        except OverflowError:  # year 1's first week, starting on a Sunday: before date.min
            week = None
    else:
        try:
            day = parse_date(text, today=today)
        except DateInputError as exc:
            if "out of range" in str(exc):  # a date, but not one the desk takes
                week = None
            else:
                raise WeekInputError(f"{text!r} is not a week: {WEEK_FORMS}") from None
        else:
            week = week_containing(day, week_start)
    # Every day of it must be one the desk takes: the review reads the week before too, and
    # a kept review of 1899 would make the desk's own JSON export refuse to import. The last
    # week of 9999 ends in the year 10000, past date.max: compared by its start.
    if week is None or week.start < FIRST_DAY or week.start > LAST_DAY - timedelta(days=6):
        raise WeekInputError(
            f"{text!r} is out of range: repdesk takes {DAY_RANGE}, each day of a week"
        )
    return week
