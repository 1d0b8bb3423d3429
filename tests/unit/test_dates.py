"""Typed dates and sales periods (month, quarter, year), boundaries and leap years included."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repdesk.core.dates import (
    DateInputError,
    Period,
    PeriodInputError,
    format_when,
    parse_date,
    parse_period,
    parse_when,
    period_containing,
    working_days_after,
)

FRIDAY = date(2026, 11, 20)  # every relative form below is read on this day


# ------------------------------------------------------------------ parse_when


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ISO, with and without a time
        ("2026-11-25", (date(2026, 11, 25), None)),
        ("2026-11-25 10:00", (date(2026, 11, 25), time(10, 0))),
        ("2026-11-25T10:00", (date(2026, 11, 25), time(10, 0))),
        ("2026-11-25t10:00", (date(2026, 11, 25), time(10, 0))),
        ("2026-11-25T10:00:30", (date(2026, 11, 25), time(10, 0, 30))),
        ("2026-11-25 10:00:30", (date(2026, 11, 25), time(10, 0, 30))),
        ("2028-02-29", (date(2028, 2, 29), None)),  # leap day
        # named days
        ("today", (FRIDAY, None)),
        (" Tomorrow ", (date(2026, 11, 21), None)),
        ("TODAY", (FRIDAY, None)),
        ("yesterday", (date(2026, 11, 19), None)),
        # weekdays: the next one strictly after today
        ("mon", (date(2026, 11, 23), None)),
        ("monday", (date(2026, 11, 23), None)),
        ("tue", (date(2026, 11, 24), None)),
        ("wednesday", (date(2026, 11, 25), None)),
        ("thu", (date(2026, 11, 26), None)),
        ("thursday", (date(2026, 11, 26), None)),
        ("sat", (date(2026, 11, 21), None)),
        ("sunday", (date(2026, 11, 22), None)),
        ("fri", (date(2026, 11, 27), None)),  # on a Friday, "fri" is next week's
        ("Friday", (date(2026, 11, 27), None)),
        ("next tue", (date(2026, 11, 24), None)),
        ("next fri", (date(2026, 11, 27), None)),
        ("NEXT Monday", (date(2026, 11, 23), None)),
        # relative
        ("+3d", (date(2026, 11, 23), None)),
        ("3d", (date(2026, 11, 23), None)),
        ("+2w", (date(2026, 12, 4), None)),
        ("2w", (date(2026, 12, 4), None)),
        ("-1d", (date(2026, 11, 19), None)),
        ("-2w", (date(2026, 11, 6), None)),
        ("+0d", (FRIDAY, None)),
        ("+3D", (date(2026, 11, 23), None)),
        ("+6w", (date(2027, 1, 1), None)),  # across the year end
        # any day form followed by a time
        ("fri 10:00", (date(2026, 11, 27), time(10, 0))),
        ("monday 9:30", (date(2026, 11, 23), time(9, 30))),
        ("tomorrow 9:30", (date(2026, 11, 21), time(9, 30))),
        ("tomorrow 23:59", (date(2026, 11, 21), time(23, 59))),
        ("today 00:00", (FRIDAY, time(0, 0))),
        ("yesterday 17:15", (date(2026, 11, 19), time(17, 15))),
        ("next mon 08:05", (date(2026, 11, 23), time(8, 5))),
        ("+3d 14:00", (date(2026, 11, 23), time(14, 0))),
        ("-1d 7:00", (date(2026, 11, 19), time(7, 0))),
        ("  fri   10:00  ", (date(2026, 11, 27), time(10, 0))),
    ],
)
def test_accepted_forms(text: str, expected: tuple[date, time | None]) -> None:
    assert parse_when(text, today=FRIDAY) == expected


def test_a_weekday_never_means_today() -> None:
    # Each day of one week, asking for that same weekday, lands exactly a week on.
    for offset, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
        today = date(2026, 11, 16 + offset)  # Monday 16th .. Sunday 22nd
        assert parse_date(name, today=today) == date(2026, 11, 23 + offset)
        assert parse_date(f"next {name}", today=today) == date(2026, 11, 23 + offset)


def test_a_weekday_is_at_most_a_week_away() -> None:
    for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        assert 1 <= (parse_date(name, today=FRIDAY) - FRIDAY).days <= 7


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "fryday",
        "soon",
        "next",
        "next week",
        "next tomorrow",
        "next 2026-11-25",
        "2026-02-30",  # no such day
        "2027-02-29",  # not a leap year
        "2026-13-01",
        "2026-00-10",
        "0000-01-01",
        "2026-11-5",
        "26-11-25",
        "2026/11/25",
        "1/2/2026",
        "20261125",
        "+5",  # a bare number is ambiguous
        "5",
        "+3",
        "+3m",
        "+3y",
        "3 d",
        "++3d",
        "+99999d",
        "fri 24:00",
        "fri 25:00",
        "fri 10:60",
        "fri 10",
        "fri 10:0",
        "fri 10am",
        "fri 10:00:60",
        "2026-11-25 24:00",
        "2026-11-25T",
        "2026-11-25T25:00",
        "2026-11-25T10:00 11:00",
        "tomorrow 10:00 extra",
        "10:00",
        "10:00 fri",
        "fri fri",
        "+３d",  # full-width digit: \d would match it, int() would read it
        "٢٠٢٦-١١-٢٥",
    ],
)
def test_rejected_forms_name_the_value_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(DateInputError) as info:
        parse_when(text, today=FRIDAY)
    message = str(info.value)
    assert message.startswith(f"{text!r} is not a date: use YYYY-MM-DD")
    assert "HH:MM" in message
    assert "\n" not in message


def test_the_message_matches_the_documented_wording() -> None:
    with pytest.raises(DateInputError) as info:
        parse_when("fryday", today=FRIDAY)
    assert str(info.value) == (
        "'fryday' is not a date: use YYYY-MM-DD, today, tomorrow, yesterday, a weekday (fri), "
        "+3d, +2w, -1d, optionally followed by HH:MM"
    )


def test_a_date_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_when("soon", today=FRIDAY)


def test_running_off_the_calendar_is_a_bad_value_not_a_crash() -> None:
    with pytest.raises(DateInputError):
        parse_when("tomorrow", today=date.max)
    with pytest.raises(DateInputError):
        parse_when("fri", today=date.max)
    with pytest.raises(DateInputError):
        parse_when("-1d", today=date.min)


# ------------------------------------------------------------------ parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25", date(2026, 11, 25)),
        ("today", FRIDAY),
        ("tomorrow", date(2026, 11, 21)),
        ("yesterday", date(2026, 11, 19)),
        ("fri", date(2026, 11, 27)),
        ("next mon", date(2026, 11, 23)),
        ("+1w", date(2026, 11, 27)),
        ("-2w", date(2026, 11, 6)),
        ("3d", date(2026, 11, 23)),
    ],
)
def test_a_date_only_field_takes_every_day_form(text: str, expected: date) -> None:
    assert parse_date(text, today=FRIDAY) == expected


@pytest.mark.parametrize(
    "text", ["fri 10:00", "2026-11-25 10:00", "2026-11-25T10:00", "tomorrow 9:30", "+3d 14:00"]
)
def test_a_date_only_field_refuses_a_time(text: str) -> None:
    with pytest.raises(DateInputError) as info:
        parse_date(text, today=FRIDAY)
    message = str(info.value)
    assert message.startswith(f"{text!r} is not a date")
    assert "without a time" in message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["", "fryday", "+5", "2026-02-30", "fri 24:00"])
def test_a_date_only_field_rejects_garbage_without_offering_a_time(text: str) -> None:
    with pytest.raises(DateInputError) as info:
        parse_date(text, today=FRIDAY)
    message = str(info.value)
    assert message.startswith(f"{text!r} is not a date: use YYYY-MM-DD")
    assert "HH:MM" not in message


# ------------------------------------------------------------------ format_when


def test_format_when() -> None:
    assert format_when(date(2026, 11, 25), None) == "2026-11-25"
    assert format_when(date(2026, 11, 25)) == "2026-11-25"
    assert format_when(date(2026, 11, 25), time(10, 0)) == "2026-11-25 10:00"
    assert format_when(date(2026, 11, 25), time(9, 5, 59)) == "2026-11-25 09:05"


@pytest.mark.parametrize("text", ["2026-11-25", "2026-11-25 10:00", "fri 09:30", "tomorrow"])
def test_format_when_reads_back(text: str) -> None:
    day, at = parse_when(text, today=FRIDAY)
    assert parse_when(format_when(day, at), today=FRIDAY) == (day, at)


# ------------------------------------------------------------------ working days


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (FRIDAY, 1, date(2026, 11, 23)),  # Friday + 1 is Monday
        (FRIDAY, 3, date(2026, 11, 25)),
        (FRIDAY, 5, date(2026, 11, 27)),
        (FRIDAY, 6, date(2026, 11, 30)),
        (date(2026, 11, 16), 3, date(2026, 11, 19)),  # Monday, no weekend in between
        (date(2026, 11, 16), 4, date(2026, 11, 20)),
        (date(2026, 11, 16), 5, date(2026, 11, 23)),
        (date(2026, 11, 21), 1, date(2026, 11, 23)),  # from a Saturday
        (date(2026, 11, 22), 1, date(2026, 11, 23)),  # from a Sunday
        (date(2026, 11, 21), 5, date(2026, 11, 27)),
        (date(2026, 12, 30), 3, date(2027, 1, 4)),  # across the year end and a weekend
        (FRIDAY, 10, date(2026, 12, 4)),
        (FRIDAY, 0, FRIDAY),
        (date(2026, 11, 23), -1, FRIDAY),  # Monday - 1 is Friday
    ],
)
def test_working_days_skip_the_weekend(start: date, n: int, expected: date) -> None:
    assert working_days_after(start, n) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(1, 60))
def test_working_days_land_on_a_weekday(start: date, n: int) -> None:
    result = working_days_after(start, n)
    assert result.weekday() < 5
    # n working days never take less than n days nor more than n + two days per weekend.
    assert n <= (result - start).days <= n + 2 * (n // 5 + 1)


# ------------------------------------------------------------------ periods


@pytest.mark.parametrize(
    ("label", "start", "end", "days"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30), 30),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31), 31),
        ("2026-01", date(2026, 1, 1), date(2026, 1, 31), 31),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), 28),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), 29),  # leap year
        ("2100-02", date(2100, 2, 1), date(2100, 2, 28), 28),  # century: not a leap year
        ("2000-02", date(2000, 2, 1), date(2000, 2, 29), 29),  # divisible by 400: leap
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), 90),
        ("2026-q1", date(2026, 1, 1), date(2026, 3, 31), 90),
        ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30), 91),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), 92),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), 92),
        ("2028-Q1", date(2028, 1, 1), date(2028, 3, 31), 91),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), 365),
        ("2028", date(2028, 1, 1), date(2028, 12, 31), 366),
        (" 2026-11 ", date(2026, 11, 1), date(2026, 11, 30), 30),
    ],
)
def test_period_boundaries(label: str, start: date, end: date, days: int) -> None:
    period = parse_period(label)
    assert (period.start, period.end, period.days) == (start, end, days)
    assert period.contains(start) and period.contains(end)
    assert not period.contains(start - timedelta(days=1))
    assert not period.contains(end + timedelta(days=1))
    assert period.days_elapsed(start) == 1
    assert period.days_elapsed(end) == days
    assert period.days_left(start) == days - 1
    assert period.days_left(end) == 0


@pytest.mark.parametrize(
    ("text", "kind", "year", "index", "label"),
    [
        ("2026-11", "month", 2026, 11, "2026-11"),
        ("2026-01", "month", 2026, 1, "2026-01"),
        ("2026-Q4", "quarter", 2026, 4, "2026-Q4"),
        ("2026-q2", "quarter", 2026, 2, "2026-Q2"),
        ("2026", "year", 2026, 1, "2026"),
    ],
)
def test_parse_period(text: str, kind: str, year: int, index: int, label: str) -> None:
    period = parse_period(text)
    assert (period.kind, period.year, period.index) == (kind, year, index)
    assert period.label == label
    assert period == Period(kind, year, index)  # type: ignore[arg-type]


def test_contains_stops_at_the_edges() -> None:
    q4 = parse_period("2026-Q4")
    assert not q4.contains(date(2026, 9, 30))
    assert q4.contains(date(2026, 10, 1))
    assert q4.contains(date(2026, 12, 31))
    assert not q4.contains(date(2027, 1, 1))


def test_days_elapsed_counts_today_and_clamps() -> None:
    nov = parse_period("2026-11")
    assert nov.days_elapsed(date(2026, 11, 1)) == 1  # the first day counts
    assert nov.days_elapsed(FRIDAY) == 20
    assert nov.days_elapsed(date(2026, 11, 30)) == 30
    assert nov.days_elapsed(date(2026, 10, 31)) == 0  # before the period
    assert nov.days_elapsed(date(2020, 1, 1)) == 0
    assert nov.days_elapsed(date(2026, 12, 1)) == 30  # after the period
    assert nov.days_elapsed(date(2027, 1, 5)) == 30


def test_days_left_counts_after_today_and_clamps() -> None:
    nov = parse_period("2026-11")
    assert nov.days_left(FRIDAY) == 10
    assert nov.days_left(date(2026, 11, 1)) == 29
    assert nov.days_left(date(2026, 11, 30)) == 0
    assert nov.days_left(date(2026, 10, 31)) == 30  # before: the whole period is ahead
    assert nov.days_left(date(2027, 1, 5)) == 0  # after: nothing left
    year = parse_period("2028")
    assert year.days_elapsed(date(2028, 12, 31)) == 366
    assert year.days_elapsed(date(2028, 3, 1)) == 31 + 29 + 1


def test_next_and_previous_cross_years() -> None:
    assert parse_period("2026-12").next().label == "2027-01"
    assert parse_period("2026-11").next().label == "2026-12"
    assert parse_period("2026-01").prev().label == "2025-12"
    assert parse_period("2026-02").prev().label == "2026-01"
    assert parse_period("2026-Q1").prev().label == "2025-Q4"
    assert parse_period("2026-Q4").next().label == "2027-Q1"
    assert parse_period("2026-Q2").next().label == "2026-Q3"
    assert parse_period("2026").next().label == "2027"
    assert parse_period("2026").prev().label == "2025"


@pytest.mark.parametrize(
    "text",
    [
        "2026-13",
        "2026-00",
        "2026-1",  # months take two digits
        "2026-011",
        "Q4",
        "2026-Q5",
        "2026-Q0",
        "2026Q4",
        "2026 Q4",
        "26",
        "0000",
        "20266",
        "",
        "now",
        "2026-11-01",
        "２０２６",  # full-width digits
    ],
)
def test_bad_periods(text: str) -> None:
    with pytest.raises(PeriodInputError) as info:
        parse_period(text)
    assert str(info.value) == (
        f"{text!r} is not a period: use YYYY-MM (2026-11), YYYY-Qn (2026-Q4) or YYYY (2026)"
    )


def test_an_impossible_period_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        Period("month", 2026, 13)
    with pytest.raises(ValueError):
        Period("quarter", 2026, 0)
    with pytest.raises(ValueError):
        Period("week", 2026, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        parse_period("9999-12").next()


def test_period_containing() -> None:
    assert period_containing(FRIDAY, "month") == Period("month", 2026, 11)
    assert period_containing(FRIDAY, "quarter") == Period("quarter", 2026, 4)
    assert period_containing(FRIDAY, "year") == Period("year", 2026, 1)
    assert period_containing(date(2026, 3, 31), "quarter").label == "2026-Q1"
    assert period_containing(date(2026, 4, 1), "quarter").label == "2026-Q2"
    with pytest.raises(PeriodInputError, match="'week'"):
        period_containing(FRIDAY, "week")


def test_periods_are_hashable_values() -> None:
    assert {parse_period("2026-Q4"), parse_period("2026-q4")} == {Period("quarter", 2026, 4)}


@given(st.dates(), st.sampled_from(["month", "quarter", "year"]))
def test_a_period_contains_its_days_and_round_trips(day: date, kind: str) -> None:
    period = period_containing(day, kind)
    assert period.contains(day)
    assert period.start <= day <= period.end
    if 1900 <= day.year <= 9990:  # the periods a rep can name (see the range test below)
        assert parse_period(period.label) == period
    assert period.days_elapsed(day) + period.days_left(day) == period.days


@given(st.dates(min_value=date(2, 1, 1), max_value=date(9998, 12, 31)),
       st.sampled_from(["month", "quarter", "year"]))  # fmt: skip
def test_neighbouring_periods_touch(day: date, kind: str) -> None:
    period = period_containing(day, kind)
    assert (period.end - period.next().start).days == -1
    assert (period.start - period.prev().end).days == 1
    assert period.next().prev() == period


def test_a_moment_that_happened_reads_weekdays_backwards() -> None:
    from repdesk.core.dates import parse_past_when

    friday = date(2026, 11, 20)
    assert parse_past_when("wed 9:00", today=friday) == (date(2026, 11, 18), time(9, 0))
    assert parse_past_when("last mon", today=friday) == (date(2026, 11, 16), None)
    assert parse_past_when("fri", today=friday) == (friday, None)
    assert parse_past_when("yesterday 15:00", today=friday) == (date(2026, 11, 19), time(15, 0))
    with pytest.raises(ValueError, match="not a date"):
        parse_past_when("wed noon", today=friday)


def test_a_past_day_field_names_only_the_day_forms() -> None:
    """A new user's trial: the Lost on field's message for `31/02` offered "optionally followed
    by HH:MM", then refused `today 10:00`."""
    from repdesk.core.dates import DateInputError, parse_past_day

    today = date(2026, 11, 20)  # a Friday
    assert parse_past_day("tue", today=today) == date(2026, 11, 17)  # the last one, not the next
    assert parse_past_day("fri", today=today) == today
    # Said on a Friday, "last Friday" is a week ago (it was today: a hostile test).
    assert parse_past_day("last fri", today=today) == date(2026, 11, 13)
    assert parse_past_day("last thu", today=today) == date(2026, 11, 19)
    with pytest.raises(DateInputError) as bad:
        parse_past_day("31/02", today=today)
    assert "HH:MM" not in str(bad.value) and "YYYY-MM-DD" in str(bad.value)
    with pytest.raises(DateInputError) as timed:
        parse_past_day("today 10:00", today=today)
    assert "takes a day without a time" in str(timed.value) and "HH:MM" not in str(timed.value)


@pytest.mark.parametrize("typed", ["9" * 10_000, "tomorrow " * 2_000], ids=["digits", "words"])
def test_a_pasted_page_is_quoted_by_its_start(typed: str) -> None:
    """(Found by a hostile test.) `follow-up add 1 "$(10,000 nines)"` answered with a line of
    10,138 bytes; dates and periods quote the first 40 characters, as amounts do."""
    from repdesk.core.dates import DateInputError, PeriodInputError, parse_date, parse_period

    with pytest.raises(DateInputError) as refused_date:
        parse_date(typed, today=date(2026, 11, 20))
    with pytest.raises(PeriodInputError) as refused_period:
        parse_period(typed)
    for refused in (refused_date, refused_period):
        assert len(str(refused.value)) < 200 and "…" in str(refused.value)


def test_a_day_half_a_year_away_or_more_carries_its_year() -> None:
    """(Found by a hostile test.) `follow-up add 1 +9999w` said it was due "Wed 22 Jul": a day
    in 2218 read as this July. Days near today stay short (REPDESK_NOW is 20 Nov 2026)."""
    from repdesk.core.formatting import when

    assert when(date(2026, 11, 20)) == "Fri 20 Nov"
    assert when(date(2027, 1, 5), time(9, 0)) == "Tue 05 Jan 09:00"  # a few weeks on
    assert when(date(2218, 7, 22)) == "Wed 22 Jul 2218"
    assert when(date(2025, 11, 20)) == "Thu 20 Nov 2025"  # a year back, not this November


@pytest.mark.parametrize("typed", ["1899", "9999", "9991-Q1", "1899-12"])
def test_a_period_out_of_the_dates_range_is_refused(typed: str) -> None:
    """A hostile test: `quota set 1899 100` and `kpi --period 9991` were taken, for periods
    no date of the desk can fall in."""
    from repdesk.core.dates import PeriodInputError, parse_period

    with pytest.raises(PeriodInputError, match="out of range: repdesk takes a period from 1900"):
        parse_period(typed)
    assert parse_period("1900").year == 1900 and parse_period("9990-Q4").year == 9990
