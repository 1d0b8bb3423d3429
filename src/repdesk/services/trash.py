"""Delete and restore: deals, activities, follow-ups and objections go to a trash for 30 days.

A deleted thing leaves its tables: its rows (a deal's with its stage history, activities,
follow-ups and objections) are kept in one `trash` row as JSON, the values written as a JSON
export writes them. So every existing query, the shell's sqlite3 fast path, the KPIs, the
queues and the CSV and iCalendar exports stay right with no "not deleted" filter to forget,
on either engine; the JSON export carries the trash table like any other, and its import puts
it back. A restore inserts the rows again under their own ids when those are free (a SQLite
desk hands the largest id + 1 to a new row, so the newest deal's id can be taken by then: the
restored deal then gets a new one, and the restore says so).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, cast

from sqlalchemy import CursorResult, Date, Time, delete
from sqlmodel import Session, SQLModel, col, select

from repdesk.core import clock
from repdesk.core.errors import InvalidInput, NotFound, RepdeskError
from repdesk.services.deals import get_deal
from repdesk.services.gone import MERGED, RETENTION, WORDS, not_found
from repdesk.storage.models import (
    Activity,
    CloseDateChange,
    Commitment,
    Contact,
    Deal,
    DealContact,
    FollowUp,
    ForecastChange,
    Objection,
    ProbabilityChange,
    Stage,
    StageChange,
    Trash,
    UTCDateTime,
    saved_id,
    table_name,
    table_of,
)

# What can be deleted, by the name the rep types and the trash's kind.
MODELS: dict[str, type[SQLModel]] = {
    "deal": Deal,
    "activity": Activity,
    "follow_up": FollowUp,
    "objection": Objection,
}
# A deal's rows, parents first: the order they are put back in. Its contacts stay contacts
# (they may be on other deals); its links to them go and come back with it.
_ON_A_DEAL = (
    DealContact, StageChange, Activity, FollowUp, Objection, CloseDateChange, ForecastChange,
    ProbabilityChange, Commitment,
)  # fmt: skip
_DEAL_TABLES = (Deal, *_ON_A_DEAL)
_BY_TABLE: dict[str, type[SQLModel]] = {table_name(m): m for m in _DEAL_TABLES}
# What a deleted deal's "rows of its timeline" counts: not its links to its contacts.
_TIMELINE = set(_BY_TABLE) - {table_name(DealContact)}


# ---------------------------------------------------------------- rows as JSON values


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def row_values(row: SQLModel) -> dict[str, Any]:
    """Every column of `row`, as Python values."""
    return {column.name: getattr(row, column.name) for column in table_of(row).columns}


def _encode_row(row: SQLModel) -> dict[str, Any]:
    return {name: _encode(value) for name, value in row_values(row).items()}


def _decode_row(model: type[SQLModel], values: dict[str, Any]) -> dict[str, Any]:
    decoded = {}
    columns = table_of(model).columns
    for name, value in values.items():
        if name not in columns:
            continue  # a column a later schema dropped
        type_ = columns[name].type
        if value is not None and isinstance(type_, UTCDateTime):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif value is not None and isinstance(type_, Date):
            value = date.fromisoformat(value)
        elif value is not None and isinstance(type_, Time):
            value = time.fromisoformat(value)
        decoded[name] = value
    return decoded


# ---------------------------------------------------------------- what the trash holds


class _Named:
    """What a trashed or restored thing is called: its kind's word and a sentence."""

    __slots__ = ()
    kind: str
    label: str

    @property
    def word(self) -> str:
        return WORDS[self.kind]

    @property
    def what(self) -> str:
        """`deal #3 Pilot (Acme)`, `call 2026-11-19 on #3 ...`: what it is, in a sentence."""
        return f"deal {self.label}" if self.kind == "deal" else self.label


@dataclass(frozen=True, slots=True)
class TrashItem(_Named):
    id: int
    kind: str
    item_id: int
    deal_id: int
    label: str
    deleted_at: datetime
    rows: int  # how many rows it holds (a deal with its timeline: more than one)

    def expires_on(self) -> date:
        return clock.local_date(self.deleted_at + RETENTION)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.word,
            "item_id": self.item_id,
            "deal_id": self.deal_id,
            "label": self.label,
            "deleted_at": _encode(self.deleted_at),
            "expires_on": self.expires_on().isoformat(),
        }


def _item(entry: Trash) -> TrashItem:
    held = json.loads(entry.payload)
    return TrashItem(
        id=saved_id(entry),
        kind=entry.kind,
        item_id=entry.item_id,
        deal_id=entry.deal_id,
        label=entry.label,
        deleted_at=entry.deleted_at,
        rows=sum(len(rows) for table, rows in held.items() if table in _TIMELINE),
    )


def list_trash(*, session: Session, now: datetime | None = None) -> list[TrashItem]:
    """What is in the trash, newest first (what is older than 30 days is gone)."""
    since = (now or clock.now()) - RETENTION
    entries = session.exec(
        select(Trash)
        .where(col(Trash.deleted_at) > since)
        .order_by(col(Trash.deleted_at).desc(), col(Trash.id).desc())
    )
    return [_item(entry) for entry in entries]


def purge_expired(*, session: Session, now: datetime | None = None) -> int:
    """Forget what has been in the trash longer than 30 days; called on every trash write."""
    since = (now or clock.now()) - RETENTION
    result = session.execute(delete(Trash).where(col(Trash.deleted_at) <= since))
    return _rowcount(result)


# ---------------------------------------------------------------- delete


def _deal_label(deal: Deal) -> str:
    return f"#{deal.id} {deal.title}" + (f" ({deal.company})" if deal.company else "")


def _label(kind: str, row: Any, deal: Deal) -> str:
    on = _deal_label(deal)
    if kind == "deal":
        return on
    if kind == "activity":
        words = " · ".join(w for w in (row.outcome, row.text) if w)
        when = clock.local_date(row.at).isoformat()
        return f"{row.kind} {when} on {on}" + (f": {words}" if words else "")
    if kind == "follow_up":
        # Its due day, and for a done one the day it was done ("done 2026-12-04" was read as
        # that day, of a step done on the 3rd: a hostile test).
        when = f"due {row.due_on.isoformat()}"
        if row.done_at:
            when += f", done {clock.local_date(row.done_at).isoformat()}"
        return f"follow-up {when} on {on}" + (f": {row.note}" if row.note else "")
    return f"{row.category} objection on {on}: {row.said}"


def _put_in_trash(
    session: Session, kind: str, item_id: int, deal: Deal, label: str, rows: list[SQLModel],
    moment: datetime, merged: dict[str, Any] | None = None, by_crm: bool = False,
) -> Trash:  # fmt: skip
    # Which deal it was on: on SQLite a new deal can take a deleted deal's id, and a restore
    # must never attach an activity to that other deal.
    held: dict[str, Any] = {_OWNER: _owner(deal)}
    if merged is not None:
        held[MERGED] = merged
    if by_crm:
        held[_BY_CRM] = True
    for row in rows:
        held.setdefault(table_name(row), []).append(_encode_row(row))
    purge_expired(session=session, now=moment)
    entry = Trash(
        kind=kind,
        item_id=item_id,
        deal_id=saved_id(deal),
        label=label,
        payload=json.dumps(held, ensure_ascii=False),
        deleted_at=moment,
    )
    # Children first, one by one through the session (an undo in the app sees every row): the
    # database's ON DELETE CASCADE must find nothing left to delete behind the session's back.
    for row in reversed(rows):
        session.delete(row)
        session.flush()
    session.add(entry)
    session.flush()
    return entry


_OWNER = "_deal"
# A deal merged into another: that deal ({"into": id, "created_at": ...}) and the ids of the
# rows the merge moved there, by table ({"rows": {"activity": [3, 4]}}), which its restore
# takes back.
# Deleted by the CRM sync (deleted there), not by the rep: a deal merged into it is not
# deleted in the CRM for it (src/repdesk/sync/engine.py).
_BY_CRM = "_by_crm"
ADDED_LINKS = "deal_contact+"  # in its rows: the links the merge gave the deal kept


def merged_into(keep: Deal, rows: dict[str, list[int]]) -> dict[str, Any]:
    """What `delete_item(merged=...)` keeps of a merge into `keep` that moved these rows."""
    return {"into": keep.id, "created_at": _owner(keep)["created_at"], "rows": rows}


@dataclass(frozen=True, slots=True)
class MergedAway:
    """A deleted deal whose latest deletion was a merge: the rows that merge moved, by table
    (`activity`, `follow_up`, ...), and where the merges end, followed through a deal merged
    on in turn: `into`, a deal the desk has; else `ended` says why there is none."""

    into: int | None
    rows: dict[str, list[int]]
    # "deal": the desk has it (`into`); "deleted": the rep deleted the last deal of the chain;
    # "crm": the CRM sync deleted it (deleted there); "unknown": its trace is gone.
    ended: str = "deal"


def _latest_deal_entries(session: Session, deal_ids: list[int]) -> dict[int, Trash]:
    latest: dict[int, Trash] = {}
    for entry in session.exec(
        select(Trash)
        .where(col(Trash.kind) == "deal", col(Trash.item_id).in_(deal_ids))
        .order_by(col(Trash.deleted_at), col(Trash.id))
    ).all():
        latest[entry.item_id] = entry
    return latest


def merges_of(*, session: Session, deal_ids: list[int]) -> dict[int, MergedAway]:
    """Of these deleted deals, those whose latest deletion was a merge, and where their
    merges end (a SQLite desk can give a deleted deal's id to a new one: each step checks it
    is the same deal). The sync sends such a deletion as a merge (src/repdesk/sync/engine.py)."""
    found: dict[int, MergedAway] = {}
    for gone, entry in _latest_deal_entries(session, deal_ids).items():
        try:
            _rows, _deal, merged = _held(entry)
        except RepdeskError:
            continue
        if merged is None:
            continue
        rows = merged.get("rows")
        moved = {
            table: [i for i in ids if type(i) is int]
            for table, ids in (rows.items() if isinstance(rows, dict) else ())
            if isinstance(ids, list)
        }
        found[gone] = _merge_end(session, merged, moved)
    return found


def _merge_end(session: Session, merged: dict[str, Any], moved: dict[str, list[int]]) -> MergedAway:
    """Where a merge ends: the deal it went into, or the one that deal was merged into in
    turn, and so on (a few steps: `deal merge B A` then `deal merge C B`)."""
    for _ in range(100):
        into, created = merged.get("into"), merged.get("created_at")
        if type(into) is not int:
            break
        keep = session.get(Deal, into)
        if keep is not None:
            if _owner(keep)["created_at"] != created:
                break
            return MergedAway(into=saved_id(keep), rows=moved)
        entry = _latest_deal_entries(session, [into]).get(into)
        if entry is None:
            break
        try:
            held = json.loads(entry.payload)
            if held.get(_OWNER, {}).get("created_at") != created:
                break
        except (ValueError, AttributeError):
            break
        following = held.get(MERGED)
        if not isinstance(following, dict):
            ended = "crm" if held.get(_BY_CRM) else "deleted"
            return MergedAway(into=None, rows=moved, ended=ended)
        merged = following
    return MergedAway(into=None, rows=moved, ended="unknown")


def _owner(deal: Deal) -> dict[str, Any]:
    return {"id": deal.id, "created_at": _encode(deal.created_at)}


def _get(session: Session, kind: str, item_id: int) -> Any:
    row = session.get(MODELS[kind], item_id)
    if row is None:
        raise not_found(
            session=session, table=kind, item_id=item_id, plain=f"no {WORDS[kind]} has id {item_id}"
        )
    return row


def delete_item(
    *,
    session: Session,
    kind: str,
    item_id: int,
    now: datetime | None = None,
    why: str = "",
    merged: dict[str, Any] | None = None,
    by_crm: bool = False,
) -> TrashItem:
    """Move a deal (with everything on it), an activity, a follow-up or an objection to the
    trash. Returns what the trash now holds for it (its id restores it). `merged`: the deal
    was merged into another (see MERGED)."""
    if kind not in MODELS:
        raise InvalidInput("kind", kind, "deal, activity, follow-up or objection")
    moment = now or clock.now()
    row = _get(session, kind, item_id)
    if kind == "deal":
        deal = row
        rows: list[SQLModel] = [deal]
        for model in _ON_A_DEAL:
            rows += session.exec(
                select(model).where(col(model.deal_id) == item_id).order_by(col(model.id))
            ).all()
    else:
        deal = get_deal(session=session, deal_id=row.deal_id)
        rows = [row]
    label = _label(kind, row, deal) + (f" ({why})" if why else "")
    entry = _put_in_trash(session, kind, item_id, deal, label, rows, moment, merged, by_crm)
    return _item(entry)


# ---------------------------------------------------------------- restore


@dataclass(frozen=True, slots=True)
class Restored(_Named):
    kind: str
    item_id: int  # its id now (a new one when the old was taken meanwhile)
    old_id: int
    deal_id: int
    label: str
    note: str = ""  # what the restore had to change, said after it (a stage removed since)


def _on_a_lost_deal(session: Session, follow_up_id: int) -> str:
    """A pending step put back on a deal lost since it went: no queue shows it, so the
    restore says where it is and how to be done with it."""
    step = session.get(FollowUp, follow_up_id)
    deal = None if step is None else session.get(Deal, step.deal_id)
    # The queues show a won customer's steps (post-sale check-ins), never a lost deal's.
    if step is None or deal is None or step.done_at is not None or deal.status != "lost":
        return ""
    return (
        f"#{deal.id} is {deal.status} since {deal.closed_on}, so no queue shows it "
        f"(`repdesk follow-up done {follow_up_id}` marks it done)"
    )


def get_entry(*, session: Session, trash_id: int, now: datetime | None = None) -> Trash:
    entry = session.get(Trash, trash_id)
    if entry is None or entry.deleted_at <= (now or clock.now()) - RETENTION:
        raise NotFound(f"nothing in the trash has id {trash_id} (see `repdesk trash`)")
    return entry


def restore(*, session: Session, trash_id: int, now: datetime | None = None) -> Restored:
    """Put a trashed thing back where it was, with its own ids where they are still free."""
    entry = get_entry(session=session, trash_id=trash_id, now=now)
    held, owner, merged = _held(entry)
    deal_id = entry.deal_id
    if entry.kind != "deal":
        # Its deal deleted after it is in the trash too. Looked for first: on SQLite a new
        # deal may have taken the deleted deal's id since, and must never receive this.
        for other in session.exec(
            select(Trash).where(Trash.kind == "deal", Trash.item_id == deal_id)
        ):
            if _follows(entry, other, owner):
                raise RepdeskError(
                    f"its deal #{deal_id} is in the trash too: restore the deal first "
                    f"(`repdesk trash restore {other.id}`)"
                )
        live = session.get(Deal, deal_id)
        if live is None or (
            owner is not None and _owner(live)["created_at"] != owner["created_at"]
        ):
            raise RepdeskError(f"its deal #{deal_id} is gone for good: it cannot be put back")
    item_id = entry.item_id
    notes = []
    for model in _DEAL_TABLES:
        for values in held.get(table_name(model), []):
            row = _decode_row(model, values)
            old_id = row["id"]
            if model is not Deal:
                row["deal_id"] = deal_id  # the deal's id now (a restored deal's may be new)
            if model is DealContact and session.get(Contact, row["contact_id"]) is None:
                continue  # a contact gone since: the deal comes back without them
            if session.get(model, old_id) is not None:
                del row["id"]  # taken meanwhile: a new id
            if model is Deal and (twin := _same_source(session, row.get("source_id"))):
                # Re-imported while it was in the trash: two deals with one CRM id would leave
                # every later re-import updating one of them. The live one keeps it.
                row["source_id"] = None
                notes.append(
                    f"re-imported as #{twin} while in the trash: #{twin} keeps its CRM id, "
                    "so a re-import updates that one, not this"
                )
            restored = model(**row)
            session.add(restored)
            session.flush()
            if model is Deal:
                deal_id = saved_id(restored)
            if table_name(model) == _table_of(entry.kind) and old_id == entry.item_id:
                item_id = saved_id(restored)
    if entry.kind == "deal" and deal_id != entry.deal_id:
        # What was deleted from it before it went keeps following it to its new id.
        for other in session.exec(select(Trash).where(Trash.deal_id == entry.deal_id)):
            if other.kind != "deal" and _follows(
                other, entry, json.loads(other.payload).get(_OWNER)
            ):
                other.deal_id = deal_id
                session.add(other)
    if entry.kind == "deal" and table_name(DealContact) not in held:
        # Deleted before deals had contacts as records (schema 6): its text becomes them now.
        from repdesk.services import people

        people.adopt_deal_fields(session, get_deal(session=session, deal_id=deal_id),
                                 people.PEOPLE_FIELDS)  # fmt: skip
    if entry.kind == "deal":
        notes.insert(0, _out_of_a_removed_stage(session, deal_id))
    if merged is not None:
        notes.append(_unmerge(session, merged, deal_id))
    if entry.kind == "follow_up":
        notes.append(_on_a_lost_deal(session, item_id))
    note = "; ".join(n for n in notes if n)
    restored_item = Restored(
        kind=entry.kind,
        item_id=item_id,
        old_id=entry.item_id,
        deal_id=deal_id,
        label=entry.label,
        note=note,
    )
    session.delete(entry)
    session.flush()
    return restored_item


def _same_source(session: Session, source_id: str | None) -> int | None:
    """The live deal that came from the same CRM record, if any."""
    if not source_id:
        return None
    found = session.exec(select(Deal.id).where(Deal.source_id == source_id)).first()
    return found


def _out_of_a_removed_stage(session: Session, deal_id: int) -> str:
    """A deal whose stage was removed while it was in the trash comes back to the first open
    stage (a removed stage is on no board); says so, or ""."""
    from repdesk.services import deals
    from repdesk.services.stages import REMOVED

    deal = get_deal(session=session, deal_id=deal_id)
    stage = session.get(Stage, deal.stage_id)
    if stage is None or stage.kind != REMOVED:
        return ""
    first = session.exec(
        select(Stage).where(Stage.kind == "open").order_by(col(Stage.position))
    ).first()
    if first is None:
        return ""
    deals.move_deal(session=session, deal_id=deal_id, stage=str(first.id))
    return f"its stage was removed meanwhile: it is in {first.name} now"


def _unmerge(session: Session, merged: dict[str, Any], deal_id: int) -> str:
    """A merged-away deal restored takes back the rows the merge moved to the deal kept,
    those still there (one deleted or moved since stays where it is): restored empty, it was
    no undo of the merge (an audit)."""
    into = merged.get("into")
    keep = session.get(Deal, into) if isinstance(into, int) else None
    if keep is None:
        # That deal was merged on in turn (`merge B A`, then `merge C B`, restored A first):
        # the rows are where the merges end.
        end = _merge_end(session, merged, {}).into
        keep = session.get(Deal, end) if end is not None else None
        if keep is not None:
            into = saved_id(keep)
            merged = {**merged, "created_at": _owner(keep)["created_at"]}
    if keep is None or _owner(keep)["created_at"] != merged.get("created_at"):
        return f"#{into} it was merged into is gone: it comes back with its own fields only"
    back = 0
    rows = merged.get("rows")
    added = rows.pop(ADDED_LINKS, []) if isinstance(rows, dict) else []
    from repdesk.services import people

    for link in session.exec(
        select(DealContact).where(
            col(DealContact.id).in_([i for i in added if isinstance(i, int)]),
            col(DealContact.deal_id) == into,
        )
    ).all():
        # The merge put GONE's people on KEEP; back with GONE, they leave KEEP (a hostile
        # test: KEEP kept GONE's contact as its main one). GONE's own links came back whole.
        people.unlink_contact(session=session, deal_id=saved_id(keep), contact_id=link.contact_id)
    for table, ids in rows.items() if isinstance(rows, dict) else []:
        model = _BY_TABLE.get(table)
        if model is None or not isinstance(ids, list):
            continue
        for row in session.exec(
            select(model).where(
                col(model.id).in_([i for i in ids if isinstance(i, int)]),  # type: ignore[attr-defined]
                col(model.deal_id) == into,  # type: ignore[attr-defined]
            )
        ):
            row.deal_id = deal_id
            session.add(row)
            back += 1
    session.flush()
    return f"{back} row{'s' if back != 1 else ''} of its timeline taken back from #{into}"


def _held(
    entry: Trash,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any] | None, dict[str, Any] | None]:
    """The rows a trash entry keeps, by table, the deal they were on (`_owner`; None when the
    entry holds none) and what a merge moved (`MERGED`, or None); or RepdeskError (the entry
    stays): a desk imported from an edited JSON file may hold anything there, and a restore
    must never say it put back what it could not."""
    unreadable = RepdeskError(
        f"trash entry {entry.id} cannot be read (its {entry.kind} was changed outside "
        "repdesk): it cannot be put back; `repdesk trash empty` removes it"
    )
    if entry.kind not in MODELS:
        raise unreadable
    try:
        held = json.loads(entry.payload)
    except ValueError:
        raise unreadable from None
    if not isinstance(held, dict):
        raise unreadable
    owner = held.pop(_OWNER, None)
    merged = held.pop(MERGED, None)
    held.pop(_BY_CRM, None)
    if not (merged is None or isinstance(merged, dict)):
        raise unreadable
    if not (owner is None or (isinstance(owner, dict) and "created_at" in owner)) or not all(
        isinstance(rows, list) and all(isinstance(row, dict) for row in rows)
        for rows in held.values()
    ):
        raise unreadable
    kept = held.get(_table_of(entry.kind), [])
    if not any(row.get("id") == entry.item_id for row in kept):
        raise unreadable  # the thing itself is not in it
    return held, owner, merged


def _follows(child: Trash, deal_entry: Trash, owner: dict[str, Any] | None) -> bool:
    """Whether the trashed `child` was on the trashed deal of `deal_entry`: the same deal
    (id and creation) and deleted before it."""
    if deal_entry.deleted_at < child.deleted_at:
        return False
    return owner is None or json.loads(deal_entry.payload).get(_OWNER) == owner


def _table_of(kind: str) -> str:
    return table_name(MODELS[kind])


def empty_trash(*, session: Session) -> int:
    """Forget everything in the trash for good; returns how many things were in it."""
    result = session.execute(delete(Trash))
    return _rowcount(result)


def _rowcount(result: Any) -> int:
    # A DELETE's result is a CursorResult, which counts the rows; Session.execute is declared
    # to return the Result it derives from.
    return int(cast(CursorResult[Any], result).rowcount or 0)
