"""Forecast categories, a deal's own probability, close-date history, what lost deals teach and
the customer score (issue 21): the maths alone, then the services and figures on both engines."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select
from tests.pinned import EUR, NOW, TODAY

from repdesk.core import forecast
from repdesk.core.dates import parse_period
from repdesk.core.errors import AlreadyClosed, InvalidInput, RepdeskError
from repdesk.core.forecast import Nps
from repdesk.core.kpi import LostGroup
from repdesk.core.money import Conversion
from repdesk.reports import figures
from repdesk.services import deals, objections, stages
from repdesk.services import forecast as deal_forecast
from repdesk.storage.models import ForecastChange
from repdesk.storage.store import read_session, write_session

NOVEMBER = parse_period("2026-11")


def test_the_default_category_follows_the_documented_thresholds() -> None:
    assert [forecast.default_category(p) for p in (100, 70, 69, 40, 39, 10, 9, 0)] == [
        "commit", "commit", "best_case", "best_case", "pipeline", "pipeline", "omitted", "omitted",
    ]  # fmt: skip
    # The default pipeline's stages fall where a sales team would put them.
    assert forecast.default_category(70) == "commit"  # Negotiation
    assert forecast.default_category(55) == "best_case"  # Proposal
    assert forecast.default_category(25) == "pipeline"  # Qualified
    assert forecast.category("omitted", 90) == "omitted"  # the rep's call wins
    assert forecast.category(None, 90) == "commit"


def test_a_typed_category_is_read_in_the_forms_a_rep_types() -> None:
    for typed in ("Best case", "best-case", "BEST_CASE", " bestcase "):
        assert forecast.parse_category(typed) == "best_case"
    assert forecast.parse_category("Commit") == "commit"
    assert forecast.parse_category("auto") == forecast.AUTO
    assert forecast.parse_category("upside") is None


def test_the_crms_forecast_words_are_read_as_their_categories() -> None:
    # Salesforce's labels and API values ("Forecast" is its Commit), HubSpot's labels and
    # internal values; a closed deal's category is no call; an org's own word is unknown.
    for word, category in (
        ("Commit", "commit"), ("Forecast", "commit"), ("COMMIT", "commit"),
        ("Best Case", "best_case"), ("BestCase", "best_case"), ("BEST_CASE", "best_case"),
        ("Pipeline", "pipeline"), ("Omitted", "omitted"), ("Not forecasted", "omitted"),
        ("OMIT", "omitted"), ("Closed", forecast.CLOSED), ("Closed won", forecast.CLOSED),
    ):  # fmt: skip
        assert forecast.crm_category(word) == category, word
    assert forecast.crm_category("Upside") is None
    assert forecast.crm_category("auto") is None  # the rep's word, not a CRM's


def test_nps_is_promoters_minus_detractors_of_those_who_answered() -> None:
    nps = Nps.of({10: 2, 9: 1, 8: 1, 6: 1, 0: 1})
    assert (nps.promoters, nps.passives, nps.detractors, nps.answered) == (3, 1, 2, 6)
    assert nps.score == pytest.approx(100 * (3 - 2) / 6)
    assert nps.to_json()["score"] == 16.7
    assert Nps().score is None and Nps().to_json()["answered"] == 0
    assert Nps.of({7: 4}).score == 0  # all passives: neither promoters nor detractors


# ---------------------------------------------------------------- on a desk


def _deal(engine, title: str, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("first_contact", date(2026, 10, 1))
    kw.setdefault("now", NOW - timedelta(days=30))
    with write_session(engine) as session:
        deal = deals.create_deal(session=session, title=title, currency="EUR", **kw)
        return deal.id


def _kpis(engine, as_of: date = TODAY, conversion: Conversion = EUR):  # type: ignore[no-untyped-def]
    with read_session(engine) as session:
        return figures.kpi_report(session, period=NOVEMBER, as_of=as_of, conversion=conversion)


def _changes(engine, deal_id: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with read_session(engine) as session:
        return [
            (c.from_category, c.to_category)
            for c in deal_forecast.forecast_changes(session=session, deal_id=deal_id)
        ]


def test_categories_sum_the_open_deals_expected_to_close_in_the_period(engine) -> None:  # type: ignore[no-untyped-def]
    in_nov = date(2026, 11, 27)
    negotiation = _deal(
        engine, "N", value_cents=1_000_000, stage="Negotiation", expected_close=in_nov
    )
    proposal = _deal(engine, "P", value_cents=2_000_000, stage="Proposal", expected_close=in_nov)
    qualified = _deal(engine, "Q", value_cents=400_000, stage="Qualified", expected_close=in_nov)
    _deal(
        engine, "Dec", value_cents=9_000_000, stage="Negotiation", expected_close=date(2026, 12, 3)
    )
    _deal(engine, "No date", value_cents=7_000_000, stage="Negotiation")
    won = _deal(engine, "Won", value_cents=500_000, stage="Proposal")
    with write_session(engine) as session:
        deals.win_deal(session=session, deal_id=won, on=date(2026, 11, 5), now=NOW)
        from repdesk.services import quotas

        quotas.set_quota(session=session, period=NOVEMBER, amount_cents=5_000_000)
    k = _kpis(engine)
    assert (k.categories.commit, k.categories.best_case, k.categories.pipeline) == (
        1_000_000, 2_000_000, 400_000,
    )  # fmt: skip
    assert k.won_and_commit == 1_500_000 and k.won_commit_best_case == 3_500_000
    assert k.commit_attainment == 0.3 and k.best_case_attainment == 0.7
    data = k.to_json()
    assert (data["commit"], data["best_case"], data["pipeline"]) == (10_000, 20_000, 4_000)
    assert data["won_and_commit"] == 15_000 and data["best_case_attainment"] == 0.7

    # The rep's call moves a deal between categories; "auto" gives it back to its stage.
    with write_session(engine) as session:
        deal_forecast.set_forecast(session=session, deal_id=proposal, category="commit", now=NOW)
        deal_forecast.set_forecast(
            session=session, deal_id=negotiation, category="Omitted", now=NOW
        )
        deal_forecast.set_forecast(
            session=session, deal_id=qualified, category="best-case", now=NOW
        )
    k = _kpis(engine)
    assert (k.categories.commit, k.categories.best_case, k.categories.pipeline) == (
        2_000_000, 400_000, 0,
    )  # fmt: skip
    assert k.categories.omitted == 1_000_000
    with write_session(engine) as session:
        deal_forecast.set_forecast(session=session, deal_id=negotiation, category="auto", now=NOW)
        with pytest.raises(InvalidInput, match=r"forecast: 'upside'.*commit, best case"):
            deal_forecast.set_forecast(session=session, deal_id=proposal, category="upside")
    assert _kpis(engine).categories.commit == 3_000_000
    with write_session(engine) as session, pytest.raises(AlreadyClosed, match="won"):
        deal_forecast.set_forecast(session=session, deal_id=won, category="commit")


def test_a_deals_own_probability_weights_the_pipeline_and_moves_its_category(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(
        engine,
        "Big one",
        value_cents=4_000_000,
        stage="Proposal",
        expected_close=date(2026, 11, 25),
    )
    assert _kpis(engine).weighted_pipeline == 2_200_000  # 40,000 x Proposal's 55%
    with write_session(engine) as session:
        deal_forecast.set_probability(session=session, deal_id=deal_id, probability=80, now=NOW)
    k = _kpis(engine)
    assert k.weighted_pipeline == 3_200_000  # 40,000 x its own 80%
    assert k.categories.commit == 4_000_000  # 80% is commit by default
    assert _changes(engine, deal_id) == [("best_case", "commit")]
    with write_session(engine) as session:
        with pytest.raises(InvalidInput, match="probability: 101"):
            deal_forecast.set_probability(session=session, deal_id=deal_id, probability=101)
        deal_forecast.set_probability(session=session, deal_id=deal_id, probability=None, now=NOW)
    assert _kpis(engine).weighted_pipeline == 2_200_000
    with read_session(engine) as session:
        shown = deal_forecast.deal_forecast(session=session, deal_id=deal_id)
    assert (shown.category, shown.probability, shown.own_probability) == ("best_case", 55, False)


def test_every_category_change_is_kept_whatever_made_it(engine) -> None:  # type: ignore[no-untyped-def]
    follows = _deal(engine, "Follows its stage", stage="Demo")
    own = _deal(engine, "Own probability", stage="Demo")
    called = _deal(engine, "Rep's call", stage="Demo")
    with write_session(engine) as session:
        deal_forecast.set_probability(session=session, deal_id=own, probability=45, now=NOW)
        deal_forecast.set_forecast(session=session, deal_id=called, category="best case", now=NOW)
        deals.move_deal(session=session, deal_id=follows, stage="Negotiation", now=NOW)
        deals.move_deal(session=session, deal_id=follows, stage="Demo", now=NOW)
        # The stage editor: Demo at 75% makes its deals commit, unless the rep said otherwise.
        stages.set_stage(session=session, stage="Demo", probability=75, now=NOW)
    assert _changes(engine, follows) == [
        ("best_case", "commit"), ("commit", "best_case"), ("best_case", "commit"),
    ]  # fmt: skip
    assert _changes(engine, own) == []  # 45% of its own: best case before and after
    assert _changes(engine, called) == []  # the rep's call did not change what it was
    with write_session(engine) as session:
        deals.win_deal(session=session, deal_id=follows, now=NOW)  # a close is no category change
        deals.reopen_deal(session=session, deal_id=follows, now=NOW)
    assert len(_changes(engine, follows)) == 3


def test_a_past_day_reads_the_category_and_close_date_the_deal_had_then(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(
        engine,
        "Slips",
        value_cents=1_000_000,
        stage="Negotiation",
        expected_close=date(2026, 11, 26),
    )
    with write_session(engine) as session:
        deal_forecast.set_forecast(session=session, deal_id=deal_id, category="pipeline", now=NOW)
        deals.edit_deal(
            session=session, deal_id=deal_id, expected_close=date(2026, 12, 10), now=NOW
        )
    yesterday = _kpis(engine, as_of=TODAY - timedelta(days=1))
    assert yesterday.categories.commit == 1_000_000  # committed, closing in November, then
    assert yesterday.weighted_pipeline == 700_000
    today = _kpis(engine)
    assert today.categories == type(today.categories)()  # December now: in no November sum
    assert today.weighted_pipeline == 0


def test_close_date_history_counts_the_slips(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(engine, "Drifts", expected_close=date(2026, 11, 20))
    for day, moved_to in enumerate((date(2026, 11, 30), date(2026, 12, 15), date(2026, 12, 5))):
        with write_session(engine) as session:
            deals.edit_deal(
                session=session, deal_id=deal_id, expected_close=moved_to, now=NOW + timedelta(day)
            )
    with write_session(engine) as session:
        later = NOW + timedelta(days=3)
        deals.edit_deal(session=session, deal_id=deal_id, title="Drifts a lot", now=later)
        deals.edit_deal(session=session, deal_id=deal_id, expected_close=None, now=later)
    with read_session(engine) as session:
        kept = deal_forecast.close_date_changes(session=session, deal_id=deal_id)
        shown = deal_forecast.deal_forecast(session=session, deal_id=deal_id)
    assert [(c.from_date, c.to_date) for c in kept] == [
        (date(2026, 11, 20), date(2026, 11, 30)),
        (date(2026, 11, 30), date(2026, 12, 15)),
        (date(2026, 12, 15), date(2026, 12, 5)),
        (date(2026, 12, 5), None),
    ]  # a title change is no close-date change
    assert (shown.slips, shown.slipped_days, shown.close_date_changes) == (2, 10 + 15, 4)


def test_lost_deals_by_reason_and_by_competitor(engine) -> None:  # type: ignore[no-untyped-def]
    plan = (
        ("A", 1_000_000, "price", None, False, date(2026, 11, 3)),
        ("B", 500_000, "price", None, True, date(2026, 11, 4)),  # met a competitor, unnamed
        ("C", 2_000_000, "chose competitor", "Salesforce", False, date(2026, 11, 5)),
        ("D", 300_000, "timing", "Salesforce", True, date(2026, 11, 6)),
        ("E", 9_000_000, "price", "HubSpot", False, date(2026, 10, 30)),  # October
    )
    for title, value, reason, competitor, objected, on in plan:
        deal_id = _deal(engine, title, value_cents=value)
        with write_session(engine) as session:
            if objected:
                objections.add_objection(
                    session=session, deal_id=deal_id, category="competitor", said="Also Pipedrive"
                )
            deals.lose_deal(
                session=session, deal_id=deal_id, reason=reason, on=on, competitor=competitor
            )
    usd = _deal(engine, "In dollars", value_cents=100)
    with write_session(engine) as session:
        deals.edit_deal(session=session, deal_id=usd, currency="USD")
        deals.lose_deal(session=session, deal_id=usd, reason="price", on=date(2026, 11, 7))
    k = _kpis(engine)
    assert k.lost_by_reason == (
        LostGroup("chose competitor", 1, 2_000_000),
        LostGroup("price", 2, 1_500_000),
        LostGroup("timing", 1, 300_000),
    )
    assert k.lost_by_competitor == (
        LostGroup("Salesforce", 2, 2_300_000),
        LostGroup("", 1, 500_000),
    )
    assert k.left_out_deals == 1  # the dollar deal: counted once, not per reason too
    data = k.to_json()
    assert data["lost_by_reason"][1] == {"reason": "price", "count": 2, "value": 15_000}
    assert data["lost_by_competitor"][1] == {"competitor": None, "count": 1, "value": 5_000}
    # Any period: October has its own.
    with read_session(engine) as session:
        october = figures.kpi_report(
            session, period=parse_period("2026-10"), as_of=TODAY, conversion=EUR
        )
    assert october.lost_by_competitor == (LostGroup("HubSpot", 1, 9_000_000),)


def test_one_reason_or_competitor_typed_in_several_cases_is_one_line(engine) -> None:  # type: ignore[no-untyped-def]
    # "Rival", "rival", "RIVAL" and a full-width "Ｒｉｖａｌ" were four competitors in `kpi`,
    # each with its one deal: the lesson (one rival took four deals) was lost.
    for n, (reason, competitor) in enumerate(
        (("price", "Rival"), ("Price", "rival"), ("PRICE", "RIVAL"), ("price", "Ｒｉｖａｌ"))
    ):
        deal_id = _deal(engine, f"L{n}", value_cents=100_000)
        with write_session(engine) as session:
            deals.lose_deal(
                session=session, deal_id=deal_id, reason=reason, on=date(2026, 11, 3),
                competitor=competitor,
            )  # fmt: skip
    k = _kpis(engine)
    assert k.lost_by_reason == (LostGroup("price", 4, 400_000),)  # as most deals spell it
    assert [(g.count, g.value_cents) for g in k.lost_by_competitor] == [(4, 400_000)]


def test_the_periods_nps_counts_the_won_customers_who_answered(engine) -> None:  # type: ignore[no-untyped-def]
    scores = ((10, date(2026, 11, 2)), (9, date(2026, 11, 3)), (6, date(2026, 11, 4)),
              (None, date(2026, 11, 5)), (0, date(2026, 10, 20)))  # fmt: skip
    ids = []
    for score, won_on in scores:
        deal_id = _deal(engine, f"Won {won_on}")
        ids.append(deal_id)
        with write_session(engine) as session:
            deals.win_deal(session=session, deal_id=deal_id, on=won_on, now=NOW)
            if score is not None:
                deal_forecast.set_nps(session=session, deal_id=deal_id, score=score, now=NOW)
    nps = _kpis(engine).nps
    assert (nps.answered, nps.promoters, nps.detractors) == (3, 2, 1)
    assert round(nps.score or 0, 1) == 33.3
    assert _kpis(engine).to_json()["nps"] == {
        "score": 33.3, "answered": 3, "promoters": 2, "passives": 0, "detractors": 1,
    }  # fmt: skip
    # Answered today: a day before, nobody had.
    assert _kpis(engine, as_of=TODAY - timedelta(days=1)).nps.answered == 0
    open_deal = _deal(engine, "Still open")
    with write_session(engine) as session:
        with pytest.raises(RepdeskError, match="is open: a score is a won customer's"):
            deal_forecast.set_nps(session=session, deal_id=open_deal, score=9)
        with pytest.raises(InvalidInput, match=r"score: 11.*0 to 10"):
            deal_forecast.set_nps(session=session, deal_id=ids[0], score=11)
        with pytest.raises(InvalidInput, match="on or after the day it was won"):
            deal_forecast.set_nps(
                session=session, deal_id=ids[0], score=9, on=date(2026, 11, 1), now=NOW
            )
        deal_forecast.set_nps(session=session, deal_id=ids[0], score=None, now=NOW)
    assert _kpis(engine).nps.answered == 2


def test_forecast_changes_go_to_the_trash_and_back_with_their_deal(engine) -> None:  # type: ignore[no-untyped-def]
    from repdesk.services import trash

    deal_id = _deal(engine, "Kept whole", stage="Demo", expected_close=date(2026, 11, 27))
    with write_session(engine) as session:
        deal_forecast.set_forecast(session=session, deal_id=deal_id, category="commit", now=NOW)
        deals.edit_deal(session=session, deal_id=deal_id, expected_close=date(2026, 12, 4), now=NOW)
        item = trash.delete_item(session=session, kind="deal", item_id=deal_id, now=NOW)
    with read_session(engine) as session:
        assert session.exec(select(ForecastChange)).all() == []
    with write_session(engine) as session:
        trash.restore(session=session, trash_id=item.id, now=NOW)
    assert _changes(engine, deal_id) == [("best_case", "commit")]
    with read_session(engine) as session:
        assert deal_forecast.deal_forecast(session=session, deal_id=deal_id).slips == 1
