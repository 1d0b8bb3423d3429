"""The rep's own pipeline: add, rename, reorder, remove stages; set probability and rot limit.

History refers to stages by id, so a renamed stage is the same stage and its history reads
with the new name. A removed stage that history mentions stays in the table, out of every
list ("Demo (removed)", kind `removed`, position 0: before every stage, so no "furthest stage
reached" counts it), and its history keeps reading as it was; one nothing mentions is deleted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from repdesk.core import clock
from repdesk.core.errors import InvalidInput
from repdesk.core.reach import has_hidden
from repdesk.core.text import one_name, same_name
from repdesk.services import deals, history
from repdesk.storage.models import Deal, Stage, StageChange, Trash, saved_id

REMOVED = "removed"
MAX_NAME = 40


@dataclass(frozen=True, slots=True)
class StageInfo:
    id: int
    number: int  # its place in the pipeline, from 1
    name: str
    kind: str
    probability: int
    rot_days: int | None
    open_deals: int


def list_stages(*, session: Session) -> list[StageInfo]:
    counts = dict(
        session.exec(
            select(Deal.stage_id, func.count())
            .where(Deal.status == "open")
            .group_by(col(Deal.stage_id))
        ).all()
    )
    return [
        StageInfo(
            id=saved_id(s),
            number=number,
            name=s.name,
            kind=s.kind,
            probability=s.probability,
            rot_days=s.rot_days,
            open_deals=int(counts.get(saved_id(s), 0)),
        )
        for number, s in enumerate(_live(session), start=1)
    ]


def _live(session: Session) -> list[Stage]:
    return [s for s in deals.stages(session=session) if s.kind != REMOVED]


def _open(session: Session) -> list[Stage]:
    return [s for s in _live(session) if s.kind == "open"]


def _find_open(session: Session, ref: str, field: str = "stage") -> Stage:
    stage = deals.find_stage(session=session, name=ref)
    if stage.kind != "open":
        raise InvalidInput(
            field, ref, f"an open stage ({stage.name} is the pipeline's {stage.kind} stage)"
        )
    return stage


def still_there(*, session: Session, stage_id: int, kind: str) -> bool:
    """Whether the stage with this id is still in the pipeline, of this kind (open, won,
    lost): a removed stage stays in the table for the history, of the kind "removed"."""
    stage = session.get(Stage, stage_id)
    return stage is not None and stage.kind == kind


# Letters that draw nothing (Hangul fillers, the blank Braille pattern): a name of them, or
# with one inside, cannot be told from another or typed back.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# What printable() keeps as ordinary text: the joiners an emoji sequence or a Persian word
# needs, and the left-to-right and right-to-left marks of Arabic and Hebrew names.
_KEPT = frozenset("\u200c\u200d\u200e\u200f")


def name_problem(name: str) -> str | None:
    """What a stage name must be instead, or None when it can name a stage (taken or not)."""
    text = one_name(name)
    if not text or len(text) > MAX_NAME:
        return f"a stage name of 1 to {MAX_NAME} characters"
    if text.isdigit():
        return "a name with a letter (a number is read as a stage id)"
    hidden = [c for c in text if c not in _KEPT and (has_hidden(c) or c in _BLANK_LETTERS)]
    if hidden:
        # Shown as ␛ or �, or not at all (a soft hyphen, a tag character), a control or
        # invisible character could not be typed back to name the stage (`deal move 1
        # "x␛[31my"` was refused, listing that very name: hostile tests).
        return "a name without control or invisible characters (ESC, NUL, bidi overrides)"
    return None


def _name(session: Session, name: str, *, other_than: int | None = None) -> str:
    text = one_name(name)
    if (problem := name_problem(text)) is not None:
        raise InvalidInput("name", name, problem)
    taken = next(
        (s for s in session.exec(select(Stage)) if s.id != other_than and same_name(s.name, text)),
        None,
    )
    if taken is not None:
        raise InvalidInput("name", name, f"a name no other stage has ({taken.name} exists)")
    return text


def _probability(value: int) -> int:
    if not 0 <= value <= 100:
        raise InvalidInput("probability", value, "a whole percentage from 0 to 100")
    return value


def _rot(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 3650:
        raise InvalidInput("rot", value, "a number of days from 1 to 3650, or none")
    return value


def _renumber(session: Session, open_order: list[Stage]) -> None:
    """Open stages 1..n in this order, then Won and Lost after them."""
    closed = [s for s in _live(session) if s.kind != "open"]
    for position, stage in enumerate([*open_order, *closed], start=1):
        if stage.position != position:
            stage.position = position
            session.add(stage)
    session.flush()


def add_stage(
    *,
    session: Session,
    name: str,
    probability: int,
    rot_days: int | None = None,
    after: str | None = None,
) -> Stage:
    """A new open stage: after `after`, else the last open one."""
    order = _open(session)
    index = len(order)
    if after is not None:
        index = order.index(_find_open(session, after, "after")) + 1
    stage = Stage(
        name=_name(session, name),
        position=0,
        probability=_probability(probability),
        kind="open",
        rot_days=_rot(rot_days),
    )
    session.add(stage)
    session.flush()
    order.insert(index, stage)
    _renumber(session, order)
    return stage


def rename_stage(*, session: Session, stage: str, name: str) -> Stage:
    found = deals.find_stage(session=session, name=stage)
    found.name = _name(session, name, other_than=found.id)
    session.add(found)
    session.flush()
    return found


def move_stage(*, session: Session, stage: str, number: int) -> Stage:
    """Put an open stage at place `number` (from 1) among the open ones."""
    found = _find_open(session, stage)
    order = [s for s in _open(session) if s.id != found.id]
    if not 1 <= number <= len(order) + 1:
        raise InvalidInput("position", number, f"a place from 1 to {len(order) + 1}")
    order.insert(number - 1, found)
    _renumber(session, order)
    return found


class _Keep(enum.Enum):
    KEEP = enum.auto()  # "leave it as it is": None already means "never rots"


_KEEP = _Keep.KEEP


def set_stage(
    *,
    session: Session,
    stage: str,
    probability: int | None = None,
    rot_days: int | Literal[_Keep.KEEP] | None = _KEEP,
    now: datetime | None = None,
) -> Stage:
    """Set an open stage's win probability and rot limit (None: never rots). A new
    probability moves the default forecast category of the stage's deals that have neither
    the rep's call nor a probability of their own: each change is kept in their history."""
    found = _find_open(session, stage)
    if probability is not None:
        following = session.exec(
            select(Deal).where(
                Deal.stage_id == found.id,
                Deal.status == "open",
                col(Deal.forecast).is_(None),
                col(Deal.probability).is_(None),
            )
        ).all()
        before = {deal.id: history.category_of(session, deal) for deal in following}
        moment = now or clock.now()
        chance = _probability(probability)
        history.note_probability(
            session, before=found.probability, after=chance, moment=moment, stage_id=saved_id(found)
        )
        found.probability = chance
        session.add(found)
        session.flush()
        for deal in following:
            history.note_category(session, deal, before[deal.id], moment)
    if rot_days is not _KEEP:
        found.rot_days = _rot(rot_days)
    session.add(found)
    session.flush()
    return found


def remove_stage(
    *, session: Session, stage: str, into: str | None = None, now: datetime | None = None
) -> tuple[str, int, str | None]:
    """Remove an open stage, its open deals moved to `into` first (each move in their
    history). Returns (its name, how many deals moved, where to)."""
    found = _find_open(session, stage)
    others = [s for s in _open(session) if s.id != found.id]
    if not others:
        raise InvalidInput("stage", stage, "another stage: the pipeline needs an open stage")
    waiting = session.exec(select(Deal).where(Deal.stage_id == found.id)).all()
    target = None
    if into is not None:
        target = _find_open(session, into, "into")
        if target.id == found.id:
            raise InvalidInput("into", into, "another stage than the one removed")
    if waiting:
        if target is None:
            names = ", ".join(s.name for s in others)
            many = f"{len(waiting)} open deal" + ("s" if len(waiting) != 1 else "")
            raise InvalidInput("into", "", f"the stage its {many} move to first: one of {names}")
        to = str(saved_id(target))
        for deal in waiting:
            deals.move_deal(session=session, deal_id=saved_id(deal), stage=to, now=now)
    session.flush()
    name = found.name
    mentioned = session.exec(
        select(func.count()).where(
            or_(
                col(StageChange.from_stage_id) == found.id,
                col(StageChange.to_stage_id) == found.id,
            )
        )
    ).one()
    if mentioned or _in_the_trash(session, saved_id(found)):
        # Kept for the history that mentions it (a deal in the trash included: its restore
        # needs the stage), out of every list.
        found.kind, found.position = REMOVED, 0
        kept, number = f"{name} (removed)", 1
        while session.exec(select(Stage).where(Stage.name == kept)).first() is not None:
            number += 1
            kept = f"{name} (removed {number})"
        found.name = kept
        session.add(found)
    else:
        session.delete(found)
    session.flush()
    _renumber(session, others)
    return name, len(waiting), target.name if target is not None else None


_STAGE_KEYS = ("stage_id", "from_stage_id", "to_stage_id")


def _in_the_trash(session: Session, stage_id: int) -> bool:
    """Whether a deal in the trash, or its history, is in the stage (its rows are JSON there,
    see services/trash.py): few rows, read only when a stage is removed."""
    import json

    for payload in session.exec(select(Trash.payload).where(Trash.kind == "deal")):
        try:
            tables = json.loads(payload)
        except ValueError:
            continue
        for rows in tables.values() if isinstance(tables, dict) else ():
            for row in rows if isinstance(rows, list) else ():
                if isinstance(row, dict) and stage_id in (row.get(key) for key in _STAGE_KEYS):
                    return True
    return False
