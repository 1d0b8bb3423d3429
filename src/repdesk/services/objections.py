"""Objections on a deal, and the rep's playbook of earlier answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case
from sqlmodel import Session, col, select

from repdesk.core import clock
from repdesk.core.domain import OBJECTION_CATEGORIES, OBJECTION_STATUSES
from repdesk.core.errors import InvalidInput
from repdesk.services.deals import get_deal
from repdesk.services.gone import not_found
from repdesk.storage.models import Deal, Objection, saved_id


def _category(value: str) -> str:
    category = value.strip().lower()
    if category not in OBJECTION_CATEGORIES:
        raise InvalidInput("category", value, f"one of {', '.join(OBJECTION_CATEGORIES)}")
    return category


def get_objection(*, session: Session, objection_id: int) -> Objection:
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise not_found(
            session=session,
            table="objection",
            item_id=objection_id,
            plain=f"no objection has id {objection_id}",
        )
    return objection


def add_objection(
    *,
    session: Session,
    deal_id: int,
    category: str,
    said: str,
    answer: str = "",
    now: datetime | None = None,
) -> Objection:
    get_deal(session=session, deal_id=deal_id)
    if not said.strip():
        raise InvalidInput("said", said, "what the prospect said, in a few words")
    objection = Objection(
        deal_id=deal_id,
        category=_category(category),
        said=said,
        answer=answer,
        status="addressed" if answer.strip() else "open",
        raised_at=now or clock.now(),
    )
    session.add(objection)
    session.flush()
    return objection


def update_objection(
    *,
    session: Session,
    objection_id: int,
    category: str | None = None,
    said: str | None = None,
    answer: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> Objection:
    """Edit, answer or resolve: answering an open objection marks it addressed."""
    objection = get_objection(session=session, objection_id=objection_id)
    if category is not None:
        objection.category = _category(category)
    if said is not None:
        if not said.strip():
            raise InvalidInput("said", said, "what the prospect said, in a few words")
        objection.said = said
    if answer is not None:
        objection.answer = answer
        if status is None and answer.strip() and objection.status == "open":
            status = "addressed"
    if status is not None:
        if status not in OBJECTION_STATUSES:
            raise InvalidInput("status", status, "open, addressed or resolved")
        objection.status = status
        objection.resolved_at = (now or clock.now()) if status == "resolved" else None
    session.add(objection)
    return objection


def resolve_objection(
    *, session: Session, objection_id: int, now: datetime | None = None
) -> Objection:
    return update_objection(session=session, objection_id=objection_id, status="resolved", now=now)


def objections_of(*, session: Session, deal_id: int) -> list[Objection]:
    return list(
        session.exec(
            select(Objection)
            .where(Objection.deal_id == deal_id)
            .order_by(col(Objection.raised_at), col(Objection.id))
        )
    )


@dataclass(frozen=True, slots=True)
class PlaybookAnswer:
    objection_id: int
    deal_id: int
    deal_title: str
    deal_status: str
    said: str
    answer: str
    raised_at: datetime


def playbook(
    *, session: Session, category: str, exclude_deal: int | None = None, limit: int = 20
) -> list[PlaybookAnswer]:
    """Earlier answers to objections of `category`: from deals later won first, then newest.

    An answer given several times appears once, where it ranks best."""
    query = (
        select(Objection, Deal.title, Deal.status)
        .join(Deal, col(Deal.id) == Objection.deal_id)
        .where(Objection.category == _category(category), Objection.answer != "")
    )
    if exclude_deal is not None:
        query = query.where(Objection.deal_id != exclude_deal)
    query = query.order_by(
        case((col(Deal.status) == "won", 0), else_=1),
        col(Objection.raised_at).desc(),
        col(Objection.id).desc(),
    )
    found: list[PlaybookAnswer] = []
    seen: set[str] = set()
    for o, title, status in session.exec(query):
        key = " ".join(o.answer.lower().split())
        if key in seen:
            continue
        seen.add(key)
        found.append(
            PlaybookAnswer(
                objection_id=saved_id(o),
                deal_id=o.deal_id,
                deal_title=title,
                deal_status=status,
                said=o.said,
                answer=o.answer,
                raised_at=o.raised_at,
            )
        )
        if len(found) == limit:
            break
    return found
