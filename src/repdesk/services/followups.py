"""Follow-ups: the next step on a deal. Add, complete (and schedule the next), snooze."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from repdesk.core import clock
from repdesk.core.dates import DAY_RANGE, in_range
from repdesk.core.domain import ACTIVITY_KINDS
from repdesk.core.errors import AlreadyClosed, InvalidInput
from repdesk.services.deals import STEP_ORDER, get_deal, pending_steps
from repdesk.services.gone import not_found
from repdesk.storage.models import Activity, Deal, FollowUp

When = tuple[date, time | None]


def get_follow_up(*, session: Session, follow_up_id: int) -> FollowUp:
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise not_found(
            session=session,
            table="follow_up",
            item_id=follow_up_id,
            plain=f"no follow-up has id {follow_up_id}",
        )
    return follow_up


def check_not_past(when: When, today: date, field: str) -> None:
    """A next step dated before today would be overdue the moment it is scheduled."""
    if when[0] < today:
        raise InvalidInput(
            field,
            when[0].isoformat(),
            f"today ({today.isoformat()}) or later: a next step in the past is overdue "
            "before it starts; use today or later",
        )


def refuse_lost(deal: Deal) -> None:
    """The queues leave a lost deal out (a won deal's post-sale steps stay in them): a next
    step scheduled on a lost deal would be accepted and then never shown anywhere."""
    if deal.status == "lost":
        raise AlreadyClosed(
            f"deal #{deal.id} is lost: a follow-up on it would never show; reopen it first"
        )


def add_follow_up(
    *,
    session: Session,
    deal_id: int,
    when: When,
    note: str = "",
    recur_days: int | None = None,
    now: datetime | None = None,
    next_checked: bool = True,
) -> FollowUp:
    """`next_checked`: refuse a repeat whose next date the desk cannot keep; off for the step
    that completing a repeating one makes (refused there, the done itself was refused)."""
    check_not_past(when, clock.local_date(now or clock.now()), "when")
    refuse_lost(get_deal(session=session, deal_id=deal_id))
    if recur_days is not None and not 1 <= recur_days <= 366:
        raise InvalidInput("every", recur_days, "a repeat of 1 to 366 days")
    if (
        next_checked
        and recur_days is not None
        and not in_range(when[0] + timedelta(days=recur_days))
    ):
        # Done, it could never be followed by its next one (`done` would ask for --next).
        raise InvalidInput("every", recur_days, f"a repeat whose next date is still {DAY_RANGE}")
    follow_up = FollowUp(
        deal_id=deal_id,
        due_on=when[0],
        due_time=when[1],
        note=note,
        recur_days=recur_days,
        created_at=now or clock.now(),
    )
    session.add(follow_up)
    session.flush()
    return follow_up


def pending_due_before(*, session: Session, day: date) -> list[FollowUp]:
    """Every pending step due before `day`, the earliest first (on any deal)."""
    return list(
        session.exec(
            select(FollowUp)
            .where(col(FollowUp.done_at).is_(None), FollowUp.due_on < day)
            .order_by(*STEP_ORDER)
        )
    )


def on_lost_deals(*, session: Session, steps: list[FollowUp]) -> tuple[int, int]:
    """How many of `steps` are on lost deals, and on how many such deals: the queues show
    every step but a lost deal's (a won customer's check-ins are post-sale work), so a count of
    them all needs saying apart."""
    deal_ids = {step.deal_id for step in steps}
    lost = set(
        session.exec(select(Deal.id).where(col(Deal.id).in_(deal_ids), Deal.status == "lost"))
    )
    return sum(step.deal_id in lost for step in steps), len(lost)


def pending(*, session: Session, deal_id: int) -> list[FollowUp]:
    """The deal's pending steps, earliest first (one rule: deals.pending_steps)."""
    return pending_steps(session=session, deal_id=deal_id)


def complete_follow_up(
    *,
    session: Session,
    follow_up_id: int,
    outcome: str = "",
    next_when: When | None = None,
    next_note: str = "",
    kind: str | None = "call",
    now: datetime | None = None,
) -> tuple[FollowUp, FollowUp | None]:
    """Mark a follow-up done; schedule the next one (given, or the recurrence) in the same step.

    Done with an outcome, the follow-up was a touch: it is logged as an activity of `kind` (a
    call unless told), so it shows on the timeline, the deal is no longer going cold and it
    counts in the week's activity. `kind=None`: the caller logged it already.

    Returns (the completed follow-up, the next one or None).
    """
    moment = now or clock.now()
    if kind is not None and kind not in ACTIVITY_KINDS:
        raise InvalidInput("kind", kind, "call, email, meeting or note")
    if next_when is not None:
        check_not_past(next_when, clock.local_date(moment), "next")
    follow_up = get_follow_up(session=session, follow_up_id=follow_up_id)
    if follow_up.done_at is not None:
        raise InvalidInput("follow-up", follow_up_id, "a pending follow-up (this one is done)")
    follow_up.done_at = moment
    follow_up.outcome = outcome
    session.add(follow_up)
    if outcome.strip() and kind is not None:
        session.add(
            Activity(
                deal_id=follow_up.deal_id, kind=kind, at=moment, outcome=outcome,
                text=follow_up.note,
            )
        )  # fmt: skip
    following = None
    if next_when is not None:
        following = add_follow_up(
            session=session,
            deal_id=follow_up.deal_id,
            when=next_when,
            note=next_note or follow_up.note,
            recur_days=follow_up.recur_days,
            now=moment,
            next_checked=False,
        )
    elif (
        follow_up.recur_days
        and get_deal(session=session, deal_id=follow_up.deal_id).status != "lost"
    ):
        # A repeating step ends with the deal: its next one would show nowhere.
        following = add_follow_up(
            session=session,
            deal_id=follow_up.deal_id,
            when=(
                next_recurrence(follow_up.due_on, follow_up.recur_days, clock.local_date(moment)),
                follow_up.due_time,
            ),
            note=follow_up.note,
            recur_days=follow_up.recur_days,
            now=moment,
            next_checked=False,
        )
    return follow_up, following


def next_recurrence(due_on: date, every_days: int, today: date) -> date:
    """The next date on the rhythm of `due_on` that is after today (missed ones are skipped)."""
    try:
        candidate = due_on + timedelta(days=every_days)
        if candidate <= today:
            missed = (today - candidate).days // every_days + 1
            candidate += timedelta(days=missed * every_days)
    except OverflowError:  # a step dated at the calendar's end (imported before the bounds)
        candidate = date.max
    if not in_range(candidate):
        raise InvalidInput(
            "next",
            due_on.isoformat(),
            f"a follow-up whose next repeat ({every_days} days on) is {DAY_RANGE}; "
            "give the next date with --next",
        )
    return candidate


def reschedule_follow_up(
    *,
    session: Session,
    follow_up_id: int,
    when: When,
    note: str | None = None,
    now: datetime | None = None,
    keep_time: bool = False,
) -> FollowUp:
    """Move a pending follow-up to another date (snooze is the same with a relative date);
    `keep_time`: a day given without a time keeps the step's time of day (a 10:00 call moved
    to Monday is a 10:00 call on Monday)."""
    follow_up = get_follow_up(session=session, follow_up_id=follow_up_id)
    if follow_up.done_at is not None:
        raise InvalidInput("follow-up", follow_up_id, "a pending follow-up (this one is done)")
    # Moved on a lost deal, it would still never show (found by a hostile test: a snooze
    # was taken where an add and a done were refused).
    refuse_lost(get_deal(session=session, deal_id=follow_up.deal_id))
    if keep_time and when[1] is None:
        when = (when[0], follow_up.due_time)
    if when[0] != follow_up.due_on:  # keeping an overdue date while changing the note is fine
        check_not_past(when, clock.local_date(now or clock.now()), "when")
    follow_up.due_on, follow_up.due_time = when
    if note is not None:
        follow_up.note = note
    session.add(follow_up)
    return follow_up


def snooze_follow_up(
    *, session: Session, follow_up_id: int, when: When, now: datetime | None = None
) -> FollowUp:
    """Put a follow-up off to another day, at the same time of day unless a time is given
    (a 10:00 call snoozed to tomorrow is a 10:00 call tomorrow)."""
    return reschedule_follow_up(
        session=session, follow_up_id=follow_up_id, when=when, now=now, keep_time=True
    )
