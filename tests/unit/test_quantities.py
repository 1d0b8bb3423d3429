"""The counted values a rep types (repeats, minutes, percentages, rot limits, scores, places):
the forms they take, the limits they stop at, and the words they are refused with."""

from __future__ import annotations

import pytest

from repdesk.core.quantities import (
    QuantityInputError,
    parse_minutes,
    parse_optional_repeat,
    parse_own_probability,
    parse_percent,
    parse_position,
    parse_repeat,
    parse_rot_days,
    parse_score,
)


@pytest.mark.parametrize(
    ("typed", "days"),
    [
        ("30", 30),
        ("30d", 30),
        ("2w", 14),
        ("2 weeks", 14),
        ("1 day", 1),
        (" 52W ", 364),
        ("366d", 366),
    ],
)
def test_a_repeat_reads_days_and_weeks(typed: str, days: int) -> None:
    assert parse_repeat(typed) == days


@pytest.mark.parametrize(
    "typed", ["60w", "53w", "367", "0d", "0w", "-2w", "2.5w", "²d", "w", "", "9" * 5000 + "d", "2x"]
)
def test_a_repeat_past_a_year_or_not_a_count_is_refused_naming_what_was_typed(typed: str) -> None:
    with pytest.raises(QuantityInputError) as refused:
        parse_repeat(typed)
    # the value as typed, not the days it would have made (`60w` once read "420 is not valid")
    shown = typed.strip() if len(typed.strip()) <= 40 else typed.strip()[:40] + "…"
    assert str(refused.value).startswith(f"{shown!r} is not valid: a repeat of 1 to 366")


def test_staying_in_touch_can_be_switched_off() -> None:
    assert parse_optional_repeat("off") is None and parse_optional_repeat("never") is None
    assert parse_optional_repeat("2w") == 14
    with pytest.raises(QuantityInputError, match=r"such as 30d or 2w, or off$"):
        parse_optional_repeat("0")


@pytest.mark.parametrize(
    ("typed", "minutes"), [("0", 0), ("15", 15), ("15 min", 15), ("1440", 1440)]
)
def test_minutes_are_whole_and_within_a_day(typed: str, minutes: int) -> None:
    assert parse_minutes(typed) == minutes


@pytest.mark.parametrize("typed", ["1441", "-5", "1.5", "ten", "²", "9" * 10_000])
def test_minutes_beyond_a_day_or_not_whole_are_refused(typed: str) -> None:
    with pytest.raises(QuantityInputError, match="a whole number of minutes from 0 to 1440"):
        parse_minutes(typed)


def test_percentages_and_a_deals_own_probability() -> None:
    assert parse_percent("40%") == 40 and parse_percent(" 100 ") == 100
    for typed in ("101", "-1", "4O", "", "1e2"):
        with pytest.raises(QuantityInputError, match="percentage from 0 to 100"):
            parse_percent(typed)
    assert parse_own_probability("stage") is None and parse_own_probability("") is None
    assert parse_own_probability("35%") == 35
    with pytest.raises(QuantityInputError, match="or stage for its stage's"):
        parse_own_probability("150")


def test_rot_limits_scores_and_places() -> None:
    assert parse_rot_days("21d") == 21 and parse_rot_days("none") is None
    with pytest.raises(QuantityInputError, match="from 1 to 3650 such as 21, or none"):
        parse_rot_days("0")
    assert parse_score("0") == 0 and parse_score("10") == 10 and parse_score("clear") is None
    with pytest.raises(QuantityInputError, match="from 0 to 10, or none"):
        parse_score("11")
    assert parse_position("2") == 2
    with pytest.raises(QuantityInputError, match="a place such as 2"):
        parse_position("0")


@pytest.mark.parametrize("typed", ["2 0", "1 4d", "1 4 days", "2 w e e k s", "3 0 d"])
def test_a_repeat_with_a_space_inside_its_count_is_refused_not_joined(typed: str) -> None:
    # `2 0` once read as twenty days: a typo became a rhythm nobody asked for
    with pytest.raises(QuantityInputError, match="a repeat of 1 to 366 days"):
        parse_repeat(typed)


def test_leading_zeros_count_as_the_number_they_write() -> None:
    # `010` was refused as "not a whole number from 0 to 10", which it is
    assert parse_score("010") == 10 and parse_score("00") == 0
    assert parse_minutes("00015") == 15 and parse_percent("0040%") == 40
    assert parse_repeat("00030d") == 30 and parse_rot_days("0021") == 21
    assert parse_position("002") == 2
    with pytest.raises(QuantityInputError, match="from 0 to 10"):
        parse_score("0" * 5000 + "11")
