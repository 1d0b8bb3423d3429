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

from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session, SQLModel, col

from repdesk.core import clock, forecast
from repdesk.core.domain import row_id
from repdesk.core.errors import InvalidInput, RepdeskError
from repdesk.core.reach import check_address
from repdesk.core.text import one_name, same_name, shown_value
from repdesk.io.csv_import import (
    OWN_ID_PREFIX,
    ActivityRow,
    DealRow,
    ImportNotes,
    ImportPlan,
    PersonRow,
    Problems,
)
from repdesk.io.formats import normalise
from repdesk.services import deals, people
from repdesk.services import stages as stage_service
from repdesk.storage import migrations, outbox
from repdesk.storage.models import (
    Activity,
    Captured,
    CloseDateChange,
    Deal,
    FollowUp,
    ForecastChange,
    ProbabilityChange,
    Stage,
    StageChange,
    saved_id,
    table_of,
)

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
    fields_updated: Counter[str] = field(default_factory=Counter)  # field -> deals it changed
    activities_added: int = 0
    activities_present: int = 0
    activities_unlinked: list[str] = field(default_factory=list)  # FILE:LINE of each
    # A CRM's open tasks (to-dos) come in as next steps: added, already there, and FILE:LINE of
    # those on a lost deal (a next step there never shows: left out).
    steps_added: int = 0
    steps_overdue: int = 0
    steps_present: int = 0
    steps_on_lost: list[str] = field(default_factory=list)
    steps_undated: int = 0  # open tasks with no due day: due today
    steps_oldest: date | None = None  # the earliest due day of the steps added
    steps_done_there: int = 0  # steps brought in before, whose task the CRM has done since
    people_added: int = 0  # contacts from a people export, new to the desk
    people_present: int = 0  # ... already on it (same address, or same name at the company)
    roles_added: int = 0  # contacts put on deals from a contact-role export
    more_people: int = 0  # people a deal's person cell names after its main contact
    roles_unlinked: list[str] = field(default_factory=list)  # FILE:LINE: no such deal or person
    roles_without_person: int = 0  # of those, naming a contact not in the import's files
    stage_order: list[str] = field(default_factory=list)


@dataclass
class _Target:
    row: DealRow
    values: dict[str, Any]
    entry_stage_id: int  # the open stage it arrives in (a closed deal passes through it)
    stage_id: int  # where it ends: the entry stage, or Won / Lost
    existing: dict[str, Any] | None = None
    # The rep's own forecast fields the file gives (repdesk's export), by column name.
    own: dict[str, Any] = field(default_factory=dict)


# What a new deal has for the rep's own forecast fields when the file gives none.
_OWN_DEFAULTS = {"forecast": None, "probability": None, "competitor": "", "nps": None,
                 "nps_on": None}  # fmt: skip


@dataclass
class _Stages:
    rows: list[Stage]
    by_name: dict[str, Stage]
    planned: list[Stage] = field(default_factory=list)  # --create-stages, not yet written
    written: dict[int, int] = field(default_factory=dict)  # placeholder id -> real id
    # The open stages as they will stand: the desk's, with the planned ones among them.
    open_order: list[Stage] = field(default_factory=list)
    # Into an empty desk, the file's own stage probabilities: stage id -> probability.
    probabilities: dict[int, int] = field(default_factory=dict)

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
        name = one_name(name)  # as the stages screen keeps a name
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
    # A desk without deals takes a file's own definition of its stages (a repdesk export's
    # stage_probability and stage_order): the pipeline as it was exported.
    empty = session.execute(select(col(Deal.id)).limit(1)).first() is None
    resolved = _resolve_stages(
        plan.deals, stages, stage_map, create_stages, plan.problems, empty=empty
    )
    _order_stages(plan.deals, resolved, stages, plan.notes, empty=empty)
    targets = _targets(plan.deals, resolved, stages, today, plan.problems, plan.notes)
    plan.problems.check()
    _match_existing(session, targets)
    _keep_companies_not_named(targets)
    _keep_spacing(targets)
    for target in targets:
        key = (_stage_name(stages, target.stage_id), target.values["status"])
        if target.existing is None:
            outcome.created[key] += 1
        elif changed := _changed_fields(target):
            outcome.updated[key] += 1
            # Which fields: a re-import put back the CRM's stage and close date over the
            # rep's own, and said only "1 updated" (a new user's trial).
            outcome.fields_updated.update(changed)
        else:
            outcome.unchanged[key] += 1
    planned = {id(s) for s in stages.planned}
    outcome.new_stages = [s.name for s in stages.open_order if id(s) in planned]
    closed = [s for s in stages.rows if s.kind != "open"]
    outcome.stage_order = [s.name for s in (*stages.open_order, *closed)]
    links = _activity_links(session, plan, targets)
    if dry_run:
        _count_activities(session, plan.activities, links, outcome, write=False, now=now)
        _write_people(session, plan, targets, outcome, now, write=False)
        return outcome
    _write_stages(session, stages, plan.notes)
    _write_deals(session, targets, stages, now, progress)
    _adopt_people(session, targets, now)
    _count_activities(session, plan.activities, links, outcome, write=True, now=now)
    _write_people(session, plan, targets, outcome, now, write=True)
    return outcome


# ---------------------------------------------------------------- people


def _adopt_people(session: Session, targets: list[_Target], now: datetime) -> None:
    """The imported deals' company, contact, email and phone cells become records, as on every
    other way in (services/people.py): new deals in bulk (the schema step's statements), a
    deal updated with other people one by one."""
    from sqlalchemy import text

    for statement in migrations.adopt_people_sql(session.get_bind().dialect.name):
        session.execute(text(statement))
    for target in targets:
        existing = target.existing
        if existing is None or not _changed(target):
            continue
        retyped = [name for name in people.PEOPLE_FIELDS if existing[name] != target.values[name]]
        deal = session.get(Deal, target.values["id"])
        if retyped and deal is not None:
            session.refresh(deal)  # written by a Core statement: read it again
            people.adopt_deal_fields(session, deal, retyped, now=now)


def _write_people(
    session: Session,
    plan: ImportPlan,
    targets: list[_Target],
    outcome: Outcome,
    now: datetime,
    *,
    write: bool,
) -> None:
    """Contacts from a people export (found again by address, or by name at their company, so
    a re-import adds nobody twice), and the contacts on each deal from a contact-role export."""
    _more_people(session, targets, outcome, now, write=write)
    if not plan.people and not plan.roles:
        return
    made: dict[str, int | None] = {}
    seen: dict[str, int] = {}
    for row in plan.people:
        for address in {a.casefold() for a in row.emails}:
            seen[address] = seen.get(address, 0) + 1
    shared = frozenset(address for address, rows in seen.items() if rows > 1)
    for row in plan.people:
        company = plan.accounts.get(row.account, "")
        found = _person_on_desk(session, row, company, shared=shared)
        if found is not None:
            outcome.people_present += 1
            if write:
                people.edit_contact(
                    session=session, contact_id=saved_id(found), add_emails=row.emails,
                    add_phones=row.phones, now=now,
                    title=row.title if row.title and not found.title else None,
                )  # fmt: skip
            made[row.source_id] = found.id
            continue
        outcome.people_added += 1
        if write:
            contact = people.add_contact(
                session=session, name=row.name, emails=row.emails, phones=row.phones,
                company=company, title=row.title, now=now,
            )  # fmt: skip
            made[row.source_id] = contact.id
        else:
            made[row.source_id] = None
    deal_ids = {t.row.source_id: t.values.get("id") for t in targets if t.row.source_id}
    wanted = [r.deal_source_id for r in plan.roles if r.deal_source_id not in deal_ids]
    table = table_of(Deal)
    for start in range(0, len(wanted), CHUNK):
        query = select(table.c.id, table.c.source_id).where(
            table.c.source_id.in_(wanted[start : start + CHUNK])
        )
        deal_ids.update({source_id: deal_id for deal_id, source_id in session.execute(query)})
    for key in [k for k in wanted if k not in deal_ids and k.startswith(OWN_ID_PREFIX)]:
        # A deal made on this desk, exported as repdesk:ID (it has no source id of its own).
        number = row_id(key.removeprefix(OWN_ID_PREFIX))
        deal = session.get(Deal, number) if number is not None else None
        if deal is not None and not deal.source_id:
            deal_ids[key] = deal.id
    for role in plan.roles:
        if role.deal_source_id not in deal_ids or role.person_source_id not in made:
            outcome.roles_unlinked.append(role.where)
            if role.person_source_id not in made:
                outcome.roles_without_person += 1
            continue
        outcome.roles_added += 1
        deal_id, contact_id = deal_ids[role.deal_source_id], made[role.person_source_id]
        if write and deal_id is not None and contact_id is not None:
            people.link_contact(
                session=session, deal_id=deal_id, contact_id=contact_id, role=role.role,
                main=role.primary, now=now,
            )  # fmt: skip


def _more_people(
    session: Session, targets: list[_Target], outcome: Outcome, now: datetime, *, write: bool
) -> None:
    """The other people a deal's person cell names (HubSpot's associated contacts after the
    first): each found on the desk (by address, else by name at the deal's company) or added
    there, and put on the deal; one on it already keeps the role the rep gave. An address is
    kept where it is one (the import's other people are not refused for a typo: a person's
    cell is descriptive)."""
    for target in targets:
        if not target.row.more_people:
            continue  # most rows: no read of the deal's links for them
        deal_id = target.values.get("id")
        company = str(target.values.get("company") or "")
        on_deal = set() if deal_id is None else {
            link.contact_id for link in people.links_of(session, deal_id)
        }  # fmt: skip
        for name, written in target.row.more_people:
            address = _address_or_none(written)
            emails = (address,) if address else ()
            person = PersonRow(where=target.row.where, source_id="", name=name, emails=emails)
            found = _person_on_desk(session, person, company)
            if found is not None and found.id in on_deal:
                if write and address:
                    people.edit_contact(
                        session=session, contact_id=saved_id(found), add_emails=[address],
                        now=now,
                    )  # fmt: skip
                continue  # on the deal already: counted once, when it came
            outcome.more_people += 1
            if not write or deal_id is None:
                continue
            if found is None:
                found = people.add_contact(
                    session=session, name=name, emails=list(emails), company=company, now=now
                )
            people.link_contact(
                session=session, deal_id=deal_id, contact_id=saved_id(found), now=now
            )
            on_deal.add(saved_id(found))


def _address_or_none(written: str) -> str | None:
    if not written:
        return None
    try:
        return check_address(written)
    except InvalidInput:
        return None


def _person_on_desk(
    session: Session, row: PersonRow, company: str, *, shared: frozenset[str] = frozenset()
) -> Any:
    """The contact a file's person is, on the desk: the one with their address (a name spelt
    otherwise is still them), else the one of their name at their company. An address several
    people of the file share (a team's mailbox) names nobody alone: there the name must agree
    too (re-imported, three people sharing one address became one, with the last one's phone
    and role: a hostile test)."""
    for address in row.emails:
        found = people.contacts_with_address(session, address)
        if len(found) == 1 and (
            address.casefold() not in shared or same_name(found[0].name, row.name)
        ):
            return found[0]
    at = people.company_named(session, company) if company else None
    for contact in people.contacts_named(session, row.name):
        if contact.company_id == (at.id if at is not None else None):
            return contact
    return None


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
    *,
    empty: bool,
) -> dict[str, Stage | None]:
    """The file's stage words (normalised) -> the desk's stage; unknown ones refused together."""
    for ours in stage_map.values():
        if normalise(ours) not in stages.by_name:
            if not create:
                raise RepdeskError(
                    f"the desk has no stage {ours!r} (named in --stage-map; its stages: "
                    f"{', '.join(s.name for s in stages.rows)}; --create-stages adds it)"
                )
            if (problem := stage_service.name_problem(ours)) is not None:
                raise RepdeskError(
                    f"--stage-map names the stage {shown_value(ours)}, which --create-stages "
                    f"cannot add: expected {problem}"
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
    for key, seen in list(unknown.items()):
        # Created with --create-stages, or into an empty desk when the file defines the stage.
        if create or (empty and all(r.stage_probability is not None for r in seen)):
            # A name the stages screen and `stage add` refuse is refused here too, or the
            # pipeline held a stage no one could rename back (a 56-character name came in).
            if (problem := stage_service.name_problem(seen[0].stage)) is not None:
                problems.add_line(
                    f"{seen[0].where}: the stage {shown_value(seen[0].stage)} cannot be "
                    f"added: expected {problem}; map it to one of the desk's with "
                    '--stage-map "THEIRS=OURS"'
                )
                resolved[key] = None  # refused above: nothing is written
                del unknown[key]
                continue
            probability = _most_common([r.stage_probability for r in seen])
            if probability is None:
                probability = _most_common([r.probability for r in seen])
            if probability is None:
                probability = _last_open_probability(stages)
            resolved[key] = stages.plan_new(seen[0].stage, probability)
            del unknown[key]
    if unknown:
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


def _most_common(values: list[int | None]) -> int | None:
    found = Counter(v for v in values if v is not None).most_common(1)
    return found[0][0] if found else None


def _order_stages(
    rows: list[DealRow],
    resolved: dict[str, Stage | None],
    stages: _Stages,
    notes: ImportNotes,
    *,
    empty: bool,
) -> None:
    """Where the created stages go, in the export's own order: its stage order column
    (Salesforce's StageSortOrder, repdesk's stage_order), else the stages' probability, else
    the order they first appear in. Each goes after the desk's stage that the file ranks last
    before it (else before the first it ranks after it; else after the last open stage). Into
    an empty desk, from a file that defines its stages (a repdesk export), the desk's open
    stages the file names also take its order and probabilities."""
    groups: dict[str, list[DealRow]] = {}
    for row in rows:
        groups.setdefault(normalise(row.stage), []).append(row)
    by_order = any(r.stage_order is not None for r in rows)
    rank: dict[int, tuple[bool, int, int]] = {}  # stage id -> (no value, value, first seen)
    for index, (key, group) in enumerate(groups.items()):
        stage = resolved.get(key)
        if stage is None or stage.id is None or stage.kind != "open":
            continue
        if by_order:
            value = _most_common([r.stage_order for r in group])
        else:
            value = _most_common([r.stage_probability for r in group])
            if value is None:
                value = _most_common([r.probability for r in group])
        mine = (value is None, value or 0, index)
        rank[stage.id] = min(rank.get(stage.id, mine), mine)
    order = [s for s in stages.rows if s.kind == "open"]
    last = (True, 0, len(groups))  # a planned stage the file names no row of: the end
    for planned in sorted(stages.planned, key=lambda s: rank.get(s.id or 0, last)):
        mine = rank.get(planned.id or 0, last)
        before = [i for i, s in enumerate(order) if s.id in rank and rank[s.id] < mine]
        after = [i for i, s in enumerate(order) if s.id in rank and rank[s.id] > mine]
        if before:
            place = max(before) + 1
        elif after:
            place = min(after)
        else:
            place = len(order)
        order.insert(place, planned)
    defines = any(r.stage_probability is not None for r in rows)  # a repdesk export
    if empty and defines and by_order:
        # The slots the file's stages hold, filled in the file's order; the desk's other
        # stages keep theirs.
        slots = [i for i, s in enumerate(order) if s.id in rank]
        ranked = sorted((order[i] for i in slots), key=lambda s: rank[s.id or 0])
        for slot, stage in zip(slots, ranked, strict=True):
            order[slot] = stage
    stages.open_order = order
    if empty:
        for key, group in groups.items():
            stage = resolved.get(key)
            wanted = _most_common([r.stage_probability for r in group])
            if (
                stage is not None
                and stage.id is not None
                and stage.id > 0
                and stage.kind == "open"
                and wanted is not None
                and wanted != stage.probability
                and stage.id not in stages.probabilities
            ):
                stages.probabilities[stage.id] = wanted
                notes.stage_probabilities.append((stage.name, stage.probability, wanted))
    planned_ids = {id(s) for s in stages.planned}
    kept = [id(s) for s in order if id(s) not in planned_ids]
    notes.stages_reordered = kept != [id(s) for s in stages.rows if s.kind == "open"]


def _last_open_probability(stages: _Stages) -> int:
    open_ones = [s for s in stages.rows if s.kind == "open"]
    return open_ones[-1].probability if open_ones else 50


def _write_stages(session: Session, stages: _Stages, notes: ImportNotes) -> None:
    if not (stages.planned or stages.probabilities or notes.stages_reordered):
        return  # the pipeline stays exactly as it is
    for stage in stages.rows:
        if stage.id in stages.probabilities:
            stage.probability = stages.probabilities[stage.id]
            session.add(stage)
    for planned in stages.planned:
        placeholder = planned.id
        created = Stage(name=planned.name, position=0, probability=planned.probability, kind="open")
        session.add(created)
        session.flush()
        assert placeholder is not None and created.id is not None
        stages.written[placeholder] = created.id
        place = next(i for i, s in enumerate(stages.open_order) if s is planned)
        stages.open_order[place] = created
    # Open stages in their order, then Won and Lost (and any other closed one) after them.
    closed = [s for s in stages.rows if s.kind != "open"]
    for position, stage in enumerate([*stages.open_order, *closed], start=1):
        if stage.position != position:
            stage.position = position
            session.add(stage)
    session.flush()


# ---------------------------------------------------------------- deals


def _targets(
    rows: list[DealRow],
    resolved: dict[str, Stage | None],
    stages: _Stages,
    today: date,
    problems: Problems,
    notes: ImportNotes,
) -> list[_Target]:
    first_open = stages.first("open")
    targets = []
    notes.today = today
    stage_calls = _stage_forecasts(rows, resolved, stages, notes)
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
        # Messages name the file's own columns (CloseDate, Deal - Won time), never ours.
        closed_column = _column(row, "closed_on" if row.closed_on else "close_date", "closed_on")
        if status != "open" and closed_on is None:
            if closed_column:
                problems.add(row.where, closed_column, "", f"the date the {status} deal closed")
            else:
                problems.add_line(
                    f"{row.where}: no date the {status} deal closed: the file has no column for "
                    "it (give one with --map closed_on=COLUMN)"
                )
            continue
        if closed_on is not None and closed_on > today:
            # A close the CRM dates after today (a lost deal closed early, a date entered
            # ahead): kept as it is; it counts in the period of that day, and is listed.
            notes.future_closes.append((row.where, closed_on))
        expected = row.expected_close or (row.close_date if status == "open" else None)
        if status == "open" and expected is not None and expected < today:
            notes.expected_passed.append(row.where)
        expected_column = _column(
            row, "expected_close" if row.expected_close else "close_date", "expected_close"
        )
        first = row.first_contact
        first_column = row.columns.get("first_contact", "")
        if first is not None and first > today:
            # Checked before the dates below take its place: a record created on a day to
            # come was blamed on its expected close, which is meant to be ahead (a hostile
            # test).
            problems.add(row.where, first_column, first.isoformat(), f"today ({today}) or earlier")
            continue
        if first is None or row.created_is_first_contact:
            # A CRM's creation date is the latest the first contact can be; a deal with none
            # (Maven's Prospecting rows) is first contacted when it lands on the desk.
            if first is None:
                notes.no_first_contact.append(row.where)
            elif closed_on is not None and closed_on < first:
                # Loaded later (a migration): the record's creation day is not the contact.
                notes.closed_before_created.append((row.where, first))
            elif expected is not None and expected < first:
                notes.expected_before_created.append((row.where, first))
            candidates = [d for d in (first or today, closed_on, expected) if d is not None]
            first = min(candidates)
            if first == closed_on and closed_on != row.first_contact:
                first_column = closed_column
            elif first == expected and expected != row.first_contact:
                first_column = expected_column
        if first > today:
            # A first contact must have happened: a deal first contacted after today could
            # never be worked.
            problems.add(row.where, first_column, first.isoformat(), f"today ({today}) or earlier")
            continue
        if closed_on is not None and closed_on < first:
            problems.add(row.where, closed_column, closed_on.isoformat(), f"on or after {first}")
            continue
        if expected is not None and expected < first:
            problems.add(row.where, expected_column, expected.isoformat(), f"on or after {first}")
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
        target = _Target(row, values, saved_id(entry), saved_id(final))
        target.own = dict(row.own)
        if status == "open" and row.crm_forecast and "forecast" not in target.own:
            _take_crm_forecast(target, stage_calls, notes)
        if status != "won" or target.own.get("nps") is None:
            # A score is a won customer's: on another deal (a file edited by hand) it is no one's.
            target.own.pop("nps", None)
            target.own.pop("nps_on", None)
        elif "nps_on" in target.own:
            target.own["nps_on"] = row.nps_on
        targets.append(target)
    return targets


def _stage_forecasts(
    rows: list[DealRow], resolved: dict[str, Stage | None], stages: _Stages, notes: ImportNotes
) -> dict[int, tuple[str | None, str]]:
    """The forecast category the CRM gives each desk stage's open deals (the most common in
    the file: Salesforce gives a deal its stage's category unless the rep forecasts it
    otherwise), beside the desk's default for the stage, by the stage's id. Where the two
    differ the stage is named in the summary: the desk's stages keep their own probabilities,
    and no deal becomes a call for its stage's sake (it would stay in the category when the
    deal moves on)."""
    found: dict[int, Counter[str]] = {}
    by_id: dict[int, Stage] = {}
    for row in rows:
        stage = resolved.get(normalise(row.stage))
        is_open = stage is not None and stage.kind == "open" and row.status in (None, "open")
        if row.crm_forecast and stage is not None and is_open:
            by_id[saved_id(stage)] = stage
            found.setdefault(saved_id(stage), Counter())[row.crm_forecast] += 1
    calls: dict[int, tuple[str | None, str]] = {}
    place = {saved_id(stage): i for i, stage in enumerate(stages.open_order)}
    for stage_id, counted in sorted(found.items(), key=lambda item: place.get(item[0], 0)):
        chance = stages.probabilities.get(stage_id, by_id[stage_id].probability)
        ours = forecast.default_category(chance)
        (theirs, most), *runner_up = counted.most_common(2)
        if runner_up and runner_up[0][1] == most:
            # No category the stage's deals mostly have: each is its own (unless the desk's).
            calls[stage_id] = (None, ours)
            continue
        calls[stage_id] = (theirs, ours)
        if theirs != ours:
            notes.stage_forecasts.append((by_id[stage_id].name, theirs, ours, chance))
    return calls


def _take_crm_forecast(
    target: _Target, stage_calls: dict[int, tuple[str | None, str]], notes: ImportNotes
) -> None:
    """The CRM's forecast category, as the rep's call where it is not the one the CRM gives
    most of the deal's stage (with no such majority: not the desk's default for the deal);
    otherwise no call, the deal follows its stage. Kept too where it is the desk's default
    today: a stage's default moved later (as the import's summary suggests) took the CRM's
    Commit from the one deal it named so (a hostile test). A re-import takes the CRM's word
    again, as it takes its stage and value: a call an earlier import made stayed when the CRM
    took it back, and commit read more than the CRM's (a hostile test)."""
    theirs, ours = stage_calls.get(target.entry_stage_id, (None, None))
    own = target.own.get("probability")
    if isinstance(own, int):
        ours = forecast.default_category(own)
    call = target.row.crm_forecast
    if call is not None and call != (theirs if theirs is not None else ours):
        target.own["forecast"] = call
        notes.crm_forecasts.append((target.row.where, call))
    elif call is not None:
        target.own["forecast"] = None


def _column(row: DealRow, *names: str) -> str:
    """The file's column for the first of our fields it has one for ("" if none)."""
    return next((row.columns[name] for name in names if row.columns.get(name)), "")


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
    table = table_of(Deal)
    columns = [
        table.c.id,
        table.c.source_id,
        table.c.stage_id,
        table.c.stage_entered_at,
        table.c.forecast,
        table.c.probability,
        table.c.competitor,
        table.c.nps,
        table.c.nps_on,
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
        matched = without_id.get(_identity(record["title"], record["company"] or ""))
        if matched is not None:
            take(matched, record)


def _keep_companies_not_named(targets: list[_Target]) -> None:
    """A deal whose row names its account only by id, with no account file to name it, keeps
    the company it has: Opportunity.csv re-imported alone emptied the company of every deal
    (a hostile test)."""
    for target in targets:
        existing = target.existing
        if existing is not None and target.row.account and not target.values["company"]:
            target.values["company"] = existing["company"]


def _changed(target: _Target) -> bool:
    return bool(_changed_fields(target))


def _changed_fields(target: _Target) -> list[str]:
    """The deal's fields the import changes (its stage as "stage")."""
    existing = target.existing
    assert existing is not None
    changed = ["stage"] if existing["stage_id"] != target.stage_id else []
    given = (*target.values.items(), *target.own.items())
    return changed + [name for name, value in given if existing[name] != value]


def _real_id(stages: _Stages, stage_id: int) -> int:
    return stages.written[stage_id] if stage_id < 0 else stage_id


def _write_deals(
    session: Session,
    targets: list[_Target],
    stages: _Stages,
    now: datetime,
    progress: Progress | None,
) -> None:
    deal_table = table_of(Deal)
    change_table = table_of(StageChange)
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
                **(_OWN_DEFAULTS | t.own),
                "stage_id": t.stage_id,
                "source_id": t.row.source_id,
                "stage_entered_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for t in chunk
        ]
        changes = []
        for target, deal_id in zip(chunk, _insert_deals(session, rows), strict=True):
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
        probability = {saved_id(stage): stage.probability for stage in stages.rows}
        probability |= {
            stages.written.get(saved_id(s), saved_id(s)): s.probability for s in stages.planned
        }
        for start in range(0, len(updates), CHUNK):
            chunk = updates[start : start + CHUNK]
            params, changes, kept = [], [], []
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
                kept.extend(_kept_changes(existing, target, probability, now))
            session.execute(statement, params)
            _update_own(session, chunk)
            if changes:
                session.execute(insert(change_table), changes)
            for model in (CloseDateChange, ForecastChange):
                rows = [row for of, row in kept if of is model]
                if rows:
                    session.execute(insert(table_of(model)), rows)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    for target in targets:
        if target.existing is not None and "id" not in target.values:
            target.values["id"] = target.existing["id"]
    # Core statements go around the session's flush: tell the sync outbox directly.
    outbox.enqueue(session, "deal", (t.values["id"] for t in (*creates, *updates)))


def _insert_deals(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows; their new ids, in the rows' order.

    On SQLite, SQLAlchemy can only tie RETURNING rows to their parameters one statement per
    row (10,000 statements for a 10,000-row file: half the import's time). Instead one
    executemany, then the ids above the largest before it: the import's write transaction
    holds the desk alone, and SQLite gives each new row one more than the largest id so far
    (AUTOINCREMENT: than the largest it ever gave), so they come in the rows' order."""
    table = table_of(Deal)
    if session.get_bind().dialect.name != "sqlite":
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.execute(returning, rows).scalars())
    largest = session.execute(select(func.max(table.c.id))).scalar() or 0
    session.execute(insert(table), rows)
    ids = session.execute(
        select(table.c.id).where(table.c.id > largest).order_by(table.c.id)
    ).scalars()
    found = list(ids)
    if len(found) != len(rows):  # the write transaction let another writer in: never expected
        raise RuntimeError(f"{len(rows)} deals inserted, {len(found)} new ids read back")
    return found


def _update_own(session: Session, targets: list[_Target]) -> None:
    """Set the rep's own forecast fields the file gives, one statement per set of columns."""
    table = table_of(Deal)
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for target in targets:
        if target.own and target.existing is not None:
            params = {f"own_{k}": v for k, v in target.own.items()}
            by_columns.setdefault(tuple(sorted(target.own)), []).append(
                params | {"deal_id": target.existing["id"]}
            )
    for columns, rows in by_columns.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("deal_id"))
            .values({name: bindparam(f"own_{name}") for name in columns})
        )
        session.execute(statement, rows)


def _kept_changes(
    existing: dict[str, Any], target: _Target, probability: dict[int, int], now: datetime
) -> list[tuple[type[SQLModel], dict[str, Any]]]:
    """What a re-import changed that the deal's histories keep (schema v5, v12): its own
    probability, its expected close, and the forecast category of a deal open before and after
    (a new stage's default)."""
    kept: list[tuple[type[SQLModel], dict[str, Any]]] = []
    deal_id = existing["id"]
    if "probability" in target.own and existing["probability"] != target.own["probability"]:
        row = {"deal_id": deal_id, "stage_id": None, "from_probability": existing["probability"],
               "to_probability": target.own["probability"], "changed_at": now}  # fmt: skip
        kept.append((ProbabilityChange, row))
    was, now_date = existing["expected_close"], target.values.get("expected_close")
    if "expected_close" in target.values and was != now_date:
        row = {"deal_id": deal_id, "from_date": was, "to_date": now_date, "changed_at": now}
        kept.append((CloseDateChange, row))
    if existing["status"] == "open" and target.values.get("status", "open") == "open":

        def category(stage_id: int, fields: dict[str, Any]) -> str:
            own = fields["probability"]
            chance = own if own is not None else probability.get(stage_id, 0)
            return forecast.category(fields["forecast"], chance)

        before = category(existing["stage_id"], existing)
        after = category(target.stage_id, existing | target.own)
        if before != after:
            row = {"deal_id": deal_id, "from_category": before, "to_category": after,
                   "changed_at": now}  # fmt: skip
            kept.append((ForecastChange, row))
    return kept


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
    table = table_of(Deal)
    found_ids = list(wanted)
    for start in range(0, len(found_ids), CHUNK):
        chunk = found_ids[start : start + CHUNK]
        query = select(
            table.c.id, table.c.source_id, table.c.closed_on, table.c.expected_close,
            table.c.status,
        )  # fmt: skip
        for deal_id, source_id, closed_on, expected, status in session.execute(
            query.where(table.c.source_id.in_(chunk))
        ):
            row = DealRow(where="", source_id=source_id, title="")
            values = {"id": deal_id, "closed_on": closed_on, "expected_close": expected,
                      "status": status}  # fmt: skip
            links[source_id.partition(":")[2]] = [_Target(row, values, 0, 0)]
    _accounts_on_the_desk(session, plan, links)
    return links


def _accounts_on_the_desk(
    session: Session, plan: ImportPlan, links: dict[str, list[_Target]]
) -> None:
    """An account's tasks whose opportunities came in before: the desk keeps no account ids,
    but an account file in this import names the account, and the desk's deals of that
    company are its deals (Task.csv with Account.csv after Opportunity.csv left every task of
    an account out: a hostile test)."""
    wanted: dict[str, list[str]] = {}  # a company's folded name -> the account ids naming it
    for activity in plan.activities:
        for link in activity.links:
            name = one_name(plan.accounts.get(link, "")).casefold()
            if link not in links and name:
                wanted.setdefault(name, []).append(link)
    if not wanted:
        return
    table = table_of(Deal)
    # The desk's companies as written, matched in any case (SQLite's lower() leaves É as it
    # is: "ACME GmbH" on the desk never took the account "Acme GmbH"'s tasks: a review).
    written = [
        company
        for (company,) in session.execute(select(table.c.company).distinct())
        if company and one_name(company).casefold() in wanted
    ]
    for start in range(0, len(written), CHUNK):
        query = select(
            table.c.id, table.c.company, table.c.closed_on, table.c.expected_close,
            table.c.status,
        ).where(table.c.company.in_(written[start : start + CHUNK]))  # fmt: skip
        for deal_id, company, closed_on, expected, status in session.execute(query):
            row = DealRow(where="", source_id=f"repdesk:{deal_id}", title="")
            values = {"id": deal_id, "closed_on": closed_on, "expected_close": expected,
                      "status": status}  # fmt: skip
            for link in set(wanted.get(one_name(company).casefold(), [])):
                links.setdefault(link, []).append(_Target(row, values, 0, 0))


def _open_first(candidates: list[_Target]) -> list[_Target]:
    """The open deals among `candidates`, else the won ones, else all of them."""
    for wanted in ("open", "won"):
        found = [t for t in candidates if t.values.get("status") == wanted]
        if found:
            return found
    return candidates


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
    steps: list[tuple[ActivityRow, _Target]] = []
    for activity in activities:
        target = None
        for link in activity.links:
            candidates = links.get(link)
            if candidates and activity.still_open:
                # A to-do of an account goes on its deal still to be won, where it has one:
                # the one closing first after its day was a lost deal (a hostile test).
                candidates = _open_first(candidates)
            if candidates:
                day = activity.at.date()
                target = candidates[0] if len(candidates) == 1 else _pick_deal(candidates, day)
                break
        if target is None:
            outcome.activities_unlinked.append(activity.where)
        elif activity.still_open:
            steps.append((activity, target))
        else:
            placed.append((activity, target))
    done = [activity for activity, _ in placed]
    _count_steps(session, steps, done, outcome, write=write, now=now)
    _count_done(session, placed, outcome, write=write, now=now)


def _count_done(
    session: Session,
    placed: list[tuple[ActivityRow, _Target]],
    outcome: Outcome,
    *,
    write: bool,
    now: datetime,
) -> None:
    """A CRM's done tasks as activities, each once. Known by its task id in the capture
    ledger ("task:salesforce:00T…", kind activity), so a re-import never brings back one the
    rep deleted nor adds again one the rep edited (a hostile test: both came back). One
    brought in before the ledger knew done tasks is found as an identical activity on its
    deal, and the ledger learns it."""
    if not placed:
        return
    keys = [f"task:{activity.source_id}" for activity, _ in placed]
    ledger = _ledger(session, keys, "activity")
    deal_ids = {found for _, t in placed if (found := _deal_id(t)) is not None}
    present: dict[tuple[Any, ...], list[int]] = {}  # what is on the desk: its activities' ids
    table = table_of(Activity)
    ids = list(deal_ids)
    for start in range(0, len(ids), CHUNK):
        query = select(
            table.c.deal_id,
            table.c.kind,
            table.c.at,
            table.c.outcome,
            table.c.minutes,
            table.c.text,
            table.c.id,
        ).where(table.c.deal_id.in_(ids[start : start + CHUNK]))
        for r in session.execute(query):
            present.setdefault(tuple(r[:6]), []).append(int(r[6]))
    rows: list[tuple[str, dict[str, Any]]] = []
    learnt: list[tuple[str, int, Any]] = []  # ledger key, activity id, deal id
    for (activity, target), key in zip(placed, keys, strict=True):
        values = (
            # A deal not written yet (a dry run) by its place in the plan: two new deals are
            # two deals (their tasks were counted as one: a hostile test).
            _deal_id(target) or f"new:{id(target)}",
            activity.kind,
            # Done, so done by now: a task completed ahead of its day was dated after now.
            min(activity.at, now),
            activity.outcome,
            activity.minutes,
            activity.text,
        )
        if key in ledger:
            outcome.activities_present += 1
            continue
        ledger[key] = 0  # twice in the files: once
        if present.get(values):
            # On the desk before the ledger knew tasks: one activity each. Two tasks alike (two
            # calls on one day) are two activities, never one (a review).
            outcome.activities_present += 1
            learnt.append((key, present[values].pop(), values[0]))
            continue
        outcome.activities_added += 1
        names = ("deal_id", "kind", "at", "outcome", "minutes", "text")
        rows.append((key, dict(zip(names, values, strict=True))))
    if not write:
        return
    made: list[int] = []
    if rows:
        # In one statement each, as before the ledger (one by one, a large Task.csv slowed).
        made = list(
            session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [row for _, row in rows],
            ).scalars()
        )
        learnt += [
            (key, activity_id, row["deal_id"])
            for (key, row), activity_id in zip(rows, made, strict=True)
        ]
    if learnt:
        session.execute(
            insert(table_of(Captured)),
            [{"source_key": key, "kind": "activity", "item_id": activity_id,
              "deal_id": deal_id, "captured_at": now}
             for key, activity_id, deal_id in learnt],
        )  # fmt: skip
    # Core statements go around the session's flush: tell the sync outbox directly.
    outbox.enqueue(session, "activity", made)


def _ledger(session: Session, keys: list[str], kind: str) -> dict[str, int]:
    """The capture ledger's entries of `kind` among `keys`: key -> the row it became."""
    found: dict[str, int] = {}
    captured = table_of(Captured)
    for start in range(0, len(keys), CHUNK):
        query = select(captured.c.source_key, captured.c.item_id).where(
            captured.c.kind == kind, captured.c.source_key.in_(keys[start : start + CHUNK])
        )
        found.update((key, int(item)) for key, item in session.execute(query))
    return found


def _deal_id(target: _Target) -> int | None:
    """The desk's id of a target's deal: written, or (in a dry run, where nothing is) the
    deal it would update. A dry run counted every task of a re-import as new (a hostile
    test: "3 would add", then "0 added, 3 already on the desk")."""
    if "id" in target.values:
        return int(target.values["id"])
    return int(target.existing["id"]) if target.existing is not None else None


def _count_steps(
    session: Session,
    steps: list[tuple[ActivityRow, _Target]],
    done: list[ActivityRow],
    outcome: Outcome,
    *,
    write: bool,
    now: datetime,
) -> None:
    """A CRM's open tasks as next steps, due on their day (overdue where it has passed): as
    done activities they were touches that never happened, and the queues had no to-do of
    them (a new-user trial). Each is known by the CRM's task id in the capture ledger
    (`captured`, "task:salesforce:00T…"), so a re-import never adds it again, whatever the
    rep did with it since (snoozed, edited, done or deleted: matched by its day and note, a
    snoozed step came back twice: a hostile test). A task `done` in the CRM since completes
    its step, if still pending."""
    keys = [f"task:{task.source_id}" for task, _ in steps] + [f"task:{t.source_id}" for t in done]
    ledger = _ledger(session, keys, "follow_up")
    captured = table_of(Captured)
    today = clock.local_date(now)
    new: dict[str, dict[str, Any]] = {}
    for task, target in steps:
        key = f"task:{task.source_id}"
        if key in ledger or key in new:
            outcome.steps_present += 1
            continue
        if target.values.get("status") == "lost":
            outcome.steps_on_lost.append(task.where)
            continue
        due = clock.local_date(task.at) if task.due else today
        outcome.steps_added += 1
        outcome.steps_overdue += due < today
        if outcome.steps_oldest is None or due < outcome.steps_oldest:
            outcome.steps_oldest = due
        outcome.steps_undated += not task.due
        new[key] = {"deal_id": target.values.get("id"), "due_on": due, "note": task.text,
                    "created_at": now}  # fmt: skip
    finished = [ledger[f"task:{t.source_id}"] for t in done if f"task:{t.source_id}" in ledger]
    if not write:
        # Counted as the import would: a dry run said nothing of them (a hostile test).
        for step_id in finished:
            step = session.get(FollowUp, step_id)
            outcome.steps_done_there += step is not None and step.done_at is None
        return
    table = table_of(FollowUp)
    made = []
    for key, row in new.items():
        (step_id,) = session.execute(insert(table).returning(table.c.id), row).one()
        made.append(step_id)
        session.execute(insert(captured), {"source_key": key, "kind": "follow_up",
                                           "item_id": step_id, "deal_id": row["deal_id"],
                                           "captured_at": now})  # fmt: skip
    outbox.enqueue(session, "follow_up", made)
    for step_id in finished:
        step = session.get(FollowUp, step_id)
        if step is not None and step.done_at is None:
            step.done_at, step.outcome = now, "done in the CRM"
            session.add(step)
            outcome.steps_done_there += 1
