"""The domain services over a real desk file, without any UI."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from tests.pinned import EUR, NOW, TODAY

from repdesk.core.dates import parse_period
from repdesk.core.errors import Ambiguous, InvalidInput, NotFound
from repdesk.reports import figures
from repdesk.services import activities, deals, followups, objections, quotas
from repdesk.storage.models import FollowUp
from repdesk.storage.store import read_session, write_session


def _deal(engine, title: str = "Fleet rollout", **kw):  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        deal = deals.create_deal(
            session=session, title=title, currency="EUR", now=kw.pop("now", NOW), **kw
        )
        return deal.id


def test_create_move_win_and_reopen_record_the_history(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(engine, company="Acme", value_cents=1_250_000)
    with write_session(engine) as session:
        deals.move_deal(session=session, deal_id=deal_id, stage="demo", now=NOW)
        deals.win_deal(session=session, deal_id=deal_id, now=NOW + timedelta(days=1))
    with read_session(engine) as session:
        deal = deals.get_deal(session=session, deal_id=deal_id)
        assert (deal.status, deal.closed_on) == ("won", TODAY + timedelta(days=1))
        steps = [
            (h.from_stage, h.to_stage) for h in deals.history(session=session, deal_id=deal_id)
        ]
        assert steps == [(None, "Prospect"), ("Prospect", "Demo"), ("Demo", "Won")]
    with write_session(engine) as session:
        deal = deals.reopen_deal(session=session, deal_id=deal_id, now=NOW + timedelta(days=2))
        assert (deal.status, deal.closed_on) == ("open", None)
    with read_session(engine) as session:
        assert deals.history(session=session, deal_id=deal_id)[-1].to_stage == "Demo"


def test_lose_needs_a_reason_and_offers_the_ones_used_before(engine) -> None:  # type: ignore[no-untyped-def]
    ids = [_deal(engine, f"Deal {n}") for n in range(3)]
    with write_session(engine) as session, pytest.raises(InvalidInput, match="reason"):
        deals.lose_deal(session=session, deal_id=ids[0], reason="  ")
    with write_session(engine) as session:
        deals.lose_deal(session=session, deal_id=ids[0], reason="price")
        deals.lose_deal(session=session, deal_id=ids[1], reason="price")
        deals.lose_deal(session=session, deal_id=ids[2], reason="chose competitor")
    with read_session(engine) as session:
        assert deals.lost_reasons(session=session) == ["price", "chose competitor"]


def test_bad_values_are_refused_with_the_field_named(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        with pytest.raises(InvalidInput, match=r"stage: 'Nowhere'.*Prospect"):
            deals.create_deal(session=session, title="X", currency="EUR", stage="Nowhere")
        with pytest.raises(InvalidInput, match="title"):
            deals.create_deal(session=session, title="  ", currency="EUR")
        with pytest.raises(InvalidInput, match="expected close"):
            deals.create_deal(
                session=session,
                title="X",
                currency="EUR",
                first_contact=TODAY,
                expected_close=TODAY - timedelta(days=1),
            )


def test_find_deal_by_id_title_company_and_ambiguity(engine) -> None:  # type: ignore[no-untyped-def]
    a = _deal(engine, "Fleet rollout", company="Acme Logistics")
    _deal(engine, "Seats renewal", company="Nordwind Bank")
    _deal(engine, "Seats expansion", company="Nordwind Bank")
    with read_session(engine) as session:
        assert deals.find_deal(session=session, ref=str(a)).id == a
        assert deals.find_deal(session=session, ref="acme").id == a
        assert deals.find_deal(session=session, ref="FLEET ROLLOUT").id == a
        with pytest.raises(Ambiguous, match=r"Seats renewal.*Seats expansion"):
            deals.find_deal(session=session, ref="nordwind")
        with pytest.raises(NotFound):
            deals.find_deal(session=session, ref="nobody")


def test_logging_a_call_completes_the_due_follow_up_and_schedules_the_next(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(engine)
    with write_session(engine) as session:
        due = followups.add_follow_up(
            session=session,
            deal_id=deal_id,
            when=(TODAY - timedelta(days=2), None),
            note="chase",
            now=NOW - timedelta(days=5),  # scheduled before it fell due
        )
        later = followups.add_follow_up(
            session=session, deal_id=deal_id, when=(TODAY + timedelta(days=10), None)
        )
    with write_session(engine) as session:
        _, following = activities.log_activity(
            session=session,
            deal_id=deal_id,
            kind="call",
            outcome="connected",
            next_when=(TODAY + timedelta(days=3), time(10, 0)),
            now=NOW,
        )
        assert following is not None
    with read_session(engine) as session:
        done = session.get(FollowUp, due.id)
        assert done is not None and done.done_at == NOW and done.outcome == "connected"
        pending = followups.pending(session=session, deal_id=deal_id)
        assert [(f.due_on, f.due_time) for f in pending] == [
            (TODAY + timedelta(days=3), time(10, 0)),
            (TODAY + timedelta(days=10), None),
        ]
        assert later.id in {f.id for f in pending}


def test_a_note_does_not_answer_a_follow_up(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(engine)
    with write_session(engine) as session:
        followups.add_follow_up(session=session, deal_id=deal_id, when=(TODAY, None))
        activities.log_activity(session=session, deal_id=deal_id, kind="note", text="x", now=NOW)
    with read_session(engine) as session:
        assert len(followups.pending(session=session, deal_id=deal_id)) == 1


def test_recurring_follow_up_schedules_the_next_on_its_rhythm(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(engine)
    with write_session(engine) as session:
        fu = followups.add_follow_up(
            session=session,
            deal_id=deal_id,
            when=(date(2026, 10, 1), None),
            recur_days=30,
            now=NOW - timedelta(days=60),
        )
    with write_session(engine) as session:
        _, following = followups.complete_follow_up(
            session=session, follow_up_id=fu.id, outcome="checked in", now=NOW
        )
        assert following is not None
        # 2026-10-31 has passed by 2026-11-20, so the next is 2026-11-30, on the same rhythm.
        assert following.due_on == date(2026, 11, 30)
        assert following.recur_days == 30
    with write_session(engine) as session, pytest.raises(InvalidInput, match="done"):
        followups.complete_follow_up(session=session, follow_up_id=fu.id)


def test_next_recurrence_skips_missed_dates() -> None:
    assert followups.next_recurrence(date(2026, 1, 1), 7, date(2026, 1, 3)) == date(2026, 1, 8)
    assert followups.next_recurrence(date(2026, 1, 1), 7, date(2026, 1, 8)) == date(2026, 1, 15)
    assert followups.next_recurrence(date(2026, 1, 1), 7, date(2025, 12, 1)) == date(2026, 1, 8)


def test_playbook_puts_answers_from_won_deals_first_then_newest(engine) -> None:  # type: ignore[no-untyped-def]
    won_deal, lost_deal, open_deal = (_deal(engine, t) for t in ("Won", "Lost", "Open"))
    with write_session(engine) as session:
        objections.add_objection(
            session=session, deal_id=lost_deal, category="price", said="Too much",
            answer="Newest but lost", now=NOW,
        )  # fmt: skip
        objections.add_objection(
            session=session, deal_id=won_deal, category="price", said="Too much",
            answer="Old but won", now=NOW - timedelta(days=90),
        )  # fmt: skip
        objections.add_objection(
            session=session, deal_id=open_deal, category="price", said="Too much",
            answer="Middle, open", now=NOW - timedelta(days=10),
        )  # fmt: skip
        objections.add_objection(
            session=session, deal_id=open_deal, category="price", said="Unanswered", now=NOW
        )
        objections.add_objection(
            session=session, deal_id=won_deal, category="timing", said="Not now", answer="x"
        )
        deals.win_deal(session=session, deal_id=won_deal)
        deals.lose_deal(session=session, deal_id=lost_deal, reason="price")
    with read_session(engine) as session:
        answers = [a.answer for a in objections.playbook(session=session, category="PRICE")]
        assert answers == ["Old but won", "Newest but lost", "Middle, open"]
        with pytest.raises(InvalidInput, match=r"category.*price, budget"):
            objections.playbook(session=session, category="weather")


def test_answering_marks_addressed_and_resolving_stamps_the_time(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(engine)
    with write_session(engine) as session:
        obj = objections.add_objection(
            session=session, deal_id=deal_id, category="budget", said="No money until Q2"
        )
        assert obj.status == "open"
        obj = objections.update_objection(
            session=session, objection_id=obj.id, answer="Split the payment"
        )
        assert obj.status == "addressed"
        obj = objections.resolve_objection(session=session, objection_id=obj.id, now=NOW)
        assert (obj.status, obj.resolved_at) == ("resolved", NOW)


def test_day_queues_sections_and_urgency(engine) -> None:  # type: ignore[no-untyped-def]
    old = NOW - timedelta(days=40)
    small = _deal(engine, "Small overdue", value_cents=100_000, now=old)
    big = _deal(engine, "Big overdue", value_cents=900_000, now=old)
    later = _deal(engine, "Very overdue", value_cents=100, now=old)
    today_deal = _deal(engine, "Due today", now=NOW)
    soon = _deal(engine, "Soon", now=NOW)
    _deal(engine, "No next step", now=NOW)
    with write_session(engine) as session:
        # An email yesterday (before the follow-ups existed) keeps "Big" from going cold.
        activities.log_activity(
            session=session, deal_id=big, kind="email", at=NOW - timedelta(days=1), now=NOW
        )
        for deal_id, days in ((small, -2), (big, -2), (later, -5), (today_deal, 0), (soon, 3)):
            followups.add_follow_up(
                session=session, deal_id=deal_id, when=(TODAY + timedelta(days=days), None), now=old
            )
        followups.add_follow_up(session=session, deal_id=soon, when=(TODAY + timedelta(30), None))
    with read_session(engine) as session:
        q = figures.day_queues(session, today=TODAY, now=NOW, going_cold_days=14)
    assert [r.title for r in q.overdue] == ["Very overdue", "Big overdue", "Small overdue"]
    assert [r.title for r in q.today] == ["Due today"]
    assert [r.title for r in q.upcoming] == ["Soon"]
    assert [r.title for r in q.no_next_step] == ["No next step"]
    # Prospect's rot limit is 14 days: the two never-touched 40-day-old deals are going cold.
    assert [r.title for r in q.going_cold] == ["Small overdue", "Very overdue"]
    assert q.overdue[0].urgency_days == 5
    # A follow-up's row says when its deal was last touched: read for the rows kept only (the
    # first ten in `repdesk today`), the same as for every row.
    assert {r.title: r.last_touch for r in q.overdue} == {
        "Very overdue": None, "Big overdue": NOW - timedelta(days=1), "Small overdue": None,
    }  # fmt: skip
    with read_session(engine) as session:
        first = figures.day_queues(session, today=TODAY, now=NOW, going_cold_days=14, limit=2)
    assert [(r.title, r.last_touch) for r in first.overdue] == [
        ("Very overdue", None), ("Big overdue", NOW - timedelta(days=1)),
    ]  # fmt: skip
    assert first.count("overdue") == 3


def test_kpi_report_over_a_real_desk(engine) -> None:  # type: ignore[no-untyped-def]
    period = parse_period("2026-11")
    ids = [_deal(engine, f"D{n}", value_cents=v, first_contact=date(2026, 10, 1))
           for n, v in enumerate((1_000_000, 2_000_000, 500_000, 4_000_000))]  # fmt: skip
    with write_session(engine) as session:
        deals.win_deal(session=session, deal_id=ids[0], on=date(2026, 10, 21))  # 20 days
        deals.win_deal(session=session, deal_id=ids[1], on=date(2026, 10, 31))  # 30 days
        deals.lose_deal(session=session, deal_id=ids[2], reason="price", on=date(2026, 11, 10))
        deals.edit_deal(session=session, deal_id=ids[3], expected_close=date(2026, 11, 25))
        deals.move_deal(session=session, deal_id=ids[3], stage="Proposal")  # 55%
        quotas.set_quota(session=session, period=period, amount_cents=3_000_000)
    with read_session(engine) as session:
        nov = figures.kpi_report(session, period=period, as_of=TODAY, conversion=EUR)
        q4 = figures.kpi_report(
            session, period=parse_period("2026-Q4"), as_of=TODAY, conversion=EUR
        )
    assert (nov.won_value, nov.won_count, nov.lost_count) == (0, 0, 1)
    assert nov.avg_cycle_days == 40  # Oct 1 -> Nov 10
    assert nov.weighted_pipeline == 2_200_000  # 40,000 x 55%
    assert nov.expected_by_now == 2_000_000  # 30,000 x 20/30
    assert nov.coverage == 4_000_000 / 3_000_000
    assert (q4.won_value, q4.won_count, q4.lost_count) == (3_000_000, 2, 1)
    assert q4.avg_cycle_days == 30  # (20 + 30 + 40) / 3, the domain page's worked example
    assert q4.quota is None and q4.attainment is None


def test_objection_stats_compare_each_category_with_the_overall_win_rate(engine) -> None:  # type: ignore[no-untyped-def]
    won, lost_a, lost_b = (_deal(engine, t) for t in ("W", "L1", "L2"))
    with write_session(engine) as session:
        for deal_id in (won, lost_a):
            objections.add_objection(session=session, deal_id=deal_id, category="price", said="x")
        objections.add_objection(session=session, deal_id=lost_b, category="timing", said="y")
        objections.add_objection(session=session, deal_id=lost_b, category="timing", said="z")
        deals.win_deal(session=session, deal_id=won)
        deals.lose_deal(session=session, deal_id=lost_a, reason="price")
        deals.lose_deal(session=session, deal_id=lost_b, reason="timing")
    with read_session(engine) as session:
        stats, overall = figures.objection_stats(session)
    assert overall == 1 / 3
    by_category = {s.category: s for s in stats}
    assert by_category["price"].win_rate == 0.5
    assert (by_category["timing"].count, by_category["timing"].lost_deals) == (2, 1)
    assert by_category["timing"].win_rate == 0.0
    assert by_category["budget"].win_rate is None
    assert [s.category for s in stats][:2] == ["timing", "price"]  # the most dangerous first


def test_the_playbook_shows_an_answer_given_twice_once(engine) -> None:  # type: ignore[no-untyped-def]
    a, b = _deal(engine, "A"), _deal(engine, "B")
    with write_session(engine) as session:
        for deal_id in (a, b):
            objections.add_objection(
                session=session, deal_id=deal_id, category="budget", said="No money",
                answer="Split the  payment",
            )  # fmt: skip
        objections.add_objection(
            session=session, deal_id=b, category="budget", said="Q2", answer="Start a pilot"
        )
    with read_session(engine) as session:
        answers = [p.answer for p in objections.playbook(session=session, category="budget")]
    assert answers == ["Start a pilot", "Split the  payment"]


def test_day_queues_cut_to_their_first_rows_keep_the_order_and_the_counts(engine) -> None:  # type: ignore[no-untyped-def]
    """`repdesk today` keeps ten rows of each section and says how many more there are: the
    kept rows are the first ones of the whole, in the same order (ties by id),
    whichever way the section is sorted."""
    old = NOW - timedelta(days=40)
    titles = [f"Deal {n}" for n in range(9)]
    ids = [_deal(engine, t, value_cents=(n % 3) * 100_000, now=old) for n, t in enumerate(titles)]
    _deal(engine, "No step A", now=old)
    _deal(engine, "No step B", now=old)
    with write_session(engine) as session:
        for n, deal_id in enumerate(ids):
            for days in (-3, -1, 0, 2):  # overdue twice, today, upcoming
                at = time(9 + n % 2, 0) if n % 3 else None  # all-day steps and timed ones
                followups.add_follow_up(
                    session=session, deal_id=deal_id, when=(TODAY + timedelta(days), at), now=old
                )
    with read_session(engine) as session:
        whole = figures.day_queues(session, today=TODAY, now=NOW, going_cold_days=14)
        cut = figures.day_queues(session, today=TODAY, now=NOW, going_cold_days=14, limit=4)
    for key, _label in figures.DayQueues.SECTIONS:
        rows = getattr(whole, key)
        assert [r.to_json() for r in getattr(cut, key)] == [r.to_json() for r in rows[:4]], key
        assert cut.count(key) == whole.count(key) == len(rows)
    assert (cut.count("overdue"), cut.count("today"), cut.count("upcoming")) == (18, 9, 9)
    assert cut.to_json()["overdue"]["count"] == 18 and len(cut.to_json()["overdue"]["items"]) == 4


def test_a_queue_cut_to_its_first_rows_never_holds_the_rest() -> None:
    """`day_queues(limit=...)` keeps a section's first rows as they are read (a bounded heap):
    on 100,000 deals the tens of thousands of "no next step" rows held to keep a hundred
    raised the app's peak memory by 18 MB. The same first rows, in order, and the full count."""
    import random

    from repdesk.reports.figures import _Section

    keys = [(random.randrange(50), n) for n in range(2_000)]
    section = _Section(5)
    most = 0
    for key in keys:
        section.add(key, lambda key=key: key)
        most = max(most, len(section.entries))
    assert most == 5 and section.count == 2_000
    assert [key for key, _ in section.first()] == sorted(keys)[:5]
    every = _Section(None)
    for key in keys:
        every.add(key, lambda key=key: key)
    assert [key for key, _ in every.first()] == sorted(keys)
