"""One sync run: link (the first time), take in what changed in the CRM, send the outbox.

Every desk write here is a short transaction of its own and no transaction is open while a
request is on the wire, so the rep's app and shell keep writing during a long first sync,
and a kill at any point leaves a desk that the next run finishes from.

Nothing twice in the CRM: Pipedrive takes no idempotency key on a create, so before each
create the outbox entries are marked `sending_since` (committed), and a later run that finds
the mark looks in Pipedrive for what that create would have made (same fields, made since
the mark, owned by the rep, not linked to any desk row) and links it instead of creating it
again. A delete that finds nothing (404) is done; an update is the same however often sent.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy import text as sql_text
from sqlmodel import Session, col

from repdesk.core import clock, dates
from repdesk.core import text as core_text
from repdesk.core.currencies import is_code
from repdesk.core.domain import row_id
from repdesk.core.errors import InvalidInput, RepdeskError
from repdesk.services import activities as activity_service
from repdesk.services import deals as deal_service
from repdesk.services import followups as follow_up_service
from repdesk.services import merge as merge_service
from repdesk.services import trash
from repdesk.storage import migrations
from repdesk.storage.models import (
    Activity,
    Deal,
    FollowUp,
    Stage,
    SyncConflict,
    SyncLink,
    SyncOutbox,
    saved_id,
    table_of,
)
from repdesk.storage.outbox import APPLYING, LINKED_KEY
from repdesk.storage.store import held_open, read_session, sync_turn, write_session
from repdesk.sync import mapping, state
from repdesk.sync.connector import (
    Connector,
    Forbidden,
    NotThere,
    Obj,
    Refused,
    RemoteStage,
    SyncBusy,
    SyncError,
    Unanswered,
)
from repdesk.sync.mapping import View

MODELS: dict[str, type[Deal] | type[Activity] | type[FollowUp]] = {
    "deal": Deal,
    "activity": Activity,
    "follow_up": FollowUp,
}
# Pulls start this long before the last one began: an object changed while it ran is seen
# again rather than missed (seeing it twice changes nothing).
OVERLAP = timedelta(minutes=5)
# A create whose answer was lost is looked for among objects changed since a little before it.
LOOKBACK = timedelta(minutes=2)
CHUNK = 500
PUSH_BATCH = 100
_ADOPT = "_adopt"  # a link made at the first sync from the CSV importer's id: Pipedrive's wins
# In an activity's, follow-up's or note's base: the Pipedrive deal it was on when last sent or
# taken in. A desk merge (or a restore undoing one) moves rows between deals without changing
# what they say; this is how the push sees that it must send the move, and the pull that
# Pipedrive moved one (a merge made there).
DEAL = "deal"
# In a deal's base: the Pipedrive pipeline it was in when last taken in.
PIPELINE = "pipeline_id"
# In a deal's base: [desk stage id, Pipedrive stage id] when Pipedrive has the deal in a stage
# the desk has no mapping for (another pipeline's, one it does not list, none) and the desk kept
# it where it was. While both still hold, that desk stage stands for Pipedrive's: nothing to
# send, nothing to take in (see _stage_there).
KEPT_STAGE = "kept_stage"
# In a deal's base: the Pipedrive stage the rep was told could not be sent to it (it is in
# another pipeline there). Said once per desk move, not again at each later change of the deal
# (a value, a call logged: each sent the deal, each repeated the line).
STAGE_NOT_SENT = "stage_not_sent"
SHOWN_DEALS = 5  # deals named in a line about many; the rest counted
STAGES_HINT = "`repdesk sync stages` shows the mapping (`--reset` to choose again)"

_T = TypeVar("_T")

AskStage = Callable[[Stage, list[RemoteStage], RemoteStage], RemoteStage]


@dataclass
class Report:
    dry_run: bool = False
    linked: int = 0  # deals matched by the Pipedrive id the CSV importer kept
    taken_new: int = 0
    taken_changed: int = 0
    trashed: int = 0  # deleted in Pipedrive: in the desk's trash
    created: int = 0
    updated: int = 0
    deleted: int = 0
    merged: int = 0  # deals merged into another on the desk, merged in Pipedrive too
    kept_both: int = 0
    conflicts: int = 0
    waiting: int = 0  # what a dry run would send
    deleted_there: int = 0  # what a dry run found deleted in Pipedrive (in taken_changed too)
    refused: int = 0  # rows Pipedrive refused: set aside, sent again at the next sync
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.dry_run:
            return [
                f"Dry run: {self.taken_new + self.taken_changed} changes in Pipedrive to take in"
                + (f" ({self.deleted_there} of them deletions)" if self.deleted_there else "")
                + f", {self.waiting} desk rows to send; nothing written on either side.",
                *self.notes,
            ]
        lines = []
        if self.linked:
            deals = "1 deal" if self.linked == 1 else f"{self.linked} deals"
            lines.append(f"Linked {deals} imported from Pipedrive before.")
        lines.append(
            f"Took in {self.taken_new} new and {self.taken_changed} changed from Pipedrive"
            + (f", {self.trashed} deleted there (in the trash for 30 days)" if self.trashed else "")
            + f"; sent {self.created} new, {self.updated} changes, {self.deleted} deletions"
            + (f", {self.merged} merge{'s' if self.merged != 1 else ''}." if self.merged else ".")
        )
        if self.kept_both:
            texts = "1 text" if self.kept_both == 1 else f"{self.kept_both} texts"
            lines.append(f"{texts} changed on both sides: both versions kept.")
        if self.conflicts:
            fields = "1 field" if self.conflicts == 1 else f"{self.conflicts} fields"
            lines.append(
                f"{fields} changed on both sides: "
                "`repdesk sync conflicts` lists them, `repdesk sync settle ID desk|pipedrive`."
            )
        return [*lines, *self.notes]


@dataclass(frozen=True, slots=True)
class _Plan:
    """One outbox row to send, as read at the start of its batch."""

    kind: str
    local_id: int
    last_id: int  # the newest outbox entry it covers: later ones wait for the next sync
    sending_since: datetime | None  # a create was under way then (an interrupted run)
    row: Any  # None: deleted on the desk
    link: SyncLink | None
    held: frozenset[str]  # fields waiting in the conflicts list: not sent
    deal_remote: int | None  # an activity's deal in Pipedrive
    view: View | None
    remote_type: str
    # A deal deleted on the desk: "delete" it in Pipedrive; "merge" it into `merge_into` (the
    # deal it was merged into on the desk, by its id there); "leave" it (merged into a deal
    # Pipedrive deleted meanwhile: nothing is deleted for a deletion made there).
    merge: str = "delete"
    merge_into: int | None = None
    merge_moved: dict[str, list[int]] | None = None  # the rows that merge moved, by table

    @classmethod
    def deleted(
        cls,
        kind: str,
        local_id: int,
        last_id: int,
        link: SyncLink | None,
        merge: str = "delete",
        merge_into: int | None = None,
        merge_moved: dict[str, list[int]] | None = None,
    ) -> _Plan:
        """A row deleted on the desk (a deal merged away: see `merge`)."""
        return cls(
            kind, local_id, last_id, None, None, link, frozenset(), None, None, "",
            merge, merge_into, merge_moved,
        )  # fmt: skip

    @property
    def creates(self) -> bool:
        return self.row is not None and (
            self.link is None or self.link.remote_type != self.remote_type
        )


@dataclass
class _Sent:
    """What a batch's requests did, written to the desk in one transaction."""

    links: list[SyncLink] = field(default_factory=list)
    unlinked: list[int] = field(default_factory=list)
    bases: dict[int, View] = field(default_factory=dict)
    done: list[tuple[str, int, int]] = field(default_factory=list)
    # Rows a merge in Pipedrive moved: (kind, desk ids, from, to), deals by their ids there.
    moved: list[tuple[str, list[int], int, int]] = field(default_factory=list)
    # A deal merged away whose Pipedrive deal becomes the kept one's: (its link, kept's id there).
    relinks: list[tuple[int, int]] = field(default_factory=list)
    # Rows deleted on the desk, their deletion done: their conflicts go.
    gone: list[tuple[str, int]] = field(default_factory=list)
    # Activities, follow-ups and notes a change was sent for and Pipedrive no longer has.
    deleted_there: list[SyncLink] = field(default_factory=list)
    # Rows Pipedrive refused ("kind:id" -> why), and those whose refused create made nothing.
    refused: dict[str, str] = field(default_factory=dict)
    not_made: list[tuple[str, int]] = field(default_factory=list)


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunks(items: Iterable[_T], size: int = CHUNK) -> Iterator[list[_T]]:
    chunk: list[_T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Sync:
    def __init__(
        self,
        engine: Engine,
        connector: Connector,
        *,
        all_owners: bool = False,
        pipeline_id: int | None = None,
        ask_stage: AskStage | None = None,
        currency: str = "EUR",
    ) -> None:
        self.engine = engine
        self.crm = connector
        self.all_owners = all_owners
        self.pipeline_id = pipeline_id
        self.currency = currency  # the desk's (settings): a deal with none in Pipedrive is in it
        self.ask_stage = ask_stage
        self.report = Report()
        self.user_id: int | None = None
        self.stage_map: dict[int, int] = {}  # desk stage id -> remote stage id
        self.back_map: dict[int, int] = {}  # remote stage id -> desk stage id
        self.pipeline: int | None = None  # the Pipedrive pipeline of the mapped stages
        self._stage_names: dict[int, str] = {}  # desk stage id -> name, for the summary
        self._orgs: dict[int, Obj] = {}
        self._persons: dict[int, Obj] = {}
        self._desk_open: list[int] = []
        # The organization/person ids the deal being sent was given (kept in its base).
        self._contact_ids: dict[str, Any] = {}
        self._gone_there: set[int] = set()  # desk deals deleted in Pipedrive, trashed last
        self._gone_remote: set[int] = set()  # their ids there
        # A desk deal deleted in Pipedrive whose rows moved to another desk deal: merged there.
        self._merged_there: dict[int, int] = {}
        # Pipedrive deals gone there whose desk deal took over one merged into it (by the push).
        self._taken_over: dict[int, int] = {}
        # Rows Pipedrive deleted on a deal it deleted: they go with the deal, or, the deal
        # merged there, to the trash on their own.
        self._deleted_with_deal: dict[int, list[tuple[str, int]]] = defaultdict(list)
        self._seen_activities: set[int] = set()  # pulled this run: known not deleted
        # Deals whose desk stage this push could not send (another pipeline there): their
        # link, the stage, their desk id and that pipeline; one line for all (_tell_stages).
        self._stage_not_sent: list[tuple[int, Any, int, Any]] = []
        self._contacts: dict[tuple[Any, ...], int] = {}  # see _known_contact
        self._contacts_read = False  # the caches read into it
        self._bases_read = False  # the deals' bases read into _remembered
        self._remembered: dict[tuple[Any, ...], int] = {}  # see _remember_contacts
        self._marked_at = clock.now()  # when the batch's creates were marked as under way
        self._adopted_now: set[int] = set()  # desk deals this run linked by an imported id

    # ------------------------------------------------------------ the run

    def run(self, *, dry_run: bool = False) -> Report:
        with held_open(self.engine), sync_turn(self.engine) as mine:
            if not mine:
                # Both would send the same new deals and organizations, each once.
                raise SyncBusy(
                    "another sync with Pipedrive is under way on this desk (the app's or a "
                    "shell's): nothing done; try again when it ends"
                )
            return self._run(dry_run=dry_run)

    def _run(self, *, dry_run: bool) -> Report:
        self.report.dry_run = dry_run
        try:
            with read_session(self.engine) as session:
                linked = state.get(session, LINKED_KEY) is not None
            if dry_run:
                self._dry_run(linked)
                return self.report
            if not linked:
                self._link()
            else:
                self._complete_stage_map()
            self._load_marks()
            self._recover()
            self._pull()
            self._push()
        except Exception as exc:
            # Every failure, not only the SyncErrors: one the sync did not foresee left the
            # status saying nothing had failed (tests/pipedrive/test_failures_recorded.py).
            if not dry_run:
                record_failure(self.engine, failure_line(exc))
            raise
        except KeyboardInterrupt:
            # Stopped by the rep (ctrl+c): what was written stays written, and the status
            # says the sync did not finish (it said nothing: a hostile test).
            if not dry_run:
                record_failure(self.engine, "stopped (ctrl+c) before it finished")
            raise
        with write_session(self.engine) as session:
            state.note_success(session, clock.now())
        return self.report

    def _dry_run(self, linked: bool) -> None:
        since = None
        owner = None if self.all_owners else self.crm.whoami()
        if linked:
            with read_session(self.engine) as session:
                since = self._since(session)
                self.report.waiting = state.status(session).waiting
        else:
            with read_session(self.engine) as session:
                self.report.waiting = sum(
                    session.execute(select(func.count()).select_from(model)).scalar_one()
                    for model in MODELS.values()
                )
            self.report.notes.append(
                "The first sync links this desk to Pipedrive: deals imported from a Pipedrive "
                "export match by their id; the rest of the desk is sent."
            )
        for chunk in _chunks(self.crm.changed("deal", since=since, owner_id=owner)):
            self.report.taken_changed += self._would_take(chunk)
        if since is not None:
            for chunk in _chunks(
                self.crm.changed("deal", since=since, owner_id=owner, deleted=True)
            ):
                gone = self._would_take(chunk)  # linked ones: to the desk's trash
                self.report.taken_changed += gone
                self.report.deleted_there += gone
            for chunk in _chunks(self.crm.changed("activity", since=since, owner_id=owner)):
                self.report.taken_changed += self._would_take(chunk, "activity")

    def _would_take(self, items: list[Obj], remote_type: str = "deal") -> int:
        """How many of a page a sync would take in: new to the desk, or linked and changed
        there since the last sync (a field unlike its base). The pull starts a few minutes
        before the last one (OVERLAP), so the desk's own writes come back: counted, a quiet
        desk's dry run read "11 changes in Pipedrive to take in" (a trial)."""
        found = 0
        with read_session(self.engine) as session:
            links = self._links_by_remote(session, remote_type, (int(i["id"]) for i in items))
            for item in _latest(items):
                link = links.get(int(item["id"]))
                if item.get("is_deleted") or item.get("status") == "deleted":
                    found += link is not None
                elif link is None:
                    found += remote_type == "deal" or bool(self._desk_deals_of(session, [item]))
                else:
                    found += self._changed_there(item, link)
        return found

    def _changed_there(self, item: Obj, link: SyncLink) -> bool:
        base = json.loads(link.base)
        if base.get(_ADOPT):
            return True
        if link.kind == "deal":
            try:
                remote = self._remote_view(item)
            except RepdeskError:
                return False  # not taken in (the real run names it)
            for name in ("company", "contact", "email", "phone"):
                del remote[name]  # their organization and person, by id below
            remote.update(org_id=item.get("org_id"), person_id=item.get("person_id"))
        else:
            if link.kind == "follow_up":
                remote = mapping.remote_follow_up_view(item)
            else:
                remote = mapping.remote_activity_view(item)
            remote[DEAL] = mapping.remote_id(item.get("deal_id"))
        return any(name in base and base[name] != value for name, value in remote.items())

    # ------------------------------------------------------------ link (first sync)

    def _link(self) -> None:
        user_id = self.crm.whoami()
        remote = self.crm.stages()
        with read_session(self.engine) as session:
            stored = state.get_json(session, state.STAGE_MAP, None)
            desk_stages = deal_service.stages(session=session)
        stage_map = {int(k): int(v) for k, v in (stored or {}).items()} or self._map_stages(
            desk_stages, remote
        )
        pipeline = _pipeline_of(stage_map, remote)
        if not stored and self.ask_stage is None:
            self.report.notes.append(
                "The desk's stages were matched to Pipedrive's by name, else by place: "
                "`repdesk sync stages` shows how; `repdesk sync stages --reset` asks again."
            )
        with write_session(self.engine) as session:
            session.info[APPLYING] = True
            state.put(session, state.USER_ID, str(user_id))
            state.put(session, state.STAGE_MAP, _j(stage_map))
            _put_pipeline(session, pipeline)
            state.put(session, state.STAGES_CHECKED, clock.today().isoformat())
            state.put(session, state.CONNECTOR, self.crm.name)
            linked_ids = {
                local
                for (local,) in session.execute(
                    select(col(SyncLink.local_id)).where(col(SyncLink.kind) == "deal")
                )
            }
            taken = set(
                session.execute(
                    select(col(SyncLink.remote_id)).where(col(SyncLink.remote_type) == "deal")
                ).scalars()
            )
            moment = clock.now()
            adopted = []
            for deal_id, source_id in session.execute(
                select(col(Deal.id), col(Deal.source_id))
                .where(col(Deal.source_id).like("pipedrive:%"))
                .order_by(col(Deal.id))
            ):
                remote_id = _pipedrive_id(source_id)
                if remote_id is None or deal_id in linked_ids:
                    continue
                if remote_id in taken:
                    continue  # two desk deals from one Pipedrive deal: the first keeps it
                adopted.append(
                    {
                        "kind": "deal",
                        "local_id": deal_id,
                        "remote_type": "deal",
                        "remote_id": remote_id,
                        "base": _j({_ADOPT: True}),
                        "synced_at": moment,
                    }
                )
                linked_ids.add(deal_id)
                taken.add(remote_id)
            if adopted:
                session.execute(insert(table_of(SyncLink)), adopted)
            self._adopted_now = {row["local_id"] for row in adopted}
            self.report.linked += len(adopted)
            # Everything the desk has that Pipedrive does not: sent by this run. Rows written
            # from now on are recorded by the outbox hook (linked_at is set in this same
            # transaction, and writers take turns), so nothing falls between the two.
            for kind, model in MODELS.items():
                linked_here = select(col(SyncLink.local_id)).where(col(SyncLink.kind) == kind)
                ids = session.execute(
                    select(col(model.id)).where(col(model.id).not_in(linked_here))
                ).scalars()
                rows = [{"kind": kind, "local_id": i, "queued_at": moment} for i in ids]
                if rows:
                    session.execute(insert(table_of(SyncOutbox)), rows)
            state.put(session, LINKED_KEY, moment.isoformat())

    def _complete_stage_map(self) -> None:
        """A linked desk's stages that have no Pipedrive stage (all of them after `repdesk sync
        stages --reset`, or one added on the desk since) are mapped as at the first sync.
        Without it, stage moves went nowhere and Pipedrive's came in as conflicts (found by an
        audit)."""
        with read_session(self.engine) as session:
            stored = {
                int(k): int(v) for k, v in state.get_json(session, state.STAGE_MAP, {}).items()
            }
            desk_stages = deal_service.stages(session=session)
            known = state.get(session, state.PIPELINE_ID) is not None
            checked_on = state.get(session, state.STAGES_CHECKED)
            # Told today that no Pipedrive stage is left for them: not asked again until
            # tomorrow's look at the stages.
            left_out = set(state.get_json(session, state.STAGES_LEFT_OUT, []))
        missing = {saved_id(s) for s in desk_stages if s.kind == "open"} - set(stored)
        on_desk = {saved_id(s) for s in desk_stages}
        today = clock.today().isoformat()
        if missing <= left_out and known and checked_on == today:
            # The stored mapping is all a sync needs: stage ids, not names, go both ways, so a
            # stage renamed in Pipedrive changes nothing, and a deal there in a stage the map
            # does not know is kept in its desk stage and named (_unmapped). Asking Pipedrive
            # at every sync would spend the company's shared request budget for nothing: once
            # a day, to see that the mapped stages are still there.
            return
        # A desk linked before the mapped pipeline was kept asks for the stages once.
        remote = self.crm.stages()
        self._tell_gone_stages(stored, remote, {saved_id(s): s.name for s in desk_stages})
        if missing:
            taken = [v for k, v in stored.items() if k in on_desk]  # a removed stage's is free
            newly = self._map_stages(desk_stages, remote, only=missing, taken_already=taken)
            stored.update(newly)
            if self.ask_stage is None and newly:
                self.report.notes.append(
                    f"{len(newly)} desk stage{'s' if len(newly) != 1 else ''} matched to "
                    "Pipedrive's by name, else by place: `repdesk sync stages` shows how."
                )
        with write_session(self.engine) as session:
            session.info[APPLYING] = True
            state.put(session, state.STAGE_MAP, _j(stored))
            _put_pipeline(session, _pipeline_of(stored, remote))
            state.put(session, state.STAGES_CHECKED, today)
            state.put(session, state.STAGES_LEFT_OUT, _j(sorted(missing - set(stored))))

    def _tell_gone_stages(
        self, stored: dict[int, int], remote: list[RemoteStage], names: dict[int, str]
    ) -> None:
        """A mapped stage Pipedrive no longer has: said, with the way to map it again. It went
        unnoticed, the desk's moves into it refused there (a trial)."""
        there = {s.id for s in remote}
        sharing: dict[int, list[str]] = defaultdict(list)
        for desk_id, remote_id in stored.items():
            if desk_id not in names:
                continue
            sharing[remote_id].append(cut(names[desk_id], 40))
            if remote_id not in there:
                self.report.notes.append(
                    f"desk stage {cut(names[desk_id], 40)} is mapped to Pipedrive stage "
                    f"{remote_id}, which Pipedrive no longer has: `repdesk sync stages --reset` "
                    "maps it again"
                )
        for remote_id, both in sharing.items():
            if len(both) > 1:
                # Mapped so before two could no longer be: Pipedrive's deals there come into
                # the first of them only.
                self.report.notes.append(
                    f"desk stages {' and '.join(both)} are both mapped to Pipedrive stage "
                    f"{remote_id}: `repdesk sync stages --reset` maps them again"
                )

    def _map_stages(
        self,
        desk: list[Stage],
        remote: list[RemoteStage],
        *,
        only: set[int] | None = None,
        taken_already: Iterable[int] = (),
    ) -> dict[int, int]:
        """Each open desk stage (of `only`, when given) to a stage of the pipeline: same name
        first, else the stage at the same place; the rep confirms or changes each (asked once,
        then stored)."""
        pipelines = sorted({s.pipeline_id for s in remote})
        if not pipelines:
            raise SyncError("Pipedrive has no pipeline with stages: add one there first")
        if self.pipeline_id is not None and self.pipeline_id not in pipelines:
            # Else the desk's deals would go into another pipeline than the rep chose.
            known = ", ".join(str(p) for p in pipelines[:20])
            raise SyncError(
                f"settings.toml: [pipedrive] pipeline = {self.pipeline_id} is none of "
                f"Pipedrive's pipelines (ids {known}): nothing was linked; correct it or "
                "leave it out for the first one"
            )
        pipeline = self.pipeline_id if self.pipeline_id is not None else pipelines[0]
        ordered = sorted((s for s in remote if s.pipeline_id == pipeline), key=lambda s: s.order)
        mapping_: dict[int, int] = {}
        # A Pipedrive stage stands for one desk stage: two mapped to one (a stage added on the
        # desk, matched "by place" onto one mapped already) put Pipedrive's deals of that
        # stage into the newer desk stage (a trial). The taken ones are neither guessed nor
        # offered.
        taken = set(taken_already)
        open_stages = [s for s in desk if s.kind == "open"]
        for index, stage in enumerate(open_stages):
            if only is not None and saved_id(stage) not in only:
                continue
            free = [s for s in ordered if s.id not in taken]
            if not free:
                self.report.notes.append(
                    f"desk stage {cut(stage.name, 40)} has no Pipedrive stage left to map to "
                    f"(each of pipeline {pipeline}'s stands for another desk stage): its deals' "
                    "stage is not sent; add a stage in Pipedrive, then `repdesk sync stages "
                    "--reset`"
                )
                continue
            named = next((s for s in free if s.name.casefold() == stage.name.casefold()), None)
            guess = named or _nearest_free(ordered, index, taken)
            if self.ask_stage is not None:
                guess = self.ask_stage(stage, free, guess)
            mapping_[saved_id(stage)] = guess.id
            taken.add(guess.id)
        return mapping_

    def _load_marks(self) -> None:
        with read_session(self.engine) as session:
            self._load_marks_in(session)

    def _load_marks_in(self, session: Session) -> None:
        raw_user = state.get(session, state.USER_ID)
        self.user_id = int(raw_user) if raw_user else None
        self.stage_map = {
            int(k): int(v) for k, v in state.get_json(session, state.STAGE_MAP, {}).items()
        }
        raw_pipeline = state.get(session, state.PIPELINE_ID)
        self.pipeline = int(raw_pipeline) if raw_pipeline else None
        desk_stages = deal_service.stages(session=session)
        self._stage_names = {saved_id(s): s.name for s in desk_stages}
        positions = {s.id: s.position for s in desk_stages}
        for desk_id, remote_id in sorted(
            self.stage_map.items(), key=lambda item: positions.get(item[0], 0)
        ):
            self.back_map.setdefault(remote_id, desk_id)
        self._desk_open = [saved_id(s) for s in desk_stages if s.kind == "open"]

    @property
    def _owner(self) -> int | None:
        return None if self.all_owners else self.user_id

    def _since(self, session: Session) -> str | None:
        last = state.instant(state.get(session, state.LAST_PULL))
        return _rfc3339(last - OVERLAP) if last else None

    # ------------------------------------------------------------ pull

    def _pull(self) -> None:
        started = clock.now()
        with read_session(self.engine) as session:
            since = self._since(session)
        for chunk in _chunks(self.crm.changed("deal", since=since, owner_id=self._owner)):
            self._fetch_contacts(chunk)
            with write_session(self.engine) as session:
                session.info[APPLYING] = True
                self._take_deals(session, chunk)
        self._take_unseen_adopted()
        # Deals deleted in Pipedrive go to the desk's trash after its activities and notes are
        # read: a merge made there moves them to the deal kept first (_take_move), and the
        # rest goes with the deal (_take_deleted).
        gone_there: list[Obj] = []
        if since is not None:
            gone_there = list(
                self.crm.changed("deal", since=since, owner_id=self._owner, deleted=True)
            )
            self._gone_remote = {int(i["id"]) for i in gone_there}
            with read_session(self.engine) as session:
                self._gone_there = {
                    link.local_id
                    for link in self._links_by_remote(session, "deal", self._gone_remote).values()
                }
            self._take_contact_changes(since)
        for chunk in _chunks(self.crm.changed("activity", since=since, owner_id=self._owner)):
            with write_session(self.engine) as session:
                session.info[APPLYING] = True
                self._take_activities(session, chunk)
        everything = self._sweep_deleted_activities(started)
        # The first sync brings the rep's own notes (the whole company's would be every note
        # ever written there); later ones anyone's new notes on the desk's deals.
        author = self._owner if since is None else None
        for chunk in _chunks(self.crm.notes(since=since, user_id=author)):
            with write_session(self.engine) as session:
                session.info[APPLYING] = True
                self._take_notes(session, chunk)
        if everything:
            # After the notes are read: a note moved to another deal is looked for there.
            self._sweep_deleted_notes()
            with write_session(self.engine) as session:
                state.put(session, state.LAST_SWEEP, started.isoformat())
        self._recheck_rows_of_gone_deals()
        for chunk in _chunks(gone_there):
            with write_session(self.engine) as session:
                session.info[APPLYING] = True
                merged_here = self._merges_not_sent(session)
                for item in chunk:
                    self._take_deleted_deal(session, item, merged_here)
        # The push's 404s are its own: a row of such a deal is no longer deferred to it.
        self._gone_there, self._gone_remote = set(), set()
        self._deleted_with_deal.clear()
        with write_session(self.engine) as session:
            state.put(session, state.LAST_PULL, started.isoformat())

    def _fetch_contacts(self, deals: list[Obj]) -> None:
        ref = mapping.remote_id
        orgs = sorted({o for d in deals if (o := ref(d.get("org_id")))} - set(self._orgs))
        persons = sorted({p for d in deals if (p := ref(d.get("person_id")))} - set(self._persons))
        if orgs:
            self._orgs.update({int(o["id"]): o for o in self.crm.by_ids("organization", orgs)})
        if persons:
            self._persons.update({int(p["id"]): p for p in self.crm.by_ids("person", persons)})

    def _remote_view(self, item: Obj) -> View:
        org = self._orgs.get(mapping.remote_id(item.get("org_id")) or 0)
        person = self._persons.get(mapping.remote_id(item.get("person_id")) or 0)
        view = mapping.remote_deal_view(item, org, person)
        if not view["currency"]:
            # None there (null or ""): the desk's, as a CSV import takes such a deal. It came
            # in as EUR on a USD desk, left out of every figure, and the push then sent "EUR"
            # back at the deal's next change (a hostile test).
            view["currency"] = self.currency
        if not is_code(view["currency"]):
            # Taken in as the desk's currency, its value would change meaning, and the desk's
            # code would go back over the company's at the next push.
            raise InvalidInput(
                "currency", view["currency"], "an ISO 4217 code (the desk keeps no other)"
            )
        return view

    def _link_of(self, session: Session, remote_type: str, remote_id: int) -> SyncLink | None:
        return session.execute(
            select(SyncLink).where(
                col(SyncLink.remote_type) == remote_type, col(SyncLink.remote_id) == remote_id
            )
        ).scalar_one_or_none()

    def _local_link(self, session: Session, kind: str, local_id: int) -> SyncLink | None:
        return session.execute(
            select(SyncLink).where(col(SyncLink.kind) == kind, col(SyncLink.local_id) == local_id)
        ).scalar_one_or_none()

    def _remote_stage(self, desk_stage: int) -> int | None:
        return self.stage_map.get(desk_stage)

    def _stage_there(self, deal: Deal, base: View) -> int | None:
        """The Pipedrive stage the desk deal's stage stands for: the one it is mapped to, or,
        for a deal kept in its desk stage while Pipedrive has it in one with no mapping
        (KEPT_STAGE), that one. Without it the desk's stage went back over Pipedrive's at the
        deal's next change, into another pipeline's deal too (a hostile test)."""
        if base.get(KEPT_STAGE) == [deal.stage_id, base.get("stage")]:
            return base.get("stage")
        return self._remote_stage(deal.stage_id)

    def _unmapped(self, remote: View, item: Obj) -> bool:
        """An open deal in a Pipedrive stage the desk has no mapping for, or in another
        pipeline than the mapped one whatever its stage says."""
        if remote["status"] != "open":
            return False
        pipeline = mapping.remote_id(item.get("pipeline_id"))
        return remote["stage"] not in self.back_map or self._in_another_pipeline(
            {PIPELINE: pipeline}
        )

    def _in_another_pipeline(self, base: View) -> bool:
        """A deal Pipedrive has in another pipeline than the mapped one: a stage of the mapped
        one sent to it would move it between pipelines there."""
        there = base.get(PIPELINE)
        return type(there) is int and self.pipeline is not None and there != self.pipeline

    def _unmapped_note(self, deal: str, item: Obj, desk_stage: int, how: str) -> str:
        stage = mapping.remote_id(item.get("stage_id"))
        pipeline = mapping.remote_id(item.get("pipeline_id"))
        where = f"stage {stage}" if stage is not None else "no stage"
        if pipeline is not None:
            where += f", pipeline {pipeline}"
        name = self._stage_names.get(desk_stage, f"stage {desk_stage}")
        return (
            f"{deal} is in a Pipedrive stage the desk has no mapping for ({where}): {how} "
            f"{cut(name, 40)}; {STAGES_HINT}"
        )

    def _take_deals(self, session: Session, items: list[Obj]) -> None:
        """A page of deals from Pipedrive: the new ones made on the desk together, the linked
        ones compared field by field. Their links and desk rows are read in two queries."""
        items = [item for item in _latest(items) if not item.get("is_deleted")]
        remote_ids = [int(item["id"]) for item in items]
        links = {
            link.remote_id: link
            for link in session.execute(
                select(SyncLink).where(
                    col(SyncLink.remote_type) == "deal",
                    col(SyncLink.remote_id).in_(remote_ids),
                )
            ).scalars()
        }
        local_ids = [link.local_id for link in links.values()]
        desk_deals = {
            deal.id: deal
            for deal in session.execute(select(Deal).where(col(Deal.id).in_(local_ids))).scalars()
        }
        # Held for the page: the services look stages up by id, and the session's identity
        # map keeps only what something still refers to (a query a deal otherwise).
        held_stages = deal_service.stages(session=session)
        new_items, linked = [], []
        for item in items:
            link = links.get(int(item["id"]))
            if link is None:
                new_items.append(item)
            elif (deal := desk_deals.get(link.local_id)) is not None:
                linked.append((item, link, deal))
            # else deleted on the desk: the push deletes it in Pipedrive
        if linked:
            self._take_linked_deals(session, linked)
        if new_items:
            self._new_deals(session, new_items)
        del held_stages

    def _take_linked_deals(
        self, session: Session, linked: list[tuple[Obj, SyncLink, Deal]]
    ) -> None:
        """One savepoint for the page: a savepoint a deal cost two flushes each, most of a
        first sync's time when thousands of imported deals take Pipedrive's values. A change
        the desk refuses (rare: an expected close before the first contact) takes the page
        back, and it goes again one deal at a time, the refused one named in the report."""
        before = replace(self.report, notes=list(self.report.notes))
        try:
            with session.begin_nested():
                for item, link, deal in linked:
                    self._take_linked_deal(session, item, link, deal, guarded=False)
            return
        except RepdeskError:
            self.report = before
        for item, link, deal in linked:
            self._take_linked_deal(session, item, link, deal, guarded=True)

    def _take_linked_deal(
        self, session: Session, item: Obj, link: SyncLink, deal: Deal, *, guarded: bool
    ) -> None:
        if not guarded:
            remote = self._remote_view(item)
        else:
            try:
                remote = self._remote_view(item)
            except RepdeskError as exc:
                # Left as it was on both sides: the base keeps what it had, so nothing of the
                # desk's goes over Pipedrive's for it, and the next sync names it again.
                self.report.notes.append(f"deal #{deal.id}: Pipedrive's change not taken in: {exc}")
                return
        extra = {
            "org_id": item.get("org_id"),
            "person_id": item.get("person_id"),
            PIPELINE: mapping.remote_id(item.get("pipeline_id")),
        }
        base = json.loads(link.base)
        desk = mapping.deal_view(deal, self._stage_there(deal, base))
        if base.get(_ADOPT):
            changes = {f: v for f, v in remote.items() if desk.get(f) != v}
            new_base: View = dict(remote)
        else:
            changes, new_base = self._reconcile(session, "deal", saved_id(deal), desk, remote, base)
        # Moved there to a stage with no mapping: the desk keeps its own (the first open one
        # was a regression, and a forecast change, that never happened: a hostile test).
        kept = "stage" in changes and self._unmapped(remote, item)
        if kept:
            del changes["stage"]
        if changes:
            if not guarded:
                self._apply_deal_fields(session, deal, changes)
            elif not self._apply_deal(session, deal, changes):
                # Refused: the base keeps what it had for these fields, so the next sync
                # brings the change again (and names it again), and no push sends the desk's
                # value over Pipedrive's.
                if base.get(_ADOPT):
                    new_base = dict(base)
                else:
                    new_base = {n: v for n, v in new_base.items() if n not in changes}
                    new_base.update({n: base[n] for n in changes if n in base})
                changes = {}
        if changes:
            self.report.taken_changed += 1
        if kept and deal.status == "open":
            new_base[KEPT_STAGE] = [deal.stage_id, remote["stage"]]
            self.report.notes.append(
                self._unmapped_note(f"deal #{deal.id}", item, deal.stage_id, "kept in")
            )
        link.base = _j({**new_base, **extra})
        link.synced_at = clock.now()
        session.add(link)

    def _take_unseen_adopted(self) -> None:
        """Deals linked by the CSV importer's id that the pull did not bring (another owner's,
        or unchanged since): fetched by id once, so their base is known before any push."""
        with read_session(self.engine) as session:
            ids = [
                remote_id
                for remote_id, base in session.execute(
                    select(col(SyncLink.remote_id), col(SyncLink.base)).where(
                        col(SyncLink.kind) == "deal"
                    )
                )
                if _ADOPT in base
            ]
        for start in range(0, len(ids), 100):
            asked = ids[start : start + 100]
            chunk = self.crm.by_ids("deal", asked)
            self._fetch_contacts(chunk)
            there = {int(item["id"]) for item in chunk if not item.get("is_deleted")}
            with write_session(self.engine) as session:
                session.info[APPLYING] = True
                self._take_deals(session, chunk)
                self._unlink_missing(session, [i for i in asked if i not in there])

    def _unlink_missing(self, session: Session, remote_ids: list[int]) -> None:
        """Deals linked by an imported Pipedrive id that Pipedrive does not have (a typo in
        the export, a deal deleted there since): the link goes and the deal is sent as new,
        its calls and steps with it. Kept, the sync said "Linked" for a deal it never sent,
        left it waiting for good, and sent its calls onto that id (a trial)."""
        if not remote_ids:
            return
        for link in self._links_by_remote(session, "deal", remote_ids).values():
            if _ADOPT not in json.loads(link.base):
                continue
            deal = session.get(Deal, link.local_id)
            session.delete(link)
            if link.local_id in self._adopted_now:
                self.report.linked -= 1
            if deal is None:
                continue
            moment = clock.now()
            self._queue(session, "deal", link.local_id)
            for model, kind in ((Activity, "activity"), (FollowUp, "follow_up")):
                for row_id_ in session.execute(
                    select(col(model.id)).where(col(model.deal_id) == link.local_id)
                ).scalars():
                    # Linked ones were sent onto the missing id: they move to the new deal.
                    session.add(SyncOutbox(kind=kind, local_id=row_id_, queued_at=moment))
            self.report.notes.append(
                f"deal #{deal.id} ({cut(deal.title, 40)}): Pipedrive has no deal "
                f"{link.remote_id} (the id its import kept): not linked; sent as new"
            )

    def _reconcile(
        self, session: Session, kind: str, local_id: int, desk: View, remote: View, base: View
    ) -> tuple[View, View]:
        """Field by field: what to write on the desk, and the new base. A field both sides
        changed is merged (free text) or becomes a conflict (anything else)."""
        changes: View = {}
        new_base = dict(base)
        for name, theirs in remote.items():
            ours = desk.get(name)
            was = base.get(name, ours)  # a field new to the base: as if unchanged here
            if ours == theirs:
                new_base[name] = theirs
                self._settled(session, kind, local_id, name)
                continue
            if theirs == was:
                continue  # only the desk changed it: the push sends it
            if ours == was:
                changes[name] = theirs
                new_base[name] = theirs
                continue
            new_base[name] = theirs
            if name in mapping.FREE_TEXT:
                changes[name] = mapping.merged_text(str(ours or ""), str(theirs or ""))
                self.report.kept_both += 1
                self._queue(session, kind, local_id)  # the merged text goes back
            else:
                self._conflict(session, kind, local_id, name, ours, theirs)
        return changes, new_base

    def _conflict(
        self, session: Session, kind: str, local_id: int, name: str, ours: Any, theirs: Any
    ) -> None:
        row = session.execute(
            select(SyncConflict).where(
                col(SyncConflict.kind) == kind,
                col(SyncConflict.local_id) == local_id,
                col(SyncConflict.field) == name,
            )
        ).scalar_one_or_none()
        if row is None:
            row = SyncConflict(kind=kind, local_id=local_id, field=name)
            self.report.conflicts += 1
        row.desk_value, row.remote_value = _j(ours), _j(theirs)
        row.found_at = clock.now()
        session.add(row)

    def _settled(self, session: Session, kind: str, local_id: int, name: str) -> None:
        session.execute(
            delete(SyncConflict).where(
                col(SyncConflict.kind) == kind,
                col(SyncConflict.local_id) == local_id,
                col(SyncConflict.field) == name,
            )
        )

    def _queue(self, session: Session, kind: str, local_id: int) -> None:
        session.add(SyncOutbox(kind=kind, local_id=local_id, queued_at=clock.now()))

    def _new_deals(self, session: Session, items: list[Obj]) -> None:
        """Deals new to the desk, made in one go (services.deals.create_deals), each linked;
        one Pipedrive has that the desk cannot hold is named in the report, not taken in."""
        today = clock.today()
        specs, views, taken = [], [], []
        first = self._desk_open[0]
        for item in items:
            try:
                remote = self._remote_view(item)
                added = _date(item.get("add_time")) or today
                first_contact = min(added, today)
                closed = None
                if remote["status"] != "open":
                    # Closed before it was added there: the first contact goes back to the
                    # close (see _apply_deal_fields), the close stays on its day.
                    closed = min(_date(remote["close_date"]) or today, today)
                    first_contact = min(first_contact, closed)
                expected_close = _date(remote["expected_close_date"])
            except RepdeskError as exc:
                self.report.notes.append(f"Pipedrive deal {item['id']} not taken in: {exc}")
                continue
            taken.append(item)
            unmapped = self._unmapped(remote, item)
            stage_id = first if unmapped else self.back_map.get(remote["stage"], first)
            specs.append(
                deal_service.NewDeal(
                    title=remote["title"] or f"Pipedrive deal {item['id']}",
                    currency=remote["currency"],
                    stage_id=stage_id,
                    first_contact=first_contact,
                    company=remote["company"],
                    contact=remote["contact"],
                    email=remote["email"],
                    phone=remote["phone"],
                    value_cents=round(remote["value"] * 100),
                    expected_close=expected_close,
                    status=remote["status"] if remote["status"] in ("won", "lost") else "open",
                    closed_on=closed,
                    lost_reason=remote["lost_reason"] or "lost in Pipedrive",
                    source_id=f"pipedrive:{item['id']}",
                )
            )
            view = {
                **remote,
                "org_id": item.get("org_id"),
                "person_id": item.get("person_id"),
                PIPELINE: mapping.remote_id(item.get("pipeline_id")),
            }
            if unmapped:
                view[KEPT_STAGE] = [stage_id, remote["stage"]]
            views.append(view)
        answers = deal_service.create_deals(session=session, new=specs)
        moment = clock.now()
        self._adopt_people(session, [a for a in answers if isinstance(a, int)])
        links = []
        for item, view, answer in zip(taken, views, answers, strict=True):
            if isinstance(answer, RepdeskError):
                self.report.notes.append(f"Pipedrive deal {item['id']} not taken in: {answer}")
                continue
            if KEPT_STAGE in view:
                named = f"Pipedrive deal {item['id']} ({cut(view['title'], 40)})"
                self.report.notes.append(self._unmapped_note(named, item, first, "taken in at"))
            links.append(
                {
                    "kind": "deal",
                    "local_id": answer,
                    "remote_type": "deal",
                    "remote_id": int(item["id"]),
                    "base": _j(view),
                    "synced_at": moment,
                }
            )
        if links:
            session.execute(insert(table_of(SyncLink)), links)
        self.report.taken_new += len(links)

    @staticmethod
    def _adopt_people(session: Session, deal_ids: list[int]) -> None:
        """The company, contact, email and phone of deals taken in become records, as every
        other way in makes them: they came in as text only, so the company had no page, the
        deal no contacts, and mail from the contact matched nothing (a trial). New deals in
        bulk, with the statements a CSV import's new deals and the schema upgrade use (one
        by one through services/people.adopt_deal_fields, a first sync of 10,000 deals with
        their people took a minute, not seconds); a deal linked already takes its changed
        people through deals.edit_deal, which calls adopt_deal_fields."""
        if not deal_ids:
            return
        for statement in migrations.adopt_people_sql(session.get_bind().dialect.name):
            session.execute(sql_text(statement))

    def _apply_deal(self, session: Session, deal: Deal, changes: View) -> bool:
        """Write what Pipedrive changed on the desk deal, through the services (the stage
        history records a move made in Pipedrive like one made here); False when the desk
        refuses it (named in the report)."""
        deal_id = deal.id
        try:
            with session.begin_nested():
                self._apply_deal_fields(session, deal, changes)
        except RepdeskError as exc:
            self.report.notes.append(f"deal #{deal_id}: Pipedrive's change not taken in: {exc}")
            return False
        return True

    def _apply_deal_fields(self, session: Session, deal: Deal, changes: View) -> None:
        deal_id = saved_id(deal)
        edits: dict[str, Any] = {}
        simple = {
            "title": "title",
            "currency": "currency",
            "company": "company",
            "contact": "contact",
            "email": "email",
            "phone": "phone",
        }
        for name, column in simple.items():
            if name in changes:
                edits[column] = changes[name]
        if "value" in changes:
            edits["value_cents"] = round(float(changes["value"]) * 100)
        if "expected_close_date" in changes:
            edits["expected_close"] = _date(changes["expected_close_date"])
        if edits:
            deal_service.edit_deal(session=session, deal_id=deal_id, **edits)
        status = changes.get("status", deal.status)
        today = clock.today()
        day = _date(changes.get("close_date")) or deal.closed_on or today
        day = min(day, today)
        if status != "open" and day < deal.first_contact:
            # Closed there before the desk's first contact (a deal imported without one is
            # first contacted on its import day): the rep was in touch by then, so the first
            # contact moves back, as for a call logged earlier. It was the close date that
            # moved, to the first contact: a win booked in the wrong month, and a close-date
            # conflict at the next sync (a trial).
            activity_service.first_contact_by(session, deal, _noon(day))
        if "status" in changes or "stage" in changes:
            if status == "open":
                # None: a stage with no mapping, which leaves the deal where it is (reopened:
                # in the stage it was closed from), never in the first stage.
                there = changes.get("stage", self._remote_stage(deal.stage_id))
                target = self.back_map.get(there) if there is not None else None
                if deal.status != "open":
                    stage = None if target is None else str(target)
                    deal_service.reopen_deal(session=session, deal_id=deal_id, stage=stage)
                elif target is not None:
                    deal_service.move_deal(session=session, deal_id=deal_id, stage=target)
            elif status != deal.status:
                if deal.status != "open":
                    deal_service.reopen_deal(session=session, deal_id=deal_id)
                if status == "won":
                    deal_service.win_deal(session=session, deal_id=deal_id, on=day)
                else:
                    reason = changes.get("lost_reason") or deal.lost_reason or "lost in Pipedrive"
                    deal_service.lose_deal(
                        session=session, deal_id=deal_id, reason=reason, on=day, from_crm=True
                    )
        elif deal.status != "open":
            if "close_date" in changes:
                deal.closed_on = day
            if "lost_reason" in changes and deal.status == "lost" and changes["lost_reason"]:
                deal.lost_reason = changes["lost_reason"]
            session.add(deal)

    def _recheck_rows_of_gone_deals(self) -> None:
        """The calls and follow-ups on deals deleted in Pipedrive that the pull did not bring,
        asked for by id (100 a request): a merge made there moves them, and Pipedrive's merge
        need not change them, so without this the deal read as a deletion and went to the
        trash with what the rep logged since (a review). Notes have no such request."""
        if not self._gone_there:
            return
        with read_session(self.engine) as session:
            found: set[int] = set()
            for model, kind in ((Activity, "activity"), (FollowUp, "follow_up")):
                found.update(
                    session.execute(
                        select(col(SyncLink.remote_id))
                        .join(model, col(model.id) == col(SyncLink.local_id))
                        .where(
                            col(SyncLink.kind) == kind,
                            col(SyncLink.remote_type) == "activity",
                            col(model.deal_id).in_(sorted(self._gone_there)),
                        )
                    ).scalars()
                )
        for chunk in _chunks(sorted(found - self._seen_activities), 100):
            items = self.crm.by_ids("activity", chunk)
            if items:
                with write_session(self.engine) as session:
                    session.info[APPLYING] = True
                    self._take_activities(session, items)

    def _take_deleted_deal(
        self, session: Session, item: Obj, merged_here: dict[int, list[SyncLink]]
    ) -> None:
        """A deal deleted in Pipedrive: to the desk's trash, with what is on it. Unless it was
        merged there: into a deal the desk merged away into it (both merged, each its own
        way), the desk's deal becomes Pipedrive's; into another desk deal (its rows moved
        there in this pull), the desk merges it too, so a call logged since follows."""
        link = self._link_of(session, "deal", int(item["id"]))
        if link is None:
            return
        deal_id = link.local_id
        session.execute(
            delete(SyncOutbox).where(
                col(SyncOutbox.kind) == "deal", col(SyncOutbox.local_id) == deal_id
            )
        )
        if session.get(Deal, deal_id) is None:
            session.delete(link)
            return
        alive = [g for g in merged_here.get(deal_id, []) if g.remote_id not in self._gone_remote]
        if alive:
            self._trash_deleted_with(session, deal_id)
            self._take_over(session, link, alive[0])
            self.report.notes.append(
                f"deal #{deal_id}: merged in Pipedrive into the deal merged into it here; it is "
                "that deal now"
            )
            return
        into = self._merged_there.get(deal_id)
        if into is not None and session.get(Deal, into) is not None:
            self._trash_deleted_with(session, deal_id)
            self._forget_conflicts(session, "deal", [deal_id])
            merge_service.merge_deals(session=session, keep_id=into, gone_id=deal_id)
            self.report.notes.append(
                f"deal #{deal_id} was merged into #{into} in Pipedrive: merged here too (in the "
                "trash for 30 days)"
            )
            self.report.taken_changed += 1
            session.delete(link)
            return
        # What was on it leaves with it: nothing of it waits to be sent, and a restore sends
        # it as new (Pipedrive may have deleted them with the deal).
        for kind, ids in self._on_deal(session, deal_id).items():
            session.execute(
                delete(SyncLink).where(col(SyncLink.kind) == kind, col(SyncLink.local_id).in_(ids))
            )
            session.execute(
                delete(SyncOutbox).where(
                    col(SyncOutbox.kind) == kind, col(SyncOutbox.local_id).in_(ids)
                )
            )
            self._forget_conflicts(session, kind, ids)
        self._forget_conflicts(session, "deal", [deal_id])
        trash.delete_item(
            session=session,
            kind="deal",
            item_id=deal_id,
            why="deleted in Pipedrive",
            by_crm=True,
        )
        self.report.trashed += 1
        session.delete(link)

    def _trash_deleted_with(self, session: Session, deal_id: int) -> None:
        """Rows Pipedrive deleted with a deal that stays on the desk (merged, or taken over):
        to the trash on their own, not on to the deal kept."""
        for kind, deleted in self._deleted_with_deal.pop(deal_id, []):
            if session.get(MODELS[kind], deleted) is not None:
                trash.delete_item(
                    session=session, kind=kind, item_id=deleted, why="deleted in Pipedrive"
                )
                self.report.trashed += 1
                self._forget_conflicts(session, kind, [deleted])

    def _forget_conflicts(self, session: Session, kind: str, local_ids: list[int]) -> None:
        """A row that leaves the desk through the sync (or whose Pipedrive side changed)
        leaves its conflicts: they stayed listed, untitled, and counted on the top line."""
        if local_ids:
            session.execute(
                delete(SyncConflict).where(
                    col(SyncConflict.kind) == kind, col(SyncConflict.local_id).in_(local_ids)
                )
            )

    def _take_over(self, session: Session, kept: SyncLink, merged: SyncLink) -> None:
        """The desk deal of `kept` (gone in Pipedrive) is Pipedrive's deal of `merged` (a deal
        merged into it on the desk) from now on: its fields, as the desk merge kept them, and
        what is on it go there at the next push (what Pipedrive has there already stays)."""
        deal_id = kept.local_id
        # Its conflicts were with the deal gone there: the desk's values go to the other.
        self._forget_conflicts(session, "deal", [deal_id])
        self._remember_contacts(json.loads(kept.base))  # its organization and person stay
        session.delete(kept)
        session.flush()  # its key is free before the other link takes it
        merged.local_id = deal_id
        session.add(merged)
        self._queue(session, "deal", deal_id)
        for kind, ids in self._on_deal(session, deal_id).items():
            for on_it in ids:
                self._queue(session, kind, on_it)

    @staticmethod
    def _on_deal(session: Session, deal_id: int) -> dict[str, list[int]]:
        """The ids of a desk deal's activities and follow-ups, by kind."""
        on_it: dict[str, list[int]] = {}
        for kind, model in (("activity", Activity), ("follow_up", FollowUp)):
            query = select(col(model.id)).where(col(model.deal_id) == deal_id)
            on_it[kind] = list(session.execute(query).scalars())
        return on_it

    def _merges_not_sent(self, session: Session) -> dict[int, list[SyncLink]]:
        """Deals merged away on the desk whose merge is not sent yet (their link is still
        there), by the desk deal they went into."""
        orphans = (
            session.execute(
                select(SyncLink).where(
                    col(SyncLink.kind) == "deal",
                    col(SyncLink.local_id).not_in(select(col(Deal.id))),
                )
            )
            .scalars()
            .all()
        )
        found = trash.merges_of(session=session, deal_ids=[o.local_id for o in orphans])
        into: dict[int, list[SyncLink]] = defaultdict(list)
        for orphan in orphans:
            merged = found.get(orphan.local_id)
            if merged is not None and merged.into is not None:
                into[merged.into].append(orphan)
        return into

    def _take_contact_changes(self, since: str) -> None:
        """An organization or person renamed in Pipedrive: the deals naming it follow."""
        for remote_type, cache in (("organization", self._orgs), ("person", self._persons)):
            key = "org_id" if remote_type == "organization" else "person_id"
            changed = {
                int(o["id"]): o for o in self.crm.changed(remote_type, since=since, owner_id=None)
            }
            if not changed:
                continue
            cache.update(changed)
            with write_session(self.engine) as session:
                session.info[APPLYING] = True
                for link in session.execute(
                    select(SyncLink).where(col(SyncLink.kind) == "deal")
                ).scalars():
                    base = json.loads(link.base)
                    if base.get(key) not in changed:
                        continue
                    deal = session.get(Deal, link.local_id)
                    if deal is None:
                        continue
                    org = self._orgs.get(base.get("org_id") or -1)
                    person = self._persons.get(base.get("person_id") or -1)
                    fake = {"status": base.get("status")}
                    contact_view = mapping.remote_deal_view(fake, org, person)
                    names = ("company",) if key == "org_id" else ("contact", "email", "phone")
                    remote = {n: contact_view[n] for n in names}
                    desk = mapping.deal_view(deal, None)
                    changes, new_base = self._reconcile(
                        session, "deal", saved_id(deal), desk, remote, base
                    )
                    if changes and self._apply_deal(session, deal, changes):
                        self.report.taken_changed += 1
                    link.base = _j(new_base)
                    session.add(link)

    def _links_by_remote(
        self, session: Session, remote_type: str, remote_ids: Iterable[int]
    ) -> dict[int, SyncLink]:
        wanted = sorted(set(remote_ids))
        if not wanted:
            return {}
        return {
            link.remote_id: link
            for link in session.execute(
                select(SyncLink).where(
                    col(SyncLink.remote_type) == remote_type,
                    col(SyncLink.remote_id).in_(wanted),
                )
            ).scalars()
        }

    def _desk_deals_of(self, session: Session, items: list[Obj]) -> dict[int, int]:
        """Pipedrive deal id -> the desk deal it is, for the deals these objects hang on
        (a deal deleted on the desk, its deletion not sent yet, is not there)."""
        deal_links = self._links_by_remote(
            session, "deal", (d for i in items if (d := mapping.remote_id(i.get("deal_id"))))
        )
        present = set(
            session.execute(
                select(col(Deal.id)).where(
                    col(Deal.id).in_([link.local_id for link in deal_links.values()])
                )
            ).scalars()
        )
        return {r: link.local_id for r, link in deal_links.items() if link.local_id in present}

    def _take_activities(self, session: Session, items: list[Obj]) -> None:
        """A page of activities: links and deals read in three queries, the new ones made
        together; one Pipedrive marks deleted goes to the desk's trash."""
        items = _latest(items)
        links = self._links_by_remote(session, "activity", (int(i["id"]) for i in items))
        desk_deals = self._desk_deals_of(session, items)
        made: list[tuple[Any, str, int, View]] = []
        for item in items:
            remote_id = int(item["id"])
            self._seen_activities.add(remote_id)
            link = links.get(remote_id)
            if item.get("is_deleted"):
                if link is not None:
                    self._take_deleted(session, link)
                continue
            if link is not None:
                self._take_linked_activity(session, item, link)
                continue
            deal_id = desk_deals.get(mapping.remote_id(item.get("deal_id")) or 0)
            if deal_id is None:
                continue  # on no deal, or on a deal the desk does not keep
            try:
                made.append(self._new_activity(deal_id, item))
            except (RepdeskError, ValueError) as exc:
                self.report.notes.append(f"Pipedrive activity {remote_id} not taken in: {exc}")
        self._add_linked(session, made)

    def _add_linked(self, session: Session, made: list[tuple[Any, str, int, View]]) -> None:
        """New desk rows and their links: one flush gives the rows their ids."""
        session.add_all(row for row, *_ in made)
        session.flush()
        session.add_all(
            SyncLink(
                kind="follow_up" if isinstance(row, FollowUp) else "activity",
                local_id=row.id,
                remote_type=remote_type,
                remote_id=remote_id,
                base=_j(base),
            )
            for row, remote_type, remote_id, base in made
        )
        self.report.taken_new += len(made)

    def _take_linked_activity(self, session: Session, item: Obj, link: SyncLink) -> None:
        if link.kind == "follow_up":
            row: Any = session.get(FollowUp, link.local_id)
            remote = mapping.remote_follow_up_view(item)
            desk = mapping.follow_up_view(row) if row is not None else None
        else:
            row = session.get(Activity, link.local_id)
            remote = mapping.remote_activity_view(item)
            desk = mapping.activity_view(row) if row is not None else None
        if row is None or desk is None:
            return
        if self._take_move(session, link, row, mapping.remote_id(item.get("deal_id"))):
            self._take_changes(session, link, row, desk, remote)

    def _take_move(self, session: Session, link: SyncLink, row: Any, theirs: int | None) -> bool:
        """An activity, follow-up or note Pipedrive moved to another deal (a merge made there,
        or a colleague's move) follows on the desk, to the desk deal that one is (or, merged
        away on the desk, the deal it went into); moved to a deal the desk does not keep, or
        to none, it goes to the trash (30 days). Moved on both sides, the desk's move is sent.
        Whatever happens, its base learns where Pipedrive has it. False: no longer on the desk."""
        base = json.loads(link.base)
        was = base.get(DEAL)
        if was is not None and theirs == was:
            return True
        on_desk = self._local_link(session, "deal", row.deal_id)
        ours = on_desk.remote_id if on_desk is not None else None
        if was is None:
            # Linked before the desk kept this: as sent to the deal it is on here (a deal merged
            # away here is followed below), unless that deal is not in Pipedrive yet (a restore
            # undoing a merge): then the desk's move is sent.
            was = ours if ours is not None else theirs
        if theirs == ours or ours != was:
            if theirs != ours and was is not None and theirs != was:
                what = link.kind.replace("_", "-")
                self.report.notes.append(
                    f"{what} #{row.id} was moved to another deal in Pipedrive and here: the "
                    "desk's move is sent"
                )
            link.base = _j({**base, DEAL: theirs})  # the push sends the desk's move, if any
            session.add(link)
            return True
        linked = self._linked_deal(session, theirs)
        target = self._desk_deal_of(session, linked)
        if target is None or (target != row.deal_id and target in self._gone_there):
            trash.delete_item(
                session=session,
                kind=link.kind,
                item_id=row.id,
                why="moved in Pipedrive to a deal the desk does not keep",
            )
            self.report.trashed += 1
            self._forget_conflicts(session, link.kind, [row.id])
            session.delete(link)
            return False
        if target != linked:
            # On a deal merged away here: Pipedrive's merge carries it over, or, refused, the
            # push sends it to the deal kept (a review).
            self._queue(session, link.kind, row.id)
        if target != row.deal_id:
            if row.deal_id in self._gone_there:
                # Its deal is deleted there, its rows moved: a merge made in Pipedrive. What
                # the desk added to it since follows them (_take_deleted_deal).
                self._merged_there[row.deal_id] = target
            row.deal_id = target
            session.add(row)
            self.report.taken_changed += 1
        link.base = _j({**base, DEAL: theirs})
        session.add(link)
        return True

    def _linked_deal(self, session: Session, remote_deal: int | None) -> int | None:
        there = self._link_of(session, "deal", remote_deal) if remote_deal is not None else None
        return there.local_id if there is not None else None

    @staticmethod
    def _desk_deal_of(session: Session, linked: int | None) -> int | None:
        """The desk deal a Pipedrive deal linked to desk deal `linked` is: that one, or, merged
        away on the desk (its merge not sent yet), the deal it went into. None: not kept."""
        if linked is None or session.get(Deal, linked) is not None:
            return linked
        merged = trash.merges_of(session=session, deal_ids=[linked]).get(linked)
        return merged.into if merged is not None else None

    def _take_changes(
        self, session: Session, link: SyncLink, row: Any, desk: View, remote: View
    ) -> None:
        base = json.loads(link.base)
        changes, new_base = self._reconcile(session, link.kind, row.id, desk, remote, base)
        if changes:
            try:
                with session.begin_nested():
                    self._apply_activity(session, link.kind, row, changes)
                self.report.taken_changed += 1
            except (RepdeskError, ValueError) as exc:
                self.report.notes.append(f"{link.kind} #{row.id}: not taken in: {exc}")
        link.base = _j(new_base)
        session.add(link)

    def _new_activity(self, deal_id: int, item: Obj) -> tuple[Any, str, int, View]:
        """The desk row a Pipedrive activity is: a call, email or meeting once done, else a
        follow-up (ValueError for a date or time that is none)."""
        if item.get("done"):
            view = mapping.remote_activity_view(item)
            row: Any = Activity(
                deal_id=deal_id,
                kind=mapping.FROM_TYPES.get(view["type"], "call"),
                at=min(mapping.happened_at(view), clock.now()),
                outcome=view["subject"],
                minutes=mapping.minutes_of(view.get("duration")),
                text=view.get("note") or "",
            )
        else:
            view = mapping.remote_follow_up_view(item)
            day, at = mapping.due_of(view)
            row = FollowUp(
                deal_id=deal_id,
                due_on=day,
                due_time=at,
                note=view["subject"],
                created_at=clock.now(),
            )
        return (
            row,
            "activity",
            int(item["id"]),
            {**view, DEAL: mapping.remote_id(item.get("deal_id"))},
        )

    def _take_deleted(self, session: Session, link: SyncLink) -> None:
        """An activity or note deleted in Pipedrive: in the desk's trash (30 days to restore),
        its link and anything waiting to be sent for it gone."""
        row: Any = session.get(FollowUp if link.kind == "follow_up" else Activity, link.local_id)
        if row is not None and row.deal_id in self._gone_there:
            self._deleted_with_deal[row.deal_id].append((link.kind, link.local_id))
        elif row is not None:
            trash.delete_item(
                session=session, kind=link.kind, item_id=link.local_id, why="deleted in Pipedrive"
            )
            self.report.trashed += 1
        session.delete(link)
        session.execute(
            delete(SyncOutbox).where(
                col(SyncOutbox.kind) == link.kind, col(SyncOutbox.local_id) == link.local_id
            )
        )
        self._forget_conflicts(session, link.kind, [link.local_id])

    def _sweep_deleted_activities(self, started: datetime) -> bool:
        """Activities deleted in Pipedrive that the pull did not bring. Its documents say a
        deleted activity is marked `is_deleted` (and gone after 30 days), but give the list no
        filter for deleted ones and do not say it lists them; a list by `ids` leaves out those
        that "do not exist or are not visible". So the linked ones are asked for by id, 100 a
        request: the open follow-ups (the rep's queues) at every sync, every activity at the
        first sync of a day (their number can be large, and the company's budget is shared).
        True: it is that sync (the notes' sweep follows the notes' pull)."""
        with read_session(self.engine) as session:
            last = state.instant(state.get(session, state.LAST_SWEEP))
            everything = last is None or started - last >= timedelta(days=1)
            query = select(col(SyncLink.remote_id)).where(col(SyncLink.remote_type) == "activity")
            if not everything:
                query = query.where(
                    col(SyncLink.kind) == "follow_up",
                    col(SyncLink.local_id).in_(
                        select(col(FollowUp.id)).where(col(FollowUp.done_at).is_(None))
                    ),
                )
            wanted = sorted(set(session.execute(query).scalars()) - self._seen_activities)
        for start in range(0, len(wanted), 100):
            chunk = wanted[start : start + 100]
            alive = {
                int(item["id"])
                for item in self.crm.by_ids("activity", chunk)
                if not item.get("is_deleted")
            }
            gone = [remote_id for remote_id in chunk if remote_id not in alive]
            if not gone:
                continue
            with write_session(self.engine) as session:
                session.info[APPLYING] = True
                for link in self._links_by_remote(session, "activity", gone).values():
                    self._take_deleted(session, link)
        return everything

    def _sweep_deleted_notes(self) -> None:
        """Notes deleted in Pipedrive, which the list of changed notes never brings (an
        audit). At the first sync of a day the rep's own notes are listed (500 a page), and
        only the deals holding a synced note not among them are asked for theirs (one request
        a deal: notes a colleague wrote, or deleted ones); a synced note on none of these lists
        goes to the trash. A note is looked for on the deal it was last sent on or taken in on
        (its base): one a desk merge moved and the push has not sent yet is no deleted one.
        One with a change of the desk's waiting is left to the push."""
        with read_session(self.engine) as session:
            rows = session.execute(
                select(col(SyncLink.remote_id), col(SyncLink.base), col(Activity.deal_id))
                .join(Activity, col(Activity.id) == col(SyncLink.local_id))
                .where(col(SyncLink.remote_type) == "note", col(SyncLink.kind) == "activity")
                .where(
                    col(Activity.id).not_in(
                        select(col(SyncOutbox.local_id)).where(col(SyncOutbox.kind) == "activity")
                    )
                )
            ).all()
            deal_remote = {
                link.local_id: link.remote_id
                for link in session.execute(
                    select(SyncLink).where(
                        col(SyncLink.kind) == "deal",
                        col(SyncLink.local_id).in_(sorted({d for *_, d in rows})),
                    )
                ).scalars()
            }
        expected: dict[int, int] = {}  # a synced note's id in Pipedrive -> the deal it is on
        for remote_id, base, deal_id in rows:
            there = json.loads(base).get(DEAL) or deal_remote.get(deal_id)
            if type(there) is int:
                expected[remote_id] = there
        if not expected:
            return
        if self.user_id is not None:
            for note in self.crm.notes(since=None, user_id=self.user_id):
                if note.get("active_flag") is not False:
                    expected.pop(int(note["id"]), None)
        by_deal: dict[int, set[int]] = defaultdict(set)
        for note_id, deal_remote_id in expected.items():
            by_deal[deal_remote_id].add(note_id)
        for deal_remote_id, synced in sorted(by_deal.items()):
            try:
                listed = self.crm.notes_of_deal(deal_remote_id)
            except NotThere:
                continue  # the deal itself is gone: the deals' pull says so
            alive = {int(n["id"]) for n in listed if n.get("active_flag") is not False}
            gone = sorted(synced - alive)
            if not gone:
                continue
            with write_session(self.engine) as session:
                session.info[APPLYING] = True
                for link in self._links_by_remote(session, "note", gone).values():
                    self._take_deleted(session, link)

    def _take_notes(self, session: Session, items: list[Obj]) -> None:
        """A page of notes (API v1): a new one on a desk deal becomes a note on it, a changed
        one is compared like any free text (both kept when both sides changed it), one that
        Pipedrive marks inactive (`active_flag` false: "active or deleted") goes to the trash."""
        items = _latest(items)
        links = self._links_by_remote(session, "note", (int(i["id"]) for i in items))
        desk_deals = self._desk_deals_of(session, items)
        made: list[tuple[Any, str, int, View]] = []
        for item in items:
            link = links.get(int(item["id"]))
            if item.get("active_flag") is False:
                if link is not None:
                    self._take_deleted(session, link)
                continue
            remote = {"content": mapping.note_text(item.get("content"))}
            if link is not None:
                row = session.get(Activity, link.local_id)
                theirs = mapping.remote_id(item.get("deal_id"))
                if row is not None and self._take_move(session, link, row, theirs):
                    self._take_changes(session, link, row, mapping.activity_view(row), remote)
                continue
            deal_id = desk_deals.get(mapping.remote_id(item.get("deal_id")) or 0)
            if deal_id is None:
                continue
            written = mapping.instant(item.get("add_time"))
            if written is None or not dates.in_range(written.date()):
                written = clock.now()  # no time, or none a desk keeps: written now
            row = Activity(
                deal_id=deal_id, kind="note", at=min(written, clock.now()), text=remote["content"]
            )
            made.append(
                (
                    row,
                    "note",
                    int(item["id"]),
                    {**remote, DEAL: mapping.remote_id(item.get("deal_id"))},
                )
            )
        self._add_linked(session, made)

    def _apply_activity(self, session: Session, kind: str, row: Any, changes: View) -> None:
        if kind == "follow_up":
            if "subject" in changes:
                row.note = changes["subject"]
            if "due_date" in changes or "due_time" in changes:
                view = {
                    "due_date": changes.get("due_date", row.due_on.isoformat()),
                    "due_time": changes.get(
                        "due_time", row.due_time.strftime("%H:%M") if row.due_time else None
                    ),
                }
                row.due_on, row.due_time = mapping.due_of(view)
            if changes.get("done") is True and row.done_at is None:
                follow_up_service.complete_follow_up(
                    session=session, follow_up_id=row.id, outcome="done in Pipedrive", kind=None
                )
            elif changes.get("done") is False and row.done_at is not None:
                row.done_at = None
            session.add(row)
            return
        if row.kind == "note":
            if "content" in changes:
                row.text = changes["content"]
            session.add(row)
            return
        edits: dict[str, Any] = {}
        if "subject" in changes:
            edits["outcome"] = changes["subject"]
        if "note" in changes:
            edits["text"] = changes["note"]
        if "type" in changes:
            edits["kind"] = mapping.FROM_TYPES.get(changes["type"], row.kind)
        if "duration" in changes:
            edits["minutes"] = mapping.minutes_of(changes["duration"]) or 0
        if "due_date" in changes or "due_time" in changes:
            view = mapping.activity_view(row) | {
                k: v for k, v in changes.items() if k in ("due_date", "due_time")
            }
            edits["at"] = min(mapping.happened_at(view), clock.now())
        activity_service.edit_activity(session=session, activity_id=row.id, **edits)

    # ------------------------------------------------------------ an interrupted create

    def _recover(self) -> None:
        """Creates a killed run sent without hearing the answer, linked before the pull: the
        pull would otherwise take the object in as new from Pipedrive, a second desk row."""
        with read_session(self.engine) as session:
            pending = session.execute(
                select(
                    col(SyncOutbox.kind),
                    col(SyncOutbox.local_id),
                    func.max(col(SyncOutbox.id)),
                    func.min(col(SyncOutbox.sending_since)),
                )
                .where(col(SyncOutbox.sending_since).is_not(None))
                .group_by(col(SyncOutbox.kind), col(SyncOutbox.local_id))
                .order_by(func.min(col(SyncOutbox.id)))
            ).all()
        for kind, local_id, last_id, since in pending:
            if kind not in MODELS:
                continue
            with read_session(self.engine) as session:
                row = session.get(MODELS[kind], local_id)
                if row is None or self._local_link(session, kind, local_id) is not None:
                    continue
                deal_remote = None
                if isinstance(row, (Activity, FollowUp)):
                    parent = self._local_link(session, "deal", row.deal_id)
                    if parent is None:
                        continue
                    deal_remote = parent.remote_id
                view = self._desk_view(kind, row)
            remote_type = mapping.remote_type_of(kind, row)
            when = datetime.fromisoformat(since) if isinstance(since, str) else since
            made = self._find_made(remote_type, view, deal_remote, when)
            if made is None:
                continue  # it never reached Pipedrive: the push sends it
            self.report.notes.append(
                f"{kind.replace('_', '-')} #{local_id}: found in Pipedrive from an interrupted "
                "sync; linked, not sent again"
            )
            base = dict(view)
            if kind == "deal":
                base.update(org_id=made.get("org_id"), person_id=made.get("person_id"))
            else:
                base[DEAL] = deal_remote
            with write_session(self.engine) as session:
                session.add(
                    SyncLink(
                        kind=kind,
                        local_id=local_id,
                        remote_type=remote_type,
                        remote_id=int(made["id"]),
                        base=_j(base),
                    )
                )
                self._done(session, kind, local_id, last_id)

    # ------------------------------------------------------------ push

    def _push(self) -> None:
        """Send the outbox, PUSH_BATCH rows at a time: one read for the batch, one write
        marking its creates as under way, the requests, one write recording what they made.
        Four commits a batch, not two a row: each commit waits for the disk (synchronous=FULL),
        and a first sync of a big desk sends thousands."""
        with read_session(self.engine) as session:
            entries = session.execute(
                select(
                    col(SyncOutbox.kind),
                    col(SyncOutbox.local_id),
                    func.max(col(SyncOutbox.id)),
                    func.min(col(SyncOutbox.sending_since)),
                ).group_by(col(SyncOutbox.kind), col(SyncOutbox.local_id))
            ).all()
            deal_ids = [e[1] for e in entries if e[0] == "deal"]
            present = set(
                session.execute(select(col(Deal.id)).where(col(Deal.id).in_(deal_ids))).scalars()
            )
        ordered = sorted((e for e in entries if e[0] in MODELS), key=lambda e: e[2])
        # Deals first, all of them: an activity is sent with its deal's Pipedrive id. Those
        # deleted on the desk after the others: a deal merged away is merged into the deal it
        # went to, which must be in Pipedrive by then.
        for group in (
            [e for e in ordered if e[0] == "deal" and e[1] in present],
            [e for e in ordered if e[0] == "deal" and e[1] not in present],
            [e for e in ordered if e[0] != "deal"],
        ):
            for start in range(0, len(group), PUSH_BATCH):
                self._push_batch(group[start : start + PUSH_BATCH])
        self._tell_stages()

    def _tell_stages(self) -> None:
        """One line for the deals whose stage was not sent, each remembered as told (in its
        base, written once the push is through: a sync that fails later tells it again)."""
        if not self._stage_not_sent:
            return
        with write_session(self.engine) as session:
            session.info[APPLYING] = True  # a mark of the sync's own: nothing to send
            for link_id, stage, *_ in self._stage_not_sent:
                if (link := session.get(SyncLink, link_id)) is not None:
                    link.base = _j({**json.loads(link.base), STAGE_NOT_SENT: stage})
                    session.add(link)
        found = sorted((deal, pipeline) for _, _, deal, pipeline in self._stage_not_sent)
        self._stage_not_sent = []
        mine = f"the desk's pipeline {self.pipeline}"
        if len(found) == 1:
            [(deal, pipeline)] = found
            self.report.notes.append(
                f"deal #{deal}: its stage is not sent: Pipedrive has it in pipeline {pipeline}, "
                f"not {mine} (a stage of that one would move it there)"
            )
            return
        named = ", ".join(f"#{deal}" for deal, _ in found[:SHOWN_DEALS])
        if len(found) > SHOWN_DEALS:
            named += f" and {len(found) - SHOWN_DEALS} more"
        self.report.notes.append(
            f"{len(found)} deals' stages are not sent: Pipedrive has them in another pipeline "
            f"than {mine} (a stage of that one would move them there): deals {named}"
        )

    def _push_batch(self, entries: list[Any]) -> None:
        with read_session(self.engine) as session:
            plans = self._plans(session, entries)
        fresh = [p for p in plans if p.creates and p.sending_since is None]
        if fresh:
            # The intent, committed before any request: a run killed after a create reached
            # Pipedrive finds what it made (see _find_made) instead of making it again.
            moment = self._marked_at = clock.now()
            with write_session(self.engine) as session:
                for kind in {p.kind for p in fresh}:
                    ids = [p.local_id for p in fresh if p.kind == kind]
                    session.execute(
                        update(SyncOutbox)
                        .where(col(SyncOutbox.kind) == kind, col(SyncOutbox.local_id).in_(ids))
                        .values(sending_since=moment)
                    )
        sent = _Sent()
        try:
            for plan in plans:
                try:
                    self._send(plan, sent)
                except (Refused, NotThere) as exc:
                    self._set_aside(plan, exc, sent)
        finally:
            # What reached Pipedrive is recorded even when a later request of the batch failed.
            if sent.done or sent.refused:
                self._record(sent)

    def _set_aside(self, plan: _Plan, exc: SyncError, sent: _Sent) -> None:
        """One row Pipedrive refuses (a value it rejects, a create on a deal gone there) holds
        nothing else back, as a refused merge does: named with Pipedrive's reason, left in the
        outbox, sent again at the next sync. It stopped the whole sync, and every later one
        at the same row (a trial)."""
        what = f"{plan.kind.replace('_', '-')} #{plan.local_id}"
        why = cut(" ".join(str(exc).split()), 160)
        sent.refused[f"{plan.kind}:{plan.local_id}"] = why
        sent.not_made.append((plan.kind, plan.local_id))
        self.report.refused += 1
        self.report.notes.append(
            f"{what} set aside: {why}; sent again at the next sync "
            f"(`repdesk sync drop {plan.kind.replace('_', '-')} {plan.local_id}` stops it)"
        )

    def _plans(self, session: Session, entries: list[Any]) -> list[_Plan]:
        """What each outbox row of a batch is to send, read in a handful of queries (rows,
        links, conflicts held back, the deals' links), not four a row."""
        wanted: dict[str, list[int]] = defaultdict(list)
        for kind, local_id, *_ in entries:
            wanted[kind].append(local_id)
        rows: dict[tuple[str, int], Any] = {}
        links: dict[tuple[str, int], SyncLink] = {}
        held: dict[tuple[str, int], set[str]] = defaultdict(set)
        for kind, ids in wanted.items():
            model = MODELS[kind]
            for row in session.execute(select(model).where(col(model.id).in_(ids))).scalars():
                rows[kind, row.id] = row
            for link in session.execute(
                select(SyncLink).where(col(SyncLink.kind) == kind, col(SyncLink.local_id).in_(ids))
            ).scalars():
                links[kind, link.local_id] = link
            for local_id, name in session.execute(
                select(col(SyncConflict.local_id), col(SyncConflict.field)).where(
                    col(SyncConflict.kind) == kind,
                    col(SyncConflict.local_id).in_(ids),
                )
            ):
                held[kind, local_id].add(name)
        parents = {r.deal_id for (kind, _), r in rows.items() if kind != "deal"}
        deal_remote = {
            link.local_id: link.remote_id
            for link in session.execute(
                select(SyncLink).where(
                    col(SyncLink.kind) == "deal",
                    col(SyncLink.local_id).in_(sorted(parents)),
                )
            ).scalars()
        }
        merges = self._merges(
            session, [i for k, i, *_ in entries if k == "deal" and ("deal", i) not in rows]
        )
        plans = []
        for kind, local_id, last_id, since in entries:
            row, link = rows.get((kind, local_id)), links.get((kind, local_id))
            if row is None:
                how, into, moved = ("delete", None, None)
                if kind == "deal":
                    how, into, moved = merges.get(local_id, (how, into, moved))
                if link is not None and how == "wait":
                    self.report.notes.append(
                        f"deal #{local_id} waits: the deal it was merged into is not in "
                        "Pipedrive yet"
                    )
                    continue
                plans.append(_Plan.deleted(kind, local_id, last_id, link, how, into, moved))
                continue
            parent = None
            if kind != "deal":
                parent = deal_remote.get(row.deal_id)
                if parent is None:
                    self.report.notes.append(
                        f"{kind.replace('_', '-')} #{local_id} waits: its deal is not in "
                        "Pipedrive yet"
                    )
                    continue
            plans.append(
                _Plan(
                    kind,
                    local_id,
                    last_id,
                    datetime.fromisoformat(since) if isinstance(since, str) else since,
                    row,
                    link,
                    frozenset(held[kind, local_id]),
                    parent,
                    self._desk_view(kind, row, link),
                    mapping.remote_type_of(kind, row),
                )
            )
        return plans

    def _merges(
        self, session: Session, deal_ids: list[int]
    ) -> dict[int, tuple[str, int | None, dict[str, list[int]] | None]]:
        """Deleted deals that were merged into another: how their deletion goes (see
        _Plan.merge; "wait" while the deal kept is not in Pipedrive yet), the deal kept's id
        there and the rows the merge moved. A chain (B into A, then A into C) ends at C; one
        that ends at a deal the rep deleted is a deletion."""
        found = trash.merges_of(session=session, deal_ids=deal_ids)
        if not found:
            return {}
        kept = {
            link.local_id: link.remote_id
            for link in session.execute(
                select(SyncLink).where(
                    col(SyncLink.kind) == "deal",
                    col(SyncLink.local_id).in_([m.into for m in found.values() if m.into]),
                )
            ).scalars()
        }
        how: dict[int, tuple[str, int | None, dict[str, list[int]] | None]] = {}
        for gone, merged in found.items():
            if merged.into is not None:
                there = kept.get(merged.into)
                how[gone] = ("merge" if there else "wait", there, merged.rows)
            elif merged.ended != "deleted":
                how[gone] = ("leave", None, None)
        return how

    def _send(self, plan: _Plan, sent: _Sent) -> None:
        kind, local_id, link = plan.kind, plan.local_id, plan.link
        if plan.row is None:
            if link is not None and plan.merge == "merge":
                if not self._send_merge(plan, link, sent):
                    return  # asked again at the next sync
            elif link is not None and plan.merge == "leave":
                # Merged into a deal deleted there, or one whose trace is gone (its trash entry
                # emptied): deleting it there could take rows the desk keeps with it.
                self.report.notes.append(
                    f"deal #{local_id} was merged here into a deal that is gone: it is left in "
                    "Pipedrive as it is"
                )
                sent.unlinked.append(saved_id(link))
            elif link is not None:
                with contextlib.suppress(NotThere):  # deleted there too: done
                    self.crm.delete(link.remote_type, link.remote_id)
                self.report.deleted += 1
                sent.unlinked.append(saved_id(link))
            sent.gone.append((kind, local_id))
            sent.done.append((kind, local_id, plan.last_id))
            return
        assert plan.view is not None
        if link is not None and link.remote_type != plan.remote_type:
            # A note became a call (or back): Pipedrive keeps them apart, so replace it.
            with contextlib.suppress(NotThere):
                self.crm.delete(link.remote_type, link.remote_id)
            sent.unlinked.append(saved_id(link))
            link = None
        if link is None:
            made, base = self._create(plan)
            sent.links.append(
                SyncLink(
                    kind=kind,
                    local_id=local_id,
                    remote_type=plan.remote_type,
                    remote_id=int(made["id"]),
                    base=_j(base),
                )
            )
            sent.done.append((kind, local_id, plan.last_id))
            return
        base = json.loads(link.base)
        if base.get(_ADOPT):
            return  # not seen in Pipedrive yet: nothing known to send against
        diff = {n: v for n, v in plan.view.items() if n not in plan.held and base.get(n) != v}
        if kind == "deal" and "stage" in diff and self._in_another_pipeline(base):
            if base.get(STAGE_NOT_SENT) != diff["stage"]:  # told already: not at every change
                self._stage_not_sent.append(
                    (saved_id(link), diff["stage"], local_id, base[PIPELINE])
                )
            del diff["stage"]  # not sent, so its base keeps Pipedrive's
        # On another deal than it was (a merge, or a restore undoing one): sent with its deal.
        moved = kind != "deal" and base.get(DEAL) != plan.deal_remote
        # Else the organization and person a previous row's payload made would go into this
        # row's base.
        self._contact_ids = {}
        if diff or moved:
            payload = self._payload(
                kind, plan.remote_type, plan.view, diff, plan.deal_remote, local_id, base
            )
            if payload:
                try:
                    self.crm.update(plan.remote_type, link.remote_id, payload)
                except NotThere:
                    if kind != "deal":  # deleted there: to the trash, as the pull takes it
                        sent.deleted_there.append(link)
                        sent.done.append((kind, local_id, plan.last_id))
                        return
                    self.report.notes.append(f"deal #{local_id} is gone in Pipedrive: not sent")
                else:
                    self.report.updated += 1
        sent.bases[saved_id(link)] = {**diff, **self._contact_ids}
        if kind != "deal":
            sent.bases[saved_id(link)][DEAL] = plan.deal_remote
        sent.done.append((kind, local_id, plan.last_id))

    def _send_merge(self, plan: _Plan, link: SyncLink, sent: _Sent) -> bool:
        """A deal merged into another on the desk is merged in Pipedrive too: its activities,
        notes and people move there as on the desk, and nothing is sent twice. The rows the
        merge moved that Pipedrive had on it then stand on the kept deal there as well (their
        bases say so); one Pipedrive had elsewhere is sent with its deal, as any moved row.
        False: not done, asked again at the next sync."""
        assert plan.merge_into is not None
        # The deal kept gone there and an earlier merge of this run became it: into that one.
        gone, into = link.remote_id, self._taken_over.get(plan.merge_into, plan.merge_into)
        try:
            self.crm.merge_deals(gone, into)
        except NotThere:
            alive = {int(d["id"]) for d in self.crm.by_ids("deal", [gone, into])}
            if alive == {gone, into}:  # both there: a refusal in other words; asked again
                self.report.notes.append(
                    f"deal #{plan.local_id} is not merged in Pipedrive yet (it answered that a "
                    "deal is missing); asked again at the next sync"
                )
                return False
            if gone in alive:
                # The deal kept is the one Pipedrive no longer has (deleted there meanwhile):
                # the merged one stays there and is the desk's deal now, one deal each side.
                self.report.notes.append(
                    f"deal #{plan.local_id}: the deal it was merged into is gone in Pipedrive; "
                    f"its own there is that deal now (its fields go at the next sync)"
                )
                sent.relinks.append((saved_id(link), into))
                self._taken_over[into] = gone
                return True
            else:  # deleted there already, or merged by an attempt whose answer was lost
                self.report.notes.append(
                    f"deal #{plan.local_id}: Pipedrive has no deal {gone} to merge (deleted "
                    "there?); what the merge moved is sent to the kept deal"
                )
        except (Forbidden, Refused) as exc:
            self.report.notes.append(
                f"deal #{plan.local_id} is not merged in Pipedrive yet ({exc}); what the merge "
                "moved is sent to the kept deal, and the merge is asked again at the next sync"
            )
            return False
        else:
            self.report.merged += 1
            for table, ids in (plan.merge_moved or {}).items():
                if table in MODELS and table != "deal" and ids:
                    sent.moved.append((table, ids, gone, into))
        sent.unlinked.append(saved_id(link))
        return True

    def _record(self, sent: _Sent) -> None:
        with write_session(self.engine) as session:
            session.info[APPLYING] = True  # what it writes, Pipedrive has
            if sent.unlinked:
                session.execute(delete(SyncLink).where(col(SyncLink.id).in_(sent.unlinked)))
            for link_id, changed in sent.bases.items():
                fresh = session.get(SyncLink, link_id)
                if fresh is not None:
                    fresh.base = _j({**json.loads(fresh.base), **changed})
                    fresh.synced_at = clock.now()
                    session.add(fresh)
            session.add_all(sent.links)
            for kind, ids, gone, into in sent.moved:
                for moved in session.execute(
                    select(SyncLink).where(
                        col(SyncLink.kind) == kind, col(SyncLink.local_id).in_(ids)
                    )
                ).scalars():
                    base = json.loads(moved.base)
                    if base.get(DEAL) in (gone, None):  # Pipedrive's merge moved it too
                        moved.base = _j({**base, DEAL: into})
                        session.add(moved)
            for gone_link, into in sent.relinks:
                kept = self._link_of(session, "deal", into)
                there = session.get(SyncLink, gone_link)
                if kept is not None and there is not None:
                    self._take_over(session, kept, there)
            for kind, local_id in sent.gone:
                self._forget_conflicts(session, kind, [local_id])
            for link in sent.deleted_there:
                if (there := session.get(SyncLink, link.id)) is not None:
                    self._take_deleted(session, there)
            session.flush()
            for kind, local_id, last_id in sent.done:
                self._done(session, kind, local_id, last_id)
            for kind, local_id in sent.not_made:
                # Refused, so not made: the next sync sends it without looking for it first.
                session.execute(
                    update(SyncOutbox)
                    .where(col(SyncOutbox.kind) == kind, col(SyncOutbox.local_id) == local_id)
                    .values(sending_since=None)
                )
            marks: dict[str, str | None] = {f"{k}:{i}": None for k, i, _ in sent.done}
            marks.update(sent.refused)
            if any(marks.values()) or state.get(session, state.REFUSED) is not None:
                state.note_refused(session, marks)

    def _done(self, session: Session, kind: str, local_id: int, last_id: int) -> None:
        session.execute(
            delete(SyncOutbox).where(
                col(SyncOutbox.kind) == kind,
                col(SyncOutbox.local_id) == local_id,
                col(SyncOutbox.id) <= last_id,
            )
        )

    def _desk_view(self, kind: str, row: Any, link: SyncLink | None = None) -> View:
        if kind == "deal":
            base = json.loads(link.base) if link is not None else {}
            return mapping.deal_view(row, self._stage_there(row, base))
        if kind == "follow_up":
            return mapping.follow_up_view(row)
        return mapping.activity_view(row)

    def _payload(
        self,
        kind: str,
        remote_type: str,
        view: View,
        diff: View,
        deal_remote: int | None,
        local_id: int,
        base: View,
    ) -> Obj:
        self._contact_ids = {}
        if remote_type == "note":
            return {"content": mapping.note_html(view["content"]), "deal_id": deal_remote}
        if remote_type == "activity":
            changed = {n: v for n, v in view.items() if n in diff}
            return mapping.activity_payload(changed, deal_remote)  # type: ignore[arg-type]
        payload: Obj = {}
        for name in ("title", "value", "currency", "expected_close_date"):
            if name in diff and diff[name] is not None:
                payload[name] = diff[name]
        # Never a stage of the mapped pipeline to a deal of another (_send leaves it out).
        stage_goes = not self._in_another_pipeline(base)
        if "stage" in diff and view["stage"] is not None and stage_goes:
            payload["stage_id"] = view["stage"]
        status = view["status"]
        # The status goes when it changed; a close date or a lost reason alone only onto a
        # deal Pipedrive has in the same status. With the status held in a conflict (Pipedrive
        # has it won), a changed close date once sent the desk's status anyway, and the lost
        # reason went alone (an audit).
        status_goes = "status" in diff
        as_there = base.get("status") == status
        if status_goes or ("close_date" in diff and as_there):
            payload["status"] = status
            if status == "won" and view["close_date"]:
                payload["won_time"] = mapping.close_instant(view["close_date"])
            if status == "lost" and view["close_date"]:
                payload["lost_time"] = mapping.close_instant(view["close_date"])
            if status == "open" and view["stage"] is not None and stage_goes:
                payload["stage_id"] = view["stage"]
        if status == "lost" and (status_goes or ("lost_reason" in diff and as_there)):
            payload["lost_reason"] = view["lost_reason"]
        if "company" in diff and view["company"]:
            org_id = self._contact("organization", {"name": view["company"]}, local_id)
            payload["org_id"] = org_id
            self._contact_ids["org_id"] = org_id
        if {"contact", "email", "phone"} & set(diff) and view["contact"]:
            person: Obj = {"name": view["contact"]}
            if view["email"]:
                person["emails"] = [{"value": view["email"], "primary": True}]
            if view["phone"]:
                person["phones"] = [{"value": view["phone"], "primary": True}]
            org = self._contact_ids.get("org_id") or base.get("org_id")
            if org:
                person["org_id"] = org
            person_id = self._contact("person", person, local_id)
            payload["person_id"] = person_id
            self._contact_ids["person_id"] = person_id
        return payload

    def _contact_key(self, remote_type: str, values: Obj) -> tuple[Any, ...]:
        name = str(values.get("name") or "").casefold()
        if remote_type == "organization":
            return (remote_type, name)
        return (
            remote_type,
            name,
            mapping.primary(values.get("emails")).casefold(),
            mapping.primary(values.get("phones")),
            values.get("org_id"),
        )

    def _known_contact(self, remote_type: str, values: Obj) -> int | None:
        """One the run made or Pipedrive sent already, by name (a person: with the same
        email, phone and organization): ten deals of one company are one organization. Then
        one a linked deal was last synced with (its base): a company named again after a quiet
        sync made a second organization of that name (a hostile test)."""
        if not self._contacts_read:
            self._contacts_read = True
            for kind, cache in (("organization", self._orgs), ("person", self._persons)):
                for remote_id, item in cache.items():
                    self._contacts.setdefault(self._contact_key(kind, item), remote_id)
        key = self._contact_key(remote_type, values)
        if key in self._contacts:
            return self._contacts[key]
        if not self._bases_read:
            self._bases_read = True
            with read_session(self.engine) as session:
                for raw in session.execute(
                    select(col(SyncLink.base)).where(col(SyncLink.kind) == "deal")
                ).scalars():
                    self._remember_contacts(json.loads(raw))
        remembered = self._remembered.pop(key, None)
        if remembered is None:
            return None
        # Asked for once: one deleted or renamed there since is not used (a review).
        for item in self.crm.by_ids(remote_type, [remembered]):
            if self._contact_key(remote_type, item) == key:
                self._contacts[key] = remembered
                return remembered
        return None

    def _remember_contacts(self, base: View) -> None:
        """The organization and person a deal's base names, as contacts Pipedrive may have."""
        org, person = base.get("org_id"), base.get("person_id")
        if type(org) is int and base.get("company"):
            key = self._contact_key("organization", {"name": base["company"]})
            self._remembered.setdefault(key, org)
        if type(person) is int and base.get("contact"):
            values = {
                "name": base["contact"],
                "emails": [{"value": base.get("email") or "", "primary": True}],
                "phones": [{"value": base.get("phone") or "", "primary": True}],
                "org_id": org,
            }
            self._remembered.setdefault(self._contact_key("person", values), person)

    def _contact(self, remote_type: str, values: Obj, deal_local_id: int) -> int:
        """An organization or person for a deal, made once: one Pipedrive has is used (see
        _known_contact); else the intent is kept in the desk before the request, and a rerun
        looks for what it made before making another."""
        known = self._known_contact(remote_type, values)
        if known is not None:
            return known
        made_id = self._make_contact(remote_type, values, deal_local_id)
        self._contacts[self._contact_key(remote_type, values)] = made_id
        return made_id

    def _make_contact(self, remote_type: str, values: Obj, deal_local_id: int) -> int:
        key = f"creating:{remote_type}:{deal_local_id}"
        with read_session(self.engine) as session:
            intent = state.instant(state.get(session, key))
        if intent is not None:
            found = self._made_contact(remote_type, values, intent)
            if found is not None:
                self._forget(key)
                return found
        intent = clock.now()
        with write_session(self.engine) as session:
            state.put(session, key, intent.isoformat())
        try:
            made = self.crm.create(
                remote_type, {**values, "owner_id": self.user_id} if self.user_id else values
            )
        except Unanswered:  # made or not: looked for now, and by the next sync if not found
            found = self._made_contact(remote_type, values, intent)
            if found is None:
                raise
            made = {"id": found}
        self._forget(key)
        return int(made["id"])

    def _made_contact(self, remote_type: str, values: Obj, intent: datetime) -> int | None:
        for item in self.crm.changed(
            remote_type, since=_rfc3339(intent - LOOKBACK), owner_id=self.user_id
        ):
            if str(item.get("name") or "") == values["name"]:
                return int(item["id"])
        return None

    def _forget(self, key: str) -> None:
        with write_session(self.engine) as session:
            state.forget(session, key)

    def _create(self, plan: _Plan) -> tuple[Obj, View]:
        """Make the object in Pipedrive (its intent already marked), or find the one an
        interrupted run made; the object and the base the link starts from."""
        assert plan.view is not None
        made: Obj | None = None
        if plan.sending_since is not None:
            made = self._find_made(
                plan.remote_type, plan.view, plan.deal_remote, plan.sending_since
            )
        if made is None:
            payload = self._create_payload(
                plan.kind, plan.remote_type, plan.view, plan.deal_remote, plan.local_id
            )
            try:
                made = self.crm.create(plan.remote_type, payload)
            except Unanswered:
                # Made or not: what Pipedrive now holds says. Not found, the sync stops with
                # the intent kept, and the next one looks again before sending it (_recover).
                since = plan.sending_since or self._marked_at
                made = self._find_made(plan.remote_type, plan.view, plan.deal_remote, since)
                if made is None:
                    raise
                self.report.notes.append(
                    f"{plan.kind.replace('_', '-')} #{plan.local_id}: Pipedrive did not answer "
                    "its create but had made it; linked, not sent again"
                )
            else:
                self.report.created += 1
        else:
            self.report.notes.append(
                f"{plan.kind.replace('_', '-')} #{plan.local_id}: found in Pipedrive from an "
                "interrupted sync; linked, not sent again"
            )
            self._contact_ids = {"org_id": made.get("org_id"), "person_id": made.get("person_id")}
        if plan.kind == "deal":
            return made, {**plan.view, **self._contact_ids}
        return made, {**plan.view, DEAL: plan.deal_remote}

    def _create_payload(
        self, kind: str, remote_type: str, view: View, deal_remote: int | None, local_id: int
    ) -> Obj:
        self._contact_ids = {}
        if remote_type == "note":
            return {"content": mapping.note_html(view["content"]), "deal_id": deal_remote}
        if remote_type == "activity":
            payload = mapping.activity_payload(view, deal_remote)  # type: ignore[arg-type]
            if self.user_id:
                payload["owner_id"] = self.user_id
            return payload
        diff = dict(view)
        if view["stage"] is None:
            # A closed deal: Pipedrive still wants a stage; the one it left (or the first).
            diff["stage"] = self._remote_stage(self._desk_open[0])
            view = {**view, "stage": diff["stage"]}
        payload = self._payload(kind, remote_type, view, diff, deal_remote, local_id, {})
        payload["title"] = view["title"]
        if self.user_id:
            payload["owner_id"] = self.user_id
        if view["status"] == "open":
            payload.pop("status", None)
        return payload

    def _find_made(
        self, remote_type: str, view: View, deal_remote: int | None, since: datetime
    ) -> Obj | None:
        """What an interrupted create made, if it reached Pipedrive: same fields, made since
        a little before the attempt, owned by the rep and linked to no desk row."""
        # The desk's side, as mapping's views make it (a View's values are typed Any).
        if remote_type == "note":
            candidates: Iterable[Obj] = self.crm.notes_of_deal(deal_remote or 0)
            content: str = view["content"]

            def same(item: Obj) -> bool:
                return mapping.note_text(item.get("content")) == content
        else:
            candidates = self.crm.changed(
                remote_type, since=_rfc3339(since - LOOKBACK), owner_id=self.user_id
            )
            if remote_type == "deal":
                title: str = view["title"]
                value: float = view["value"]

                def same(item: Obj) -> bool:
                    return (
                        str(item.get("title") or "") == title
                        and abs(float(item.get("value") or 0) - value) < 0.005
                    )
            else:
                subject: str = view["subject"]
                due_date: str = view["due_date"]

                def same(item: Obj) -> bool:
                    return (
                        item.get("deal_id") == deal_remote
                        and str(item.get("subject") or "") == subject
                        and str(item.get("due_date") or "")[:10] == due_date
                    )

        with read_session(self.engine) as session:
            for item in candidates:
                if same(item) and self._link_of(session, remote_type, int(item["id"])) is None:
                    return item
        return None


# ---------------------------------------------------------------- settle a conflict


@dataclass(frozen=True, slots=True)
class Conflict:
    """A field both sides changed, as the rep reads it: every text printable on one line and
    cut short (a name from Pipedrive may hold escape sequences, line breaks, or 100,000
    characters), stages by the desk's names."""

    id: int
    kind: str
    local_id: int
    field: str
    desk: Any
    remote: Any
    title: str = ""  # the deal it is on
    desk_shown: str = ""
    remote_shown: str = ""
    deal_id: int | None = None

    @property
    def what(self) -> str:
        """`deal #3 Fleet rollout: value`."""
        word = mapping.WORDS.get(self.field, self.field)
        kind = {"deal": "deal", "activity": "activity", "follow_up": "follow-up"}[self.kind]
        on = f" {cut(self.title)}" if self.title else ""
        if self.kind != "deal":
            on = f" on{on}" if on else ""
        return f"{kind} #{self.local_id}{on}: {word}"

    def line(self) -> str:
        desk = self.desk_shown or _shown(self.desk)
        remote = self.remote_shown or _shown(self.remote)
        return f"{self.id}: {self.what}: desk {desk} · Pipedrive {remote}"


SHOWN_CHARS = 60


def cut(text: str, limit: int = SHOWN_CHARS) -> str:
    """Text from either side as one printable line of at most `limit` characters."""
    return core_text.cut(text, limit)


def _shown(value: Any, stage_names: dict[int, str] | None = None) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "done" if value else "not done"
    if isinstance(value, float):
        return f"{value:,.2f}".removesuffix(".00")
    if stage_names is not None and isinstance(value, int) and value in stage_names:
        return cut(stage_names[value])
    return cut(str(value))


def conflicts(session: Session) -> list[Conflict]:
    """The conflicts list, oldest first, each with the deal it is on."""
    rows = list(session.execute(select(SyncConflict).order_by(col(SyncConflict.id))).scalars())
    # A stage is compared as Pipedrive's stage id: shown as the desk's stage it maps to.
    names = {s.id: s.name for s in deal_service.stages(session=session)}
    stage_names: dict[int, str] = {}
    for desk_id, remote_id in state.get_json(session, state.STAGE_MAP, {}).items():
        stage_names.setdefault(int(remote_id), names.get(int(desk_id), f"stage {remote_id}"))
    found = []
    for row in rows:
        deal_id: int | None = row.local_id
        if row.kind != "deal":
            item = session.get(FollowUp if row.kind == "follow_up" else Activity, row.local_id)
            deal_id = item.deal_id if isinstance(item, (FollowUp, Activity)) else None
        deal = session.get(Deal, deal_id) if deal_id is not None else None
        desk, remote = json.loads(row.desk_value or "null"), json.loads(row.remote_value or "null")
        names_for = stage_names if row.field == "stage" else None
        found.append(
            Conflict(
                saved_id(row),
                row.kind,
                row.local_id,
                row.field,
                desk,
                remote,
                deal.title if deal is not None else "",
                _shown(desk, names_for),
                _shown(remote, names_for),
                deal.id if deal is not None else None,
            )
        )
    return found


def settle(engine: Engine, conflict_id: int, side: str) -> Conflict:
    """Keep the desk's value (sent at the next sync) or Pipedrive's (written here now)."""
    with write_session(engine) as session:
        return settle_in(session, conflict_id, side)


def settle_in(session: Session, conflict_id: int, side: str) -> Conflict:
    """settle() in the caller's write transaction (the app's gateway opens it)."""
    if side not in ("desk", "pipedrive"):
        raise SyncError(f"settle with desk or pipedrive, not {side!r}")
    row = session.get(SyncConflict, conflict_id)
    if row is None:
        raise SyncError(f"no conflict has id {conflict_id}; `repdesk sync conflicts` lists them")
    found = next(c for c in conflicts(session) if c.id == conflict_id)
    session.delete(row)
    if side == "desk":
        session.add(SyncOutbox(kind=row.kind, local_id=row.local_id, queued_at=clock.now()))
        return found
    session.info[APPLYING] = True
    runner = Sync(session.get_bind(), _NoConnector())  # type: ignore[arg-type]
    runner._load_marks_in(session)
    if row.kind == "deal":
        deal = session.get(Deal, row.local_id)
        if deal is not None:
            runner._apply_deal_fields(session, deal, {row.field: found.remote})
    else:
        model = FollowUp if row.kind == "follow_up" else Activity
        item = session.get(model, row.local_id)
        if item is not None:
            runner._apply_activity(session, row.kind, item, {row.field: found.remote})
    return found


class _NoConnector:
    """Settling a conflict writes on the desk only: no request is made."""

    name = "none"


def failure_line(exc: BaseException) -> str:
    """Why a sync stopped, as `repdesk sync status` keeps it: a SyncError's own line; anything
    else by its kind and first line (the shell's crash log has the rest; no traceback here)."""
    if isinstance(exc, SyncError):
        return str(exc)
    first = next(iter(str(exc).splitlines()), "")
    return f"unexpected error: {type(exc).__name__}" + (f": {first}" if first else "")


def record_failure(engine: Engine, why: str) -> None:
    """The last sync failed (now, for `why`): kept until one goes through. Also for a sync that
    stopped before its run began (no token: src/repdesk/cli/sync.py, src/repdesk/tui/syncing.py)."""
    try:
        with write_session(engine) as session:
            state.note_failure(session, why, clock.now())
    except Exception:  # the desk itself is the problem: the caller shows the sync's line
        pass


def _nearest_free(ordered: list[RemoteStage], index: int, taken: set[int]) -> RemoteStage:
    """The free stage at the desk stage's place, else the nearest after it, else before."""
    place = min(index, len(ordered) - 1)
    after = [s for s in ordered[place:] if s.id not in taken]
    before = [s for s in ordered[:place] if s.id not in taken]
    return (after or before[::-1])[0]


def _pipeline_of(stage_map: dict[int, int], remote: list[RemoteStage]) -> int | None:
    """The pipeline of the Pipedrive stages the desk's are mapped to (all in one: the rep picks
    them from one pipeline's list)."""
    pipelines = {s.pipeline_id for s in remote if s.id in set(stage_map.values())}
    return pipelines.pop() if len(pipelines) == 1 else None


def _put_pipeline(session: Session, pipeline: int | None) -> None:
    # None (the mapped stages are none Pipedrive lists, or in several pipelines) is kept as ""
    # too: asked, no answer. Forgotten, every later sync asked for the stages again, for the
    # same answer (tests/pipedrive/test_stages_asked_once.py); a stage added on the desk or
    # `repdesk sync stages --reset` still asks (_complete_stage_map).
    state.put(session, state.PIPELINE_ID, "" if pipeline is None else str(pipeline))


def _latest(items: list[Obj]) -> list[Obj]:
    """Each object of a page once, as it was last changed. Pipedrive's pages can list one twice:
    pages ordered by update_time bring a deal again when a colleague edits it while a big first
    sync pages through, and a broken server may repeat one in a page. Both were made on the
    desk, two rows for one link, and the sync stopped saying the desk was damaged (a hostile
    test). The later update_time wins; on a tie, or a time that is none, the one seen last."""
    chosen: dict[int, Obj] = {}
    for item in items:
        key = int(item["id"])
        kept = chosen.get(key)
        if kept is not None and _older(item, kept):
            continue
        chosen.pop(key, None)  # the one kept stands where it was seen last
        chosen[key] = item
    return list(chosen.values())


def _older(item: Obj, than: Obj) -> bool:
    mine, theirs = (mapping.instant(i.get("update_time")) for i in (item, than))
    return mine is not None and theirs is not None and mine < theirs


def _pipedrive_id(source_id: str | None) -> int | None:
    if not source_id:
        return None
    # row_id: ASCII digits of a sane length ('²'.isdigit() is true and int('²') raises).
    return row_id(source_id.partition(":")[2])


def _noon(day: date) -> datetime:
    """Noon of a local day, the rep's: an instant whose local day is that day in any zone."""
    return datetime(day.year, day.month, day.day, 12).astimezone()


def _date(text: Any) -> date | None:
    """A day as Pipedrive writes it; None for none or for one that is no day. A day the desk
    does not keep (before 1900, after 9990: a typo there, not a sale) is InvalidInput: taken
    in, it made the desk's JSON export one its import refuses."""
    if not text:
        return None
    try:
        day = date.fromisoformat(str(text)[:10])
    except ValueError:
        return None
    if not dates.in_range(day):
        raise InvalidInput("date", str(text)[:40], dates.DAY_RANGE)
    return day
