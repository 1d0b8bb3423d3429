"""Deals: create, edit, move, win, lose, reopen; each stage change recorded in the history."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, or_
from sqlmodel import Session, col, select

from repdesk.core import clock, reach
from repdesk.core.currencies import CODE_FORM, is_code
from repdesk.core.domain import SEGMENTS, STATUSES, row_id
from repdesk.core.errors import AlreadyClosed, Ambiguous, InvalidInput, NotFound, RepdeskError
from repdesk.core.money import MAX_CENTS, check_cents
from repdesk.core.text import one_name, same_name
from repdesk.services import history as kept  # beside history() below: the v5 histories
from repdesk.services import people
from repdesk.services.gone import not_found
from repdesk.storage import outbox
from repdesk.storage.models import Deal, FollowUp, Stage, StageChange, saved_id, table_of

EDITABLE = (
    "title",
    "company",
    "contact",
    "email",
    "phone",
    "value_cents",
    "currency",
    "source",
    "product",
    "region",
    "segment",
    "first_contact",
    "expected_close",
    "lost_reason",
)
# The rep's own notes: edited like the fields above, never set by an import (whose fields
# are EDITABLE's, see services/transfer.py).
OWN = ("notes",)


def stages(*, session: Session) -> list[Stage]:
    """Every stage in pipeline order."""
    return list(session.exec(select(Stage).order_by(col(Stage.position))))


def open_stages(*, session: Session) -> list[Stage]:
    return [stage for stage in stages(session=session) if stage.kind == "open"]


def find_stage(*, session: Session, name: str) -> Stage:
    """A stage by name (any case, composed: core.text.same_name) or id. A pipeline holds a few
    stages: compared here, not by SQL's lower()."""
    text = one_name(name)
    stage = None
    if (number := row_id(text)) is not None:
        stage = session.get(Stage, number)
    if stage is None:
        stage = next((s for s in stages(session=session) if same_name(s.name, text)), None)
    if stage is None or stage.kind == "removed":  # kept only for the history naming it
        names = ", ".join(s.name for s in stages(session=session) if s.kind != "removed")
        raise InvalidInput("stage", name, f"one of {names}")
    return stage


def _stage_of_kind(session: Session, kind: str) -> Stage:
    stage = session.exec(
        select(Stage).where(Stage.kind == kind).order_by(col(Stage.position))
    ).first()
    if stage is None:
        raise NotFound(f"the pipeline has no {kind} stage")
    return stage


def get_deal(*, session: Session, deal_id: int) -> Deal:
    deal = session.get(Deal, deal_id)
    if deal is None:
        raise not_found(
            session=session, table="deal", item_id=deal_id, plain=f"no deal has id {deal_id}"
        )
    return deal


# All digits, maybe signed: what a rep types as an id (any script's digits too, e.g. '²').
_NUMBER = re.compile(r"[+-]?\d+")


def find_deal(*, session: Session, ref: str) -> Deal:
    """A deal by id, or by text matching exactly one deal's title or company.

    Exact (case-insensitive) matches win over partial ones; several matches is an error that
    lists them so the rep can pick by id.
    """
    text = ref.strip()
    if not text:
        raise InvalidInput("deal", ref, "a deal id or text matching one deal's title or company")
    if _NUMBER.fullmatch(text):
        # A number is an id or an error: falling back to text search once won "Fleet 2000
        # trucks" for `deal won 0` and lost "Gamma-1 GmbH" for `deal lost -1`.
        # Any script's digits (a fullwidth １ from a Japanese keyboard) are the same id.
        number = row_id("".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text))
        deal = session.get(Deal, number) if number is not None else None
        if deal is None:
            shown = text if len(text) <= 20 else f"{text[:20]}…"
            plain = f"no deal #{shown}; `repdesk deal list` shows the ids"
            if number is None:
                raise NotFound(plain, field="deal")
            raise not_found(
                session=session, table="deal", item_id=number, plain=plain, field="deal"
            )
        return deal
    lowered = text.lower()
    exact = list(
        session.exec(
            select(Deal)
            .where(or_(func.lower(Deal.title) == lowered, func.lower(Deal.company) == lowered))
            .limit(11)
        )
    )
    matches = exact or list(
        session.exec(
            select(Deal)
            .where(
                # LIKE with the text escaped: SQLite's instr() does not exist on PostgreSQL.
                or_(
                    func.lower(Deal.title).contains(lowered, autoescape=True),
                    func.lower(Deal.company).contains(lowered, autoescape=True),
                )
            )
            .order_by(col(Deal.id))
            .limit(11)
        )
    )
    # Several deals of one company: prefer the single open one.
    open_matches = [d for d in matches if d.status == "open"]
    if len(matches) > 1 and len(open_matches) == 1 and not exact:
        return open_matches[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(
            f"no deal matches {ref!r}: use a deal id (see `repdesk deal list`)", field="deal"
        )
    listed = "; ".join(f"{d.id}: {d.title} ({d.company or '-'}, {d.status})" for d in matches[:10])
    more = " and more" if len(matches) > 10 else ""
    raise Ambiguous(f"{ref!r} matches several deals: {listed}{more}. Use the id.", field="deal")


def _check(deal: Deal, today: date) -> None:
    if not deal.title.strip():
        raise InvalidInput("title", deal.title, "a non-empty title")
    if not check_cents(deal.value_cents):
        raise InvalidInput("value", deal.value_cents, f"cents from 0 to {MAX_CENTS:,}")
    if not deal.segment.strip():
        # new or existing; an import keeps a CRM's other values (a slice of their own).
        raise InvalidInput("segment", deal.segment, f"{' or '.join(SEGMENTS)} or another word")
    if not is_code(deal.currency):
        raise InvalidInput("currency", deal.currency, CODE_FORM)
    if deal.first_contact > today:
        raise InvalidInput(
            "first contact",
            deal.first_contact.isoformat(),
            f"today ({today.isoformat()}) or earlier: a first contact that has happened",
        )
    if deal.closed_on and deal.closed_on < deal.first_contact:
        raise InvalidInput(
            "first contact",
            deal.first_contact.isoformat(),
            f"on or before the day the deal closed ({deal.closed_on.isoformat()})",
        )
    if deal.expected_close and deal.expected_close < deal.first_contact:
        raise InvalidInput(
            "expected close",
            deal.expected_close.isoformat(),
            f"a date on or after the first contact ({deal.first_contact.isoformat()})",
        )


def create_deal(
    *,
    session: Session,
    title: str,
    currency: str,
    company: str = "",
    contact: str = "",
    email: str = "",
    phone: str = "",
    value_cents: int = 0,
    stage: str | None = None,
    source: str = "",
    product: str = "",
    region: str = "",
    segment: str = "new",
    first_contact: date | None = None,
    expected_close: date | None = None,
    now: datetime | None = None,
) -> Deal:
    """A new open deal, in `stage` (default: the first stage of the pipeline). Its email and
    phone are checked as a contact's are: they become its main contact's."""
    moment = now or clock.now()
    email = reach.check_address(email) if email.strip() else ""
    phone = reach.check_phone(phone) if phone.strip() else ""
    target = find_stage(session=session, name=stage) if stage else open_stages(session=session)[0]
    if target.kind != "open":
        raise InvalidInput("stage", stage, "an open stage (use `deal won`/`deal lost` to close)")
    deal = Deal(
        title=title,
        company=company,
        contact=contact,
        email=email,
        phone=phone,
        value_cents=value_cents,
        currency=currency,
        stage_id=saved_id(target),
        source=source,
        product=product,
        region=region,
        segment=segment,
        first_contact=first_contact or clock.local_date(moment),
        expected_close=expected_close,
        stage_entered_at=moment,
        created_at=moment,
        updated_at=moment,
    )
    _check(deal, clock.local_date(moment))
    session.add(deal)
    session.flush()
    session.add(
        StageChange(deal_id=saved_id(deal), to_stage_id=saved_id(target), changed_at=moment)
    )
    typed = [name for name in people.PEOPLE_FIELDS if getattr(deal, name).strip()]
    people.adopt_deal_fields(session, deal, typed, now=moment)
    return deal


@dataclass(frozen=True, slots=True)
class NewDeal:
    """A deal brought in whole from elsewhere (the CRM sync), open or closed already."""

    title: str
    currency: str
    stage_id: int  # the open stage it is in (a closed one: the stage it was closed from)
    first_contact: date
    company: str = ""
    contact: str = ""
    email: str = ""
    phone: str = ""
    value_cents: int = 0
    expected_close: date | None = None
    status: str = "open"  # open | won | lost
    closed_on: date | None = None  # the day a won or lost deal closed
    lost_reason: str = ""
    source_id: str | None = None
    segment: str = "new"


def create_deals(
    *, session: Session, new: Sequence[NewDeal], now: datetime | None = None
) -> list[int | RepdeskError]:
    """Many deals in one go, each checked as create_deal, win_deal and lose_deal check one and
    given the history they record (the stage it entered, then Won or Lost). Written with two
    bulk statements: one by one through the ORM, a first sync's 10,000 deals took a minute.
    The answer has, for each, the new deal's id or why that one was not made (the others are).
    """
    moment = now or clock.now()
    today = clock.local_date(moment)
    by_id = {stage.id: stage for stage in stages(session=session)}
    closing: dict[str, Stage] = {}
    answers: list[int | RepdeskError] = []
    rows: list[dict[str, Any]] = []
    entered: list[int] = []  # the open stage each row entered
    for spec in new:
        try:
            entry = by_id.get(spec.stage_id)
            if entry is None or entry.kind != "open":
                raise InvalidInput("stage", spec.stage_id, "an open stage of the pipeline")
            stage_id, closed_on, reason = entry.id, None, ""
            if spec.status not in STATUSES:
                raise InvalidInput("status", spec.status, "open, won or lost")
            if spec.status != "open":
                closed_on = spec.closed_on
                if closed_on is None or closed_on > today:
                    raise InvalidInput(
                        "date",
                        closed_on.isoformat() if closed_on else "",
                        f"today ({today.isoformat()}) or earlier: the day it closed",
                    )
                if spec.status == "lost":
                    reason = spec.lost_reason.strip()
                    if not reason:
                        raise InvalidInput("reason", spec.lost_reason, "why the deal was lost")
                if spec.status not in closing:
                    closing[spec.status] = _stage_of_kind(session, spec.status)
                stage_id = closing[spec.status].id
            _check(spec, today)  # type: ignore[arg-type]  # the fields _check reads
        except RepdeskError as exc:
            answers.append(exc)
            continue
        answers.append(len(rows))  # replaced by the id below
        entered.append(saved_id(entry))
        rows.append(
            {
                "title": spec.title,
                "company": spec.company,
                "contact": spec.contact,
                "email": spec.email,
                "phone": spec.phone,
                "value_cents": spec.value_cents,
                "currency": spec.currency,
                "stage_id": stage_id,
                "status": spec.status,
                "source": "",
                "product": "",
                "region": "",
                "segment": spec.segment,
                "first_contact": spec.first_contact,
                "expected_close": spec.expected_close,
                "closed_on": closed_on,
                "lost_reason": reason,
                "stage_entered_at": moment,
                "created_at": moment,
                "updated_at": moment,
                "source_id": spec.source_id,
                "notes": "",
            }
        )
    if not rows:
        return answers
    table = table_of(Deal)
    ids = (
        session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    history = []
    for deal_id, row, first in zip(ids, rows, entered, strict=True):
        history.append(_history_row(deal_id, None, first, moment))
        if row["stage_id"] != first:
            history.append(_history_row(deal_id, first, row["stage_id"], moment))
    session.execute(insert(table_of(StageChange)), history)
    # Core statements go around the session's flush: tell the sync outbox directly.
    outbox.enqueue(session, "deal", ids)
    return [ids[a] if isinstance(a, int) else a for a in answers]


def _history_row(deal_id: int, from_id: int | None, to_id: int, moment: datetime) -> dict[str, Any]:
    return {
        "deal_id": deal_id,
        "from_stage_id": from_id,
        "to_stage_id": to_id,
        "changed_at": moment,
    }


def edit_deal(
    *, session: Session, deal_id: int, now: datetime | None = None, **changes: Any
) -> Deal:
    """Change a deal's fields (not its stage or status: use move/win/lose/reopen)."""
    deal = get_deal(session=session, deal_id=deal_id)
    unknown = set(changes) - set(EDITABLE) - set(OWN)
    if unknown:
        known = ", ".join((*EDITABLE, *OWN))
        raise InvalidInput("field", ", ".join(sorted(unknown)), f"one of {known}")
    retyped = [
        name
        for name in people.PEOPLE_FIELDS
        if name in changes and (changes[name] or "") != getattr(deal, name)
    ]
    expected_before = deal.expected_close
    first = changes.get("first_contact")
    if first is not None and first != deal.first_contact:
        _check_first_contact(session, deal_id, first)
    for name, value in changes.items():
        setattr(deal, name, value)
    moment = now or clock.now()
    _check(deal, clock.local_date(moment))
    deal.updated_at = moment
    session.add(deal)
    if retyped:
        session.flush()
        people.adopt_deal_fields(session, deal, retyped, now=moment)
    kept.note_close_date(session, deal, expected_before, moment)
    return deal


def _check_first_contact(session: Session, deal_id: int, first: date) -> None:
    """A first contact moved after the deal's first activity would leave that call before the
    deal began, and its cycle too short (a hostile test); an activity logged earlier moves it
    back instead (services/activities.py)."""
    from repdesk.storage.models import Activity

    earliest: datetime | None = session.exec(  # None: no activity yet
        select(func.min(Activity.at)).where(Activity.deal_id == deal_id)
    ).one()
    if earliest is not None and first > clock.local_date(earliest):
        raise InvalidInput(
            "first contact",
            first.isoformat(),
            f"on or before its first activity ({clock.local_date(earliest).isoformat()})",
        )


def _record_move(session: Session, deal: Deal, to: Stage, moment: datetime) -> None:
    if deal.stage_id == to.id:
        return
    session.add(
        StageChange(
            deal_id=saved_id(deal),
            from_stage_id=deal.stage_id,
            to_stage_id=saved_id(to),
            changed_at=moment,
        )
    )
    deal.stage_id = saved_id(to)
    deal.stage_entered_at = moment


def move_deal(
    *,
    session: Session,
    deal_id: int,
    stage: str | int,
    now: datetime | None = None,
    close_steps: bool = False,
) -> Deal:
    """Move a deal to an open stage; a closed deal moved back to one is reopened (as
    `reopen_deal` does). Into the Won stage it is won (`close_steps`: see `win_deal`)."""
    moment = now or clock.now()
    deal = get_deal(session=session, deal_id=deal_id)
    target = find_stage(session=session, name=str(stage))
    if target.kind == "won":
        return win_deal(session=session, deal_id=deal_id, now=moment, close_steps=close_steps)
    if target.kind == "lost":
        raise InvalidInput(
            "stage",
            target.name,
            "an open stage; to lose a deal give a reason: "
            "use `repdesk deal lost DEAL --reason TEXT`",
        )
    category_before = kept.category_of(session, deal)
    for step in steps_closed_by_win(session=session, deal=deal):
        step.done_at, step.outcome = None, ""
        session.add(step)
    _record_move(session, deal, target, moment)
    if deal.status != "open":
        deal.status, deal.closed_on, deal.lost_reason = "open", None, ""
    deal.updated_at = moment
    session.add(deal)
    # A move changes the default category; a reopened deal was in no forecast before it.
    kept.note_category(session, deal, category_before, moment)
    return deal


@dataclass(frozen=True, slots=True)
class StagePosition:
    """Where a deal stood before a move, win or loss: what `restore_stage_position` puts back."""

    deal_id: int
    stage_id: int
    stage_entered_at: datetime
    status: str
    closed_on: date | None
    lost_reason: str
    updated_at: datetime
    last_change_id: int  # the deal's newest StageChange then; later ones belong to the move


def stage_position(*, session: Session, deal_id: int) -> StagePosition:
    deal = get_deal(session=session, deal_id=deal_id)
    last_change = session.exec(
        select(func.max(StageChange.id)).where(StageChange.deal_id == deal_id)
    ).one()
    return StagePosition(
        deal_id=deal_id,
        stage_id=deal.stage_id,
        stage_entered_at=deal.stage_entered_at,
        status=deal.status,
        closed_on=deal.closed_on,
        lost_reason=deal.lost_reason,
        updated_at=deal.updated_at,
        last_change_id=last_change or 0,
    )


def restore_stage_position(*, session: Session, position: StagePosition) -> Deal:
    """Take back the moves made since `position` was read (an undo): the deal's stage, its
    days in the stage, its status, and no trace of the moves in its stage history."""
    deal = get_deal(session=session, deal_id=position.deal_id)
    later = session.exec(
        select(StageChange).where(
            StageChange.deal_id == position.deal_id, col(StageChange.id) > position.last_change_id
        )
    )
    for change in later:
        session.delete(change)
    deal.stage_id = position.stage_id
    deal.stage_entered_at = position.stage_entered_at
    deal.status, deal.closed_on = position.status, position.closed_on
    deal.lost_reason = position.lost_reason
    deal.updated_at = position.updated_at
    session.add(deal)
    return deal


def _close(
    session: Session, deal_id: int, status: str, on: date | None, moment: datetime, reason: str = ""
) -> Deal:
    """Win or lose: move into the closed stage, record the close date (never before the first
    contact, or the cycle length would go negative)."""
    deal = get_deal(session=session, deal_id=deal_id)
    if deal.status != "open":
        # Closing it again (won or lost) would move its close date, and its revenue, to
        # another period: the rep reopens it first, which the history keeps.
        raise AlreadyClosed(
            f"deal #{deal.id} is already {deal.status} (on {deal.closed_on}): "
            "reopen it first to change that"
        )
    today = clock.local_date(moment)
    closed_on = on or today
    if closed_on > today:
        # A deal closed on a day to come would already count in today's quota figures.
        raise InvalidInput(
            "date",
            closed_on.isoformat(),
            f"today ({today.isoformat()}) or earlier: the day it closed",
        )
    if deal.first_contact > today:
        # A first contact to come cannot be true (an older import let some in): no close date
        # could satisfy both checks, so the close takes it back to the day of the close.
        deal.first_contact = closed_on
    if closed_on < deal.first_contact:
        # The fix named: a deal added today and won on Tuesday had none (a new-user trial).
        raise InvalidInput(
            "date",
            closed_on.isoformat(),
            f"on or after the first contact ({deal.first_contact}); first contacted earlier? "
            f"say so first (`repdesk deal set {deal.id} --first-contact DATE`, or First "
            "contact in the deal's form, e)",
        )
    _record_move(session, deal, _stage_of_kind(session, status), moment)
    deal.status, deal.closed_on, deal.lost_reason = status, closed_on, reason
    deal.updated_at = moment
    session.add(deal)
    return deal


# What a step closed by a win says it was done with: its reopen finds it by it.
CLOSED_WITH_THE_WIN = "closed with the win"


def win_deal(
    *,
    session: Session,
    deal_id: int,
    on: date | None = None,
    now: datetime | None = None,
    close_steps: bool = False,
) -> Deal:
    """Win a deal. `close_steps` (the rep's own win, not a CRM's): its one-off steps still
    pending were there to sell it, and are done with the win (one stood in the queues after
    the win: a new-user trial); a repeating step, a customer's check-in, stays. The steps
    closed: `steps_closed_by_win`."""
    moment = now or clock.now()
    deal = _close(session, deal_id, "won", on, moment)
    if close_steps:
        for step in pending_steps(session=session, deal_id=deal_id):
            if not step.recur_days:
                step.done_at, step.outcome = moment, CLOSED_WITH_THE_WIN
                session.add(step)
        session.flush()
    return deal


# The order of a deal's steps, earliest first: an all-day step before one at an hour, on both
# engines (PostgreSQL sorts NULL last by default). One rule for the deal page, the step a call
# answers and the steps a win closes (a call at 09:30 did the 17:00 step and left the 08:00 one
# overdue when one of them sorted by day and id only: a review).
STEP_ORDER = (col(FollowUp.due_on), col(FollowUp.due_time).nullsfirst(), col(FollowUp.id))


def pending_steps(*, session: Session, deal_id: int) -> list[FollowUp]:
    """The deal's steps still to do, the earliest first (STEP_ORDER)."""
    return list(
        session.exec(
            select(FollowUp)
            .where(FollowUp.deal_id == deal_id, col(FollowUp.done_at).is_(None))
            .order_by(*STEP_ORDER)
        )
    )


def steps_closed_by_win(*, session: Session, deal: Deal) -> list[FollowUp]:
    """The steps the deal's last win closed (what `win_deal(close_steps=True)` did)."""
    if deal.status != "won":
        return []
    return list(
        session.exec(
            select(FollowUp)
            .where(
                FollowUp.deal_id == deal.id,
                FollowUp.outcome == CLOSED_WITH_THE_WIN,
                col(FollowUp.done_at) >= deal.stage_entered_at,
            )
            .order_by(*STEP_ORDER)
        )
    )


def steps_a_win_would_close(*, session: Session, deal_id: int) -> list[FollowUp]:
    """The one-off steps pending on an open deal: what winning it closes (the app asks)."""
    return [step for step in pending_steps(session=session, deal_id=deal_id) if not step.recur_days]


def lose_deal(
    *,
    session: Session,
    deal_id: int,
    reason: str,
    on: date | None = None,
    now: datetime | None = None,
    competitor: str | None = None,
    from_crm: bool = False,
) -> Deal:
    """Lose a deal for `reason`; `competitor`: who it went to (kept on the deal, for what
    lost deals teach, see reports/figures.py). A reason the rep types is at most MAX_REASON
    long; one `from_crm` is taken as the CRM has it (the screens cut what they show)."""
    if not reason.strip():
        raise InvalidInput("reason", reason, "why the deal was lost, e.g. 'price' or 'not a fit'")
    if not from_crm and len(reason.strip()) > MAX_REASON:
        # It names a slice of what lost deals teach: a pasted page would be one of its own.
        raise InvalidInput("reason", reason, f"a reason of at most {MAX_REASON} characters")
    deal = _close(session, deal_id, "lost", on, now or clock.now(), reason.strip())
    if competitor is not None:
        set_competitor(session=session, deal_id=deal_id, competitor=competitor, now=now)
    return deal


MAX_COMPETITOR = 80
MAX_REASON = 200


def set_competitor(
    *, session: Session, deal_id: int, competitor: str, now: datetime | None = None
) -> Deal:
    """Who the deal is up against, or was lost to ("" for nobody known): `deal set` and the
    app's forecast form set it, and lose_deal above keeps who the deal went to."""
    name = " ".join(competitor.split())
    if len(name) > MAX_COMPETITOR:
        raise InvalidInput("competitor", competitor, f"a name of at most {MAX_COMPETITOR} letters")
    deal = get_deal(session=session, deal_id=deal_id)
    deal.competitor = name
    deal.updated_at = now or clock.now()
    session.add(deal)
    return deal


def reopen_deal(
    *, session: Session, deal_id: int, stage: str | None = None, now: datetime | None = None
) -> Deal:
    """Reopen a won or lost deal in `stage`, by default the stage it was closed from. The
    steps its win closed are pending again: a win taken back takes back all it did."""
    deal = get_deal(session=session, deal_id=deal_id)
    if deal.status == "open":
        return deal
    if stage is None:
        last_open = session.exec(
            select(StageChange.from_stage_id)
            .join(Stage, col(Stage.id) == StageChange.from_stage_id)
            .where(StageChange.deal_id == deal_id, Stage.kind == "open")
            .order_by(col(StageChange.changed_at).desc(), col(StageChange.id).desc())
        ).first()
        stage = str(last_open or open_stages(session=session)[0].id)
    return move_deal(session=session, deal_id=deal_id, stage=stage, now=now)


def list_deals(*, session: Session, status: str = "open", stage: str | None = None) -> list[Deal]:
    if status not in (*STATUSES, "all"):
        raise InvalidInput("status", status, "open, won, lost or all")
    query = select(Deal).join(Stage, col(Stage.id) == Deal.stage_id)
    if status != "all":
        query = query.where(Deal.status == status)
    if stage:
        query = query.where(Deal.stage_id == find_stage(session=session, name=stage).id)
    return list(session.exec(query.order_by(col(Stage.position), col(Deal.id))))


def lost_reasons(*, session: Session) -> list[str]:
    """Reasons used before, most used first: the board offers them when a deal is lost."""
    rows = session.exec(
        select(Deal.lost_reason, func.count())
        .where(Deal.status == "lost", Deal.lost_reason != "")
        .group_by(Deal.lost_reason)
        .order_by(func.count().desc(), Deal.lost_reason)
    )
    return [reason for reason, _ in rows]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    from_stage: str | None
    to_stage: str


def history(*, session: Session, deal_id: int) -> list[HistoryEntry]:
    names = {s.id: s.name for s in stages(session=session)}
    changes = session.exec(
        select(StageChange)
        .where(StageChange.deal_id == deal_id)
        .order_by(col(StageChange.changed_at), col(StageChange.id))
    )
    return [
        HistoryEntry(
            at=c.changed_at,
            from_stage=names.get(c.from_stage_id) if c.from_stage_id else None,
            to_stage=names[c.to_stage_id],
        )
        for c in changes
    ]
