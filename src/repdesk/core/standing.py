"""Won so far against the quota: the standing the quota strip on every screen and
`repdesk quota` show, and the closed deals' formulas every report shares, apart from the full
KPIs (repdesk.core.kpi, which re-exports them) so that the app's first frame and the fast
shell commands do not pay for defining those (see docs/architecture.md).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from repdesk.core.values import Value


class QuotaStanding(Value):
    """Won so far against the quota: all that the quota strip and `repdesk quota` show, read
    without the open pipeline, the lessons and the scores the full KPIs need. `Kpis` carries
    the same attributes, computed by the same formulas (see `standing` below)."""

    _fields = ("period", "end", "days_left", "quota", "won_value", "expected_by_now", "ended")
    __slots__ = _fields
    period: str
    end: date
    days_left: int
    quota: int | None
    won_value: int
    expected_by_now: int | None
    ended: bool

    def __init__(
        self,
        period: str,
        end: date,
        days_left: int,
        quota: int | None,
        won_value: int,
        expected_by_now: int | None,
        ended: bool = False,
    ) -> None:
        self._set(
            period=period,
            end=end,
            days_left=days_left,
            quota=quota,
            won_value=won_value,
            expected_by_now=expected_by_now,
            ended=ended,
        )

    @property
    def attainment(self) -> float | None:
        return self.won_value / self.quota if self.quota else None

    @property
    def pace_delta(self) -> int | None:
        """Won so far minus what the quota expects by now: positive is ahead of pace."""
        return None if self.expected_by_now is None else self.won_value - self.expected_by_now


def standing(
    *,
    period: str,
    end: date,
    days_in_period: int,
    days_elapsed: int,
    quota_cents: int | None,
    won_value_cents: int,
    ended: bool,
) -> QuotaStanding:
    return QuotaStanding(
        period=period,
        end=end,
        days_left=days_in_period - days_elapsed,
        quota=quota_cents,
        won_value=won_value_cents,
        expected_by_now=None
        if quota_cents is None
        else expected_by(quota_cents, days_elapsed, days_in_period),
        ended=ended,
    )


def expected_by(quota_cents: int, days_elapsed: int, days_in_period: int) -> int:
    """The pace line: the share of the quota expected after `days_elapsed` days."""
    return whole_cents(Decimal(quota_cents) * days_elapsed / days_in_period)


def win_rate(won_count: int, lost_count: int) -> float | None:
    """Won / (won + lost): only decided deals count."""
    closed = won_count + lost_count
    return won_count / closed if closed else None


def avg_cycle_days(cycle_days_sum: float, closed_count: int) -> float | None:
    """Days from first contact to close, summed over closed deals, over their number."""
    return cycle_days_sum / closed_count if closed_count else None


def avg_deal_size(won_value_cents: int, won_count: int) -> int | None:
    return whole_cents(Decimal(won_value_cents) / won_count) if won_count else None


def whole_cents(value: Decimal) -> int:
    """A sum of cents rounded to a whole cent, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
