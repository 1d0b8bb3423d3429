"""One change the rep can take back with `u`: every write the app makes leaves one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the board imports this before its first frame, which needs no SQLAlchemy
    from sqlmodel import Session

    from repdesk.services.changes import Changeset


@dataclass(frozen=True)
class Undo:
    """How to take one change back: a description and the write that reverses it."""

    description: str
    deal_id: int
    revert: Callable[[Session], Any]
    # The open stage the deal is back in after the undo, when the board should follow it.
    stage_id: int | None = None
    # What the write came to, said when it is saved ("due Fri 04 Dec 09:00"): a snooze that
    # only said "saved" left the rep to look the new day up (a new-user trial).
    result: str = ""


def undo_of(
    description: str,
    deal_id: int,
    changes: Changeset,
    *,
    stage_id: int | None = None,
    result: str = "",
) -> Undo:
    """The undo of a recorded write: it puts back exactly the rows the write changed, and
    refuses (UndoRefused, naming the row) when any of them changed since, e.g. a deal the
    shell marked won after the app moved it."""
    return Undo(description, deal_id, changes.revert, stage_id=stage_id, result=result)
