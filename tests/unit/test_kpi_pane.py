"""The KPI screen's figures over a real desk: currencies, the won curve, funnel, slices and
activity weeks. The formulas themselves are in test_kpi.py; here they meet the data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.pinned import EUR, NOW, TODAY

from repdesk.core.dates import parse_period
from repdesk.core.money import Conversion
from repdesk.reports import figures
from repdesk.reports.kpi_pane import kpi_pane
from repdesk.services import activities, deals, quotas
from repdesk.storage.store import read_session, write_session

NOV = parse_period("2026-11")


def _won(session, title: str, cents: int, on: date, currency: str = "EUR", **kw) -> int:  # type: ignore[no-untyped-def]
    # A deal closes on a day that has come: one closed after TODAY is written on that day.
    moment = max(NOW, datetime(on.year, on.month, on.day, 12, tzinfo=UTC))
    deal = deals.create_deal(
        session=session, title=title, value_cents=cents, currency=currency,
        first_contact=on - timedelta(days=kw.pop("cycle", 30)), now=moment, **kw,
    )  # fmt: skip
    deals.win_deal(session=session, deal_id=deal.id, on=on, now=moment)
    return deal.id  # type: ignore[return-value]


def test_other_currencies_count_at_the_reps_rate_and_unrated_ones_are_left_out(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        _won(session, "Euro deal", 1_000_000, date(2026, 11, 3))
        _won(session, "Pound deal", 1_000_000, date(2026, 11, 4), currency="GBP")
        _won(session, "Dollar deal", 5_000_000, date(2026, 11, 5), currency="USD")
        deals.create_deal(session=session, title="Open in dollars", value_cents=700_000,
                          currency="USD", now=NOW)  # fmt: skip
        quotas.set_quota(session=session, period=NOV, amount_cents=4_000_000)
    rates = Conversion("EUR", {"GBP": 1.15})
    with read_session(engine) as session:
        k = figures.kpi_report(session, period=NOV, as_of=TODAY, conversion=rates)
        face = figures.kpi_report(session, period=NOV, as_of=TODAY, conversion=EUR)
    assert k.won_value == 2_150_000  # 10,000 EUR + 10,000 GBP x 1.15
    assert (k.won_count, k.avg_deal_size) == (2, 1_075_000)
    assert (k.left_out_deals, k.left_out_currencies) == (2, ("USD",))  # one won, one open
    assert k.open_count == 0
    assert face.won_value == 1_000_000 and face.left_out_currencies == ("GBP", "USD")


def test_won_curve_is_cumulative_by_close_day_within_the_period(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        _won(session, "A", 100_000, date(2026, 11, 2))
        _won(session, "B", 200_000, date(2026, 11, 2))
        _won(session, "C", 50_000, date(2026, 11, 9))
        _won(session, "October", 999_900, date(2026, 10, 31))
    with read_session(engine) as session:
        pane = kpi_pane(session, period=NOV, as_of=TODAY, conversion=EUR)
    assert pane.won_by_day == [(date(2026, 11, 2), 300_000), (date(2026, 11, 9), 350_000)]
    assert pane.kpis.won_value == 350_000


def test_funnel_counts_open_deals_per_stage_and_conversion_from_the_history(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        ids = [deals.create_deal(session=session, title=f"D{n}", value_cents=100_000,
                                 currency="EUR", now=NOW).id for n in range(4)]  # fmt: skip
        # D0: Prospect -> Qualified -> Won; D1: Prospect -> Qualified (open); D2 lost from
        # Prospect; D3 still in Prospect.
        deals.move_deal(session=session, deal_id=ids[0], stage="Qualified", now=NOW)
        deals.win_deal(session=session, deal_id=ids[0], now=NOW)
        deals.move_deal(session=session, deal_id=ids[1], stage="Qualified", now=NOW)
        deals.lose_deal(session=session, deal_id=ids[2], reason="not a fit", now=NOW)
    with read_session(engine) as session:
        funnel = {s.name: s for s in kpi_pane(
            session, period=NOV, as_of=TODAY, conversion=EUR).funnel}  # fmt: skip
    assert list(funnel) == ["Prospect", "Contacted", "Qualified", "Demo", "Proposal",
                            "Negotiation"]  # fmt: skip
    assert (funnel["Prospect"].open_count, funnel["Prospect"].open_value_cents) == (1, 100_000)
    assert funnel["Qualified"].open_count == 1 and funnel["Demo"].open_count == 0
    # All four reached Prospect; two went past it (skipping Contacted counts as going on).
    assert (funnel["Prospect"].reached, funnel["Prospect"].went_on) == (4, 2)
    assert funnel["Prospect"].conversion == 0.5
    # Two reached Qualified; one went on (to Won).
    assert (funnel["Qualified"].reached, funnel["Qualified"].went_on) == (2, 1)
    assert funnel["Negotiation"].reached == 1 and funnel["Negotiation"].conversion == 1.0


def test_the_funnel_leaves_out_a_deal_whose_currency_has_no_rate_as_the_bars_do(engine) -> None:  # type: ignore[no-untyped-def]
    """A forecast trial: a pound deal with no rate moved the Prospect -> Qualified figure by
    counting one the bars and the header of the same pane left out."""
    with write_session(engine) as session:
        for title, currency in (("Euro", "EUR"), ("Pound", "GBP")):
            deal = deals.create_deal(session=session, title=title, value_cents=100_000,
                                     currency=currency, now=NOW)  # fmt: skip
            deals.move_deal(session=session, deal_id=deal.id, stage="Qualified", now=NOW)
        deals.create_deal(session=session, title="Stays", value_cents=1, currency="EUR", now=NOW)
    with read_session(engine) as session:
        prospect = kpi_pane(session, period=NOV, as_of=TODAY, conversion=EUR).funnel[0]
        rated = kpi_pane(
            session, period=NOV, as_of=TODAY, conversion=Conversion("EUR", {"GBP": 1.15})
        ).funnel[0]
    assert (prospect.reached, prospect.went_on) == (2, 1)  # the pound deal left out
    assert (rated.reached, rated.went_on) == (3, 2)


def test_slices_split_win_rate_cycle_and_deal_size_by_each_dimension(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        _won(session, "R1", 1_000_000, date(2026, 11, 3), source="referral", cycle=10)
        _won(session, "R2", 3_000_000, date(2026, 11, 4), source="referral", cycle=30,
             segment="existing")  # fmt: skip
        lost = deals.create_deal(session=session, title="Cold", value_cents=500_000,
                                 currency="EUR", source="cold call", now=NOW,
                                 first_contact=date(2026, 10, 1))  # fmt: skip
        deals.lose_deal(session=session, deal_id=lost.id, reason="price",
                        on=date(2026, 11, 6), now=NOW)  # fmt: skip
    with read_session(engine) as session:
        slices = kpi_pane(session, period=NOV, as_of=TODAY, conversion=EUR).slices
    by_source = {row.value: row.figures for row in slices["source"]}
    assert list(by_source) == ["referral", "cold call"]  # biggest won value first
    referral = by_source["referral"]
    assert (referral.win_rate, referral.avg_cycle_days, referral.avg_deal_size) == (
        1.0, 20.0, 2_000_000)  # fmt: skip
    assert (by_source["cold call"].win_rate, by_source["cold call"].avg_deal_size) == (0.0, None)
    by_segment = {row.value: row.figures.won_count for row in slices["segment"]}
    assert by_segment == {"new": 1, "existing": 1}
    assert {row.value for row in slices["product"]} == {""}  # no product recorded


def test_activity_counts_this_week_so_far_against_the_same_days_last_week(engine) -> None:  # type: ignore[no-untyped-def]
    # TODAY is Friday 2026-11-20: the week (from Monday) began on the 16th.
    with write_session(engine) as session:
        deal_id = deals.create_deal(session=session, title="D", currency="EUR", now=NOW).id
        for day, kind in ((16, "call"), (19, "call"), (20, "email"), (9, "call"), (15, "meeting"),
                          (8, "call")):  # fmt: skip
            activities.log_activity(session=session, deal_id=deal_id, kind=kind,
                                    at=datetime(2026, 11, day, 12, tzinfo=UTC))  # fmt: skip
    with read_session(engine) as session:
        monday = kpi_pane(session, period=NOV, as_of=TODAY, conversion=EUR)
        sunday = kpi_pane(session, period=NOV, as_of=TODAY, conversion=EUR, week_start=6)
    weeks = {w.kind: (w.this_week, w.last_week) for w in monday.activity}
    # Monday 16 to Friday 20 against Monday 9 to Friday 13: Sunday's meeting is in neither.
    assert weeks == {"call": (2, 1), "email": (1, 0), "meeting": (0, 0), "note": (0, 0)}
    # From Sunday the 15th: the meeting moves into this week, the call on the 8th into last.
    weeks = {w.kind: (w.this_week, w.last_week) for w in sunday.activity}
    assert weeks["meeting"] == (1, 0) and weeks["call"] == (2, 2)


def test_read_today_last_week_counts_up_to_this_moment_of_it_as_the_review_does(engine) -> None:  # type: ignore[no-untyped-def]
    """A new user's trial: the pane said 60 calls last week and the weekly review 59, one
    counting whole days, the other up to this moment of last week. Today both count so; a
    day gone by, its whole days."""
    from repdesk.core.weeks import week_containing
    from repdesk.reports.review import read_review

    with write_session(engine) as session:
        deal_id = deals.create_deal(session=session, title="D", currency="EUR", now=NOW).id
        # Last Friday, before and after this moment of the day (NOW: Friday 20 Nov, 09:30).
        for at in (NOW - timedelta(days=7, hours=1), NOW - timedelta(days=7) + timedelta(hours=3)):
            activities.log_activity(session=session, deal_id=deal_id, kind="call", at=at, now=NOW)
    with read_session(engine) as session:
        today = kpi_pane(session, period=NOV, as_of=TODAY, conversion=EUR)
        thursday = kpi_pane(session, period=NOV, as_of=TODAY - timedelta(days=1), conversion=EUR)
        review = read_review(session, week=week_containing(TODAY, 0), now=NOW, conversion=EUR)
    calls = {w.kind: w.last_week for w in today.activity}["call"]
    assert calls == 1 == {a.kind: a.week_before for a in review.activity}["call"]
    assert {w.kind: w.last_week for w in thursday.activity}["call"] == 0  # Mon to Thu only


def test_deals_closed_on_the_first_and_last_day_count_and_pace_runs_to_the_whole_quota(
    engine,
) -> None:  # type: ignore[no-untyped-def]
    feb = parse_period("2028-02")  # a leap February: 29 days
    with write_session(engine) as session:
        for day, cents in ((date(2028, 1, 31), 1), (date(2028, 2, 1), 100_000),
                           (date(2028, 2, 29), 200_000), (date(2028, 3, 1), 1)):  # fmt: skip
            _won(session, f"Closed {day}", cents, day)
        quotas.set_quota(session=session, period=feb, amount_cents=2_900_000)
    with read_session(engine) as session:
        first = figures.kpi_report(session, period=feb, as_of=date(2028, 2, 1), conversion=EUR)
        last = figures.kpi_report(session, period=feb, as_of=date(2028, 2, 29), conversion=EUR)
        after = figures.kpi_report(session, period=feb, as_of=date(2028, 3, 9), conversion=EUR)
        no_quota = figures.kpi_report(
            session, period=parse_period("2028-03"), as_of=date(2028, 3, 9), conversion=EUR
        )
    # On the 1st the deal of the 29th is not won yet; the 31st and the 1st of March stay out.
    assert (first.won_count, first.won_value) == (1, 100_000)
    assert (last.won_count, last.won_value) == (2, 300_000)
    assert (first.expected_by_now, first.days_left) == (100_000, 28)  # 1 day of 29
    assert (last.expected_by_now, last.days_left) == (2_900_000, 0)
    assert after.expected_by_now == 2_900_000  # a past period expects the whole quota
    assert no_quota.quota is None and no_quota.attainment is None
    assert no_quota.pipeline_needed is None and no_quota.won_count == 1


def test_amounts_beyond_32_bits_of_cents_are_kept_on_both_engines(engine) -> None:  # type: ignore[no-untyped-def]
    big = 6_000_000_000  # 60 million: past the 21,474,836.47 a 32-bit column holds
    with write_session(engine) as session:
        _won(session, "Big one", big, date(2026, 11, 3))
        quotas.set_quota(session=session, period=NOV, amount_cents=big)
    with read_session(engine) as session:
        k = figures.kpi_report(session, period=NOV, as_of=TODAY, conversion=EUR)
    assert (k.won_value, k.quota, k.attainment) == (big, big, 1.0)


def test_a_future_period_calls_in_no_forecast_only_what_no_period_forecasts(engine) -> None:  # type: ignore[no-untyped-def]
    """A hostile test: next month's KPIs said this month's deals were "in no forecast", which
    this month forecasts; only those expected before this month are in none."""
    with write_session(engine) as session:
        for title, close in (("This month", TODAY + timedelta(days=5)),
                             ("Slipped", date(2026, 10, 20))):  # fmt: skip
            deals.create_deal(session=session, title=title, value_cents=100_000,
                              currency="EUR", expected_close=close, now=NOW,
                              first_contact=date(2026, 10, 1))  # fmt: skip
    with read_session(engine) as session:
        # The slipped one, in no month's forecast; this quarter (Q4) still forecasts it.
        for label, passed in (("2026-11", 1), ("2026-12", 1), ("2027-Q1", 0)):
            period = parse_period(label)
            as_of = figures.default_as_of(period, TODAY)
            k = figures.kpi_report(session, period=period, as_of=as_of, conversion=EUR)
            assert k.close_passed_count == passed, label
