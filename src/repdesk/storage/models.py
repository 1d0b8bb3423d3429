"""The desk's tables (SQLModel). The schema itself is created by the numbered migrations in
`repdesk.storage.migrations`; a test checks that these models and the migrated schema agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, always aware UTC in Python.

    SQLite has no time zones: the value is stored as naive UTC text ("2026-11-22 14:40:00.000000"),
    which julianday() and plain text comparison both understand. PostgreSQL keeps timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: repdesk stores aware UTC instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _instant(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Stage(SQLModel, table=True):
    __tablename__ = "stage"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    position: int
    probability: int  # percent, 0-100
    kind: str = "open"  # open | won | lost
    rot_days: int | None = None  # a deal in this stage longer than this is "rotting"


class Deal(SQLModel, table=True):
    __tablename__ = "deal"
    __table_args__ = (
        # The board reads open deals stage by stage; KPIs read closed deals by close date.
        Index("ix_deal_status_stage", "status", "stage_id"),
        Index("ix_deal_closed_on", "closed_on"),
        Index("ix_deal_source_id", "source_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str
    company: str = ""
    contact: str = ""
    email: str = ""
    phone: str = ""
    # BIGINT in the schema: a 32-bit column would stop at 21,474,836.48.
    value_cents: int = Field(default=0, sa_type=BigInteger)
    currency: str = "EUR"
    stage_id: int = Field(foreign_key="stage.id")
    status: str = "open"  # open | won | lost
    source: str = ""
    product: str = ""
    region: str = ""
    segment: str = "new"  # new | existing
    first_contact: date
    expected_close: date | None = None
    closed_on: date | None = None
    lost_reason: str = ""
    # Kept beside the history so a card's "days in stage" needs no join over it.
    stage_entered_at: datetime = _instant(default_factory=utcnow)
    created_at: datetime = _instant(default_factory=utcnow)
    updated_at: datetime = _instant(default_factory=utcnow)
    # Where an imported deal came from ("pipedrive:123"), so a re-import updates it (schema v2).
    source_id: str | None = None
    # The rep's own free notes on the deal (schema v3).
    notes: str = ""


class StageChange(SQLModel, table=True):
    __tablename__ = "stage_change"
    __table_args__ = (Index("ix_stage_change_deal", "deal_id", "changed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE")
    from_stage_id: int | None = Field(default=None, foreign_key="stage.id")
    to_stage_id: int = Field(foreign_key="stage.id")
    changed_at: datetime = _instant(default_factory=utcnow)


class Activity(SQLModel, table=True):
    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_deal_at", "deal_id", "at"), Index("ix_activity_at", "at"))

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE")
    kind: str  # call | email | meeting | note
    at: datetime = _instant(default_factory=utcnow)
    outcome: str = ""
    minutes: int | None = None
    text: str = ""


class FollowUp(SQLModel, table=True):
    __tablename__ = "follow_up"
    __table_args__ = (
        Index("ix_follow_up_pending", "done_at", "due_on"),
        Index("ix_follow_up_deal", "deal_id", "done_at", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE")
    due_on: date
    due_time: time | None = None
    note: str = ""
    created_at: datetime = _instant(default_factory=utcnow)
    done_at: datetime | None = _instant(default=None)
    outcome: str = ""
    # Post-sale check-ins repeat: completing one schedules the next this many days on (v2).
    recur_days: int | None = None


class Objection(SQLModel, table=True):
    __tablename__ = "objection"
    __table_args__ = (
        Index("ix_objection_deal", "deal_id"),
        Index("ix_objection_category", "category"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE")
    category: str
    said: str
    answer: str = ""
    status: str = "open"  # open | addressed | resolved
    raised_at: datetime = _instant(default_factory=utcnow)
    resolved_at: datetime | None = _instant(default=None)


class Quota(SQLModel, table=True):
    __tablename__ = "quota"

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(unique=True)  # "2026-11", "2026-Q4", "2026"
    amount_cents: int = Field(sa_type=BigInteger)


class Trash(SQLModel, table=True):
    """A deleted deal, activity, follow-up or objection, kept 30 days (schema v3).

    The rows it was (a deal's with its history, activities, follow-ups and objections) are
    held here as JSON and gone from their tables: every figure, queue and export of the live
    tables leaves them out with no filter to forget."""

    __tablename__ = "trash"
    __table_args__ = (Index("ix_trash_deleted_at", "deleted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # deal | activity | follow_up | objection
    item_id: int  # its id before it was deleted
    deal_id: int  # the deal it belonged to (its own id for a deal); no key: it may be gone
    label: str = ""  # what the trash list shows
    payload: str  # JSON: {table: [row, ...]}, values as a JSON export writes them
    deleted_at: datetime = _instant(default_factory=utcnow)


class SyncState(SQLModel, table=True):
    """One setting or mark of the CRM sync (schema v4), e.g. the stage mapping as JSON."""

    __tablename__ = "sync_state"

    key: str = Field(primary_key=True)
    value: str


class SyncLink(SQLModel, table=True):
    """A desk row (kind: deal | activity | follow_up) and the CRM object it is (schema v4)."""

    __tablename__ = "sync_link"
    __table_args__ = (
        Index("ix_sync_link_local", "kind", "local_id", unique=True),
        Index("ix_sync_link_remote", "remote_type", "remote_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    local_id: int
    remote_type: str  # deal | activity | note
    remote_id: int
    base: str = "{}"  # JSON: the values both sides had at the last sync
    synced_at: datetime = _instant(default_factory=utcnow)


class SyncOutbox(SQLModel, table=True):
    """A desk row changed since the CRM last heard of it (schema v4)."""

    __tablename__ = "sync_outbox"
    __table_args__ = (Index("ix_sync_outbox_item", "kind", "local_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    local_id: int
    queued_at: datetime = _instant(default_factory=utcnow)
    sending_since: datetime | None = _instant(default=None)


class SyncConflict(SQLModel, table=True):
    """A field both sides changed since the last sync; the rep picks one (schema v4)."""

    __tablename__ = "sync_conflict"
    __table_args__ = (Index("ix_sync_conflict_field", "kind", "local_id", "field", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    local_id: int
    field: str
    desk_value: str | None = None
    remote_value: str | None = None
    found_at: datetime = _instant(default_factory=utcnow)


# Every table a desk's content is in: a JSON export, its import and migrate-to carry each, in
# this order (parents before children). The sync's tables are part of the desk: without its
# links a moved desk would send every deal to the CRM again as new.
ALL_TABLES = (
    "stage", "deal", "stage_change", "activity", "follow_up", "objection", "quota", "trash",
    "sync_state", "sync_link", "sync_outbox", "sync_conflict",
)  # fmt: skip
# The sync's own tables: empty on a desk never linked to a CRM.
SYNC_TABLES = ("sync_state", "sync_link", "sync_outbox", "sync_conflict")
