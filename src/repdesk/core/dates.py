"""Dates as a rep types them (`tomorrow`, `fri 10:00`, `+3d`) and sales periods (2026-11,
2026-Q4, 2026). Standard library only: the fast shell commands import this."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from repdesk.core.text import shown_value
from repdesk.core.values import Value

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

_DAY_FORMS = "use YYYY-MM-DD, today, tomorrow, yesterday, a weekday (fri), +3d, +2w, -1d"
_WHEN_FORMS = _DAY_FORMS + ", optionally followed by HH:MM"

_WEEKDAYS = {
    name: index
    for index, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
# [0-9], not \d: \d also matches other scripts' digits, which int() would happily read.
# Patterns as text, compiled by `re` on their first use and kept in its cache: compiling
# them all at import was a millisecond of every shell command's start (a status bar's too).
_ISO_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ISO_T = r"([0-9]{4}-[0-9]{2}-[0-9]{2})t(.+)"
_TIME = r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?"
_RELATIVE = r"([+-]?)([0-9]{1,4})([dw])"


# The days a desk takes. The calendar ends at 9999-12-31, and what the desk does with a day
# (a repeat of up to 366 days, a week or a month around it, a time zone's shift) must stay
# inside it; a date before 1900 or near the year 10000 is a typo, not a sale.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9990, 12, 31)
DAY_RANGE = f"a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"


def in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


class DateInputError(ValueError):
    """A typed date that cannot be read; the message names the value and the accepted forms."""


def _parse_time(word: str) -> time | None:
    match = re.fullmatch(_TIME, word)
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _parse_day(word: str, today: date) -> date | None:
    if re.fullmatch(_ISO_DAY, word):
        try:
            return date.fromisoformat(word)
        except ValueError:  # 2026-02-30, 2026-13-01
            return None
    # Arithmetic near date.min/date.max overflows; that is a bad value, not a crash.
    try:
        if word == "today":
            return today
        if word == "tomorrow":
            return today + timedelta(days=1)
        if word == "yesterday":
            return today - timedelta(days=1)
        if word in _WEEKDAYS:
            # The next one strictly after today: on a Friday, "fri" means a week later.
            return today + timedelta(days=(_WEEKDAYS[word] - today.weekday() - 1) % 7 + 1)
        if relative := re.fullmatch(_RELATIVE, word):
            days = int(relative[2]) * (7 if relative[3] == "w" else 1)
            return today + timedelta(days=-days if relative[1] == "-" else days)
    except OverflowError:
        return None
    return None


def _parse(text: str, today: date, forms: str) -> tuple[date, time | None]:
    problem = DateInputError(f"{shown_value(text)} is not a date: {forms}")
    words = text.strip().lower().split()
    if len(words) == 1 and (iso_t := re.fullmatch(_ISO_T, words[0])):
        words = [iso_t[1], iso_t[2]]
    if len(words) > 1 and words[0] == "next" and words[1] in _WEEKDAYS:
        words = words[1:]
    if not 1 <= len(words) <= 2:
        raise problem
    day = _parse_day(words[0], today)
    if day is None:
        raise problem
    if not in_range(day):
        raise DateInputError(f"{shown_value(text)} is out of range: repdesk takes {DAY_RANGE}")
    if len(words) == 1:
        return day, None
    at = _parse_time(words[1])
    if at is None:
        raise problem
    return day, at


def parse_when(text: str, *, today: date) -> tuple[date, time | None]:
    """A day with an optional time: `2026-11-25 10:00`, `fri 10:00`, `tomorrow`, `+3d`."""
    return _parse(text, today, _WHEN_FORMS)


def parse_past_when(text: str, *, today: date) -> tuple[date, time | None]:
    """A moment that has happened (when a call was made): as `parse_when`, except that a
    weekday (`mon 10:00`) is the latest one on or before today, not the next, and `last mon`
    the latest before today (a week ago on a Monday)."""
    return _parse_past(text, today, _WHEN_FORMS)


def parse_past_day(text: str, *, today: date) -> date:
    """A day that has come (the day a deal was won or lost): as `parse_date`, with a weekday
    the latest one on or before today. Its messages name the day forms only: a time in them
    would be refused."""
    day, at = _parse_past(text, today, _DAY_FORMS)
    if at is not None:
        raise DateInputError(
            f"{shown_value(text)} is not a date: this field takes a day without a time; "
            f"{_DAY_FORMS}"
        )
    return day


def _parse_past(text: str, today: date, forms: str) -> tuple[date, time | None]:
    words = text.strip().lower().split()
    last = bool(words) and words[0] == "last" and len(words) > 1
    if last:
        words = words[1:]
    if words and words[0] in _WEEKDAYS:
        back = (today.weekday() - _WEEKDAYS[words[0]]) % 7
        # `thu` on a Thursday is today; `last thu` is a week ago, as a rep says it (it was
        # today too: a hostile test).
        day = today - timedelta(days=back or (7 if last else 0))
        at = _parse_time(words[1]) if len(words) == 2 else None
        if len(words) > 2 or (len(words) == 2 and at is None):
            raise DateInputError(f"{shown_value(text)} is not a date: {forms}")
        return day, at
    return _parse(text, today, forms)


def parse_date(text: str, *, today: date) -> date:
    """A day only (a close date, a first contact): a time part is refused."""
    day, at = _parse(text, today, _DAY_FORMS)
    if at is not None:
        raise DateInputError(
            f"{shown_value(text)} is not a date: this field takes a day without a time; "
            f"{_DAY_FORMS}"
        )
    return day


def format_when(day: date, at: time | None = None) -> str:
    """`2026-11-25`, or `2026-11-25 10:00` with a time (seconds dropped)."""
    return day.isoformat() if at is None else f"{day.isoformat()} {at.hour:02d}:{at.minute:02d}"


def working_days_after(day: date, n: int) -> date:
    """The date `n` working days (Monday to Friday) after `day`; a negative `n` counts back."""
    step = timedelta(days=1 if n >= 0 else -1)
    current, remaining = day, abs(n)
    while remaining:
        current += step
        if current.weekday() < 5:
            remaining -= 1
    return current


# ------------------------------------------------------------------ periods

if TYPE_CHECKING:
    PeriodKind = Literal["month", "quarter", "year"]
_PER_YEAR: dict[str, int] = {"month": 12, "quarter": 4, "year": 1}
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in_month(year: int, month: int) -> int:
    # Worked out here rather than with `calendar`, which pulls in `locale` and slows startup.
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 29 if month == 2 and leap else _MONTH_DAYS[month - 1]


class PeriodInputError(ValueError):
    """A typed period that cannot be read; the message names the value and the accepted forms."""


class Period(Value):
    """A calendar month, quarter or year."""

    _fields = ("kind", "year", "index")
    __slots__ = _fields
    kind: PeriodKind
    year: int
    index: int  # month 1-12, quarter 1-4, 1 for a year

    def __init__(self, kind: PeriodKind, year: int, index: int) -> None:
        # Refuse impossible periods here so `start`/`end` can never blow up later.
        per_year = _PER_YEAR.get(kind)
        if per_year is None or not 1 <= index <= per_year or not 1 <= year <= 9999:
            raise ValueError(f"no such period: {kind} {year} #{index}")
        self._set(kind=kind, year=year, index=index)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.index}"
        return f"{self.year:04d}"

    @property
    def _months(self) -> tuple[int, int]:
        """First and last month of the period."""
        if self.kind == "month":
            return self.index, self.index
        if self.kind == "quarter":
            return 3 * self.index - 2, 3 * self.index
        return 1, 12

    @property
    def start(self) -> date:
        return date(self.year, self._months[0], 1)

    @property
    def end(self) -> date:
        last = self._months[1]
        return date(self.year, last, _days_in_month(self.year, last))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def days_elapsed(self, as_of: date) -> int:
        """Days of the period up to and including `as_of`, clamped to 0..days."""
        return max(0, min(self.days, (as_of - self.start).days + 1))

    def days_left(self, as_of: date) -> int:
        """Days after `as_of` to the end, clamped to 0..days."""
        return self.days - self.days_elapsed(as_of)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def next(self) -> Period:
        return self._shift(1)

    def prev(self) -> Period:
        return self._shift(-1)

    def _shift(self, step: int) -> Period:
        per_year = _PER_YEAR[self.kind]
        ordinal = self.year * per_year + (self.index - 1) + step
        return Period(self.kind, ordinal // per_year, ordinal % per_year + 1)


_PERIOD_MONTH = r"([0-9]{4})-([0-9]{2})"
_PERIOD_QUARTER = r"([0-9]{4})-[qQ]([1-4])"
_PERIOD_YEAR = r"[0-9]{4}"


def parse_period(text: str) -> Period:
    """`2026-11` (a month), `2026-Q4` (a quarter) or `2026` (a year)."""
    raw = text.strip()
    found = None
    try:
        if match := re.fullmatch(_PERIOD_MONTH, raw):
            found = Period("month", int(match[1]), int(match[2]))
        elif match := re.fullmatch(_PERIOD_QUARTER, raw):
            found = Period("quarter", int(match[1]), int(match[2]))
        elif re.fullmatch(_PERIOD_YEAR, raw):
            found = Period("year", int(raw), 1)
    except ValueError:  # month 00 or 13, year 0000
        pass
    if found is not None:
        # The days every other date takes: a quota for 1899 or 9999 was taken, for a period
        # no deal can close in (a hostile test).
        if FIRST_DAY.year <= found.year <= LAST_DAY.year:
            return found
        raise PeriodInputError(
            f"{shown_value(text)} is out of range: repdesk takes a period from "
            f"{FIRST_DAY.year} to {LAST_DAY.year}"
        )
    raise PeriodInputError(
        f"{shown_value(text)} is not a period: use YYYY-MM (2026-11), YYYY-Qn (2026-Q4) or "
        "YYYY (2026)"
    )


def period_containing(day: date, kind: str) -> Period:
    """The month, quarter or year that `day` falls in."""
    if kind == "month":
        return Period("month", day.year, day.month)
    if kind == "quarter":
        return Period("quarter", day.year, (day.month - 1) // 3 + 1)
    if kind == "year":
        return Period("year", day.year, 1)
    raise PeriodInputError(
        f"{shown_value(kind)} is not a kind of period: use month, quarter or year"
    )
