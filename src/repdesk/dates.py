"""Dates as a rep types them (`tomorrow`, `fri 10:00`, `+3d`) and sales periods (2026-11,
2026-Q4, 2026). Standard library only: the fast shell commands import this."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Literal

_FORMS = (
    "use YYYY-MM-DD, today, tomorrow, yesterday, a weekday (fri), +3d, +2w or -1d, "
    "optionally followed by HH:MM"
)
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
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_RELATIVE = re.compile(r"^([+-]?)(\d{1,4})([dw])$")


class DateInputError(ValueError):
    """A typed date that cannot be read; the message names the value and the accepted forms."""


def _error(text: str, forms: str = _FORMS) -> DateInputError:
    return DateInputError(f"{text!r} is not a date: {forms}")


def _parse_time(text: str, original: str) -> time:
    match = _TIME.match(text)
    if not match:
        raise _error(original)
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise _error(original)
    return time(hour, minute, second)


def _parse_day(word: str, today: date, original: str) -> date:
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word == "yesterday":
        return today - timedelta(days=1)
    if word in _WEEKDAYS:
        # The next one strictly after today: on a Friday, "fri" means a week later.
        ahead = (_WEEKDAYS[word] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    relative = _RELATIVE.match(word)
    if relative:
        sign = -1 if relative[1] == "-" else 1
        days = int(relative[2]) * (7 if relative[3] == "w" else 1)
        try:
            return today + timedelta(days=sign * days)
        except OverflowError:
            raise _error(original) from None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
        try:
            return date.fromisoformat(word)
        except ValueError:
            raise _error(original) from None
    raise _error(original)


def parse_when(text: str, *, today: date) -> tuple[date, time | None]:
    """A day with an optional time: `2026-11-25 10:00`, `fri 10:00`, `tomorrow`, `+3d`."""
    original = text
    words = (
        text.strip().lower().replace("t", " ", 1).split()
        if _iso_t(text)
        else (text.strip().lower().split())
    )
    if words[:1] == ["next"] and len(words) > 1 and words[1] in _WEEKDAYS:
        words = words[1:]
    if not words or len(words) > 2:
        raise _error(original)
    day = _parse_day(words[0], today, original)
    at = _parse_time(words[1], original) if len(words) == 2 else None
    return day, at


def _iso_t(text: str) -> bool:
    """`2026-11-25T10:00`: the ISO form with a T between date and time."""
    return bool(re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}[Tt]\d{1,2}:\d{2}(:\d{2})?\s*", text))


def parse_date(text: str, *, today: date) -> date:
    """A day only (a close date, a first contact): a time part is refused."""
    day, at = parse_when(text, today=today)
    if at is not None:
        raise _error(
            text, "this field takes a day without a time: " + _FORMS.split(", optionally")[0]
        )
    return day


def format_when(day: date, at: time | None = None) -> str:
    return day.isoformat() if at is None else f"{day.isoformat()} {at.strftime('%H:%M')}"


def working_days_after(day: date, n: int) -> date:
    """The date `n` working days (Monday to Friday) after `day`."""
    current = day
    while n > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            n -= 1
    return current


# ------------------------------------------------------------------ periods

PeriodKind = Literal["month", "quarter", "year"]


class PeriodInputError(ValueError):
    """A period that cannot be read."""


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    year: int
    index: int  # month 1-12, quarter 1-4, 1 for a year

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year:04d}-Q{self.index}"
        return f"{self.year:04d}"

    @property
    def start(self) -> date:
        if self.kind == "month":
            return date(self.year, self.index, 1)
        if self.kind == "quarter":
            return date(self.year, 3 * self.index - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        if self.kind == "month":
            last = self.index
        elif self.kind == "quarter":
            last = 3 * self.index
        else:
            last = 12
        return date(self.year, last, calendar.monthrange(self.year, last)[1])

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def days_elapsed(self, as_of: date) -> int:
        """Days of the period up to and including `as_of`, clamped to 0..days."""
        return max(0, min(self.days, (as_of - self.start).days + 1))

    def days_left(self, as_of: date) -> int:
        return self.days - self.days_elapsed(as_of)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def next(self) -> Period:
        return self._shift(1)

    def prev(self) -> Period:
        return self._shift(-1)

    def _shift(self, step: int) -> Period:
        per_year = {"month": 12, "quarter": 4, "year": 1}[self.kind]
        ordinal = self.year * per_year + (self.index - 1) + step
        return Period(self.kind, ordinal // per_year, ordinal % per_year + 1)


def parse_period(text: str) -> Period:
    raw = text.strip()
    problem = PeriodInputError(
        f"{text!r} is not a period: use YYYY-MM (2026-11), YYYY-Qn (2026-Q4) or YYYY (2026)"
    )
    if match := re.fullmatch(r"(\d{4})-(\d{2})", raw):
        if not 1 <= int(match[2]) <= 12:
            raise problem
        return Period("month", int(match[1]), int(match[2]))
    if match := re.fullmatch(r"(\d{4})-[Qq]([1-4])", raw):
        return Period("quarter", int(match[1]), int(match[2]))
    if re.fullmatch(r"\d{4}", raw) and int(raw) >= 1:
        return Period("year", int(raw), 1)
    raise problem


def period_containing(day: date, kind: str) -> Period:
    if kind == "month":
        return Period("month", day.year, day.month)
    if kind == "quarter":
        return Period("quarter", day.year, (day.month - 1) // 3 + 1)
    if kind == "year":
        return Period("year", day.year, 1)
    raise PeriodInputError(f"{kind!r} is not a kind of period: use month, quarter or year")
