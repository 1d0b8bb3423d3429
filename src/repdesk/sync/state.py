"""The sync's own marks in the desk (table sync_state) and what `repdesk sync status` shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from repdesk.storage.models import SyncConflict, SyncOutbox, SyncState
from repdesk.storage.outbox import LINKED_KEY

LAST_SYNC = "last_sync_at"
LAST_PULL = "last_pull_at"
LAST_ERROR = "last_error"  # the one line the last failed sync stopped with
LAST_ERROR_AT = "last_error_at"  # when it stopped
LAST_SWEEP = "last_sweep_at"  # when every linked activity was last looked for in Pipedrive
USER_ID = "user_id"
PIPELINE_ID = "pipeline_id"
STAGE_MAP = "stage_map"  # JSON {desk stage id: Pipedrive stage id}
STAGES_CHECKED = "stages_checked_on"  # the day Pipedrive's stages were last asked for
STAGES_LEFT_OUT = "stages_left_out"  # JSON [desk stage id]: no Pipedrive stage was free
CONNECTOR = "connector"
# JSON {"deal:3": why}: desk rows whose last request Pipedrive refused (a 400, a 404 on a
# create). Set aside, the rest of the sync goes on; sent again at each sync until it goes
# through or the rep drops it (`repdesk sync drop deal 3`).
REFUSED = "refused"


def get(session: Session, key: str) -> str | None:
    row = session.get(SyncState, key)
    return row.value if row is not None else None


def put(session: Session, key: str, value: str) -> None:
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value))
    else:
        row.value = value
        session.add(row)


def forget(session: Session, key: str) -> None:
    row = session.get(SyncState, key)
    if row is not None:
        session.delete(row)


def get_json(session: Session, key: str, default: Any) -> Any:
    raw = get(session, key)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


def instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Status:
    linked: bool
    last_sync: datetime | None
    waiting: int  # desk rows changed since the CRM last heard
    conflicts: int
    last_error: str | None
    failed_at: datetime | None = None  # when the last sync failed (None: not kept, or before)
    refused: int = 0  # rows Pipedrive refused, set aside (REFUSED)

    def failed(self, now: datetime) -> str:
        """'last sync failed 4 min ago' (a failure kept before its time was: without it)."""
        if self.failed_at is None:
            return "last sync failed"
        return f"last sync failed {ago(self.failed_at, now)}"

    def line(self, now: datetime) -> str:
        """The top line: "synced 4 min ago · 3 waiting" (or why it could not)."""
        if not self.linked:
            failed = f" · {self.failed(now)}: {self.last_error}" if self.last_error else ""
            return "not synced yet" + failed
        parts = [f"synced {ago(self.last_sync, now)}" if self.last_sync else "never synced"]
        if self.waiting:
            parts.append(f"{self.waiting} waiting")
        if self.conflicts:
            parts.append(f"{self.conflicts} conflict{'s' if self.conflicts != 1 else ''}")
        if self.refused:
            parts.append(f"{self.refused} refused by Pipedrive")
        if self.last_error:
            parts.append(f"{self.failed(now)}: {self.last_error}")
        return " · ".join(parts)


def ago(then: datetime, now: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def status(session: Session) -> Status:
    waiting = session.execute(
        select(func.count()).select_from(
            select(col(SyncOutbox.kind), col(SyncOutbox.local_id)).distinct().subquery()
        )
    ).scalar_one()
    conflicts = session.execute(select(func.count()).select_from(SyncConflict)).scalar_one()
    return Status(
        linked=get(session, LINKED_KEY) is not None,
        last_sync=instant(get(session, LAST_SYNC)),
        waiting=int(waiting),
        conflicts=int(conflicts),
        last_error=get(session, LAST_ERROR),
        failed_at=instant(get(session, LAST_ERROR_AT)),
        refused=len(refused(session)),
    )


def refused(session: Session) -> dict[str, str]:
    """The rows set aside and still waiting, "kind:id" -> Pipedrive's reason (see REFUSED):
    one that left the outbox another way (a merge, a recovered create) is no longer said."""
    found = get_json(session, REFUSED, {})
    if not isinstance(found, dict) or not found:
        return {}
    waiting = {
        f"{kind}:{local_id}"
        for kind, local_id in session.execute(
            select(col(SyncOutbox.kind), col(SyncOutbox.local_id)).distinct()
        )
    }
    return {str(k): str(v) for k, v in found.items() if str(k) in waiting}


def note_refused(session: Session, marks: dict[str, str | None]) -> None:
    """Set rows aside (a reason) or take them back (None)."""
    found = refused(session)
    for key, why in marks.items():
        if why is None:
            found.pop(key, None)
        else:
            found[key] = why
    if found:
        put(session, REFUSED, json.dumps(found, ensure_ascii=False, sort_keys=True))
    else:
        forget(session, REFUSED)


def note_failure(session: Session, why: str, when: datetime) -> None:
    """The sync stopped: `repdesk sync status` and the app's top line say so, when, and why,
    until a sync goes through. One line whatever the message: the status prints it as a line."""
    put(session, LAST_ERROR, " ".join(why.split())[:500] or "failed")
    put(session, LAST_ERROR_AT, when.isoformat())


def note_success(session: Session, when: datetime) -> None:
    put(session, LAST_SYNC, when.isoformat())
    forget(session, LAST_ERROR)
    forget(session, LAST_ERROR_AT)
