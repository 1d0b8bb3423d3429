"""Delete, trash, restore, merge and corrections, without any UI, on both engines (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from tests.pinned import EUR, NOW, TODAY

from repdesk.core.dates import period_containing
from repdesk.core.errors import InvalidInput, NotFound, RepdeskError
from repdesk.reports import figures
from repdesk.services import activities, deals, followups, merge, objections, quotas, trash
from repdesk.storage.models import Activity, Deal, FollowUp, ForecastChange, Objection, StageChange
from repdesk.storage.store import read_session, write_session


def _rows(session, model, deal_id):  # type: ignore[no-untyped-def]
    from sqlmodel import select

    return [
        trash.row_values(r) for r in session.exec(select(model).where(model.deal_id == deal_id))
    ]


def _deal_with_a_timeline(engine, title: str = "Fleet rollout") -> int:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        deal = deals.create_deal(
            session=session, title=title, company="Acme", currency="EUR",
            value_cents=4_500_000, first_contact=TODAY - timedelta(days=20), now=NOW,
        )  # fmt: skip
        deal_id = deal.id
        deals.move_deal(session=session, deal_id=deal_id, stage="Demo", now=NOW)
        activities.log_activity(
            session=session, deal_id=deal_id, kind="call", outcome="connected", now=NOW,
            next_when=(TODAY + timedelta(days=3), time(10, 0)), next_note="send the offer",
        )  # fmt: skip
        objections.add_objection(
            session=session, deal_id=deal_id, category="price", said="Too dear", now=NOW
        )
    return deal_id  # type: ignore[no-any-return]


def _snapshot(engine, deal_id: int) -> dict:  # type: ignore[no-untyped-def]
    with read_session(engine) as session:
        deal = session.get(Deal, deal_id)
        return {
            "deal": trash.row_values(deal) if deal else None,
            **{
                m.__tablename__: _rows(session, m, deal_id)
                for m in (StageChange, Activity, FollowUp, Objection, ForecastChange)
            },
        }


def test_a_deleted_deal_leaves_figures_and_queues_and_comes_back_whole(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal_with_a_timeline(engine)
    with write_session(engine) as session:
        quotas.set_quota(session=session, period=period_containing(TODAY, "month"), amount_cents=1)
        deals.win_deal(session=session, deal_id=deal_id, now=NOW)
    before = _snapshot(engine, deal_id)
    with read_session(engine) as session:
        assert figures.month_standing(session, conversion=EUR).won_value == 4_500_000

    with write_session(engine) as session:
        item = trash.delete_item(session=session, kind="deal", item_id=deal_id, now=NOW)
    # The deal, 3 stage changes, an activity, a follow-up, an objection, and the forecast change
    # its move to Demo made (pipeline to best case).
    assert (item.kind, item.item_id, item.rows) == ("deal", deal_id, 1 + 3 + 1 + 1 + 1 + 1)
    assert item.label == f"#{deal_id} Fleet rollout (Acme)"
    with read_session(engine) as session:
        assert figures.month_standing(session, conversion=EUR).won_value == 0
        assert deals.list_deals(session=session, status="all") == []
        assert [i.id for i in trash.list_trash(session=session, now=NOW)] == [item.id]
        with pytest.raises(NotFound):
            deals.get_deal(session=session, deal_id=deal_id)

    with write_session(engine) as session:
        back = trash.restore(session=session, trash_id=item.id, now=NOW)
    assert (back.item_id, back.deal_id) == (deal_id, deal_id)
    assert _snapshot(engine, deal_id) == before
    with read_session(engine) as session:
        assert trash.list_trash(session=session, now=NOW) == []
        assert figures.month_standing(session, conversion=EUR).won_value == 4_500_000


def test_activity_follow_up_and_objection_go_and_come_back_alone(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal_with_a_timeline(engine)
    before = _snapshot(engine, deal_id)
    ids = {
        "activity": before["activity"][0]["id"],
        "follow_up": before["follow_up"][0]["id"],
        "objection": before["objection"][0]["id"],
    }
    with write_session(engine) as session:
        items = [
            trash.delete_item(session=session, kind=kind, item_id=item_id, now=NOW)
            for kind, item_id in ids.items()
        ]
    after = _snapshot(engine, deal_id)
    assert (after["activity"], after["follow_up"], after["objection"]) == ([], [], [])
    assert after["deal"] == before["deal"] and after["stage_change"] == before["stage_change"]
    assert items[2].label == f"price objection on #{deal_id} Fleet rollout (Acme): Too dear"
    with read_session(engine) as session:
        assert followups.pending(session=session, deal_id=deal_id) == []
    with write_session(engine) as session:
        for item in items:
            trash.restore(session=session, trash_id=item.id, now=NOW)
    assert _snapshot(engine, deal_id) == before


def test_a_step_put_back_on_a_deal_lost_since_says_no_queue_shows_it(engine) -> None:  # type: ignore[no-untyped-def]
    """A hostile test: a step deleted, its deal lost, the step restored: it came back pending
    on the lost deal, in no queue, and the restore said nothing of it. On a won deal it is in
    the queues (a won customer's check-ins), and nothing is said."""
    deal_id = _deal_with_a_timeline(engine)
    with write_session(engine) as session:
        step_id = followups.pending(session=session, deal_id=deal_id)[0].id
        gone = trash.delete_item(session=session, kind="follow_up", item_id=step_id, now=NOW)
        deals.lose_deal(session=session, deal_id=deal_id, reason="price", now=NOW)
    with write_session(engine) as session:
        back = trash.restore(session=session, trash_id=gone.id, now=NOW)
    assert back.note == (
        f"#{deal_id} is lost since {TODAY}, so no queue shows it "
        f"(`repdesk follow-up done {step_id}` marks it done)"
    )
    won = _deal_with_a_timeline(engine, "Won one")
    with write_session(engine) as session:
        step_id = followups.pending(session=session, deal_id=won)[0].id
        gone = trash.delete_item(session=session, kind="follow_up", item_id=step_id, now=NOW)
        deals.win_deal(session=session, deal_id=won, close_steps=False, now=NOW)
    with write_session(engine) as session:
        assert trash.restore(session=session, trash_id=gone.id, now=NOW).note == ""


def test_a_child_waits_for_its_deal_and_never_lands_on_another(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal_with_a_timeline(engine)
    with read_session(engine) as session:
        activity_id = _rows(session, Activity, deal_id)[0]["id"]
    with write_session(engine) as session:
        lone = trash.delete_item(session=session, kind="activity", item_id=activity_id, now=NOW)
        whole = trash.delete_item(session=session, kind="deal", item_id=deal_id, now=NOW)
    with write_session(engine) as session, pytest.raises(RepdeskError, match="restore the deal"):
        trash.restore(session=session, trash_id=lone.id, now=NOW)
    # A new deal may take the deleted deal's id (SQLite does): the activity must not go there.
    with write_session(engine) as session:
        other = deals.create_deal(session=session, title="Other", currency="EUR", now=NOW)
    with write_session(engine) as session, pytest.raises(RepdeskError, match="restore the deal"):
        trash.restore(session=session, trash_id=lone.id, now=NOW)
    with write_session(engine) as session:
        back = trash.restore(session=session, trash_id=whole.id, now=NOW)
        assert (back.item_id == deal_id) == (other.id != deal_id)
        trash.restore(session=session, trash_id=lone.id, now=NOW)
    with read_session(engine) as session:
        assert len(_rows(session, Activity, back.item_id)) == 1
        assert _rows(session, Activity, other.id) == []


@pytest.mark.parametrize("owner", [[1], {"id": 1}], ids=["a list", "no created_at"])
def test_a_trash_entry_with_an_unreadable_deal_record_is_refused_and_kept(engine, owner) -> None:  # type: ignore[no-untyped-def]
    # A desk imported from an edited JSON export may hold anything in a trash row's payload:
    # a restore says it cannot be read (it raised TypeError/KeyError before).
    import json

    deal_id = _deal_with_a_timeline(engine)
    with read_session(engine) as session:
        activity_id = _rows(session, Activity, deal_id)[0]["id"]
    with write_session(engine) as session:
        lone = trash.delete_item(session=session, kind="activity", item_id=activity_id, now=NOW)
        entry = trash.get_entry(session=session, trash_id=lone.id, now=NOW)
        entry.payload = json.dumps({**json.loads(entry.payload), "_deal": owner})
        session.add(entry)
    with write_session(engine) as session, pytest.raises(RepdeskError, match="cannot be read"):
        trash.restore(session=session, trash_id=lone.id, now=NOW)
    with read_session(engine) as session:
        assert [i.id for i in trash.list_trash(session=session, now=NOW)] == [lone.id]


def test_the_trash_keeps_things_30_days_and_empties(engine) -> None:  # type: ignore[no-untyped-def]
    old, new = _deal_with_a_timeline(engine, "Old"), _deal_with_a_timeline(engine, "New")
    with write_session(engine) as session:
        gone = trash.delete_item(
            session=session, kind="deal", item_id=old, now=NOW - timedelta(days=31)
        )
        kept = trash.delete_item(session=session, kind="deal", item_id=new, now=NOW)
    with read_session(engine) as session:
        assert [i.id for i in trash.list_trash(session=session, now=NOW)] == [kept.id]
        assert kept.expires_on() == TODAY + timedelta(days=30)
    with write_session(engine) as session, pytest.raises(NotFound, match="nothing in the trash"):
        trash.restore(session=session, trash_id=gone.id, now=NOW)
    with write_session(engine) as session:
        assert trash.empty_trash(session=session) == 1  # the expired one went at the next delete
    with read_session(engine) as session:
        assert trash.list_trash(session=session, now=NOW) == []


def test_merge_moves_the_timeline_and_trashes_the_other(engine) -> None:  # type: ignore[no-untyped-def]
    keep, gone = _deal_with_a_timeline(engine, "Keep"), _deal_with_a_timeline(engine, "Gone")
    before = _snapshot(engine, gone)
    with write_session(engine) as session:
        merged = merge.merge_deals(session=session, keep_id=keep, gone_id=gone, now=NOW)
    assert merged.moved == {
        "stage_change": 2, "activity": 1, "follow_up": 1, "objection": 1,
        "close_date_change": 0, "commitment": 0,
    }  # fmt: skip
    after = _snapshot(engine, keep)
    assert after["deal"]["title"] == "Keep"
    assert {a["id"] for a in before["activity"]} <= {a["id"] for a in after["activity"]}
    assert len(after["follow_up"]) == 2 and len(after["objection"]) == 2
    with read_session(engine) as session:
        (item,) = trash.list_trash(session=session, now=NOW)
        # The deal, and its forecast history: what it was on each day stays its own (given to
        # KEEP, a past day weighed KEEP as GONE was: a hostile test).
        assert (item.id, item.item_id, item.rows) == (merged.trash_id, gone, 2)
        assert item.label == f"#{gone} Gone (Acme) (merged into #{keep})"
    with write_session(engine) as session, pytest.raises(InvalidInput, match="another deal"):
        merge.merge_deals(session=session, keep_id=keep, gone_id=keep, now=NOW)


def test_a_chain_of_merges_restored_first_to_last_gives_each_deal_its_own_rows(engine) -> None:  # type: ignore[no-untyped-def]
    """`merge B A`, `merge C B`, then A restored first: its rows were on C, and it came back
    empty; B restored next took A's rows (found by a hostile test)."""
    a, b, c = (_deal_with_a_timeline(engine, t) for t in ("A", "B", "C"))
    own = {d: {r["id"] for r in _snapshot(engine, d)["activity"]} for d in (a, b, c)}
    with write_session(engine) as session:
        into_b = merge.merge_deals(session=session, keep_id=b, gone_id=a, now=NOW).trash_id
        into_c = merge.merge_deals(session=session, keep_id=c, gone_id=b, now=NOW).trash_id
    with write_session(engine) as session:
        restored_a = trash.restore(session=session, trash_id=into_b, now=NOW)
        restored_b = trash.restore(session=session, trash_id=into_c, now=NOW)
    assert "taken back from" in restored_a.note
    for deal_id, restored in ((a, restored_a.item_id), (b, restored_b.item_id), (c, c)):
        assert {r["id"] for r in _snapshot(engine, restored)["activity"]} == own[deal_id]


def test_an_activity_is_corrected_and_logged_at_an_earlier_moment(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal_with_a_timeline(engine)
    yesterday_3pm = activities.happened_at((TODAY - timedelta(days=1), time(15, 0)), now=NOW)
    assert yesterday_3pm == datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # TZ=UTC in the tests
    with pytest.raises(InvalidInput, match=r"at: .*now or earlier"):
        activities.happened_at((TODAY, time(23, 0)), now=NOW)
    with write_session(engine) as session:
        logged, _ = activities.log_activity(
            session=session, deal_id=deal_id, kind="email", at=yesterday_3pm, now=NOW
        )
        changed = activities.edit_activity(
            session=session, activity_id=logged.id, kind="meeting", outcome="meeting booked",  # type: ignore[arg-type]
            minutes=30, text="on site", now=NOW,
        )  # fmt: skip
        assert (changed.kind, changed.outcome, changed.minutes) == ("meeting", "meeting booked", 30)
        with pytest.raises(InvalidInput, match="kind"):
            activities.edit_activity(session=session, activity_id=logged.id, kind="fax")  # type: ignore[arg-type]
        with pytest.raises(NotFound, match="no activity has id 999"):
            activities.edit_activity(session=session, activity_id=999, text="x")
    with read_session(engine) as session:
        (first, *_) = activities.timeline_activities(session=session, deal_id=deal_id)
        assert first.kind == "call"  # the correction kept yesterday's meeting below today's call
        assert activities.get_activity(session=session, activity_id=logged.id).at == yesterday_3pm  # type: ignore[arg-type]
