"""Why a thing the rep names by its id is not there: in the trash, or merged into another deal.

Asked only after a lookup found nothing, so "no deal #271" becomes the line that says where
it went and the command that brings it back (src/repdesk/services/trash.py keeps it).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from repdesk.core import clock
from repdesk.core.errors import NotFound
from repdesk.storage.models import Deal, Trash

KEEP_DAYS = 30
RETENTION = timedelta(days=KEEP_DAYS)

# A held deal's payload names the deal it was merged into under this key (trash.py writes it).
MERGED = "_merged"
# What each kind is called in a sentence (the trash's kinds, and a commitment held with its
# deal).
WORDS = {
    "deal": "deal",
    "activity": "activity",
    "follow_up": "follow-up",
    "objection": "objection",
    "commitment": "commitment",
}
# How many recent trash entries a lookup reads at most: enough for a month of deletes.
_LOOKED_AT = 500


def where_gone(
    *, session: Session, table: str, item_id: int, now: datetime | None = None
) -> str | None:
    """`deal #271 is in the trash since 2026-12-03 (...)`, or None when the trash has no such
    row (never was, or gone for good after 30 days)."""
    since = (now or clock.now()) - RETENTION
    # A cheap filter first (rows are held as JSON written with json.dumps' default spacing),
    # then the payload read to be sure: an id of 5 also matches 55 in the text.
    entries = session.exec(
        select(Trash)
        .where(col(Trash.deleted_at) > since, col(Trash.payload).contains(f'"id": {item_id}'))
        .order_by(col(Trash.deleted_at).desc(), col(Trash.id).desc())
        .limit(_LOOKED_AT)
    )
    word = WORDS.get(table, table)
    named = f"deal #{item_id}" if table == "deal" else f"{word} {item_id}"
    for entry in entries:
        held = json.loads(entry.payload)
        if not any(row.get("id") == item_id for row in held.get(table, [])):
            continue
        day = clock.local_date(entry.deleted_at).isoformat()
        merged = held.get(MERGED)
        if merged and entry.kind == "deal":
            into = f"#{merged['into']}" if merged.get("into") is not None else "another deal"
            gone = "was" if table == "deal" else f"went with deal #{entry.deal_id} when it was"
            return (
                f"{named} {gone} merged into {into} on {day} "
                f"(`repdesk trash restore {entry.id}` takes the merge back)"
            )
        if entry.kind == table:
            restore = f"`repdesk trash restore {entry.id}` puts it back"
            if table != "deal" and session.get(Deal, entry.deal_id) is None:
                # Its deal deleted after it: the restore waits for the deal (a hostile test:
                # the line named a restore that was then refused). A deal gone for good (the
                # trash emptied, 30 days gone) cannot come back, nor can it.
                held = session.exec(
                    select(Trash.id)
                    .where(Trash.kind == "deal", Trash.item_id == entry.deal_id)
                    .order_by(col(Trash.id).desc())
                ).first()
                restore = (
                    f"its deal #{entry.deal_id} is in the trash too: restore the deal first "
                    f"(`repdesk trash restore {held}`)"
                    if held is not None
                    else f"its deal #{entry.deal_id} is gone for good, and it cannot come back"
                )
            return f"{named} is in the trash since {day} ({restore})"
        return (
            f"{named} went to the trash with deal #{entry.deal_id} on {day} "
            f"(`repdesk trash restore {entry.id}` puts the deal back with it)"
        )
    return None


def not_found(
    *, session: Session, table: str, item_id: int, plain: str, field: str | None = None
) -> NotFound:
    """The error for a lookup that found nothing: where it went when the trash knows, else
    `plain`."""
    return NotFound(where_gone(session=session, table=table, item_id=item_id) or plain, field=field)
