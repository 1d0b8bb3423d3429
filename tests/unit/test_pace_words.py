"""How far from pace is said: less than half a unit of money is on pace, never "▼0"."""

from __future__ import annotations

from datetime import date

import pytest

from repdesk.core.formatting import behind_pace, pace, quota_short
from repdesk.core.standing import QuotaStanding


def _standing(won: int, expected: int) -> QuotaStanding:
    return QuotaStanding(
        period="2026-Q4",
        end=date(2026, 12, 31),
        days_left=28,
        quota=6_000_000,
        won_value=won,
        expected_by_now=expected,
    )


@pytest.mark.parametrize("delta", [0, -1, -30, -49, 49])
def test_less_than_half_a_unit_either_way_is_on_pace(delta: int) -> None:
    k = _standing(4_000_000 + delta, 4_000_000)
    assert pace(k, "EUR") == "on pace"
    assert quota_short(k, "EUR") == "€40k/€60k 67% on pace 28d"
    assert not behind_pace(k)


def test_half_a_unit_behind_is_behind_by_one() -> None:
    k = _standing(4_000_000 - 50, 4_000_000)
    assert pace(k, "EUR") == "€1 behind pace"
    assert behind_pace(k) and "▼1" in quota_short(k, "EUR")


def test_ahead_and_behind_keep_their_arrows() -> None:
    assert "▲1.2k" in quota_short(_standing(4_120_000, 4_000_000), "EUR")
    assert "▼28k" in quota_short(_standing(1_200_000, 4_000_000), "EUR")
    assert pace(_standing(1_200_000, 4_000_000), "EUR") == "€28,000 behind pace"


def test_the_pane_and_the_top_line_round_alike() -> None:
    k = _standing(4_000_250, 4_000_000)  # 2.50 ahead
    assert pace(k, "EUR") == "€3 ahead of pace" and "▲3" in quota_short(k, "EUR")
