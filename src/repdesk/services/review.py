"""The weekly review: what changed in a week, kept as it read when the week closed, and the
rep's commitments for the week, each marked kept or missed in the next week's review.

When a week's review is frozen: the first time it is read after the week has ended (its last
day's local midnight), it is stored whole (weekly_review, JSON) and from then on read from
there, so last week reads the same next month whatever changes since (a deal reopened, an
activity deleted, a stage renamed). Reading this week's review also stores last week's, if it
was not yet: the review a rep opens on Monday keeps the week before as it ended.

How a commitment is judged: the rep marks it, kept or missed (`repdesk review kept ID`,
`review missed ID`, or the review screen), any time during its week and the week after, when
the next review asks. A commitment still unmarked when that week after ends counts as missed:
a promise nobody can say was kept was not. To help decide, each commitment shows what happened
on its deal since it was made (stage moves, a win or a loss, activities logged).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from repdesk.core import clock
from repdesk.core.errors import AlreadyClosed, InvalidInput, RepdeskError
from repdesk.core.money import Conversion
from repdesk.core.review import KEPT, MISSED, OUTCOMES, Review
from repdesk.core.weeks import Week, week_of_label
from repdesk.reports.review import read_review
from repdesk.services.deals import get_deal
from repdesk.services.gone import not_found
from repdesk.storage.models import (
    Activity,
    Commitment,
    Deal,
    Stage,
    StageChange,
    WeeklyReview,
    saved_id,
)

MAX_COMMITMENT = 300  # a sentence: what will happen, not the deal's notes


def week_over(week: Week, now: datetime) -> bool:
    """The week's last day has ended where the rep is."""
    return _midnight(week.end + timedelta(days=1)) <= now


def marking_ends(week: Week) -> date:
    """The last day a commitment of `week` can be marked: the last day of the week after."""
    return week.end + timedelta(days=7)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time()).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class CommitmentLine:
    id: int
    deal_id: int
    title: str
    company: str
    week: str
    text: str
    outcome: str | None  # kept | missed as marked; None: not marked
    judged: str  # kept | missed | open (not marked, and still can be)
    since: str  # what happened on the deal since it was made, in a few words

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "deal_id": self.deal_id,
            "title": self.title,
            "company": self.company,
            "week": self.week,
            "text": self.text,
            "outcome": self.judged,
            "marked": self.outcome is not None,
            "since": self.since,
        }


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """A week's review with its commitments and the week before's, to be marked."""

    review: Review
    commitments: tuple[CommitmentLine, ...]
    last_week: tuple[CommitmentLine, ...]
    last_week_label: str

    def to_json(self) -> dict[str, Any]:
        return self.review.to_json() | {
            "commitments": [c.to_json() for c in self.commitments],
            "last_week_commitments": [c.to_json() for c in self.last_week],
        }


def to_keep(*, session: Session, week: Week, now: datetime | None = None) -> bool:
    """Whether reading `week`'s review would store a week (it, or the week before it while it
    runs): then read it in a write session; else a read session will do (a read-only desk)."""
    moment = now or clock.now()
    # A week that is over keeps itself; a running week keeps the week before (over by then).
    kept_week = week if week_over(week, moment) else week.prev()
    kept = session.exec(
        select(col(WeeklyReview.starts_on)).where(WeeklyReview.week == kept_week.label)
    ).first()
    # Kept under another first day (`week_start` changed since): kept anew for this one.
    return kept is None or kept != kept_week.start


def weekly_review(
    *,
    session: Session,
    week: Week,
    conversion: Conversion,
    now: datetime | None = None,
    keep: bool = True,
) -> ReviewPage:
    """The review of `week`: with `keep` (a write session), a week that is over is stored the
    first time it is read, and reading a running week stores the week before it if it was not
    yet. Without, a week not kept yet is read live (see `to_keep`)."""
    moment = now or clock.now()
    if week.start > clock.local_date(moment):
        raise InvalidInput(
            "week", week.label, "this week or one before: a week to come has no review yet"
        )
    review = _kept_or_read(session, week, conversion, moment, keep)
    before = week.prev()
    if not review.closed and keep:
        _kept_or_read(session, before, conversion, moment, keep)  # last week, as it ended
    return ReviewPage(
        review=review,
        commitments=tuple(commitments_of(session=session, week=week, now=moment)),
        last_week=tuple(commitments_of(session=session, week=before, now=moment)),
        last_week_label=before.label,
    )


def _kept_or_read(
    session: Session, week: Week, conversion: Conversion, now: datetime, keep: bool
) -> Review:
    stored = session.exec(select(WeeklyReview).where(WeeklyReview.week == week.label)).first()
    if stored is not None and stored.starts_on != week.start:
        # Kept when the rep's week began on another day (`week_start` changed since): its days
        # are not this week's, and shown for it a day would be in two weeks or in none (a
        # forecast trial). Read live, and kept anew for this first day once over (kept only
        # under the old one, after a change and back the week was never kept again and its
        # figures drifted: a hostile test).
        if not keep or not week_over(week, now):
            return read_review(session, week=week, now=now, conversion=conversion)
        session.delete(stored)
        session.flush()
        stored = None
    if stored is not None and not week_over(week, now):
        # Kept where the week was over already (read in a zone ahead, then here, where it
        # runs): its last hours would be missing for good (a hostile test). Read live, and
        # kept again once it is over here.
        if keep:
            session.delete(stored)
            session.flush()
        stored = None
    if stored is not None:
        try:
            return Review.from_payload(json.loads(stored.payload), frozen_at=stored.frozen_at)
        except (KeyError, TypeError, ValueError, AttributeError):
            # An edited JSON import: read the week live rather than fail; what is stored stays.
            return read_review(session, week=week, now=now, conversion=conversion)
    review = read_review(session, week=week, now=now, conversion=conversion)
    if review.closed and keep:
        session.add(
            WeeklyReview(
                week=review.week,
                starts_on=review.start,
                ends_on=review.end,
                frozen_at=now,
                payload=json.dumps(review.to_payload(), ensure_ascii=False),
            )
        )
        session.flush()
        review = Review.from_payload(review.to_payload(), frozen_at=now)
    return review


# ---------------------------------------------------------------- commitments


def commitments_of(*, session: Session, week: Week, now: datetime) -> list[CommitmentLine]:
    rows = session.exec(
        select(Commitment, Deal)
        .join(Deal, col(Deal.id) == Commitment.deal_id)
        .where(Commitment.week == week.label)
        .order_by(col(Commitment.made_at), col(Commitment.id))
    ).all()
    window_closed = clock.local_date(now) > marking_ends(week)
    lines = []
    for commitment, deal in rows:
        judged = commitment.outcome or (MISSED if window_closed else "open")
        lines.append(
            CommitmentLine(
                id=saved_id(commitment),
                deal_id=saved_id(deal),
                title=deal.title,
                company=deal.company,
                week=commitment.week,
                text=commitment.text,
                outcome=commitment.outcome,
                judged=judged,
                since=_since(session, deal, commitment.made_at, week, now),
            )
        )
    return lines


def _since(session: Session, deal: Deal, made_at: datetime, week: Week, now: datetime) -> str:
    """What happened on the deal from the commitment to the end of its marking window."""
    until = min(now, _midnight(marking_ends(week) + timedelta(days=1)))
    words = []
    moves = session.exec(
        select(Stage.name)
        .join(StageChange, col(StageChange.to_stage_id) == Stage.id)
        .where(
            StageChange.deal_id == deal.id,
            col(StageChange.changed_at) >= made_at,
            col(StageChange.changed_at) < until,
            Stage.kind == "open",
        )
        .order_by(col(StageChange.changed_at).desc(), col(StageChange.id).desc())
    ).first()
    if moves is not None:
        words.append(f"moved to {moves}")
    # A win or a loss from the history, not the deal as it is now: reopened after, the win
    # still happened (it went from the line: an audit).
    closed = session.exec(
        select(Stage.kind, StageChange.changed_at)
        .join(StageChange, col(StageChange.to_stage_id) == Stage.id)
        .where(
            StageChange.deal_id == deal.id,
            col(StageChange.changed_at) >= made_at,
            col(StageChange.changed_at) < until,
            col(Stage.kind).in_(("won", "lost")),
        )
        .order_by(col(StageChange.changed_at).desc(), col(StageChange.id).desc())
    ).first()
    if closed is not None:
        kind, changed_at = closed
        day = clock.local_date(changed_at)
        # The close day the rep gave (`--on`), while the deal is still closed so and that day
        # lies in the window: a later close of a reopened deal is not this one (a review).
        given = deal.closed_on if deal.status == kind else None
        if given is not None and clock.local_date(made_at) <= given <= clock.local_date(until):
            day = given
        words.append(f"{kind} {day.isoformat()}")
    logged = session.exec(
        select(func.count()).where(
            Activity.deal_id == deal.id, col(Activity.at) >= made_at, col(Activity.at) < until
        )
    ).one()
    if logged:
        words.append(f"{logged} {'activity' if logged == 1 else 'activities'} logged")
    return ", ".join(words) or "nothing logged since"


def add_commitment(
    *, session: Session, deal_id: int, text: str, week: Week, now: datetime | None = None
) -> Commitment:
    """What will happen on a deal in `week` (this week or one to come)."""
    moment = now or clock.now()
    words = " ".join(text.split())
    if not words:
        raise InvalidInput("commitment", text, "what will happen, e.g. 'signed contract back'")
    if len(words) > MAX_COMMITMENT:
        raise InvalidInput(
            "commitment", words[:20] + "…", f"a sentence of at most {MAX_COMMITMENT} characters"
        )
    if week_over(week, moment):
        raise InvalidInput("week", week.label, "this week or one to come: that week is over")
    deal = get_deal(session=session, deal_id=deal_id)
    if deal.status == "lost":
        # Nothing can happen on a lost deal but its reopening, and a commitment on it was
        # judged missed a week later (a forecast trial). A won one takes them: an upsell, a
        # signed order form still to come back.
        raise AlreadyClosed(
            f"#{deal.id} was lost on {deal.closed_on}: reopen it first to commit to it "
            f"(`repdesk deal reopen {deal.id}`, R on the deal page)"
        )
    commitment = Commitment(deal_id=saved_id(deal), week=week.label, text=words, made_at=moment)
    session.add(commitment)
    session.flush()
    return commitment


def _commitment(session: Session, commitment_id: int) -> Commitment:
    found = session.get(Commitment, commitment_id)
    if found is None:
        raise not_found(
            session=session,
            table="commitment",
            item_id=commitment_id,
            plain=f"no commitment has id {commitment_id} (see `repdesk review`)",
        )
    return found


def _week_of(commitment: Commitment, week_start: int) -> Week:
    year, number = commitment.week.split("-W")
    return week_of_label(int(year), int(number), week_start)


def mark_commitment(
    *,
    session: Session,
    commitment_id: int,
    outcome: str,
    week_start: int = 0,
    now: datetime | None = None,
) -> Commitment:
    """Kept or missed, as the rep judges it: during its week or the week after."""
    if outcome not in OUTCOMES:
        raise InvalidInput("outcome", outcome, f"{KEPT} or {MISSED}")
    moment = now or clock.now()
    commitment = _commitment(session, commitment_id)
    week = _week_of(commitment, week_start)
    if clock.local_date(moment) < week.start:
        raise RepdeskError(
            f"commitment {commitment_id} is of {commitment.week}, which has not begun: judge "
            "it during its week or the week after"
        )
    last = marking_ends(week)
    if clock.local_date(moment) > last:
        raise RepdeskError(
            f"commitment {commitment_id} of {commitment.week} was judged when the week after "
            f"it ended ({last.isoformat()}): it stays {commitment.outcome or MISSED}"
        )
    commitment.outcome, commitment.marked_at = outcome, moment
    session.add(commitment)
    return commitment


def drop_commitment(
    *, session: Session, commitment_id: int, week_start: int = 0, now: datetime | None = None
) -> str:
    """Take back a commitment made by mistake, while its week runs. Returns its text."""
    moment = now or clock.now()
    commitment = _commitment(session, commitment_id)
    week = _week_of(commitment, week_start)
    if week_over(week, moment):
        # Only while it can still be judged does the line say to judge it (it said so of one
        # judged for good: an audit).
        judge = (
            f" (mark it kept or missed until {marking_ends(week).isoformat()})"
            if clock.local_date(moment) <= marking_ends(week)
            else f" as it was judged: {commitment.outcome or MISSED}"
        )
        raise RepdeskError(
            f"commitment {commitment_id} is of {commitment.week}, which is over: it stays{judge}"
        )
    text = commitment.text
    session.delete(commitment)
    session.flush()
    return text
