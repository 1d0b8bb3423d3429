"""The app in a real terminal: `repdesk` in a tmux session of its own (its own server socket,
never the rep's tmux), keys sent with `send-keys` in one burst each, what happened read from
the desk file and the pane. Skipped where tmux is not installed."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.tui.desks import build_small_desk

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
SIZE_VARIABLES = ("COLUMNS", "LINES")
DEADLINE = 60.0  # seconds: a busy 2-core machine starts the app slowly, never this slowly


class Terminal:
    def __init__(self, server: str) -> None:
        self.server = server

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert TMUX is not None
        # Without COLUMNS and LINES: pytest imports readline, which puts COLUMNS=80 and
        # LINES=24 in the C environment a child inherits (an xdist worker has them in
        # os.environ too), and Textual believes those over the terminal: every "120x36"
        # app here was 80x24.
        env = {name: value for name, value in os.environ.items() if name not in SIZE_VARIABLES}
        return subprocess.run(
            [TMUX, "-L", self.server, *args], capture_output=True, text=True, check=check, env=env
        )

    def send(self, *keys: str) -> None:
        """One send-keys: tmux writes them all at once, as a paste or a fast typist does."""
        self.tmux("send-keys", "-t", "desk", *keys)

    def screen(self) -> str:
        result = self.tmux("capture-pane", "-p", "-t", "desk", check=False)
        return result.stdout

    def running(self) -> bool:
        return self.tmux("has-session", "-t", "desk", check=False).returncode == 0


def wait_for(condition: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened in {DEADLINE:.0f} s: {what}")
        time.sleep(0.05)


def rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(home / "desk.sqlite")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def terminal(home: Path) -> Iterator[Terminal]:
    yield from _terminal(home, 120, 36)


@pytest.fixture
def narrow_terminal(home: Path) -> Iterator[Terminal]:
    yield from _terminal(home, 72, 24)


def _terminal(home: Path, width: int, height: int) -> Iterator[Terminal]:
    build_small_desk(home)
    term = Terminal(f"repdesk-e2e-{uuid.uuid4().hex[:12]}")
    repdesk = Path(sys.executable).with_name("repdesk")
    # The server starts with this process's environment: the test's desk and clock.
    term.tmux("-f", os.devnull, "new-session", "-d", "-s", "desk", "-x", str(width),
              "-y", str(height), str(repdesk))  # fmt: skip
    try:
        yield term
    finally:
        term.tmux("kill-server", check=False)


def test_keys_sent_in_bursts_land_in_their_fields_in_a_real_terminal(
    terminal: Terminal, home: Path
) -> None:
    wait_for(lambda: "Prospect" in terminal.screen(), "the board on screen")
    calls = "SELECT outcome FROM activity WHERE kind = 'call' ORDER BY id DESC LIMIT 1"
    (before,) = rows(home, "SELECT count(*) FROM activity WHERE kind = 'call'")[0]

    # `co` then tab takes the suggestion: the call is "connected", never "co".
    terminal.send("c", "co", "Tab", "mon 10:00", "Tab", "quote", "Enter")
    wait_for(
        lambda: rows(home, "SELECT count(*) FROM activity WHERE kind = 'call'") == [(before + 1,)],
        "the call saved",
    )
    assert rows(home, calls) == [("connected",)]
    assert rows(
        home, "SELECT due_on, note FROM follow_up WHERE note = 'quote' AND done_at IS NULL"
    ) == [("2026-11-23", "quote")]

    # A digit picks the outcome and stays, as typed text does: tab goes on to the next step.
    terminal.send("c", "3", "Tab", "fri", "Enter")
    wait_for(lambda: rows(home, calls) == [("no answer",)], "the second call saved")

    # A new deal typed field by field, its `q`s typed, not quitting.
    terminal.send("n", "Quick quote", "Tab", "Quarry Ltd", "Enter")
    wait_for(
        lambda: (
            rows(home, "SELECT title, company FROM deal WHERE title = 'Quick quote'")
            == [("Quick quote", "Quarry Ltd")]
        ),
        "the new deal saved",
    )
    assert terminal.running()

    wait_for(lambda: "Quick quote" in terminal.screen(), "the new deal on the board")
    terminal.send("q")
    wait_for(lambda: not terminal.running(), "q to quit the app")


def test_the_quota_line_of_a_narrow_terminal_is_drawn_once_in_its_short_form(
    narrow_terminal: Terminal,
) -> None:
    # Its first frames read "▼ €31,000 behind…   10 days left" and, some 100 ms on, the
    # short form (a new user's trial at 80 columns): the line was fitted to no width.
    seen: list[str] = []

    def board_settled() -> bool:
        screen = narrow_terminal.screen()
        top = screen.split("\n", 1)[0].strip()
        if top and (not seen or seen[-1] != top):
            seen.append(top)
        return "Prospect" in screen and len(seen) > 0 and time.monotonic() > settled_at

    settled_at = time.monotonic() + 2.0  # polled as fast as tmux answers, for 2 s at least
    wait_for(board_settled, "the board on screen")
    assert len(seen) == 1, seen
    assert seen[0].startswith("2026-11  won €9,000 of €60,000  15%  ·  ▼ 31k ")
    assert seen[0].endswith(" 10d")
