"""The desk's tables (SQLModel). The schema itself is created by the numbered migrations in
`repdesk.storage.migrations`; a test checks that these models and the migrated schema agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from sqlalchemy import BigInteger, DateTime, Index, Table, TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def saved_id(row: HasId) -> int:
    """The id of a row the database has numbered: read from it, or added and flushed. (Every
    model's id is `int | None` only because a row made in Python has none until then.)"""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id: it was never flushed")
    return row.id


def table_name(model: type[SQLModel] | SQLModel) -> str:
    """The table a model (or a row of it) lives in."""
    name = model.__tablename__  # declared str-or-callable by SQLModel; every model here sets a str
    return name if isinstance(name, str) else name()


def table_of(model: type[SQLModel] | SQLModel) -> Table:
    """The SQLAlchemy Core table of a model (SQLModel sets `__table__` without declaring it)."""
    return SQLModel.metadata.tables[table_name(model)]


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
        # The board reads open deals stage by stage (and totals them per currency from the
        # index alone); KPIs read closed deals by close date.
        Index("ix_deal_open_money", "status", "stage_id", "currency", "value_cents"),
        Index("ix_deal_closed_on", "closed_on"),
        Index("ix_deal_source_id", "source_id"),
        Index("ix_deal_company", "company_id"),
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
    # Schema v5 (issue 21): the rep's forecast call (commit | best_case | pipeline | omitted;
    # None: the default from the probability, see core/forecast.py), the deal's own win
    # probability in percent (None: its stage's), who it is up against or was lost to, and a
    # won customer's score 0-10 with the day it was given.
    forecast: str | None = None
    probability: int | None = None
    competitor: str = ""
    nps: int | None = None
    nps_on: date | None = None
    # Its company as a record (schema v6); `company` above is that record's name as shown, and
    # contact/email/phone show its main contact (see services/people.py).
    company_id: int | None = Field(default=None, foreign_key="company.id")


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
    __table_args__ = (
        Index("ix_activity_deal_at", "deal_id", "at"),
        Index("ix_activity_at_kind", "at", "kind"),
    )

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


class CloseDateChange(SQLModel, table=True):
    """A change of a deal's expected close (schema v5): later is a slip."""

    __tablename__ = "close_date_change"
    __table_args__ = (
        Index("ix_close_date_change_deal", "deal_id", "changed_at"),
        Index("ix_close_date_change_at", "changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE")
    from_date: date | None = None
    to_date: date | None = None
    changed_at: datetime = _instant(default_factory=utcnow)


class ProbabilityChange(SQLModel, table=True):
    """A change of a deal's own win probability (`deal_id`; None: its stage's) or of a stage's
    (`stage_id`) (schema v12): a past day's weighted pipeline reads the probabilities of that
    day, as it reads the stages and forecast categories of that day."""

    __tablename__ = "probability_change"
    __table_args__ = (
        Index("ix_probability_change_deal", "deal_id", "changed_at"),
        Index("ix_probability_change_stage", "stage_id", "changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int | None = Field(default=None, foreign_key="deal.id", ondelete="CASCADE")
    stage_id: int | None = Field(default=None, foreign_key="stage.id", ondelete="CASCADE")
    from_probability: int | None = None
    to_probability: int | None = None
    changed_at: datetime = _instant(default_factory=utcnow)


class ForecastChange(SQLModel, table=True):
    """A change of an open deal's forecast category, whatever changed it (schema v5)."""

    __tablename__ = "forecast_change"
    __table_args__ = (
        Index("ix_forecast_change_deal", "deal_id", "changed_at"),
        Index("ix_forecast_change_at", "changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE")
    from_category: str
    to_category: str
    changed_at: datetime = _instant(default_factory=utcnow)


class Commitment(SQLModel, table=True):
    """What the rep commits to for a week on a deal; the next review marks it (schema v5)."""

    __tablename__ = "commitment"
    __table_args__ = (
        Index("ix_commitment_week", "week"),
        Index("ix_commitment_deal", "deal_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE")
    week: str  # "2026-W48" (core/weeks.py)
    text: str
    made_at: datetime = _instant(default_factory=utcnow)
    outcome: str | None = None  # kept | missed; None: not marked yet
    marked_at: datetime | None = _instant(default=None)


class WeeklyReview(SQLModel, table=True):
    """A week's review as it read when the week closed, as JSON (schema v5)."""

    __tablename__ = "weekly_review"

    id: int | None = Field(default=None, primary_key=True)
    week: str = Field(unique=True)
    starts_on: date
    ends_on: date
    frozen_at: datetime = _instant(default_factory=utcnow)
    payload: str


class Company(SQLModel, table=True):
    """A customer or prospect organisation (schema v6): its deals, contacts and last touch."""

    __tablename__ = "company"
    __table_args__ = (Index("ix_company_name", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    # The mail domain its people write from ("acme.example"): `repdesk capture` matches a
    # message or a meeting by it when no contact's address does.
    domain: str = ""
    # A won customer's "stay in touch" rhythm: untouched this many days, it is going cold.
    touch_every_days: int | None = None
    created_at: datetime = _instant(default_factory=utcnow)
    updated_at: datetime = _instant(default_factory=utcnow)


class Contact(SQLModel, table=True):
    """A person (schema v6), at a company or on their own, on any number of deals."""

    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_company", "company_id"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    title: str = ""
    company_id: int | None = Field(default=None, foreign_key="company.id", ondelete="SET NULL")
    created_at: datetime = _instant(default_factory=utcnow)
    updated_at: datetime = _instant(default_factory=utcnow)


class ContactEmail(SQLModel, table=True):
    __tablename__ = "contact_email"
    __table_args__ = (Index("ix_contact_email_contact", "contact_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    address: str
    position: int = 0  # the first is the one a deal shows


class ContactPhone(SQLModel, table=True):
    __tablename__ = "contact_phone"
    __table_args__ = (Index("ix_contact_phone_contact", "contact_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    number: str
    position: int = 0


class DealContact(SQLModel, table=True):
    """A contact on a deal, with their role in it; the first (by position) is the main one."""

    __tablename__ = "deal_contact"
    __table_args__ = (
        Index("ix_deal_contact_pair", "deal_id", "contact_id", unique=True),
        Index("ix_deal_contact_contact", "contact_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE")
    role: str = "other"  # decision maker | champion | finance | user | other
    position: int = 0


class Captured(SQLModel, table=True):
    """A mail or meeting `repdesk capture` took in (schema v6), so it is never taken twice."""

    __tablename__ = "captured"
    __table_args__ = (Index("ix_captured_key", "source_key", "kind", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    source_key: str  # "mail:<Message-ID>" or "ics:<UID>/<RECURRENCE-ID>"
    kind: str  # activity | follow_up
    item_id: int  # the activity or follow-up it became (it may have been deleted since)
    deal_id: int
    captured_at: datetime = _instant(default_factory=utcnow)


# Columns the database keeps itself (triggers, storage/migrations.py), never mapped here: the
# ORM never writes them, an export leaves them out and an import or migrate-to makes them
# again. The reports read them with plain SQL (reports/queries.py).
KEPT_BY_THE_DATABASE = {"deal": frozenset({"last_touch_at"})}

# Every table a desk's content is in: a JSON export, its import and migrate-to carry each, in
# this order (parents before children). The sync's tables are part of the desk: without its
# links a moved desk would send every deal to the CRM again as new.
ALL_TABLES = (
    "stage", "company", "deal", "contact", "contact_email", "contact_phone", "deal_contact",
    "stage_change", "activity", "follow_up", "objection", "quota", "trash",
    "close_date_change", "forecast_change", "probability_change", "commitment", "weekly_review",
    "captured",
    "sync_state", "sync_link", "sync_outbox", "sync_conflict",
)  # fmt: skip
# The sync's own tables: empty on a desk never linked to a CRM.
SYNC_TABLES = ("sync_state", "sync_link", "sync_outbox", "sync_conflict")
