"""Driving the app in tests: wait for a state, read the desk file behind it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot


def db(home: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(home / "desk.sqlite")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


async def until(pilot: Pilot[Any], condition: Callable[[], object], tries: int = 300) -> None:
    """Pause until `condition()` holds (reads run in threads), or fail the test."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the app never reached the expected state")
