"""The KPI formulas of the foundation issue, against figures worked out by hand."""

from __future__ import annotations

import json
import math
from datetime import date

from repdesk.core.kpi import KpiInputs, compute


def inputs(**overrides: object) -> KpiInputs:
    base: dict[str, object] = dict(
        period="2026-11",
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        days_in_period=30,
        days_elapsed=20,
        quota_cents=6_000_000,  # €60,000
        won_value_cents=3_000_000,  # €30,000 in 3 deals
        won_count=3,
        lost_count=1,
        cycle_days_sum=20 + 30 + 40 + 50,
        open_count=10,
        open_value_cents=20_000_000,
        weighted_x100=8_000_000 * 50,  # €80,000 expected this month at 50%
        open_in_period_cents=8_000_000,
    )
    base.update(overrides)
    return KpiInputs(**base)  # type: ignore[arg-type]


def test_worked_example_from_the_domain_page_cycle_of_20_30_40_days_is_30() -> None:
    k = compute(inputs(won_count=2, lost_count=1, cycle_days_sum=20 + 30 + 40))
    assert k.avg_cycle_days == 30


def test_every_figure_by_hand() -> None:
    k = compute(inputs())
    assert k.attainment == 0.5  # 30,000 / 60,000
    assert k.expected_by_now == 4_000_000  # 60,000 x 20 / 30
    assert k.pace_delta == -1_000_000  # €10,000 behind pace
    assert k.win_rate == 0.75  # 3 / (3 + 1)
    assert k.avg_cycle_days == 35  # (20+30+40+50) / 4: won AND lost
    assert k.avg_deal_size == 1_000_000  # 30,000 / 3
    assert k.weighted_pipeline == 4_000_000  # 80,000 x 50%
    assert k.forecast == 7_000_000  # 30,000 + 40,000
    assert k.remaining == 3_000_000
    assert k.coverage == 8_000_000 / 3_000_000
    # 10 open x 10,000 x 0.75 / 35 days = 2,142.857… per day
    assert k.velocity_per_day == 214_286
    assert k.deals_needed == 3  # ceil(30,000 / 10,000)
    assert k.pipeline_needed == 4_000_000  # 30,000 / 0.75
    assert k.days_left == 10


def test_an_ended_period_has_no_rest_to_cover_or_need_but_keeps_its_last_forecast() -> None:
    """A forecast trial: a quarter over read "Deals needed: 4" and "Pipeline needed: €64,400"."""
    k = compute(inputs(days_elapsed=30, ended=True))
    assert (k.coverage, k.deals_needed, k.pipeline_needed) == (None, None, None)
    assert k.remaining == 3_000_000  # missed by €30,000: the headline says so
    assert (k.forecast, k.velocity_per_day) == (7_000_000, 214_286)  # as on its last day


def test_deals_needed_rounds_up() -> None:
    k = compute(inputs(won_value_cents=2_500_000, won_count=2))  # avg 12,500; remaining 35,000
    assert k.deals_needed == math.ceil(35_000 / 12_500) == 3


def test_missing_inputs_are_null_never_errors() -> None:
    k = compute(
        inputs(
            quota_cents=None,
            won_value_cents=0,
            won_count=0,
            lost_count=0,
            cycle_days_sum=0,
            open_count=0,
            open_value_cents=0,
            weighted_x100=0,
            open_in_period_cents=0,
        )
    )
    data = k.to_json()
    for key in (
        "quota",
        "attainment",
        "expected_by_now",
        "win_rate",
        "avg_cycle_days",
        "avg_deal_size",
        "coverage",
        "velocity_per_day",
        "deals_needed",
        "pipeline_needed",
    ):
        assert data[key] is None, key
    # Valid JSON: no NaN or Infinity anywhere.
    json.loads(json.dumps(data, allow_nan=False))


def test_quota_met_means_nothing_remaining_and_no_coverage() -> None:
    k = compute(inputs(won_value_cents=7_000_000))
    assert k.remaining == 0
    assert k.coverage is None  # nothing left to cover
    assert k.deals_needed == 0
    assert k.pipeline_needed == 0
    assert k.attainment is not None and k.attainment > 1


def test_all_lost_gives_zero_win_rate_and_no_pipeline_needed() -> None:
    k = compute(inputs(won_value_cents=0, won_count=0, lost_count=4))
    assert k.win_rate == 0
    assert k.pipeline_needed is None  # cannot be reached at a 0% win rate
    assert k.avg_deal_size is None and k.deals_needed is None
    assert k.velocity_per_day is None


def test_same_day_closes_give_no_velocity_rather_than_dividing_by_zero() -> None:
    k = compute(inputs(cycle_days_sum=0))
    assert k.avg_cycle_days == 0
    assert k.velocity_per_day is None


def test_json_has_exactly_the_contract_keys_and_money_in_major_units() -> None:
    data = compute(inputs()).to_json()
    assert list(data) == [
        "period", "start", "end", "quota", "won_value", "won_count", "lost_count", "attainment",
        "expected_by_now", "win_rate", "avg_cycle_days", "avg_deal_size", "open_count",
        "open_value", "weighted_pipeline", "forecast", "coverage", "velocity_per_day",
        "deals_needed", "pipeline_needed", "left_out_deals", "left_out_currencies",
        "left_out_fix", "commit", "best_case", "pipeline", "omitted", "won_and_commit",
        "won_commit_best_case", "commit_attainment", "best_case_attainment", "lost_by_reason",
        "lost_by_competitor", "nps", "close_passed_count", "close_passed_value",
    ]  # fmt: skip
    assert data["quota"] == 60_000
    assert data["velocity_per_day"] == 2142.86
    assert data["start"] == "2026-11-01"


def test_a_share_short_of_the_whole_never_reads_100_percent() -> None:
    from repdesk.core.formatting import pct

    assert pct(716_950 / 720_000) == "99%"  # €3,050 still to go
    assert (pct(1.0), pct(1.004), pct(0.994), pct(0.5), pct(None)) == (
        "100%", "100%", "99%", "50%", "—")  # fmt: skip
