"""The KPIs of a past day read the desk as it stood at the end of that day, on both engines:
deals closed later are still open (in the stage they were in), deals first contacted later do
not exist yet."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from tests.pinned import EUR, TODAY
from tests.shell import ok

from repdesk.core.dates import parse_period
from repdesk.reports import figures
from repdesk.reports.kpi_pane import kpi_pane
from repdesk.services import deals, quotas
from repdesk.storage.store import read_session, write_session

NOV = parse_period("2026-11")
D = date(2026, 11, 10)


def _at(day: int) -> datetime:
    return datetime(2026, 11, day, 12, tzinfo=UTC)


def _desk(engine: Any) -> None:
    oct1, start = date(2026, 10, 1), datetime(2026, 10, 1, 12, tzinfo=UTC)
    with write_session(engine) as session:

        def deal(title: str, value: int, **kw: Any) -> int:
            made = deals.create_deal(session=session, title=title, value_cents=value,
                                     currency="EUR", **kw)  # fmt: skip
            return made.id  # type: ignore[return-value]

        # Prospect -> Demo on 5 Nov, won on 15 Nov: open in Demo on the 10th.
        a = deal("Won later", 1_000_000, first_contact=oct1, now=start)
        deals.move_deal(session=session, deal_id=a, stage="Demo", now=_at(5))
        deals.win_deal(session=session, deal_id=a, now=_at(15))
        # Moved to Proposal on the 12th: in Prospect on the 10th.
        b = deal("Moved later", 200_000, first_contact=oct1, now=start)
        deals.move_deal(session=session, deal_id=b, stage="Proposal", now=_at(12))
        # First contacted on the 12th: not on the desk on the 10th.
        deal("Met later", 300_000, first_contact=date(2026, 11, 12), now=_at(12))
        # Won on the 3rd: won on the 10th too.
        d = deal("Won before", 400_000, first_contact=oct1, now=start)
        deals.win_deal(session=session, deal_id=d, now=_at(3))
        # Lost on the 14th from Qualified (the loss written that day, dated the 14th).
        e = deal("Lost later", 500_000, first_contact=oct1, stage="Qualified", now=start)
        deals.lose_deal(session=session, deal_id=e, reason="price", now=_at(14))
        # Won on the 18th but the win written today: the close date decides, not the writing.
        f = deal("Won late, logged today", 600_000, first_contact=oct1, stage="Negotiation",
                 now=start)  # fmt: skip
        deals.win_deal(session=session, deal_id=f, on=date(2026, 11, 18), now=_at(20))


def test_a_past_day_shows_the_desk_as_it_stood_at_its_end(engine: Any) -> None:
    _desk(engine)
    with read_session(engine) as session:
        then = kpi_pane(session, period=NOV, as_of=D, conversion=EUR)
        now = figures.kpi_report(session, period=NOV, as_of=TODAY, conversion=EUR)
    k = then.kpis
    assert (k.won_count, k.won_value, k.lost_count) == (1, 400_000, 0)
    # Won later, Moved later, Lost later, Won late: open then; Met later: not there yet.
    assert (k.open_count, k.open_value) == (4, 1_000_000 + 200_000 + 500_000 + 600_000)
    funnel = {stage.name: stage.open_count for stage in then.funnel}
    assert funnel == {"Prospect": 1, "Contacted": 0, "Qualified": 1, "Demo": 1, "Proposal": 0,
                      "Negotiation": 1}  # fmt: skip
    assert then.won_by_day == [(date(2026, 11, 3), 400_000)]
    # Today: three won, one lost, two open (Moved later in Proposal, Met later).
    assert (now.won_count, now.lost_count, now.open_count) == (3, 1, 2)


def test_kpi_as_of_from_the_shell_reads_the_same_past_day(engine: Any) -> None:
    _desk(engine)
    shown = json.loads(ok("kpi", "--period", "2026-11", "--as-of", D.isoformat(), "--json"))
    assert (shown["won_count"], shown["lost_count"], shown["open_count"]) == (1, 0, 4)
    assert shown["open_value"] == 23_000


STANDING_FIELDS = ("period", "end", "days_left", "quota", "won_value", "expected_by_now",
                   "ended", "attainment", "pace_delta")  # fmt: skip


def test_the_quota_standing_reads_what_the_full_kpis_read(engine: Any) -> None:
    """The strip and `repdesk quota` read two queries instead of the KPIs' seven: on every day
    of a month, with and without a quota, over, running and to come, they say the same."""
    _desk(engine)
    with write_session(engine) as session:
        # A won deal in a currency with no rate: left out of both alike.
        won = deals.create_deal(
            session=session, title="Dollars", value_cents=900_000, currency="USD",
            first_contact=date(2026, 10, 1), now=_at(1),
        )  # fmt: skip
        deals.win_deal(session=session, deal_id=won.id, now=_at(9))  # type: ignore[arg-type]
    checked = 0
    for quota in (None, 2_400_000):
        if quota is not None:
            with write_session(engine) as session:
                quotas.set_quota(session=session, period=NOV, amount_cents=quota)
        with read_session(engine) as session:
            for period in (NOV, parse_period("2026-Q4"), parse_period("2026-10")):
                for as_of in (date(2026, 11, 1), D, date(2026, 11, 18), TODAY, period.end):
                    if as_of > TODAY:
                        continue
                    full = figures.kpi_report(session, period=period, as_of=as_of, conversion=EUR)
                    alone = figures.quota_standing(
                        session, period=period, as_of=as_of, conversion=EUR
                    )
                    for name in STANDING_FIELDS:
                        assert getattr(alone, name) == getattr(full, name), (period, as_of, name)
                    checked += 1
    assert checked > 20
    # And the figures themselves: 4,000 + 10,000 + 6,000 won in November against 24,000.
    with read_session(engine) as session:
        month = figures.quota_standing(session, period=NOV, as_of=TODAY, conversion=EUR)
    assert (month.won_value, month.quota, month.ended) == (2_000_000, 2_400_000, False)


def test_a_past_day_weighs_each_deal_by_the_probabilities_of_that_day(engine: Any) -> None:
    """A deal's own probability and a stage's, changed after the day, are read as they were
    (the weighted pipeline of a day moved when a probability was set later: a hostile test)."""
    from repdesk.services import forecast, stages

    oct1, start = date(2026, 10, 1), datetime(2026, 10, 1, 12, tzinfo=UTC)
    with write_session(engine) as session:
        own = deals.create_deal(
            session=session,
            title="Own",
            value_cents=1_000_000,
            currency="EUR",
            first_contact=oct1,
            stage="Prospect",
            expected_close=date(2026, 11, 25),
            now=start,
        )
        staged = deals.create_deal(session=session, title="Staged", value_cents=2_000_000,
                                   currency="EUR", first_contact=oct1, stage="Demo",
                                   expected_close=date(2026, 11, 26), now=start)  # fmt: skip
        forecast.set_probability(session=session, deal_id=own.id, probability=80, now=_at(12))  # type: ignore[arg-type]
        stages.set_stage(session=session, stage="Demo", probability=60, now=_at(12))
        assert staged.id
    with read_session(engine) as session:
        then = figures.kpi_report(session, period=NOV, as_of=D, conversion=EUR)
        now = figures.kpi_report(session, period=NOV, as_of=TODAY, conversion=EUR)
    assert then.weighted_pipeline == 10 * 10_000 + 40 * 20_000  # 10% and Demo's 40% then
    assert (then.categories.pipeline, then.categories.best_case) == (1_000_000, 2_000_000)
    assert now.weighted_pipeline == 80 * 10_000 + 60 * 20_000


def test_a_merge_leaves_the_kept_deals_past_figures_as_they_were(engine: Any) -> None:
    """A hostile test: GONE's own probability and category history, given to KEEP by a merge,
    weighed KEEP at GONE's 90% on a past day."""
    from repdesk.services import forecast, merge

    oct1, start = date(2026, 10, 1), datetime(2026, 10, 1, 12, tzinfo=UTC)
    with write_session(engine) as session:
        made = [
            deals.create_deal(
                session=session,
                title=title,
                value_cents=100_000,
                currency="EUR",
                first_contact=oct1,
                stage="Proposal",
                expected_close=date(2026, 11, 25),
                now=start,
            )
            for title in ("Keep", "Gone")
        ]
        keep, gone = (d.id for d in made)
        assert keep is not None and gone is not None
        forecast.set_probability(session=session, deal_id=gone, probability=90, now=_at(5))
        forecast.set_probability(session=session, deal_id=gone, probability=None, now=_at(15))
    with read_session(engine) as session:
        before = figures.kpi_report(session, period=NOV, as_of=D, conversion=EUR)
    with write_session(engine) as session:
        merge.merge_deals(session=session, keep_id=keep, gone_id=gone, now=_at(20))
    with read_session(engine) as session:
        after = figures.kpi_report(session, period=NOV, as_of=D, conversion=EUR)
    assert before.weighted_pipeline == 55 * 1_000 + 90 * 1_000
    # GONE is in the trash: KEEP as it stood on the 10th, at its stage's 55%, best case.
    assert after.weighted_pipeline == 55 * 1_000
    assert (after.categories.best_case, after.categories.commit) == (100_000, 0)
