"""repdesk backup / restore and the daily rotating backups taken when the app starts."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from tests.io.helpers import ROOT, digest, rows
from tests.shell import ok, refused

from repdesk.cli.app import _start_auto_backup
from repdesk.storage import desk_file, migrations
from repdesk.storage.paths import Home


@pytest.fixture
def desk(home: Path) -> Path:
    ok("deal", "add", "Fleet rollout", "--company", "Acme", "--value", "45000")
    ok("quota", "set", "2026-11", "60000")
    return home / "desk.sqlite"


def test_backup_to_the_default_place_and_to_a_file(desk: Path, tmp_path: Path) -> None:
    out = ok("backup")
    made = sorted((desk.parent / "backups").glob("desk-*.sqlite"))
    assert len(made) == 1 and f"to {made[0]}" in out
    assert rows(made[0]) == rows(desk)
    assert not Path(f"{made[0]}-wal").exists()  # one plain file
    ok("backup")  # the same second: a second name, not an overwrite
    assert len(list((desk.parent / "backups").glob("desk-*.sqlite"))) == 2
    target = tmp_path / "mine.sqlite"
    ok("backup", target)
    assert "already exists" in refused("backup", target)


def test_backup_is_consistent_while_another_process_writes(desk: Path, tmp_path: Path) -> None:
    # A writer holds an open transaction with a row in it: the backup has the committed desk.
    writer = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys\n"
         f"c = sqlite3.connect({str(desk)!r}, isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE')\n"
         "c.execute(\"UPDATE deal SET title = 'half-written'\")\n"
         "print('ready', flush=True)\n"
         "sys.stdin.readline()\n"
         "c.execute('COMMIT')\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert writer.stdout is not None and writer.stdin is not None
    assert writer.stdout.readline().strip() == "ready"
    target = tmp_path / "during.sqlite"
    ok("backup", target)
    writer.stdin.write("\n")
    writer.stdin.flush()
    assert writer.wait(timeout=10) == 0
    titles = [row[1] for row in rows(target)["deal"]]
    assert titles == ["Fleet rollout"]


def test_restore_puts_the_backup_back_and_keeps_the_replaced_desk(
    desk: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "saved.sqlite"
    ok("backup", saved)
    before = rows(desk)
    ok("deal", "add", "Added after the backup")
    replaced = rows(desk)
    out = ok("restore", saved)
    assert f"Restored {saved} (schema {migrations.LATEST})" in out
    assert rows(desk) == before
    kept = sorted((desk.parent / "backups").glob("desk-before-restore-*.sqlite"))
    assert len(kept) == 1 and f"kept at {kept[0]}" in out
    assert rows(kept[0]) == replaced
    ok("deal", "add", "After the restore")  # the restored desk is a working desk


def test_restore_alone_lists_the_backups_newest_first_with_their_deals(desk: Path) -> None:
    import os

    assert ok("restore") == f"No backups of {desk} yet: `repdesk backup` takes one.\n"
    ok("backup")
    ok("deal", "add", "Second deal")
    auto = desk.parent / "backups" / "auto"
    desk_file.auto_backup(desk, auto, today="2026-12-01")
    # A file that only looks like a backup is listed, saying it cannot be read as a desk.
    (desk.parent / "backups" / "notes.sqlite").write_text("not a desk", encoding="utf-8")
    os.utime(desk.parent / "backups" / "notes.sqlite", (1_000_000_000, 1_000_000_000))
    lines = ok("restore").splitlines()
    assert lines[0] == f"Backups of {desk}, newest first:"
    assert [line.split()[2:] for line in lines[1:-1]] == [
        ["2", "deals", str(auto / "desk-2026-12-01.sqlite")],
        ["1", "deal", next(str(p) for p in (desk.parent / "backups").glob("desk-*.sqlite"))],
        ["not", "a", "desk", "this", "repdesk", "can", "read",
         str(desk.parent / "backups" / "notes.sqlite")],
    ]  # fmt: skip
    assert lines[-1] == (
        "Put one in place with `repdesk restore FILE` (the desk there now is kept first)."
    )
    # Listing reads each copy without leaving anything beside it.
    assert sorted(p.name for p in auto.iterdir()) == ["desk-2026-12-01.sqlite"]


def test_restore_refusals_change_nothing(desk: Path, tmp_path: Path) -> None:
    before = digest(desk)
    text = tmp_path / "notes.sqlite"
    text.write_text("just text", encoding="utf-8")
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    newer = tmp_path / "newer.sqlite"
    ok("backup", newer)
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    damaged = tmp_path / "damaged.sqlite"
    ok("backup", damaged)
    data = bytearray(damaged.read_bytes())
    page = 4096
    data[2 * page : 3 * page] = b"\xff" * page  # a table's page turned to noise
    damaged.write_bytes(bytes(data))
    cases = {
        tmp_path / "missing.sqlite": "no such file",
        text: "is not a repdesk desk: it is not a SQLite database",
        foreign: "SQLite database of another program",
        newer: "written by a newer repdesk",
        damaged: "is damaged",
        desk: "is the desk itself",
    }
    for path, reason in cases.items():
        snapshot = path.read_bytes() if path.exists() else None
        err = refused("restore", path)
        assert reason in err and "the desk is unchanged" in err, err
        assert digest(desk) == before
        if snapshot is not None:
            assert path.read_bytes() == snapshot  # the offered file is only read
    assert not list((desk.parent / "backups").glob("desk-before-restore-*"))


def test_restore_of_an_older_schema_upgrades_it(desk: Path) -> None:
    old = ROOT / "tests" / "fixtures" / "desk-v1.sqlite"
    out = ok("restore", old)
    assert "(schema 1)" in out
    conn = sqlite3.connect(desk)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    assert conn.execute("SELECT COUNT(*) FROM deal").fetchone()[0] > 0


def test_restore_onto_a_damaged_desk_keeps_its_bytes(desk: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved.sqlite"
    ok("backup", saved)
    for suffix in ("-wal", "-shm"):
        Path(f"{desk}{suffix}").unlink(missing_ok=True)
    desk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    broken = desk.read_bytes()
    ok("restore", saved)
    assert rows(desk) == rows(saved)
    kept = next((desk.parent / "backups").glob("desk-before-restore-*.sqlite"))
    assert kept.read_bytes() == broken


def test_automatic_backup_once_a_day_keeping_the_last_seven(desk: Path) -> None:
    folder = desk.parent / "backups" / "auto"
    for day in range(1, 10):
        (folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(desk, folder / f"desk-2026-11-{day:02d}.sqlite")
    made = desk_file.auto_backup(desk, folder, today="2026-11-20")
    assert made == folder / "desk-2026-11-20.sqlite" and rows(made) == rows(desk)
    kept = sorted(p.name for p in folder.glob("desk-*.sqlite"))
    assert kept == [f"desk-2026-11-{d:02d}.sqlite" for d in (4, 5, 6, 7, 8, 9, 20)]
    stamp = made.stat().st_mtime_ns
    assert desk_file.auto_backup(desk, folder, today="2026-11-20") is None  # already today's
    assert made.stat().st_mtime_ns == stamp


def test_the_app_start_takes_todays_backup_in_a_thread(desk: Path) -> None:
    home = Home(data_dir=desk.parent, config_dir=desk.parent)
    _start_auto_backup(home).join(timeout=10)
    assert (desk.parent / "backups" / "auto" / "desk-2026-11-20.sqlite").exists()


def test_a_failed_automatic_backup_leaves_a_note_not_a_crash(home: Path) -> None:
    (home / "desk.sqlite").mkdir(parents=True)  # not a file: the backup cannot be taken
    thread = _start_auto_backup(Home(data_dir=home, config_dir=home))
    thread.join(timeout=10)
    note = home / "backups" / "auto" / "failed.txt"
    assert "there is no desk at" in note.read_text(encoding="utf-8")
