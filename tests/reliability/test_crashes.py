"""SIGKILL at random moments while writing, and in the middle of an upgrade (issue 7, 2 and 3)."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.reliability.helpers import TABLES, WRITERS, health, rows
from tests.reliability.test_concurrency import build_desk
from tests.thorough import scaled

from repdesk.storage import migrations
from repdesk.storage.store import make_engine

KILLS = scaled(full=100, default=30)
DEALS = 4
FIXTURES = Path(__file__).parent.parent / "fixtures"


def check_after_kill(desk: Path, reported: set[int]) -> int:
    """Everything a killed writer can leave behind must be a whole desk; returns the calls."""
    assert health(desk) == ("ok", [])
    calls = {int(t.removeprefix("K-")) for (t,) in rows(desk, "SELECT text FROM activity")}
    assert reported <= calls, f"reported as done but missing: {sorted(reported - calls)}"
    assert calls == set(range(len(calls))), "a gap: a write was lost"
    # One transaction per call: the call, the completed follow-up and the next one together.
    notes = {int(n.removeprefix("K-")) for (n,) in rows(desk, "SELECT note FROM follow_up")}
    assert notes == calls
    pending = rows(desk, "SELECT deal_id, count(*) FROM follow_up WHERE done_at IS NULL "
                   "GROUP BY deal_id")  # fmt: skip
    assert all(count == 1 for _, count in pending)
    assert len(pending) == min(len(calls), DEALS)
    assert rows(desk, "SELECT count(*) FROM follow_up WHERE done_at IS NOT NULL")[0][0] == (
        len(calls) - len(pending)
    )
    return len(calls)


@pytest.mark.slow
def test_a_writer_killed_at_random_moments_never_loses_or_halves_a_write(home: Path) -> None:
    desk = build_desk(home, DEALS)
    chance = random.Random(7)  # fixed: a failure can be replayed
    zygote = subprocess.Popen(
        [sys.executable, str(WRITERS), "zygote", str(home), str(DEALS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert zygote.stdin is not None and zygote.stdout is not None
    reported: set[int] = set()
    try:
        for kill in range(KILLS):
            zygote.stdin.write("spawn\n")
            zygote.stdin.flush()
            line = zygote.stdout.readline()
            assert line.startswith("child "), line
            # Every fifth soon after the fork (opening and checking the desk), the rest anywhere
            # in the write loop: in Python, in SQLite, in an fsync. A busy machine can take
            # longer than the window to start a child: those wait for its first write, so they
            # land in the write loop and not in the start-up again.
            in_start_up = kill % 5 == 0
            if not in_start_up:
                first = zygote.stdout.readline()
                assert first.startswith("done "), first
                reported.add(int(first.split()[1]))
            time.sleep(chance.uniform(0, 0.01 if in_start_up else 0.2))
            subprocess.run(["kill", "-KILL", line.split()[1]], check=True)
            zygote.stdin.write("reap\n")
            zygote.stdin.flush()
            for line in iter(zygote.stdout.readline, "reaped\n"):
                if line.startswith("done "):
                    reported.add(int(line.split()[1]))
            check_after_kill(desk, reported)
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)
    calls = check_after_kill(desk, reported)
    # The writers got real work done between the kills: at least one write per loop kill.
    assert len(reported) >= KILLS - KILLS // 5
    print(f"{KILLS} kills, {calls} calls written, {len(reported)} reported, none lost")


def _contents(desk: Path) -> dict[str, list[tuple[object, ...]]]:
    return {table: rows(desk, f"SELECT * FROM {table} ORDER BY id") for table in TABLES}


def _columns(desk: Path, table: str) -> list[str]:
    return [str(r[1]) for r in rows(desk, f"PRAGMA table_info({table})")]


UPGRADE_STATEMENTS = len(migrations.step_sql(migrations.LATEST, "sqlite"))


@pytest.mark.slow
@pytest.mark.parametrize("stop", range(-1, UPGRADE_STATEMENTS + 1))
def test_an_upgrade_killed_midway_leaves_the_old_desk_whole_and_the_next_start_finishes(
    home: Path, stop: int
) -> None:
    """Killed right after the pre-upgrade copy (-1), before each statement of the last step,
    or after the last statement before the commit."""
    fixture = FIXTURES / f"desk-v{migrations.LATEST - 1}.sqlite"
    home.mkdir(parents=True)
    desk = home / "desk.sqlite"
    shutil.copy(fixture, desk)
    before = _contents(fixture)
    old_columns = {table: _columns(fixture, table) for table in TABLES}

    killed = subprocess.run(
        [sys.executable, str(WRITERS), "migrate", str(desk), str(stop)],
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr
    assert "upgraded" not in killed.stdout

    # Wholly the old version: its version, its columns, its rows.
    assert rows(desk, "PRAGMA user_version") == [(migrations.LATEST - 1,)]
    assert {table: _columns(desk, table) for table in TABLES} == old_columns
    assert _contents(desk) == before
    assert health(desk) == ("ok", [])

    make_engine(desk).dispose()  # the next start

    assert rows(desk, "PRAGMA user_version") == [(migrations.LATEST,)]
    assert health(desk) == ("ok", [])
    for table, old_rows in before.items():
        width = len(old_columns[table])
        assert [row[:width] for row in _contents(desk)[table]] == old_rows, table
    copies = sorted(home.glob(f"desk.sqlite.pre-v{migrations.LATEST}-*.bak"))
    assert copies, "no pre-upgrade copy"
    for copy in copies:
        assert health(copy) == ("ok", [])
        assert rows(copy, "PRAGMA user_version") == [(migrations.LATEST - 1,)]
        assert _contents(copy) == before
