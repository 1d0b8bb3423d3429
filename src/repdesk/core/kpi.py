"""The KPI maths, pure: aggregate figures in, the domain page's formulas out.

Money stays in integer cents; a figure whose inputs are missing (no closed deals, no quota,
nothing remaining) is None: null in JSON and a dash on screen, never an error, NaN or infinity.
Both the services (through a session) and the fast shell path (through sqlite3) feed this one
function, so the app, `repdesk kpi` and `repdesk quota` can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from repdesk.core.forecast import Nps

# Defined apart (the first frame needs them alone), and part of the KPIs: re-exported.
from repdesk.core.standing import QuotaStanding as QuotaStanding
from repdesk.core.standing import avg_cycle_days as avg_cycle_days
from repdesk.core.standing import avg_deal_size as avg_deal_size
from repdesk.core.standing import expected_by as expected_by
from repdesk.core.standing import standing as standing
from repdesk.core.standing import whole_cents
from repdesk.core.standing import win_rate as win_rate


@dataclass(frozen=True, slots=True)
class LostGroup:
    """Lost deals of one reason or one competitor: how many, and their value."""

    name: str
    count: int
    value_cents: int


@dataclass(frozen=True, slots=True)
class ForecastSums:
    """The value of open deals expected to close in the period, by forecast category."""

    commit: int = 0
    best_case: int = 0
    pipeline: int = 0
    omitted: int = 0


@dataclass(frozen=True, slots=True)
class KpiInputs:
    period: str
    start: date
    end: date
    days_in_period: int
    days_elapsed: int  # days of the period up to and including the as-of date
    quota_cents: int | None
    won_value_cents: int
    won_count: int
    lost_count: int
    cycle_days_sum: float  # sum over closed deals of (closed date - first contact) in days
    open_count: int
    open_value_cents: int
    # sum of value x probability (percent) over open deals expected to close in the period
    weighted_x100: int
    open_in_period_cents: int  # value of open deals expected to close in the period
    # Open deals expected to close before the period: in no period's forecast (count, value).
    close_passed_count: int = 0
    close_passed_cents: int = 0
    # Deals in a currency with no rate: left out of every figure above, but counted.
    left_out_deals: int = 0
    left_out_currencies: tuple[str, ...] = ()
    # The period is over (its last day has ended): it was made or missed, no pace is left.
    ended: bool = False
    categories: ForecastSums = field(default_factory=ForecastSums)
    lost_by_reason: tuple[LostGroup, ...] = ()
    lost_by_competitor: tuple[LostGroup, ...] = ()
    nps: Nps = field(default_factory=Nps)


@dataclass(frozen=True, slots=True)
class Kpis:
    period: str
    start: date
    end: date
    days_left: int
    quota: int | None
    won_value: int
    won_count: int
    lost_count: int
    attainment: float | None
    expected_by_now: int | None
    win_rate: float | None
    avg_cycle_days: float | None
    avg_deal_size: int | None
    open_count: int
    open_value: int
    weighted_pipeline: int
    forecast: int
    coverage: float | None
    velocity_per_day: int | None
    deals_needed: int | None
    pipeline_needed: int | None
    left_out_deals: int = 0
    left_out_currencies: tuple[str, ...] = ()
    ended: bool = False
    categories: ForecastSums = field(default_factory=ForecastSums)
    lost_by_reason: tuple[LostGroup, ...] = ()
    lost_by_competitor: tuple[LostGroup, ...] = ()
    nps: Nps = field(default_factory=Nps)
    # Open deals whose expected close is before the period: in no period's forecast.
    close_passed_count: int = 0
    close_passed_value: int = 0

    @property
    def won_and_commit(self) -> int:
        """Won so far and the deals the rep commits to: what the period will surely bring."""
        return self.won_value + self.categories.commit

    @property
    def won_commit_best_case(self) -> int:
        """Won, committed and best case: what the period brings if the likely deals close."""
        return self.won_and_commit + self.categories.best_case

    @property
    def commit_attainment(self) -> float | None:
        return self.won_and_commit / self.quota if self.quota else None

    @property
    def best_case_attainment(self) -> float | None:
        return self.won_commit_best_case / self.quota if self.quota else None

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else max(self.quota - self.won_value, 0)

    @property
    def pace_delta(self) -> int | None:
        """Won so far minus what the quota expects by now: positive is ahead of pace."""
        return None if self.expected_by_now is None else self.won_value - self.expected_by_now

    def to_json(self) -> dict[str, Any]:
        """The `kpi --json` contract: exactly these keys, money in major units."""
        return {
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "quota": money_json(self.quota),
            "won_value": money_json(self.won_value),
            "won_count": self.won_count,
            "lost_count": self.lost_count,
            "attainment": ratio_json(self.attainment),
            "expected_by_now": money_json(self.expected_by_now),
            "win_rate": ratio_json(self.win_rate),
            "avg_cycle_days": None
            if self.avg_cycle_days is None
            else round(self.avg_cycle_days, 2),
            "avg_deal_size": money_json(self.avg_deal_size),
            "open_count": self.open_count,
            "open_value": money_json(self.open_value),
            "weighted_pipeline": money_json(self.weighted_pipeline),
            "forecast": money_json(self.forecast),
            "coverage": ratio_json(self.coverage),
            "velocity_per_day": money_json(self.velocity_per_day),
            "deals_needed": self.deals_needed,
            "pipeline_needed": money_json(self.pipeline_needed),
            # Deals in a currency without a rate count in none of the figures above.
            "left_out_deals": self.left_out_deals,
            "left_out_currencies": list(self.left_out_currencies),
            "left_out_fix": rates_to_add(self.left_out_currencies) if self.left_out_deals else None,
            "commit": money_json(self.categories.commit),
            "best_case": money_json(self.categories.best_case),
            "pipeline": money_json(self.categories.pipeline),
            "omitted": money_json(self.categories.omitted),
            "won_and_commit": money_json(self.won_and_commit),
            "won_commit_best_case": money_json(self.won_commit_best_case),
            "commit_attainment": ratio_json(self.commit_attainment),
            "best_case_attainment": ratio_json(self.best_case_attainment),
            "lost_by_reason": [
                {"reason": g.name, "count": g.count, "value": money_json(g.value_cents)}
                for g in self.lost_by_reason
            ],
            "lost_by_competitor": [
                {"competitor": g.name or None, "count": g.count, "value": money_json(g.value_cents)}
                for g in self.lost_by_competitor
            ],
            "nps": self.nps.to_json(),
            # Open deals expected to close before the period: in no period's forecast.
            "close_passed_count": self.close_passed_count,
            "close_passed_value": money_json(self.close_passed_value),
        }


def rates_to_add(currencies: Iterable[str]) -> str:
    """The settings lines that bring deals in these currencies into every figure."""
    lines = ", ".join(f"{code} = RATE" for code in currencies)
    return (
        f"add under [rates] in settings.toml: {lines}, with RATE what one unit of it is worth "
        "in the desk's currency"
    )


def money_json(cents: int | None) -> int | float | None:
    if cents is None:
        return None
    return cents // 100 if cents % 100 == 0 else float(Decimal(cents) / 100)


def ratio_json(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def compute(inputs: KpiInputs) -> Kpis:
    i = inputs
    quota = i.quota_cents
    against_quota = standing(
        period=i.period,
        end=i.end,
        days_in_period=i.days_in_period,
        days_elapsed=i.days_elapsed,
        quota_cents=quota,
        won_value_cents=i.won_value_cents,
        ended=i.ended,
    )
    win_rate_ = win_rate(i.won_count, i.lost_count)
    avg_cycle = avg_cycle_days(i.cycle_days_sum, i.won_count + i.lost_count)
    avg_size = avg_deal_size(i.won_value_cents, i.won_count)
    weighted = whole_cents(Decimal(i.weighted_x100) / 100)
    remaining = max(quota - i.won_value_cents, 0) if quota is not None else None
    # What the rest of the period takes (coverage, deals and pipeline needed): an ended
    # period has no rest (a forecast trial read "Deals needed: 4" for a quarter over).
    to_do = None if i.ended else remaining
    coverage = i.open_in_period_cents / to_do if to_do else None
    velocity = (
        whole_cents(Decimal(i.open_count * avg_size) * Decimal(win_rate_) / Decimal(avg_cycle))
        if avg_size is not None and win_rate_ is not None and avg_cycle
        else None
    )
    if to_do is None or avg_size is None:
        deals_needed = None
    elif to_do == 0:
        deals_needed = 0
    else:
        deals_needed = math.ceil(to_do / avg_size) if avg_size else None
    pipeline_needed = (
        whole_cents(Decimal(to_do) / Decimal(win_rate_))
        if to_do is not None and win_rate_
        else None
    )
    return Kpis(
        period=i.period,
        start=i.start,
        end=i.end,
        days_left=against_quota.days_left,
        quota=quota,
        won_value=i.won_value_cents,
        won_count=i.won_count,
        lost_count=i.lost_count,
        attainment=against_quota.attainment,
        expected_by_now=against_quota.expected_by_now,
        win_rate=win_rate_,
        avg_cycle_days=avg_cycle,
        avg_deal_size=avg_size,
        open_count=i.open_count,
        open_value=i.open_value_cents,
        weighted_pipeline=weighted,
        forecast=i.won_value_cents + weighted,
        coverage=coverage,
        velocity_per_day=velocity,
        deals_needed=deals_needed,
        pipeline_needed=pipeline_needed,
        left_out_deals=i.left_out_deals,
        left_out_currencies=i.left_out_currencies,
        ended=i.ended,
        categories=i.categories,
        lost_by_reason=biggest_first(i.lost_by_reason),
        lost_by_competitor=biggest_first(i.lost_by_competitor),
        nps=i.nps,
        close_passed_count=i.close_passed_count,
        close_passed_value=i.close_passed_cents,
    )


def biggest_first(groups: tuple[LostGroup, ...]) -> tuple[LostGroup, ...]:
    """Lost groups by value, then count, then name: where the most money went first."""
    return tuple(sorted(groups, key=lambda g: (-g.value_cents, -g.count, g.name)))
