"""Import pipeline, second half: a checked plan (`repdesk.io.csv_import`) into the desk.

Resolves the file's stages against the desk's (`--stage-map`, same name, the CRM's own stage
words, or `--create-stages`), settles each deal's status and dates, then decides per deal:
create, update (a deal brought in before with the same source id) or unchanged. A dry run
stops there. Otherwise it writes in the caller's one transaction, in bulk (8,800 deals through
the ORM one by one took seconds; executemany takes a fraction), with the same stage history
the deal services record: the entry stage, then Won or Lost for a closed deal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session, col

from repdesk.core.domain import row_id
from repdesk.core.errors import RepdeskError
from repdesk.io.csv_import import OWN_ID_PREFIX, ActivityRow, DealRow, ImportPlan, Problems
from repdesk.io.formats import normalise
from repdesk.services import deals, outbox
from repdesk.storage.models import Activity, Deal, Stage, StageChange

Progress = Callable[[int, int], None]
CHUNK = 500

# The deal fields an import sets; a re-import compares and updates exactly these: everything a
# rep can edit, plus how the deal ended.
FIELDS = (*deals.EDITABLE, "status", "closed_on")


@dataclass
class Outcome:
    created: Counter[tuple[str, str]] = field(default_factory=Counter)
    updated: Counter[tuple[str, str]] = field(default_factory=Counter)
    unchanged: Counter[tuple[str, str]] = field(default_factory=Counter)
    new_stages: list[str] = field(default_factory=list)
    activities_added: int = 0
    activities_present: int = 0
    activities_unlinked: list[str] = field(default_factory=list)  # FILE:LINE of each
    stage_order: list[str] = field(default_factory=list)


@dataclass
class _Target:
    row: DealRow
    values: dict[str, Any]
    entry_stage_id: int  # the open stage it arrives in (a closed deal passes through it)
    stage_id: int  # where it ends: the entry stage, or Won / Lost
    existing: dict[str, Any] | None = None


@dataclass
class _Stages:
    rows: list[Stage]
    by_name: dict[str, Stage]
    planned: list[Stage] = field(default_factory=list)  # --create-stages, not yet written
    written: dict[int, int] = field(default_factory=dict)  # placeholder id -> real id

    @classmethod
    def load(cls, session: Session) -> _Stages:
        rows = list(session.execute(select(Stage).order_by(col(Stage.position))).scalars())
        rows = [s for s in rows if s.kind != "removed"]  # kept for history only: no imports
        return cls(rows=rows, by_name={normalise(s.name): s for s in rows})

    def first(self, kind: str) -> Stage:
        for stage in self.rows:
            if stage.kind == kind:
                return stage
        raise RepdeskError(f"the desk's pipeline has no {kind} stage: add one before importing")

    def plan_new(self, name: str, probability: int) -> Stage:
        # A negative id marks a stage that exists only in this plan until it is written.
        stage = Stage(id=-(len(self.planned) + 1), name=name, position=0, probability=probability)
        self.planned.append(stage)
        self.by_name[normalise(name)] = stage
        return stage


def import_plan(
    *,
    session: Session,
    plan: ImportPlan,
    stage_map: dict[str, str],
    create_stages: bool,
    today: date,
    now: datetime,
    dry_run: bool,
    progress: Progress | None = None,
) -> Outcome:
    """Check the plan against the desk and (unless `dry_run`) write it in `session`'s
    transaction. Raises ImportFailed (nothing written) for any problem."""
    stages = _Stages.load(session)
    outcome = Outcome()
    resolved = _resolve_stages(plan.deals, stages, stage_map, create_stages, plan.problems)
    targets = _targets(plan.deals, resolved, stages, today, plan.problems)
    plan.problems.check()
    _match_existing(session, targets)
    _keep_spacing(targets)
    for target in targets:
        key = (_stage_name(stages, target.stage_id), target.values["status"])
        if target.existing is None:
            outcome.created[key] += 1
        elif _changed(target):
            outcome.updated[key] += 1
        else:
            outcome.unchanged[key] += 1
    outcome.new_stages = [s.name for s in stages.planned]
    outcome.stage_order = [s.name for s in stages.rows] + outcome.new_stages
    links = _activity_links(session, plan, targets)
    if dry_run:
        _count_activities(session, plan.activities, links, outcome, write=False, now=now)
        return outcome
    _write_stages(session, stages)
    _write_deals(session, targets, stages, now, progress)
    _count_activities(session, plan.activities, links, outcome, write=True, now=now)
    return outcome


def _stage_name(stages: _Stages, stage_id: int) -> str:
    for stage in (*stages.rows, *stages.planned):
        if stage.id == stage_id:
            return stage.name
    return "?"


# ---------------------------------------------------------------- stages


def _resolve_stages(
    rows: list[DealRow],
    stages: _Stages,
    stage_map: dict[str, str],
    create: bool,
    problems: Problems,
) -> dict[str, Stage | None]:
    """The file's stage words (normalised) -> the desk's stage; unknown ones refused together."""
    for ours in stage_map.values():
        if normalise(ours) not in stages.by_name:
            if not create:
                raise RepdeskError(
                    f"the desk has no stage {ours!r} (named in --stage-map; its stages: "
                    f"{', '.join(s.name for s in stages.rows)}; --create-stages adds it)"
                )
            stages.plan_new(ours, _last_open_probability(stages))
    resolved: dict[str, Stage | None] = {"": None}
    unknown: dict[str, list[DealRow]] = {}
    for row in rows:
        key = normalise(row.stage)
        if key in resolved or key in unknown:
            if key in unknown:
                unknown[key].append(row)
            continue
        target = stage_map.get(key)
        found = None
        if target is not None:
            found = stages.by_name[normalise(target)]
        elif key in stages.by_name:
            found = stages.by_name[key]
        elif (builtin := row.known_stages.get(key)) and normalise(builtin) in stages.by_name:
            found = stages.by_name[normalise(builtin)]
        if found is None:
            unknown[key] = [row]
        else:
            resolved[key] = found
    if unknown and create:
        for key, seen in unknown.items():
            probabilities = [r.probability for r in seen if r.probability is not None]
            common = Counter(probabilities).most_common(1)
            probability = common[0][0] if common else _last_open_probability(stages)
            resolved[key] = stages.plan_new(seen[0].stage, probability)
    elif unknown:
        listed = "; ".join(
            f"{seen[0].stage!r} ({len(seen):,} deal{'s' if len(seen) != 1 else ''}, first at "
            f"{seen[0].where})"
            for seen in unknown.values()
        )
        ours = ", ".join(s.name for s in stages.rows)
        problems.add_first(
            f"stages the desk does not have: {listed}. Map each with "
            f'--stage-map "THEIRS=OURS" (the desk\'s stages: {ours}), or add them with '
            "--create-stages"
        )
    return resolved


def _last_open_probability(stages: _Stages) -> int:
    open_ones = [s for s in stages.rows if s.kind == "open"]
    return open_ones[-1].probability if open_ones else 50


def _write_stages(session: Session, stages: _Stages) -> None:
    if not stages.planned:
        return
    open_ones = [s for s in stages.rows if s.kind == "open"]
    after = max((s.position for s in open_ones), default=0)
    count = len(stages.planned)
    # New stages go after the last open stage; Won and Lost (and anything after) move along.
    for stage in stages.rows:
        if stage.position > after:
            stage.position += count
            session.add(stage)
    session.flush()
    for offset, planned in enumerate(stages.planned, start=1):
        placeholder = planned.id
        created = Stage(
            name=planned.name,
            position=after + offset,
            probability=planned.probability,
            kind="open",
        )
        session.add(created)
        session.flush()
        assert placeholder is not None and created.id is not None
        stages.written[placeholder] = created.id


# ---------------------------------------------------------------- deals


def _targets(
    rows: list[DealRow],
    resolved: dict[str, Stage | None],
    stages: _Stages,
    today: date,
    problems: Problems,
) -> list[_Target]:
    first_open = stages.first("open")
    targets = []
    for row in rows:
        if normalise(row.stage) not in resolved:
            continue  # an unknown stage: reported once for all its rows
        stage = resolved[normalise(row.stage)]
        kind = stage.kind if stage is not None else None
        status = row.status or (kind if kind in ("won", "lost") else "open")
        if kind in ("won", "lost") and kind != status:
            problems.add(
                row.where, row.stage_column, row.stage, f"a stage that fits a {status} deal"
            )
            continue
        entry = stage if stage is not None and stage.kind == "open" else first_open
        closed_on = row.closed_on or row.close_date if status != "open" else None
        if status != "open" and closed_on is None:
            problems.add(row.where, "closed_on", "", f"the date the {status} deal closed")
            continue
        if closed_on is not None and closed_on > today:
            # It would count in today's quota figures for a close that has not happened.
            problems.add(
                row.where, "closed_on", closed_on.isoformat(), f"today ({today}) or earlier"
            )
            continue
        expected = row.expected_close or (row.close_date if status == "open" else None)
        first = row.first_contact
        if first is None or row.created_is_first_contact:
            # A CRM's creation date is the latest the first contact can be; a deal with none
            # (Maven's Prospecting rows) is first contacted when it lands on the desk.
            candidates = [d for d in (first or today, closed_on, expected) if d is not None]
            first = min(candidates)
        if first > today:
            # A close must fall between the first contact and today: such a deal could never
            # be won or lost.
            problems.add(
                row.where, "first_contact", first.isoformat(), f"today ({today}) or earlier"
            )
            continue
        if closed_on is not None and closed_on < first:
            problems.add(row.where, "closed_on", closed_on.isoformat(), f"on or after {first}")
            continue
        if expected is not None and expected < first:
            problems.add(row.where, "expected_close", expected.isoformat(), f"on or after {first}")
            continue
        values = {
            "title": row.title,
            "company": row.company,
            "contact": row.contact,
            "email": row.email,
            "phone": row.phone,
            "value_cents": row.value_cents,
            "currency": row.currency,
            "status": status,
            "source": row.source,
            "product": row.product,
            "region": row.region,
            "segment": row.segment,
            "first_contact": first,
            "expected_close": expected,
            "closed_on": closed_on,
            "lost_reason": (row.lost_reason or "not given") if status == "lost" else "",
        }
        final = entry if status == "open" else stages.first(status)
        targets.append(_Target(row, values, entry.id, final.id))  # type: ignore[arg-type]
    return targets


def _identity(title: str, company: str) -> tuple[str, str]:
    # Stripped: the import strips every cell, while a deal typed as " Acme " keeps its spaces;
    # without this an export re-imported would add that deal a second time.
    return title.strip().casefold(), company.strip().casefold()


_TEXT_FIELDS = (
    "title",
    "company",
    "contact",
    "email",
    "phone",
    "source",
    "product",
    "region",
    "lost_reason",
)


def _keep_spacing(targets: list[_Target]) -> None:
    """A cell equal to the deal's text but for the spaces around it (the import strips them)
    leaves the deal's text as it is: re-importing an export changes nothing."""
    for target in targets:
        if target.existing is None:
            continue
        for name in _TEXT_FIELDS:
            kept = target.existing[name]
            if isinstance(kept, str) and kept != target.values[name] == kept.strip():
                target.values[name] = kept


def _match_existing(session: Session, targets: list[_Target]) -> None:
    """Find the deal each target updates: the one with its source id; for `repdesk:N` (a deal
    exported by a desk) deal N itself while it has no source id and the same title and company
    (so another desk's deal N is never overwritten); for a row without an id, the deal with the
    same title and company (case-insensitive, exact)."""
    table = Deal.__table__  # type: ignore[attr-defined]
    columns = [
        table.c.id,
        table.c.source_id,
        table.c.stage_id,
        table.c.stage_entered_at,
        *(table.c[f] for f in FIELDS),
    ]

    def take(target: _Target, record: dict[str, Any]) -> None:
        if target.existing is None or record["id"] < target.existing["id"]:
            target.existing = record

    wanted = {t.row.source_id: t for t in targets if t.row.source_id is not None}
    ids = list(wanted)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for found in session.execute(select(*columns).where(table.c.source_id.in_(chunk))):
            record = dict(found._mapping)
            take(wanted[record["source_id"]], record)
    own: dict[int, _Target] = {}
    for source_id, target in wanted.items():
        # row_id: ASCII digits that fit a row id ('²' and 5,000 digits are just ids of theirs).
        number = row_id(source_id.removeprefix(OWN_ID_PREFIX))
        if target.existing is None and source_id.startswith(OWN_ID_PREFIX) and number is not None:
            own[number] = target
    numbers = list(own)
    for start in range(0, len(numbers), CHUNK):
        query = select(*columns).where(
            table.c.id.in_(numbers[start : start + CHUNK]),
            (table.c.source_id.is_(None)) | (table.c.source_id == ""),
        )
        for found in session.execute(query):
            record = dict(found._mapping)
            target = own[record["id"]]
            same = _identity(record["title"], record["company"] or "")
            if same == _identity(target.row.title, target.row.company):
                take(target, record)
    without_id = {
        _identity(t.row.title, t.row.company): t for t in targets if t.row.source_id is None
    }
    if not without_id:
        return
    # Case-insensitive in Python, not SQL: SQLite's lower() folds ASCII only.
    for found in session.execute(select(*columns)):
        record = dict(found._mapping)
        target = without_id.get(_identity(record["title"], record["company"] or ""))
        if target is not None:
            take(target, record)


def _changed(target: _Target) -> bool:
    existing = target.existing
    assert existing is not None
    if existing["stage_id"] != target.stage_id:
        return True
    return any(existing[name] != value for name, value in target.values.items())


def _real_id(stages: _Stages, stage_id: int) -> int:
    return stages.written[stage_id] if stage_id < 0 else stage_id


def _write_deals(
    session: Session,
    targets: list[_Target],
    stages: _Stages,
    now: datetime,
    progress: Progress | None,
) -> None:
    deal_table = Deal.__table__  # type: ignore[attr-defined]
    change_table = StageChange.__table__  # type: ignore[attr-defined]
    for target in targets:
        target.entry_stage_id = _real_id(stages, target.entry_stage_id)
        target.stage_id = _real_id(stages, target.stage_id)
    creates = [t for t in targets if t.existing is None]
    updates = [t for t in targets if t.existing is not None and _changed(t)]
    total, done = len(creates) + len(updates), 0
    for start in range(0, len(creates), CHUNK):
        chunk = creates[start : start + CHUNK]
        rows = [
            {
                **t.values,
                "stage_id": t.stage_id,
                "source_id": t.row.source_id,
                "stage_entered_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for t in chunk
        ]
        result = session.execute(
            insert(deal_table).returning(deal_table.c.id, sort_by_parameter_order=True), rows
        )
        changes = []
        for target, deal_id in zip(chunk, result.scalars().all(), strict=True):
            target.values["id"] = deal_id
            changes.append(_change(deal_id, None, target.entry_stage_id, now))
            if target.stage_id != target.entry_stage_id:
                changes.append(_change(deal_id, target.entry_stage_id, target.stage_id, now))
        session.execute(insert(change_table), changes)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    if updates:
        statement = (
            update(deal_table)
            .where(deal_table.c.id == bindparam("deal_id"))
            .values(
                {name: bindparam(f"new_{name}") for name in (*FIELDS, "stage_id")}
                | {"stage_entered_at": bindparam("new_entered"), "updated_at": now}
            )
        )
        for start in range(0, len(updates), CHUNK):
            chunk = updates[start : start + CHUNK]
            params, changes = [], []
            for target in chunk:
                existing = target.existing
                assert existing is not None
                moved = existing["stage_id"] != target.stage_id
                target.values["id"] = existing["id"]
                params.append(
                    {f"new_{name}": value for name, value in target.values.items() if name != "id"}
                    | {
                        "deal_id": existing["id"],
                        "new_stage_id": target.stage_id,
                        "new_entered": now if moved else existing["stage_entered_at"],
                    }
                )
                if moved:
                    changes.append(
                        _change(existing["id"], existing["stage_id"], target.stage_id, now)
                    )
            session.execute(statement, params)
            if changes:
                session.execute(insert(change_table), changes)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    for target in targets:
        if target.existing is not None and "id" not in target.values:
            target.values["id"] = target.existing["id"]
    # Core statements go around the session's flush: tell the sync outbox directly.
    outbox.enqueue(session, "deal", (t.values["id"] for t in (*creates, *updates)))


def _change(deal_id: int, from_id: int | None, to_id: int, now: datetime) -> dict[str, Any]:
    return {"deal_id": deal_id, "from_stage_id": from_id, "to_stage_id": to_id, "changed_at": now}


# ---------------------------------------------------------------- activities


def _activity_links(
    session: Session, plan: ImportPlan, targets: list[_Target]
) -> dict[str, list[_Target]]:
    """CRM id (an opportunity's or an account's) -> the targets an activity on it may go to."""
    links: dict[str, list[_Target]] = {}
    if not plan.activities:
        return links
    for target in targets:
        source_id = target.row.source_id or ""
        their_id = source_id.partition(":")[2]
        if their_id:
            links.setdefault(their_id, []).insert(0, target)
        if target.row.account:
            links.setdefault(target.row.account, []).append(target)
    # Opportunities imported earlier, when the task file comes on its own.
    wanted = {
        f"{a.source_id.partition(':')[0]}:{link}"
        for a in plan.activities
        for link in a.links
        if link not in links
    }
    table = Deal.__table__  # type: ignore[attr-defined]
    found_ids = list(wanted)
    for start in range(0, len(found_ids), CHUNK):
        chunk = found_ids[start : start + CHUNK]
        query = select(table.c.id, table.c.source_id, table.c.closed_on, table.c.expected_close)
        for deal_id, source_id, closed_on, expected in session.execute(
            query.where(table.c.source_id.in_(chunk))
        ):
            row = DealRow(where="", source_id=source_id, title="")
            values = {"id": deal_id, "closed_on": closed_on, "expected_close": expected}
            links[source_id.partition(":")[2]] = [_Target(row, values, 0, 0)]
    return links


def _pick_deal(candidates: list[_Target], day: date) -> _Target:
    """An account's deal for an activity on `day`: the first to close on or after that day
    (the one being worked then), else the last to close."""

    def closes(t: _Target) -> date:
        return t.values.get("closed_on") or t.values.get("expected_close") or date.max

    later = [t for t in candidates if closes(t) >= day]
    if later:
        return min(later, key=lambda t: (closes(t), t.row.source_id or ""))
    return max(candidates, key=lambda t: (closes(t), t.row.source_id or ""))


def _count_activities(
    session: Session,
    activities: list[ActivityRow],
    links: dict[str, list[_Target]],
    outcome: Outcome,
    *,
    write: bool,
    now: datetime,
) -> None:
    if not activities:
        return
    placed: list[tuple[ActivityRow, _Target]] = []
    for activity in activities:
        target = None
        for link in activity.links:
            candidates = links.get(link)
            if candidates:
                day = activity.at.date()
                target = candidates[0] if len(candidates) == 1 else _pick_deal(candidates, day)
                break
        if target is None:
            outcome.activities_unlinked.append(activity.where)
        else:
            placed.append((activity, target))
    deal_ids = {t.values["id"] for _, t in placed if "id" in t.values}
    present: set[tuple[Any, ...]] = set()
    table = Activity.__table__  # type: ignore[attr-defined]
    ids = list(deal_ids)
    for start in range(0, len(ids), CHUNK):
        query = select(
            table.c.deal_id,
            table.c.kind,
            table.c.at,
            table.c.outcome,
            table.c.minutes,
            table.c.text,
        ).where(table.c.deal_id.in_(ids[start : start + CHUNK]))
        present.update(tuple(r) for r in session.execute(query))
    rows = []
    for activity, target in placed:
        key = (
            target.values.get("id"),
            activity.kind,
            activity.at,
            activity.outcome,
            activity.minutes,
            activity.text,
        )
        # No source id column on activities: an identical activity on the deal is the same task.
        if key in present:
            outcome.activities_present += 1
            continue
        present.add(key)
        outcome.activities_added += 1
        names = ("deal_id", "kind", "at", "outcome", "minutes", "text")
        rows.append(dict(zip(names, key, strict=True)))
    if write and rows:
        result = session.execute(insert(table).returning(table.c.id), rows)
        # Core statements go around the session's flush: tell the sync outbox directly.
        outbox.enqueue(session, "activity", result.scalars().all())
