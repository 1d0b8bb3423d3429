"""Two processes writing at once, and a backup taken while one writes (issue 7, items 1 and 7).

tests/unit/test_store.py already shows one write waiting for a held lock; here whole writers
race for seconds and every write is accounted for.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from tests.pinned import NOW
from tests.reliability.helpers import WRITERS, health, repdesk, rows
from tests.thorough import scaled

from repdesk.services import deals
from repdesk.storage import desk_file, migrations
from repdesk.storage.store import make_engine, read_session, write_session

# Per writer; each round logs a call and moves a deal: 600 writes in all when thorough.
ROUNDS = scaled(full=150, default=40)
SHELL_PROCESSES = 6  # real `repdesk log call` processes started while the two writers run
SHARED = [1, 2]  # both writers log calls on these (each call completes and reschedules)
OWN = {"A": [3, 4], "B": [5, 6]}  # each writer moves only its own deals


def build_desk(home: Path, count: int) -> Path:
    desk = home / "desk.sqlite"
    engine = make_engine(desk)
    with write_session(engine) as session:
        for number in range(1, count + 1):
            deals.create_deal(session=session, title=f"Deal {number}", currency="EUR", now=NOW)
    engine.dispose()
    return desk


def start(
    mode: str, home: Path, tag: str, rounds: int, own: list[int], partner: str = ""
) -> subprocess.Popen[str]:
    """`partner`: the other writer's tag, met every few rounds (writers.meet)."""
    return subprocess.Popen(
        [sys.executable, str(WRITERS), mode, str(home), tag, str(rounds),
         ",".join(map(str, SHARED)), ",".join(map(str, own)), *([partner] if partner else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def go(*writers: subprocess.Popen[str]) -> None:
    """Wait until every writer has paid its imports, then start them all at once."""
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()


@pytest.mark.slow
def test_the_app_and_the_shell_write_at_once_and_nothing_is_lost(home: Path) -> None:
    desk = build_desk(home, 6)
    app = start("app", home, "A", ROUNDS, OWN["A"], partner="B")
    shell = start("shell", home, "B", ROUNDS, OWN["B"], partner="A")
    go(app, shell)
    # And meanwhile the real command, as a rep types it in a third terminal.
    typed = [
        repdesk(home, "log", "call", "1", "--note", f"C-{n}", "--next", "today")
        for n in range(SHELL_PROCESSES)
    ]
    journals = {}
    for tag, process in (("A", app), ("B", shell)):
        out, err = process.communicate(timeout=110)
        assert process.returncode == 0, err
        assert err == "", err
        journals[tag] = out.splitlines()
    assert app.returncode == 0 and shell.returncode == 0
    for result in typed:
        assert result.returncode == 0 and result.stderr == "", result.stderr

    # Nobody saw "database is locked" or any other failure.
    failures = [line for lines in journals.values() for line in lines if line.startswith("fail")]
    assert failures == []
    reported = {line.split()[1] for lines in journals.values() for line in lines
                if line.startswith("call")}  # fmt: skip
    expected = {f"{tag}-{n}" for tag in "AB" for n in range(ROUNDS)}
    assert reported == expected

    # Every reported call is there exactly once, and nothing else.
    texts = Counter(t for (t,) in rows(desk, "SELECT text FROM activity"))
    assert texts == Counter(expected | {f"C-{n}" for n in range(SHELL_PROCESSES)})
    # Each call completed the due follow-up and scheduled one: one pending per shared deal, and
    # one follow-up per call that asked for a next step (two racing read-then-write
    # transactions would have completed the same one twice and left two pending).
    assert rows(desk, "SELECT deal_id, count(*) FROM follow_up WHERE done_at IS NULL "
                "GROUP BY deal_id ORDER BY deal_id") == [(1, 1), (2, 1)]  # fmt: skip
    assert rows(desk, "SELECT count(*) FROM follow_up") == [(2 * ROUNDS + SHELL_PROCESSES,)]
    # Every move is in the history, and each deal ends where its last move put it.
    for tag, own in OWN.items():
        for deal_id in own:
            moves = [line for line in journals[tag] if line.startswith(f"move {deal_id} ")]
            assert len(moves) == ROUNDS // len(own)
            history = rows(desk, "SELECT count(*) FROM stage_change WHERE deal_id = ?", deal_id)
            assert history == [(1 + len(moves),)]
            stage = rows(desk, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id "
                         "WHERE d.id = ?", deal_id)  # fmt: skip
            assert stage == [(moves[-1].split()[2],)]
    # They really raced: in commit order the two writers' calls interleave again and again.
    order = [t[0] for (t,) in rows(desk, "SELECT text FROM activity ORDER BY id") if t[0] in "AB"]
    switches = sum(1 for before, after in itertools.pairwise(order) if before != after)
    # A loaded 2-core machine batches more, but they meet every few rounds (writers.meet).
    assert switches >= 3
    assert health(desk) == ("ok", [])


@pytest.mark.slow
def test_a_backup_taken_while_another_process_writes_is_whole_and_opens(
    home: Path, tmp_path: Path
) -> None:
    desk = build_desk(home, 6)
    writer = start("app", home, "W", 5000, [3, 4])  # killed once the copies are taken
    copies: list[Path] = []
    try:
        go(writer)
        assert writer.stdout is not None
        writer.stdout.readline()  # the first write is in: back up from here on
        for number in range(12):
            with closing(desk_file.connect(desk)) as conn:
                copies.append(desk_file.backup(conn, tmp_path / f"backup-{number}.sqlite"))
            time.sleep(0.05)  # spread the copies over the writer's run
        assert writer.poll() is None, "the writer finished before the last backup"
    finally:
        writer.kill()
        writer.wait()

    calls_seen = []
    for copy in copies:
        assert health(copy) == ("ok", [])
        # It opens as a desk: identity, version, and the app's own engine can read it.
        assert desk_file.prepare(copy, verify=True) == migrations.LATEST
        engine = make_engine(copy)
        with read_session(engine) as session:
            listed = deals.list_deals(session=session, status="all")
        engine.dispose()
        assert len(listed) == 6
        # A consistent moment: every call in the copy came with its follow-up.
        calls = rows(copy, "SELECT count(*) FROM activity")[0][0]
        assert rows(copy, "SELECT count(*) FROM follow_up")[0][0] == calls
        calls_seen.append(calls)
    assert calls_seen == sorted(calls_seen) and calls_seen[-1] > calls_seen[0]
