"""`repdesk capture`, second half: read items (`repdesk.io.capture`) onto the deals they are
about, never guessed.

An item is about the deal whose contacts hold one of its addresses (the rep's own addresses
left out); failing that, the deal of the company whose mail domain one of them is at (its own
domain, or the one its people write from; a free-mail domain never names a company, nor the
rep's own). Of several deals of the same people, the open ones count; none open, the won ones
(a customer written to after the sale); a lost deal only when that is all there is. One deal:
the item goes there. Several, or none: it is listed, and `--deal` (or the app's assign key)
settles it.

A message becomes an email activity (sent or received, by the rep's addresses), a past event a
meeting activity (its length in minutes), a future event a follow-up on the day and time it
starts. The `captured` ledger remembers each by its Message-ID, or its UID and RECURRENCE-ID
(and whether it was taken as a follow-up or an activity): reading the same files again adds
nothing, and a meeting taken as a follow-up before it happened is taken again as a meeting
once it has, completing that follow-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlmodel import Session, col, select

from repdesk.core import clock
from repdesk.core.domain import FREE_MAIL_DOMAINS
from repdesk.io.capture import EMAIL, MEETING, Item
from repdesk.services.activities import first_contact_by
from repdesk.services.deals import get_deal
from repdesk.services.gone import RETENTION, not_found
from repdesk.services.people import domain_of
from repdesk.storage.models import (
    Activity,
    Captured,
    Company,
    Contact,
    ContactEmail,
    Deal,
    DealContact,
    FollowUp,
    Trash,
    saved_id,
)

ACTIVITY, FOLLOW_UP = "activity", "follow_up"
_STATUS_ORDER = ("open", "won", "lost")


@dataclass(frozen=True)
class DealRef:
    id: int
    title: str
    company: str
    status: str


@dataclass(frozen=True)
class Placed:
    """An item and what it became (or would become, in a dry run) on which deal."""

    item: Item
    deal: DealRef
    kind: str  # activity | follow_up
    how: str  # "ana@acme.example", "acme.example", "--deal"
    outcome: str = ""  # an email's: sent | received
    item_id: int | None = None  # the activity's or follow-up's id (None in a dry run)


@dataclass(frozen=True)
class Unsettled:
    """An item that names several deals (candidates) or none."""

    item: Item
    candidates: list[DealRef]


@dataclass(frozen=True)
class StepChanged:
    """A meeting's next step the calendar changed: moved to the meeting's new time, or (the
    meeting cancelled) taken off, to the trash."""

    item: Item
    deal: DealRef
    step_id: int
    was: tuple[date, time | None]  # the step's day and time before
    cancelled: bool = False
    back: bool = False  # on again after a cancel: the step came back from the trash


@dataclass
class CaptureReport:
    added: list[Placed] = field(default_factory=list)
    changed: list[StepChanged] = field(default_factory=list)
    already: int = 0  # taken before (the ledger knows them)
    ambiguous: list[Unsettled] = field(default_factory=list)
    unmatched: list[Unsettled] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one line each: a lost deal, a future mail


@dataclass
class _Directory:
    """Who is who on the desk, read once per capture."""

    deals: dict[int, DealRef]
    by_address: dict[str, set[int]]  # address -> deal ids its contact is on
    by_domain: dict[str, set[int]]  # domain -> deal ids of the company

    @classmethod
    def load(cls, session: Session) -> _Directory:
        deals = {
            saved_id(d): DealRef(saved_id(d), d.title, d.company, d.status)
            for d in session.exec(select(Deal))
        }
        by_contact: dict[int, set[int]] = {}
        for deal_id, contact_id in session.exec(
            select(DealContact.deal_id, DealContact.contact_id)
        ):
            by_contact.setdefault(contact_id, set()).add(deal_id)
        by_address: dict[str, set[int]] = {}
        by_company_domain: dict[int, set[str]] = {}
        contact_company = dict(session.exec(select(Contact.id, Contact.company_id)).all())
        for contact_id, address in session.exec(
            select(ContactEmail.contact_id, ContactEmail.address)
        ):
            key = address.strip().casefold()
            by_address.setdefault(key, set()).update(by_contact.get(contact_id, set()))
            company_id = contact_company.get(contact_id)
            if company_id is not None:
                by_company_domain.setdefault(company_id, set()).add(domain_of(key))
        # Ids read from the table are never None (the models declare `int | None` for a row not
        # flushed yet): the checks below only say so to the types.
        for some_company, domain in session.exec(select(Company.id, Company.domain)):
            if domain and some_company is not None:
                by_company_domain.setdefault(some_company, set()).add(domain.lower())
        company_deals: dict[int, set[int]] = {}
        for some_deal, its_company in session.exec(select(Deal.id, Deal.company_id)):
            if its_company is not None and some_deal is not None:
                company_deals.setdefault(its_company, set()).add(some_deal)
        by_domain: dict[str, set[int]] = {}
        for company_id, domains in by_company_domain.items():
            for domain in domains:
                if domain and domain not in FREE_MAIL_DOMAINS:
                    by_domain.setdefault(domain, set()).update(company_deals.get(company_id, set()))
        return cls(deals, by_address, by_domain)

    def choose(self, deal_ids: Iterable[int]) -> list[DealRef]:
        """The deals that count among these: the open ones, else the won, else the lost."""
        found = [self.deals[i] for i in sorted(set(deal_ids)) if i in self.deals]
        for status in _STATUS_ORDER:
            some = [d for d in found if d.status == status]
            if some:
                return some
        return []


def capture(
    *,
    session: Session,
    items: list[Item],
    me: Iterable[str] = (),
    deal_id: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> CaptureReport:
    """Take `items` in (see the module's doc); `deal_id`: every item goes on that deal."""
    moment = now or clock.now()
    mine = {address.strip().casefold() for address in me if address.strip()}
    my_domains = {domain_of(a) for a in mine}
    directory = _Directory.load(session)
    forced = None
    if deal_id is not None:
        if deal_id not in directory.deals:
            raise not_found(
                session=session, table="deal", item_id=deal_id, plain=f"no deal has id {deal_id}"
            )
        forced = directory.deals[deal_id]
    report = CaptureReport()
    taken, raw_keys = _ledger(session)
    # A series with a next step captured before and still pending has its next step: one
    # occurrence picked alone (`FILE#N`) made another (found by a hostile test).
    pending = _series_with_a_pending_step(session, taken)
    next_of_series: set[str] = set(pending)
    steps_of = _steps_by_uid(taken)
    for gone in _vanished_occurrences(session, items, pending, taken, moment):
        # Deleted from the series (EXDATE: how Google writes a deleted occurrence) or the
        # series moved whole: its step stayed on a day with no meeting, overdue for ever, and
        # the series never had another (a hostile test). Taken off as a cancelled one is.
        change = _take_off(session, gone, _taken_as(taken, gone), directory, moment,
                           dry_run=dry_run)  # fmt: skip
        if change is not None:
            report.changed.append(change)
            next_of_series.discard(gone.series)
    for item in sorted(items, key=lambda i: (i.start, i.where)):
        kind = _kind_for(item, moment)
        before = _taken_as(taken, item)
        single = item.kind != EMAIL and not item.series
        uid = _series_key(item.key)
        # The next step a meeting was taken as: a repeating one's occurrence by its key; a
        # meeting that happens once by its UID, whatever its time (moved in the calendar, it
        # is the same meeting), the latest step taken for that UID.
        steps, ledger_key = before, raw_keys.get((item.key, FOLLOW_UP), item.key)
        if single:
            latest = max(steps_of[uid]) if uid in steps_of else None
            steps = {FOLLOW_UP: latest[0]} if latest else {}
            ledger_key = latest[1] if latest else item.key
        if item.cancelled:
            # Called off: its next step, still pending, goes (to the trash); a repeating
            # meeting's next occurrence then becomes its next step.
            change = _take_off(session, item, steps, directory, moment, dry_run=dry_run)
            if change is not None:
                report.changed.append(change)
                if item.series:
                    next_of_series.discard(item.series[:400])
            continue
        if kind == ACTIVITY and item.series and pending.get(item.series[:400]) == item.key:
            # The pending step's meeting has happened: captured now, it closes the step, and
            # the occurrence after it becomes the next one.
            next_of_series.discard(item.series[:400])
        if kind == FOLLOW_UP and item.series:
            if item.series[:400] in next_of_series:
                if kind in before:
                    _seen_again(
                        report,
                        _follow_the_calendar(session, item, steps, directory, dry_run, ledger_key),
                    )
                continue  # a repeating meeting: its next occurrence only is a next step
            # Marked before the ledger is asked: a next occurrence captured before is still
            # the series' next step, and the one after it must not become another.
            next_of_series.add(item.series[:400])
        if (
            kind == FOLLOW_UP
            and single
            and (back := _back_on(session, steps, item, directory, moment, dry_run, ledger_key))
        ):
            report.changed.append(back)
            continue
        if kind == FOLLOW_UP and single and _pending_step(session, steps) is not None:
            _seen_again(
                report, _follow_the_calendar(session, item, steps, directory, dry_run, ledger_key)
            )
            continue
        if kind == FOLLOW_UP and single and uid in steps_of and (ledger_key, ACTIVITY) not in taken:
            # Its step done or deleted by the rep, and the meeting never seen to happen: the
            # rep's word stands, moved or not (a moved meeting brought it back: a hostile
            # test). Seen to happen, a new time is a second meeting (an event reused).
            report.already += 1
            continue
        if kind in before:
            change = None
            if kind == FOLLOW_UP and not single:
                change = _follow_the_calendar(session, item, steps, directory, dry_run, ledger_key)
            _seen_again(report, change)
            continue
        if item.kind == EMAIL and item.start > moment:
            # The shell and the app put "Left out:" before it (it said "left out" twice).
            report.refused.append(f"{item.where}: dated {item.start:%Y-%m-%d %H:%M} UTC, after "
                                  "now: a message from the future")  # fmt: skip
            continue
        others = [a for a in item.addresses if a.casefold() not in mine]
        if forced is not None:
            target, how = forced, "--deal"
        else:
            found = _match(directory, others, my_domains)
            if found is None:
                report.unmatched.append(Unsettled(item, []))
                continue
            candidates, how = found
            if len(candidates) != 1:
                report.ambiguous.append(Unsettled(item, candidates))
                continue
            target = candidates[0]
        if kind == FOLLOW_UP and target.status == "lost":
            # With --deal naming this lost deal, "capture with --deal" would send the rep round.
            way_out = "reopen it first" if forced else "reopen it, or capture with --deal"
            report.refused.append(
                f"{item.where}: deal #{target.id} {target.title} is lost: a next step on it "
                f"would never show; {way_out}"
            )
            continue
        sent = bool(mine) and item.sender.casefold() in mine
        outcome = ("sent" if sent else "received") if item.kind == EMAIL else ""
        placed = Placed(item, target, kind, how, outcome)
        if not dry_run:
            # A meeting that happens once: every step taken for it (a desk from before it was
            # known by its UID may hold two); an occurrence: its own.
            done = sorted(step for step, _ in steps_of.get(uid, ())) if single else []
            if not single and FOLLOW_UP in steps:
                done = [steps[FOLLOW_UP]]
            placed = _write(session, placed, done, moment)
        taken[(item.key, kind)] = placed.item_id or 0
        if single and kind == FOLLOW_UP:
            steps_of.setdefault(uid, []).append((placed.item_id or 0, item.key))
        report.added.append(placed)
    return report


def settle(
    *,
    session: Session,
    item: Item,
    deal_id: int,
    me: Iterable[str] = (),
    now: datetime | None = None,
) -> CaptureReport:
    """One listed item onto the deal the rep picked (the app's assign key)."""
    return capture(session=session, items=[item], me=me, deal_id=deal_id, now=now)


def _kind_for(item: Item, moment: datetime) -> str:
    if item.kind == EMAIL or item.start <= moment:
        return ACTIVITY
    return FOLLOW_UP


def _series_with_a_pending_step(
    session: Session, taken: dict[tuple[str, str], int]
) -> dict[str, str]:
    """The calendar series (their UIDs, as ledger keys hold them) whose captured next step is
    still pending, each with that step's key."""
    by_step = {
        item_id: key
        for (key, kind), item_id in taken.items()
        if kind == FOLLOW_UP and key.startswith("ics:") and item_id
    }
    if not by_step:
        return {}
    pending = session.exec(
        select(FollowUp.id).where(
            col(FollowUp.id).in_(sorted(by_step)), col(FollowUp.done_at).is_(None)
        )
    )
    return {
        by_step[step][len("ics:") :].rpartition("/")[0]: by_step[step]
        for step in pending
        if step is not None
    }


def _ledger(
    session: Session,
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], str]]:
    """What was captured: (key, kind) -> the row's id; and the keys the ledger holds with
    more than the item's key: a repeating meeting's step moved in the calendar keeps the start
    the calendar gave it, as "ics:UID/RECURRENCE-ID|START"."""
    taken: dict[tuple[str, str], int] = {}
    raw_keys: dict[tuple[str, str], str] = {}
    for row in session.exec(select(Captured)):
        key = _item_key(row.source_key)
        taken[(key, row.kind)] = row.item_id
        if key != row.source_key:
            raw_keys[(key, row.kind)] = row.source_key
    return taken, raw_keys


def _item_key(source_key: str) -> str:
    """The item's key of a ledger key: without the start a moved occurrence's step keeps."""
    if not source_key.startswith("ics:"):
        return source_key
    head, _, tail = source_key.rpartition("/")
    return f"{head}/{tail.partition('|')[0]}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _with_start(item: Item) -> str:
    """The ledger key of a meeting's step: a repeating meeting's occurrence that the calendar
    has away from its series' time keeps that time ("ics:UID/RID|START"), so a later capture
    knows whether the calendar moved it since (a review: moved before its first capture, a
    snooze was undone once)."""
    rid = item.key.rpartition("/")[2]
    at = _stamp(item.start)
    return item.key if not item.series or at == rid else f"{item.key}|{at}"


def _series_key(key: str) -> str:
    """ "ics:UID/" of a meeting's ledger key "ics:UID/RECURRENCE-ID"."""
    return key.rpartition("/")[0] + "/"


def _vanished_occurrences(
    session: Session,
    items: list[Item],
    pending: dict[str, str],
    taken: dict[tuple[str, str], int],
    moment: datetime,
) -> list[Item]:
    """The occurrences whose pending step a repeating meeting no longer has, as cancelled
    items: the series is read around the step's time (an occurrence after it, and one before
    it or the step still to come), but not that occurrence. A
    series read in part (`FILE#N`: one occurrence) or ending there proves nothing."""
    by_series: dict[str, list[Item]] = {}
    for item in items:
        if item.series and item.kind != EMAIL:
            by_series.setdefault(item.series[:400], []).append(item)
    gone = []
    for series, step_key in pending.items():
        read = by_series.get(series, [])
        rid = step_key.rpartition("/")[2]
        rids = {i.key.rpartition("/")[2] for i in read}
        if len(read) < 2 or rid in rids or not rid < max(rids):
            continue
        try:
            start = datetime.strptime(rid, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            continue
        # Before the first occurrence read, a step still to come is gone (a series moved whole
        # to a later start, its first occurrence deleted: a review); a past one may only be
        # before the range the calendar was exported for.
        if rid < min(rids) and start <= moment:
            continue
        step_id = taken.get((step_key, FOLLOW_UP))
        step = session.get(FollowUp, step_id) if step_id else None
        subject = step.note.removeprefix("Meeting: ") if step is not None else ""
        file = read[0].where.rpartition("#")[0] or read[0].where
        gone.append(
            Item(
                key=step_key,
                kind=MEETING,
                where=file,
                start=start,
                subject=subject,
                series=series,
                cancelled=True,
            )
        )
    return gone


def _steps_by_uid(taken: dict[tuple[str, str], int]) -> dict[str, list[tuple[int, str]]]:
    """The next steps taken for each meeting UID: "ics:UID/" -> (the follow-up's id, its
    ledger key, which holds a one-off meeting's start as the calendar last had it); the
    latest is the one with the highest id."""
    found: dict[str, list[tuple[int, str]]] = {}
    for (key, kind), item_id in taken.items():
        if kind == FOLLOW_UP and key.startswith("ics:") and item_id:
            found.setdefault(_series_key(key), []).append((item_id, key))
    return found


def _seen_again(report: CaptureReport, change: StepChanged | None) -> None:
    """An item captured before: its step moved with the calendar, or counted as before."""
    if change is not None:
        report.changed.append(change)
    else:
        report.already += 1


def _moved_in_the_calendar(item: Item, ledger_key: str) -> bool:
    """Whether the calendar has the meeting at another time than when its step was taken (or
    last moved). Not whether the step is at the meeting's time: a step the rep snoozed stays
    snoozed while the calendar keeps the meeting where it was (found by a hostile test). A
    meeting that happens once: its ledger key holds its start then. A repeating meeting's
    occurrence: its ledger key holds its start when the calendar had moved it ("|START"),
    else it is at the series' time (its RECURRENCE-ID)."""
    if item.series:
        rid, _, known = ledger_key.rpartition("/")[2].partition("|")
        return _stamp(item.start) != (known or rid)
    if ledger_key.endswith("/"):
        return False  # an older desk's key, without the start: not known to have moved
    return item.key != ledger_key


def _taken_as(taken: dict[tuple[str, str], int], item: Item) -> dict[str, int]:
    """What the ledger holds of `item`, by kind (activity, follow-up) -> the row's id."""
    found = {k: taken[(item.key, k)] for k in (ACTIVITY, FOLLOW_UP) if (item.key, k) in taken}
    if item.kind != EMAIL and not item.series and ACTIVITY not in found:
        # A meeting read past the window was once keyed by its UID alone ("ics:UID/").
        legacy = taken.get((_series_key(item.key), ACTIVITY))
        if legacy is not None:
            found[ACTIVITY] = legacy
    return found


def _pending_step(session: Session, before: dict[str, int]) -> FollowUp | None:
    """The meeting's next step, when one was captured and is still pending."""
    if ACTIVITY in before or not before.get(FOLLOW_UP):
        return None  # it happened and was captured so: its step is done
    step = session.get(FollowUp, before[FOLLOW_UP])
    return step if step is not None and step.done_at is None else None


def _step_when(item: Item) -> tuple[date, time | None]:
    local = item.start.astimezone()
    return local.date(), None if item.all_day else local.time().replace(second=0, microsecond=0)


def _follow_the_calendar(
    session: Session,
    item: Item,
    before: dict[str, int],
    directory: _Directory,
    dry_run: bool,
    ledger_key: str,
) -> StepChanged | None:
    """A meeting to come that was taken as a next step before, read again at another time:
    the calendar moved it, and the step follows (it stayed at the old time and went overdue,
    a hostile test). The calendar is the truth for a meeting's time."""
    step = _pending_step(session, before)
    if step is None:
        return None
    if not _moved_in_the_calendar(item, ledger_key):
        if ledger_key.endswith("/") and not dry_run:
            _rekey(session, ledger_key, item.key)  # the start known from now on
        return None
    when = _step_when(item)
    if (step.due_on, step.due_time) == when or step.deal_id not in directory.deals:
        return None
    deal = directory.deals[step.deal_id]
    if deal.status == "lost":
        return None  # a step on a lost deal never shows; reopening it shows where it was
    change = StepChanged(item, deal, saved_id(step), (step.due_on, step.due_time))
    if not dry_run:
        step.due_on, step.due_time = when
        session.add(step)
        _rekey(session, ledger_key, _with_start(item))
        session.flush()
    return change


def _take_off(
    session: Session,
    item: Item,
    before: dict[str, int],
    directory: _Directory,
    moment: datetime,
    *,
    dry_run: bool,
) -> StepChanged | None:
    step = _pending_step(session, before)
    if step is None or step.deal_id not in directory.deals:
        return None
    change = StepChanged(
        item,
        directory.deals[step.deal_id],
        saved_id(step),
        (step.due_on, step.due_time),
        cancelled=True,
    )
    if not dry_run:
        from repdesk.services import trash

        trash.delete_item(
            session=session,
            kind="follow_up",
            item_id=saved_id(step),
            now=moment,
            why=CANCELLED,
        )
    return change


CANCELLED = "the meeting was cancelled"  # why the trash holds a step capture took off


def _rekey(session: Session, ledger_key: str, key: str) -> None:
    """The ledger keeps a meeting's start as the calendar has it now: read again unchanged,
    its step stays where the rep may snooze it."""
    if ledger_key == key:
        return
    row = session.exec(
        select(Captured).where(Captured.source_key == ledger_key, Captured.kind == FOLLOW_UP)
    ).first()
    clash = session.exec(
        select(Captured.id).where(Captured.source_key == key, Captured.kind == FOLLOW_UP)
    ).first()
    if row is not None and clash is None:
        row.source_key = key
        session.add(row)


def _back_on(
    session: Session,
    steps: dict[str, int],
    item: Item,
    directory: _Directory,
    moment: datetime,
    dry_run: bool,
    ledger_key: str,
) -> StepChanged | None:
    """A meeting cancelled and then on again: the step the cancel took off comes back from
    the trash, at the meeting's time (it stayed there, the deal without a next step and
    nothing said: a hostile test). A step the rep deleted stays deleted."""
    step_id = steps.get(FOLLOW_UP)
    if not step_id or session.get(FollowUp, step_id) is not None:
        return None
    from repdesk.services import trash

    # Kept 30 days: an older entry is going, and restoring it would fail the capture.
    entry = session.exec(
        select(Trash)
        .where(
            Trash.kind == "follow_up",
            Trash.item_id == step_id,
            Trash.deleted_at > moment - RETENTION,
        )
        .order_by(col(Trash.id).desc())
    ).first()
    if entry is None or not entry.label.endswith(f"({CANCELLED})"):
        return None
    deal = directory.deals.get(entry.deal_id)
    if deal is None or deal.status == "lost":
        return None
    when = _step_when(item)
    change = StepChanged(item, deal, step_id, when, back=True)
    if not dry_run:
        restored = trash.restore(session=session, trash_id=saved_id(entry), now=moment)
        step = session.get(FollowUp, restored.item_id)
        if step is not None:
            step.due_on, step.due_time = when
            session.add(step)
        _rekey(session, ledger_key, item.key)
        session.flush()
    return change


def _match(
    directory: _Directory, addresses: list[str], my_domains: set[str]
) -> tuple[list[DealRef], str] | None:
    by_contact: set[int] = set()
    via: list[str] = []
    for address in addresses:
        deals = directory.by_address.get(address.casefold())
        if deals:
            by_contact |= deals
            via.append(address)
    chosen = directory.choose(by_contact)
    if chosen:
        return chosen, ", ".join(via)
    by_company: set[int] = set()
    via = []
    for address in addresses:
        domain = domain_of(address)
        if not domain or domain in FREE_MAIL_DOMAINS or domain in my_domains:
            continue
        deals = directory.by_domain.get(domain)
        if deals:
            by_company |= deals
            via.append(domain)
    chosen = directory.choose(by_company)
    if chosen:
        return chosen, ", ".join(dict.fromkeys(via))
    return None


def other_party(item: Item, me: Iterable[str] = ()) -> str:
    """Who an item is with, as a list shows it: the sender, or for what the rep sent or
    organised, the first person invited (a meeting the rep set up read "rep@mycorp": an
    audit)."""
    mine = {address.strip().casefold() for address in me}
    people = [item.sender, *item.recipients]
    others = [a for a in people if a and a.casefold() not in mine]
    return others[0] if others else ""


def note_of(item: Item) -> str:
    """What the activity or follow-up says: the subject, then the body's first lines."""
    parts = [p for p in (item.subject, item.first_lines) if p]
    return " — ".join(parts)


def _write(session: Session, placed: Placed, step_ids: list[int], moment: datetime) -> Placed:
    """Write the item as placed; `step_ids`: the next steps the meeting was taken as before
    (a desk from before a moved meeting was known as one may hold two for it)."""
    item, deal = placed.item, placed.deal
    if placed.kind == FOLLOW_UP:
        from repdesk.services.followups import add_follow_up

        follow_up = add_follow_up(
            session=session,
            deal_id=deal.id,
            when=_step_when(item),
            note=f"Meeting: {note_of(item)}" if note_of(item) else "Meeting",
            now=moment,
        )
        item_id = follow_up.id
    else:
        activity = Activity(
            deal_id=deal.id,
            kind=item.kind,
            at=min(item.start, moment),
            outcome=placed.outcome,
            minutes=item.minutes or None,  # an event without an end has no length
            text=note_of(item),
        )
        session.add(activity)
        # As a touch logged for that day does (`repdesk log --at`): a captured mail older
        # than the deal's first contact moved nothing (a hostile test).
        first_contact_by(session, get_deal(session=session, deal_id=deal.id), activity.at)
        session.flush()
        item_id = activity.id
        # The meeting taken as a next step before it happened: it has happened now.
        for step_id in step_ids:
            step = session.get(FollowUp, step_id)
            if step is not None and step.done_at is None:
                step.done_at, step.outcome = moment, "meeting"
                session.add(step)
    assert item_id is not None
    session.add(
        Captured(
            source_key=_with_start(item) if placed.kind == FOLLOW_UP else item.key,
            kind=placed.kind,
            item_id=item_id,
            deal_id=deal.id,
            captured_at=moment,
        )
    )
    session.flush()
    return Placed(item, deal, placed.kind, placed.how, placed.outcome, item_id)


def captured_keys(*, session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these source keys the ledger holds (any kind)."""
    wanted = list(set(keys))
    if not wanted:
        return set()
    rows = session.exec(select(Captured.source_key).where(col(Captured.source_key).in_(wanted)))
    return set(rows)
