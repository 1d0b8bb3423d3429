"""Undo takes back what one write did and only that (issue 18 item 6), on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.pinned import NOW, TODAY

from repdesk.services import activities, deals, followups, merge, trash
from repdesk.services.changes import UndoRefused, recording
from repdesk.storage.store import read_session, write_session


def _every_row(engine) -> dict:  # type: ignore[no-untyped-def]
    from tests.engines import every_row

    return every_row(engine)


def _deal(engine, title: str = "Fleet rollout") -> int:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        deal = deals.create_deal(
            session=session, title=title, currency="EUR", first_contact=TODAY, now=NOW
        )
        activities.log_activity(
            session=session, deal_id=deal.id, kind="call", outcome="connected",  # type: ignore[arg-type]
            next_when=(TODAY + timedelta(days=2), None), now=NOW,
        )  # fmt: skip
        return deal.id  # type: ignore[return-value]


def test_a_move_is_taken_back_whole(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(engine)
    before = _every_row(engine)
    with write_session(engine) as session, recording(session) as changes:
        deals.move_deal(session=session, deal_id=deal_id, stage="Demo", now=NOW)
    # The move into Demo made the deal best case: its forecast history goes back with it.
    assert {c.table for c in changes.changes} == {"deal", "stage_change", "forecast_change"}
    with write_session(engine) as session:
        changes.revert(session)
    assert _every_row(engine) == before


def test_undo_refuses_when_another_program_wrote_since_and_keeps_that_write(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(engine)
    with write_session(engine) as session, recording(session) as changes:
        deals.move_deal(session=session, deal_id=deal_id, stage="Contacted", now=NOW)
    with write_session(engine) as session:  # `repdesk deal won 1` in a shell
        deals.win_deal(session=session, deal_id=deal_id, now=NOW + timedelta(minutes=1))
    after_shell = _every_row(engine)
    with write_session(engine) as session, pytest.raises(UndoRefused, match="changed since"):
        changes.revert(session)
    assert _every_row(engine) == after_shell
    with read_session(engine) as session:
        assert deals.get_deal(session=session, deal_id=deal_id).status == "won"


def test_undo_never_touches_another_row_that_took_the_id(engine) -> None:  # type: ignore[no-untyped-def]
    deal_id = _deal(engine)
    with write_session(engine) as session, recording(session) as changes:
        trash.delete_item(session=session, kind="deal", item_id=deal_id, now=NOW)
    with write_session(engine) as session:  # restored from the shell meanwhile
        (item,) = trash.list_trash(session=session, now=NOW)
        trash.restore(session=session, trash_id=item.id, now=NOW)
    # Said so: "its id is in use again" left the rep guessing (a new-user trial).
    with write_session(engine) as session, pytest.raises(UndoRefused, match="back already"):
        changes.revert(session)


def test_delete_merge_and_done_are_undone_row_for_row(engine) -> None:  # type: ignore[no-untyped-def]
    keep, gone = _deal(engine, "Keep"), _deal(engine, "Gone")
    before = _every_row(engine)
    with write_session(engine) as session, recording(session) as changes:
        merge.merge_deals(session=session, keep_id=keep, gone_id=gone, now=NOW)
    with write_session(engine) as session:
        changes.revert(session)
    assert _every_row(engine) == before

    with write_session(engine) as session, recording(session) as changes:
        trash.delete_item(session=session, kind="deal", item_id=keep, now=NOW)
    with write_session(engine) as session:
        changes.revert(session)
    assert _every_row(engine) == before

    with read_session(engine) as session:
        (pending,) = followups.pending(session=session, deal_id=keep)
    with write_session(engine) as session, recording(session) as changes:
        followups.complete_follow_up(
            session=session, follow_up_id=pending.id, outcome="connected",  # type: ignore[arg-type]
            next_when=(TODAY + timedelta(days=5), None), now=NOW,
        )  # fmt: skip
    with write_session(engine) as session:
        changes.revert(session)
    assert _every_row(engine) == before
