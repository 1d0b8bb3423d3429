"""One board change the rep can take back with `u`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session


@dataclass(frozen=True)
class Undo:
    """How to take one board change back: a description and the write that reverses it."""

    description: str
    deal_id: int
    revert: Callable[[Session], Any]
    # The open stage the deal is back in after the undo, when the board should follow it.
    stage_id: int | None = None
