"""Follow-ups that tell the truth, on both engines: done with an outcome is a logged touch,
a snooze keeps the time of day, the day's queue reads in time order."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from tests.pinned import EUR, NOW, TODAY

from repdesk.core.dates import parse_period
from repdesk.core.errors import InvalidInput
from repdesk.reports import figures
from repdesk.reports.kpi_pane import kpi_pane
from repdesk.services import activities, deals, followups
from repdesk.storage.store import read_session, write_session


def _cold_deal(engine: Any, title: str = "Quiet deal", value: int = 100_000) -> int:
    """An open deal last touched 30 days ago (Prospect goes cold after 14)."""
    with write_session(engine) as session:
        deal = deals.create_deal(session=session, title=title, value_cents=value,
                                 currency="EUR", now=NOW - timedelta(days=40))  # fmt: skip
        activities.log_activity(session=session, deal_id=deal.id, kind="call",  # type: ignore[arg-type]
                                now=NOW - timedelta(days=30))  # fmt: skip
        return deal.id  # type: ignore[return-value]


def _queues(engine: Any) -> figures.DayQueues:
    with read_session(engine) as session:
        return figures.day_queues(session, today=TODAY, now=NOW, going_cold_days=14)


def test_done_with_an_outcome_logs_a_call_that_counts_as_a_touch(engine: Any) -> None:
    deal_id = _cold_deal(engine)
    with write_session(engine) as session:
        fu = followups.add_follow_up(
            session=session, deal_id=deal_id, when=(TODAY, None), note="check the budget",
            now=NOW - timedelta(days=2),
        )  # fmt: skip
    assert [row.deal_id for row in _queues(engine).going_cold] == [deal_id]
    with write_session(engine) as session:
        followups.complete_follow_up(session=session, follow_up_id=fu.id,  # type: ignore[arg-type]
                                     outcome="connected", now=NOW)  # fmt: skip
    with read_session(engine) as session:
        timeline = activities.timeline_activities(session=session, deal_id=deal_id)
        pane = kpi_pane(session, period=parse_period("2026-11"), as_of=TODAY, conversion=EUR)
    latest = timeline[0]
    assert (latest.kind, latest.outcome, latest.text) == ("call", "connected", "check the budget")
    assert latest.at == NOW
    assert _queues(engine).going_cold == []  # touched today
    calls = next(week for week in pane.activity if week.kind == "call")
    assert calls.this_week == 1  # the call of 30 days ago is not this week


def test_the_rep_picks_another_kind_and_no_outcome_logs_nothing(engine: Any) -> None:
    deal_id = _cold_deal(engine)
    with write_session(engine) as session:
        first = followups.add_follow_up(session=session, deal_id=deal_id, when=(TODAY, None))
        second = followups.add_follow_up(session=session, deal_id=deal_id, when=(TODAY, None))
        followups.complete_follow_up(session=session, follow_up_id=first.id,  # type: ignore[arg-type]
                                     outcome="sent the quote", kind="email", now=NOW)  # fmt: skip
        followups.complete_follow_up(session=session, follow_up_id=second.id, now=NOW)  # type: ignore[arg-type]
        third = followups.add_follow_up(session=session, deal_id=deal_id, when=(TODAY, None))
    with write_session(engine) as session, pytest.raises(InvalidInput, match="call, email"):
        followups.complete_follow_up(session=session, follow_up_id=third.id,  # type: ignore[arg-type]
                                     outcome="x", kind="fax")  # fmt: skip
    with read_session(engine) as session:
        kinds = [a.kind for a in activities.timeline_activities(session=session, deal_id=deal_id)]
    assert kinds == ["email", "call"]  # the email now, the call of 30 days ago


def test_a_logged_call_that_answers_a_follow_up_is_logged_once(engine: Any) -> None:
    deal_id = _cold_deal(engine)
    with write_session(engine) as session:
        followups.add_follow_up(session=session, deal_id=deal_id, when=(TODAY, None))
        activities.log_activity(session=session, deal_id=deal_id, kind="call",
                                outcome="connected", now=NOW)  # fmt: skip
    with read_session(engine) as session:
        timeline = activities.timeline_activities(session=session, deal_id=deal_id)
    assert len(timeline) == 2  # the call of 30 days ago and this one


def test_snooze_keeps_the_time_of_day_unless_another_is_given(engine: Any) -> None:
    deal_id = _cold_deal(engine)
    with write_session(engine) as session:
        fu = followups.add_follow_up(session=session, deal_id=deal_id, when=(TODAY, time(10, 0)))
        snoozed = followups.snooze_follow_up(session=session, follow_up_id=fu.id,  # type: ignore[arg-type]
                                             when=(TODAY + timedelta(days=1), None))  # fmt: skip
        assert (snoozed.due_on, snoozed.due_time) == (date(2026, 11, 21), time(10, 0))
        later = (TODAY + timedelta(days=3), time(15, 30))
        snoozed = followups.snooze_follow_up(session=session, follow_up_id=fu.id, when=later)  # type: ignore[arg-type]
        assert (snoozed.due_on, snoozed.due_time) == (date(2026, 11, 23), time(15, 30))


def test_the_today_queue_is_in_time_order(engine: Any) -> None:
    # Bigger deals later in the day: value must not put them first.
    plan = [("Afternoon", 900_000, time(15, 0)), ("All day", 100_000, None),
            ("Morning", 200_000, time(9, 0)), ("Noon", 5_000_000, time(12, 0))]  # fmt: skip
    for title, value, at in plan:
        deal_id = _cold_deal(engine, title, value)
        with write_session(engine) as session:
            followups.add_follow_up(session=session, deal_id=deal_id, when=(TODAY, at))
            followups.add_follow_up(session=session, deal_id=deal_id,
                                    when=(TODAY + timedelta(days=2), at))  # fmt: skip
    queues = _queues(engine)
    in_order = ["All day", "Morning", "Noon", "Afternoon"]
    assert [row.title for row in queues.today] == in_order
    assert [row.title for row in queues.upcoming] == in_order


def test_the_launch_counts_are_the_queues_overdue_and_today(engine: Any) -> None:
    """The app's launch notice counts without reading the queues: the same two numbers."""
    open_id = _cold_deal(engine, "Open deal")
    lost_id = _cold_deal(engine, "Lost deal")
    with write_session(engine) as session:
        for deal_id in (open_id, lost_id):
            for days in (-3, -1, 0, 0, 2):  # two overdue, two today, one to come
                day = TODAY + timedelta(days=days)  # scheduled that morning
                followups.add_follow_up(session=session, deal_id=deal_id, when=(day, None),
                                        now=min(NOW, NOW + timedelta(days=days)))  # fmt: skip
        done = followups.add_follow_up(session=session, deal_id=open_id,
                                       when=(TODAY - timedelta(days=5), None),
                                       now=NOW - timedelta(days=5))  # fmt: skip
        followups.complete_follow_up(session=session, follow_up_id=done.id, now=NOW)  # type: ignore[arg-type]
        deals.lose_deal(session=session, deal_id=lost_id, reason="price", now=NOW)
    queues = _queues(engine)
    with read_session(engine) as session:
        counts = figures.due_counts(session, today=TODAY)
    assert counts == (len(queues.overdue), len(queues.today)) == (2, 2)


def test_days_since_a_touch_are_calendar_days_where_the_rep_is(engine: Any) -> None:
    """A call yesterday evening was "today" in 24-hour days (found by an audit); going cold
    after 14 days is touched on the day 14 days ago, whatever its hour."""
    morning = datetime.combine(TODAY, time(8, 0), UTC)
    with write_session(engine) as session:
        made = NOW - timedelta(days=40)
        recent = deals.create_deal(session=session, title="Recent", currency="EUR", now=made)
        quiet = deals.create_deal(session=session, title="Quiet", currency="EUR", now=made)
        late = datetime.combine(TODAY - timedelta(days=14), time(23, 0), UTC)
        for deal, at in ((recent, morning - timedelta(hours=12)), (quiet, late)):
            activities.log_activity(session=session, deal_id=deal.id, kind="call", at=at, now=at)  # type: ignore[arg-type]
    with read_session(engine) as session:
        queues = figures.day_queues(session, today=TODAY, now=morning, going_cold_days=14)
    since = {row.title: row.urgency_days for row in queues.no_next_step}
    assert since == {"Recent": 1, "Quiet": 14}
    assert [row.title for row in queues.going_cold] == ["Quiet"]


def test_a_call_answers_the_deal_s_earliest_step_of_the_day(engine: Any) -> None:
    """A review: the step a call answers sorted by day and id, the deal page by day and hour;
    a call at 09:30 did the 17:00 step saved first and left the 08:00 one overdue."""
    with write_session(engine) as session:
        deal = deals.create_deal(session=session, title="X", currency="EUR", now=NOW)
        for hour, note in ((17, "5pm"), (8, "8am")):  # the later one saved first
            followups.add_follow_up(
                session=session, deal_id=deal.id, when=(TODAY, time(hour, 0)), note=note, now=NOW
            )  # fmt: skip
        deal_id = deal.id
    with read_session(engine) as session:
        assert [s.note for s in followups.pending(session=session, deal_id=deal_id)] == [
            "8am",
            "5pm",
        ]
    with write_session(engine) as session:  # NOW is 09:30
        logged = activities.log_touch(session=session, deal_id=deal_id, kind="call", now=NOW)
        assert logged.done is not None and logged.done.note == "8am"
