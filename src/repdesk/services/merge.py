"""Merge two deals (the usual result of importing one deal twice): one keeps everything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from repdesk.core import clock
from repdesk.core.errors import InvalidInput
from repdesk.services import people, trash
from repdesk.services.deals import get_deal
from repdesk.storage.models import (
    Activity,
    CloseDateChange,
    Commitment,
    Deal,
    FollowUp,
    Objection,
    StageChange,
    saved_id,
    table_name,
)

# GONE's forecast category and own-probability histories stay with it (in the trash with it):
# they are what GONE's own record was on each day, and KEEP's past figures read KEEP's own
# (given to KEEP, a past day weighed KEEP at GONE's 90%: a hostile test).
_MOVED = (StageChange, Activity, FollowUp, Objection, CloseDateChange, Commitment)


@dataclass(frozen=True, slots=True)
class Merged:
    keep: Deal
    gone_id: int
    moved: dict[str, int]  # rows moved, by table
    trash_id: int  # where the merged-away deal waits (its own fields, nothing else)
    contacts: int = 0  # GONE's contacts that joined KEEP's


def merge_deals(
    *, session: Session, keep_id: int, gone_id: int, now: datetime | None = None
) -> Merged:
    """Move GONE's stage history, activities, follow-ups and objections to KEEP, then put
    GONE (now only its own fields) in the trash. KEEP's own fields stay as they are."""
    if keep_id == gone_id:
        raise InvalidInput("GONE", gone_id, "another deal than the one kept")
    moment = now or clock.now()
    keep = get_deal(session=session, deal_id=keep_id)
    gone = get_deal(session=session, deal_id=gone_id)
    moved: dict[str, int] = {}
    moved_ids: dict[str, list[int]] = {}  # kept with GONE in the trash: its restore unmerges
    for model in _MOVED:
        # Row by row through the session, so the app's undo sees each one move.
        rows = session.exec(select(model).where(col(model.deal_id) == gone_id)).all()
        for row in rows:
            row.deal_id = keep_id
            session.add(row)
        moved[table_name(model)] = len(rows)
        moved_ids[table_name(model)] = [saved_id(row) for row in rows]  # type: ignore[arg-type]
    session.flush()
    # GONE's contacts join KEEP's, after them (KEEP's main contact stays its main one); one
    # already on KEEP stays there as it is.
    on_keep = {link.contact_id for link in people.links_of(session, keep_id)}
    contacts_moved = 0
    for link in people.links_of(session, gone_id):
        if link.contact_id not in on_keep:
            added = people.link_contact(
                session=session, deal_id=keep_id, contact_id=link.contact_id, role=link.role,
                now=moment,
            )  # fmt: skip
            # Taken off KEEP again when GONE is restored (trash.py, _unmerge).
            moved_ids.setdefault(trash.ADDED_LINKS, []).append(saved_id(added))
            contacts_moved += 1
    entry = trash.delete_item(
        session=session,
        kind="deal",
        item_id=saved_id(gone),
        now=moment,
        why=f"merged into #{keep_id}",
        merged=trash.merged_into(keep, moved_ids),
    )
    return Merged(
        keep=keep, gone_id=gone_id, moved=moved, trash_id=entry.id, contacts=contacts_moved
    )
