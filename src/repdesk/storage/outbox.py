"""The sync outbox: every desk write that the CRM must hear of leaves an entry, in the same
transaction as the write (so a crash keeps both or neither).

Recorded at the session's flush rather than by a call in each service: every write path
(create, edit, move, win/lose/reopen, calls and follow-ups, the trash, merge, undo) goes
through the ORM, and a hook there cannot be forgotten by the next service written. The bulk
CSV import writes with Core statements, which the flush never sees: it calls `enqueue`.

A desk that has never been linked to a CRM records nothing: its first sync treats every row
with no link as new (src/repdesk/sync/engine.py), so entries written before would only say
again what the link finds anyway, and a rep who never syncs keeps no growing table. One
cached look at `sync_state` per session decides it.

Writes made by the sync itself (taking in what changed in the CRM) set `APPLYING` in the
session's info and are not recorded: the CRM already has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import col

from repdesk.core import clock
from repdesk.storage.models import Activity, Deal, FollowUp, SyncOutbox, SyncState, table_of

# session.info key: the sync is writing what the CRM sent; record nothing.
APPLYING = "repdesk.sync.applying"
_LINKED = "repdesk.sync.linked"
# The sync_state key whose presence means "this desk is linked to a CRM".
LINKED_KEY = "linked_at"

KINDS: dict[type, str] = {Deal: "deal", Activity: "activity", FollowUp: "follow_up"}


def is_linked(session: OrmSession) -> bool:
    cached = session.info.get(_LINKED)
    if cached is None:
        row = session.execute(
            select(col(SyncState.value)).where(col(SyncState.key) == LINKED_KEY)
        ).first()
        cached = session.info[_LINKED] = row is not None
    return bool(cached)


def enqueue(session: OrmSession, kind: str, local_ids: Iterable[int]) -> int:
    """Record that these rows changed (the bulk import's way in); nothing on an unlinked desk."""
    ids = sorted(set(local_ids))
    if not ids or session.info.get(APPLYING) or not is_linked(session):
        return 0
    moment = clock.now()
    rows = [{"kind": kind, "local_id": i, "queued_at": moment} for i in ids]
    session.execute(insert(table_of(SyncOutbox)), rows)
    return len(rows)


def _changed_rows(session: OrmSession) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for row in (*session.new, *session.dirty, *session.deleted):
        kind = KINDS.get(type(row))
        if kind is None:
            continue
        if row in session.dirty and not session.is_modified(row):
            continue
        row_id = getattr(row, "id", None)
        if row_id is not None:
            found.append((kind, row_id))
    return found


def _after_flush(session: OrmSession, _context: Any) -> None:
    # After the flush new rows have their ids; new/dirty/deleted still list what was flushed.
    if session.info.get(APPLYING):
        return
    changed = _changed_rows(session)
    if not changed or not is_linked(session):
        return
    moment = clock.now()
    rows = [
        {"kind": kind, "local_id": local_id, "queued_at": moment}
        for kind, local_id in dict.fromkeys(changed)
    ]
    session.connection().execute(insert(table_of(SyncOutbox)), rows)


def _forget_cache(session: OrmSession, *_args: Any) -> None:
    session.info.pop(_LINKED, None)


event.listen(OrmSession, "after_flush", _after_flush)
# A session used for several transactions looks again in each (the first sync links mid-way).
event.listen(OrmSession, "after_begin", _forget_cache)
