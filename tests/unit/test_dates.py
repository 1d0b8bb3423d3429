"""Typed dates and sales periods (month, quarter, year), boundaries and leap years included."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repdesk.dates import (
    DateInputError,
    Period,
    PeriodInputError,
    parse_date,
    parse_period,
    parse_when,
    period_containing,
    working_days_after,
)

FRIDAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25", (date(2026, 11, 25), None)),
        ("2026-11-25 10:00", (date(2026, 11, 25), time(10, 0))),
        ("2026-11-25T10:00:30", (date(2026, 11, 25), time(10, 0, 30))),
        ("today", (FRIDAY, None)),
        (" Tomorrow ", (date(2026, 11, 21), None)),
        ("yesterday", (date(2026, 11, 19), None)),
        ("mon", (date(2026, 11, 23), None)),
        ("monday 9:30", (date(2026, 11, 23), time(9, 30))),
        ("next tue", (date(2026, 11, 24), None)),
        ("fri", (date(2026, 11, 27), None)),  # on a Friday, "fri" is next week's
        ("fri 10:00", (date(2026, 11, 27), time(10, 0))),
        ("+3d", (date(2026, 11, 23), None)),
        ("3d", (date(2026, 11, 23), None)),
        ("+2w", (date(2026, 12, 4), None)),
        ("-1d", (date(2026, 11, 19), None)),
        ("tomorrow 23:59", (date(2026, 11, 21), time(23, 59))),
    ],
)
def test_accepted_forms(text: str, expected: tuple[date, time | None]) -> None:
    assert parse_when(text, today=FRIDAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "fryday",
        "2026-02-30",
        "2026-13-01",
        "+5",
        "fri 24:00",
        "fri 10:60",
        "soon",
        "1/2/2026",
        "tomorrow 10:00 extra",
        "+99999d",
    ],
)
def test_rejected_forms_name_the_value_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(DateInputError) as info:
        parse_when(text, today=FRIDAY)
    assert repr(text) in str(info.value)
    assert "YYYY-MM-DD" in str(info.value)


def test_a_date_only_field_refuses_a_time() -> None:
    assert parse_date("+1w", today=FRIDAY) == date(2026, 11, 27)
    with pytest.raises(DateInputError, match="without a time"):
        parse_date("fri 10:00", today=FRIDAY)


def test_working_days_skip_the_weekend() -> None:
    assert working_days_after(FRIDAY, 1) == date(2026, 11, 23)
    assert working_days_after(FRIDAY, 3) == date(2026, 11, 25)
    assert working_days_after(date(2026, 11, 16), 3) == date(2026, 11, 19)


@pytest.mark.parametrize(
    ("label", "start", "end", "days"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30), 30),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), 29),  # leap year
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), 28),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), 92),
        ("2028-Q1", date(2028, 1, 1), date(2028, 3, 31), 91),
        ("2026-q1", date(2026, 1, 1), date(2026, 3, 31), 90),
        ("2028", date(2028, 1, 1), date(2028, 12, 31), 366),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), 365),
    ],
)
def test_period_boundaries(label: str, start: date, end: date, days: int) -> None:
    period = parse_period(label)
    assert (period.start, period.end, period.days) == (start, end, days)


def test_days_elapsed_counts_today_and_clamps() -> None:
    nov = parse_period("2026-11")
    assert nov.days_elapsed(date(2026, 11, 1)) == 1  # the first day counts
    assert nov.days_elapsed(date(2026, 11, 30)) == 30
    assert nov.days_elapsed(date(2026, 10, 31)) == 0
    assert nov.days_elapsed(date(2027, 1, 5)) == 30
    assert nov.days_left(FRIDAY) == 10


def test_next_and_previous_cross_years() -> None:
    assert parse_period("2026-12").next().label == "2027-01"
    assert parse_period("2026-01").prev().label == "2025-12"
    assert parse_period("2026-Q1").prev().label == "2025-Q4"
    assert parse_period("2026-Q4").next().label == "2027-Q1"
    assert parse_period("2026").next().label == "2027"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "Q4", "2026-Q5", "26", "", "now"])
def test_bad_periods(text: str) -> None:
    with pytest.raises(PeriodInputError, match="is not a period"):
        parse_period(text)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9998, 12, 31)),
       st.sampled_from(["month", "quarter", "year"]))  # fmt: skip
def test_a_period_contains_its_days_and_round_trips(day: date, kind: str) -> None:
    period = period_containing(day, kind)
    assert period.contains(day)
    assert period.start <= day <= period.end
    assert parse_period(period.label) == period
    assert isinstance(period, Period)
