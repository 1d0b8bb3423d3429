"""What one write changed, row by row, so that it can be taken back and only it (the app's undo).

`recording(session)` watches the session's flushes: each row the write inserted, updated or
deleted, with its values before and after. `Changeset.revert` puts the rows back as they were
before, and refuses, naming the row, when any of them is no longer as the write left it:
another program (`repdesk deal won 1` in a shell) wrote since, and setting the old values back
would wipe that write. Rows written through the session only: a service that changes rows
with a bulk statement is not undoable this way (none of the app's writes does).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.base import NO_VALUE
from sqlmodel import Session, SQLModel

from repdesk.core.errors import RepdeskError
from repdesk.storage.models import ALL_TABLES, HasId, saved_id, table_name, table_of

# Parents before children: rows are put back in this order and removed in the reverse.
_ORDER = {name: index for index, name in enumerate(ALL_TABLES)}
_WORDS = {
    "deal": "deal",
    "stage": "stage",
    "stage_change": "stage change",
    "activity": "activity",
    "follow_up": "follow-up",
    "objection": "objection",
    "quota": "quota",
    "trash": "trash entry",
    "close_date_change": "close date change",
    "forecast_change": "forecast change",
    "probability_change": "probability change",
    "commitment": "commitment",
    "weekly_review": "weekly review",
    "company": "company",
    "contact": "contact",
    "contact_email": "contact's email",
    "contact_phone": "contact's phone",
    "deal_contact": "contact on a deal",
    "captured": "mail, meeting or CRM task taken in once",
}


class UndoRefused(RepdeskError):
    """The rows an undo would put back changed since (another program wrote): nothing done."""


def _values(row: SQLModel) -> dict[str, Any]:
    return {column.name: getattr(row, column.name) for column in table_of(row).columns}


def _committed(row: SQLModel) -> dict[str, Any]:
    """The row's values as the session read them, before this write's changes."""
    values = _values(row)
    state = sa_inspect(row)
    for name, value in state.committed_state.items():
        if name in values and value is not NO_VALUE:
            values[name] = value
    return values


@dataclass
class RowChange:
    model: type[SQLModel]
    id: int
    before: dict[str, Any] | None  # None: the write inserted it
    after: dict[str, Any] | None  # None: the write deleted it

    @property
    def table(self) -> str:
        return table_name(self.model)

    def describe(self) -> str:
        return f"{_WORDS.get(self.table, self.table)} #{self.id}"


@dataclass
class Changeset:
    changes: list[RowChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def check(self, session: Session) -> None:
        """Refuse (UndoRefused) when any row is no longer as the write left it."""
        for change in self.changes:
            current = session.get(change.model, change.id, populate_existing=True)
            now = None if current is None else _values(current)
            if now != change.after:
                if change.after is None and now == change.before:
                    # The rep took it out of the trash: the delete is undone already.
                    why = "it is back already (restored from the trash)"
                elif change.after is None:
                    why = "its id is in use again"
                elif now is None:
                    why = "it was deleted since"
                else:
                    why = "it was changed since (by another program?)"
                raise UndoRefused(f"{change.describe()}: {why}")

    def revert(self, session: Session) -> None:
        """Put every row back as it was before the write; or refuse and change nothing."""
        self.check(session)
        ordered = sorted(self.changes, key=lambda c: _ORDER.get(c.table, 99))
        for change in ordered:  # parents first
            if change.before is not None and change.after is not None:
                row = session.get(change.model, change.id)
                for name, value in change.before.items():
                    setattr(row, name, value)
                session.add(row)
                session.flush()
            elif change.before is not None:
                session.add(change.model(**change.before))
                session.flush()
        # What the write made goes last: a row it changed may have pointed at one of them (a
        # deal edited to a company the edit made), and points back where it was by now.
        for change in reversed(ordered):  # children first
            if change.before is None:
                session.delete(session.get(change.model, change.id))
                try:
                    session.flush()
                except IntegrityError:
                    # Another program made a row that refers to it since (a deal moved into
                    # a stage the app added, a stage change now names it): kept, and the undo
                    # refused in words, not "a bug" at every `u` after (a new user's trial).
                    raise UndoRefused(
                        f"{change.describe()}: another program's change refers to it since"
                    ) from None


def _key(row: SQLModel) -> tuple[type[SQLModel], int]:
    # Every model has an id (storage/models.py); flushed or read, the row has its number.
    return type(row), saved_id(cast(HasId, row))


@contextmanager
def recording(session: Session) -> Iterator[Changeset]:
    """Record what the write in the block changes through `session`; the changeset is whole
    once the block is left (its last changes flushed)."""
    before: dict[tuple[type[SQLModel], int], dict[str, Any] | None] = {}
    rows: dict[tuple[type[SQLModel], int], SQLModel] = {}
    deleted: set[tuple[type[SQLModel], int]] = set()

    def before_flush(sess: Session, _context: Any, _instances: Any) -> None:
        for row in list(sess.dirty):
            if isinstance(row, SQLModel) and sess.is_modified(row):
                key = _key(row)
                before.setdefault(key, _committed(row))
                rows[key] = row
        for row in list(sess.deleted):
            if isinstance(row, SQLModel):
                key = _key(row)
                before.setdefault(key, _committed(row))
                deleted.add(key)

    def after_flush(sess: Session, _context: Any) -> None:
        for row in list(sess.new):
            if isinstance(row, SQLModel):
                key = _key(row)
                before.setdefault(key, None)  # new to this write
                rows[key] = row
                deleted.discard(key)  # an id deleted and given again in the same write

    event.listen(session, "before_flush", before_flush)
    event.listen(session, "after_flush", after_flush)
    changeset = Changeset()
    try:
        yield changeset
        session.flush()
    finally:
        event.remove(session, "before_flush", before_flush)
        event.remove(session, "after_flush", after_flush)
    for key, was in before.items():
        model, row_id = key
        now = None if key in deleted else _values(rows[key])
        if was is None and now is None:
            continue  # made and removed within the write: nothing to take back
        if was != now:
            changeset.changes.append(RowChange(model, row_id, was, now))
