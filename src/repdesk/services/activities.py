"""Activities: calls, emails, meetings and notes logged on a deal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from repdesk.core import clock
from repdesk.core.dates import DAY_RANGE, in_range
from repdesk.core.domain import ACTIVITY_KINDS
from repdesk.core.errors import InvalidInput
from repdesk.services.deals import STEP_ORDER, get_deal, pending_steps
from repdesk.services.followups import When, add_follow_up, check_not_past, complete_follow_up
from repdesk.services.gone import not_found
from repdesk.storage.models import Activity, Deal, FollowUp, saved_id

CALL_OUTCOMES = ("connected", "left voicemail", "no answer", "meeting booked", "not interested")


def log_activity(
    *,
    session: Session,
    deal_id: int,
    kind: str,
    outcome: str = "",
    minutes: int | None = None,
    text: str = "",
    at: datetime | None = None,
    next_when: When | None = None,
    next_note: str = "",
    now: datetime | None = None,
) -> tuple[Activity, FollowUp | None]:
    """Log an activity. It answers the deal's due follow-up (completes the earliest one due
    today or before) and, with `next_when`, schedules the next step in the same transaction.

    Returns (the activity, the new follow-up or None).
    """
    moment = now or clock.now()
    if kind not in ACTIVITY_KINDS:
        raise InvalidInput("kind", kind, "call, email, meeting or note")
    if minutes is not None and not 0 <= minutes <= 24 * 60:
        raise InvalidInput("minutes", minutes, "a whole number of minutes from 0 to 1440")
    if next_when is not None:
        check_not_past(next_when, clock.local_date(moment), "next")
    _check_note_has_text(kind, text)
    deal = get_deal(session=session, deal_id=deal_id)
    when = _checked_moment(at) if at is not None else moment
    activity = Activity(
        deal_id=deal_id, kind=kind, at=when, outcome=outcome, minutes=minutes, text=text
    )
    session.add(activity)
    first_contact_by(session, deal, when)
    following = None
    if kind != "note":  # a note to self answers nobody
        due = step_answered(session=session, deal_id=deal_id, at=when)
        if due is not None:
            _, following = complete_follow_up(
                session=session,
                follow_up_id=saved_id(due),
                outcome=outcome or kind,
                next_when=next_when,
                next_note=next_note,
                kind=None,  # this activity is the touch that answered it
                now=moment,
            )
            next_when = None  # already scheduled by completing the follow-up
    if next_when is not None:
        following = add_follow_up(
            session=session, deal_id=deal_id, when=next_when, note=next_note, now=moment
        )
    session.flush()
    return activity, following


@dataclass(frozen=True, slots=True)
class Logged:
    """What logging a touch did: the activity, the step it did (the one due, or the one still
    to come the rep said it did) and the next step scheduled."""

    activity: Activity
    done: FollowUp | None
    following: FollowUp | None


def log_touch(
    *,
    session: Session,
    deal_id: int,
    kind: str,
    outcome: str = "",
    minutes: int | None = None,
    text: str = "",
    at: datetime | None = None,
    next_when: When | None = None,
    next_note: str = "",
    step_done: bool = False,
    step_id: int | None = None,
    now: datetime | None = None,
) -> Logged:
    """Log a call, email or meeting as the rep tells it (`repdesk log`, the app's call form).
    It answers the step due by its day (log_activity); with none due, `step_done` says it did
    the deal's next step still to come (`step_id`, or the earliest), which then hands its note
    and repeat to the next step typed, as a step answered does (typed beside it, the repeat
    made a second step and the new one had no note: a hostile test). One rule for both ways
    in, read at one moment."""
    moment = now or clock.now()
    when = at if at is not None else moment
    due = step_answered(session=session, deal_id=deal_id, at=when) if kind != "note" else None
    chosen = None
    if step_done and due is None:
        waiting = pending_steps(session=session, deal_id=deal_id)
        chosen = next((s for s in waiting if step_id is None or s.id == step_id), None)
        # The step named (`step_id`, the call form's) may have been done meanwhile, by the
        # shell: then there is nothing more to do. With none named, the deal has no step.
        if chosen is None and step_id is None:
            raise InvalidInput("step", "", "a next step still to come on the deal (it has none)")
    activity, following = log_activity(
        session=session, deal_id=deal_id, kind=kind, outcome=outcome, minutes=minutes,
        text=text, at=at, next_when=None if chosen is not None else next_when,
        next_note=next_note, now=moment,
    )  # fmt: skip
    if chosen is not None:
        _, following = complete_follow_up(
            session=session, follow_up_id=saved_id(chosen), outcome=outcome or kind,
            next_when=next_when, next_note=next_note,
            kind=None,  # this activity is the touch that did it
            now=moment,
        )  # fmt: skip
    return Logged(activity, due or chosen, following)


def step_answered(*, session: Session, deal_id: int, at: datetime) -> FollowUp | None:
    """The step an activity at `at` answers (log_activity completes it): the deal's earliest
    pending one due by that day. Due by the day it happened: a call logged for last week did
    not answer a step due since (found by an audit: it completed one due days after it)."""
    return session.exec(
        select(FollowUp)
        .where(
            FollowUp.deal_id == deal_id,
            col(FollowUp.done_at).is_(None),
            FollowUp.due_on <= clock.local_date(at),
        )
        .order_by(*STEP_ORDER)
    ).first()


def _checked_moment(at: datetime) -> datetime:
    """An activity's instant, inside the days a desk keeps in UTC too: 1900-01-01 00:00 typed
    in a zone ahead of UTC is 1899 there, and the desk's own JSON export refused it."""
    if not in_range(at.astimezone(UTC).date()):
        raise InvalidInput("at", at.isoformat(timespec="minutes"), DAY_RANGE)
    return at


def first_contact_by(session: Session, deal: Deal, at: datetime) -> None:
    """A touch logged before the deal's first contact moves the first contact back to its
    day: the rep was in touch then, and a close on that day is then allowed. The one rule for
    every way a touch comes in: logged, edited, captured (services/capture.py), and a close
    the CRM sync takes in (sync/engine.py)."""
    day = clock.local_date(at)
    if day < deal.first_contact:
        deal.first_contact = day
        session.add(deal)


def timeline_activities(*, session: Session, deal_id: int, limit: int = 200) -> list[Activity]:
    return list(
        session.exec(
            select(Activity)
            .where(Activity.deal_id == deal_id)
            .order_by(col(Activity.at).desc(), col(Activity.id).desc())
            .limit(limit)
        )
    )


def happened_at(when: When, *, now: datetime | None = None) -> datetime:
    """The instant of a moment the rep typed ("yesterday 15:00"; a day alone: now's time of
    day on it), in local time; refused when it is still to come."""
    moment = now or clock.now()
    local = moment.astimezone()
    day, at = when
    chosen = datetime.combine(day, at or local.time().replace(microsecond=0), local.tzinfo)
    if chosen.astimezone(UTC) > moment:
        raise InvalidInput(
            "at",
            chosen.strftime("%Y-%m-%d %H:%M"),
            "now or earlier: an activity logged is one that has happened",
        )
    return chosen.astimezone(UTC)


def get_activity(*, session: Session, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise not_found(
            session=session,
            table="activity",
            item_id=activity_id,
            plain=f"no activity has id {activity_id}",
        )
    return activity


def edit_activity(
    *,
    session: Session,
    activity_id: int,
    kind: str | None = None,
    outcome: str | None = None,
    minutes: int | None = None,
    text: str | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> Activity:
    """Correct a logged activity: only what is given changes."""
    activity = get_activity(session=session, activity_id=activity_id)
    if kind is not None:
        if kind not in ACTIVITY_KINDS:
            raise InvalidInput("kind", kind, "call, email, meeting or note")
        activity.kind = kind
    if minutes is not None:
        if not 0 <= minutes <= 24 * 60:
            raise InvalidInput("minutes", minutes, "a whole number of minutes from 0 to 1440")
        activity.minutes = minutes or None
    if at is not None:
        if at > (now or clock.now()):
            raise InvalidInput("at", at.isoformat(), "now or earlier")
        activity.at = _checked_moment(at)
        first_contact_by(session, get_deal(session=session, deal_id=activity.deal_id), at)
    if outcome is not None:
        activity.outcome = outcome
    if text is not None:
        activity.text = text
    _check_note_has_text(activity.kind, activity.text)
    session.add(activity)
    session.flush()
    return activity


def _check_note_has_text(kind: str, text: str) -> None:
    """A note is its text: `repdesk log note DEAL` without one logged a blank line on the
    deal's timeline (a new user's trial). Calls, emails and meetings may go without."""
    if kind == "note" and not text.strip():
        raise InvalidInput("note", text, "a note needs its text (--note TEXT)")
