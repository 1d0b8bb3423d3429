"""Money as a status bar, a card and a column header show it: short, and never wrong."""

from __future__ import annotations

import pytest

from repdesk.core.money import format_money


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (78_261, "€783"),  # whole units below a thousand: a status bar read "782.61"
        (99_949, "€999"),
        (99_950, "€1k"),
        (-40, "€0"),  # not "-€0"
        (-78_261, "-€783"),
        (1_250_000, "€12.5k"),
        (99_994_999, "€999.9k"),
        (99_995_000, "€1m"),  # not "€1000k" (found by a review)
        (99_995_000_000, "€1bn"),
    ],
)
def test_a_short_amount_is_rounded_into_the_unit_it_reaches(cents: int, shown: str) -> None:
    assert format_money(cents, "EUR", compact=True) == shown


def test_whole_units_round_half_up_as_every_amount_does() -> None:
    """A hostile test: `kpi` read a quota of €10.50 as €10 (half to even) where `quota
    --short` said €11."""
    from repdesk.core.money import whole_units

    assert [whole_units(c) for c in (1050, 250, 149, -250, None)] == [1100, 300, 100, -300, None]
