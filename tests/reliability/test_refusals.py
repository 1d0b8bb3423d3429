"""A desk that cannot be used is refused in one line and left as it was (issue 7, items 5, 6).

tests/unit/test_store.py shows desk_file.prepare refusing a text file, another program's
database and a newer desk; here every entry point (the app, a write, a read, the fast read)
meets each of them and a damaged desk, and then a read-only folder and a full disk for real.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.reliability.helpers import (
    digest,
    fill,
    flip_page,
    health,
    remount,
    repdesk,
    rows,
    siblings,
    table_checksums,
    tmpfs,
)
from tests.tui.desks import build_small_desk

from repdesk.cli import main
from repdesk.storage import desk_file, migrations

ENTRY_POINTS = {
    "write": ("log", "call", "1", "--note", "must not land"),
    "read": ("deal", "list"),
    "fast read": ("quota",),
}


def run(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, err.getvalue()


def newer(desk: Path) -> str:
    with contextlib.closing(sqlite3.connect(desk)) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    return "newer repdesk"


def text_file(desk: Path) -> str:
    desk.write_text("title,company\nFleet,Acme\n" * 40, encoding="utf-8")
    return "not a SQLite database"


def other_program(desk: Path) -> str:
    desk.unlink()
    with contextlib.closing(sqlite3.connect(desk)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.org')")
        conn.commit()
    return "another program"


def damaged_page(page_of: str) -> Callable[[Path], str]:
    def damage(desk: Path) -> str:
        with contextlib.closing(sqlite3.connect(desk)) as conn:
            page = conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = ?", (page_of,)
            ).fetchone()[0]
        desk.write_bytes(bytes(flip_page(bytearray(desk.read_bytes()), page)))
        return "damaged"

    damage.__name__ = f"damaged {page_of} page"
    return damage


def damaged_header(desk: Path) -> str:
    data = bytearray(desk.read_bytes())
    data[28:32] = (10**6).to_bytes(4, "big")  # a page count far beyond the file
    desk.write_bytes(bytes(data))
    return "damaged"


def emptied(desk: Path) -> str:
    # A full disk or a copy gone wrong left the file empty; the daily backups are beside it.
    auto = desk.parent / "backups" / "auto"
    auto.mkdir(parents=True)
    shutil.copyfile(desk, auto / "desk-2026-11-30.sqlite")
    desk.write_bytes(b"")
    return "empty (0 bytes)"


PROBLEMS = [newer, text_file, other_program, damaged_header, emptied] + [
    damaged_page(table) for table in ("deal", "activity", "follow_up", "stage", "quota")
]


@pytest.fixture
def desk(home: Path) -> Path:
    build_small_desk(home)
    path = home / "desk.sqlite"
    # As the rep left it: no -wal or -shm beside it (the last connection checkpointed).
    assert siblings(path) == ["desk.sqlite"]
    return path


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.__name__.replace("_", " "))
def test_every_entry_point_refuses_an_unusable_desk_and_leaves_it_as_it_was(
    desk: Path, problem: Callable[[Path], str]
) -> None:
    words = problem(desk)
    before = digest(desk)
    for entry, args in ENTRY_POINTS.items():
        code, err = run(*args)
        if entry == "fast read" and words == "damaged" and code == 0:
            # `quota` reads with sqlite3 alone and skips the full check (speed): it may not
            # meet a damaged page, but it never writes either.
            assert err == ""
        else:
            assert code == 1, (entry, err)
            assert err.startswith(f"repdesk: {desk}") and words in err, (entry, err)
            assert err.count("\n") == 1 and "Traceback" not in err
        assert digest(desk) == before, entry
        assert siblings(desk) == ["desk.sqlite"], entry


def test_an_emptied_desk_comes_back_with_the_restore_its_refusal_names(desk: Path) -> None:
    deals_before = rows(desk, "SELECT id, title FROM deal ORDER BY id")
    emptied(desk)
    code, err = run("deal", "list")
    assert code == 1 and "repdesk restore FILE" in err
    backup = desk.parent / "backups" / "auto" / "desk-2026-11-30.sqlite"
    assert run("restore", str(backup)) == (0, "")
    assert rows(desk, "SELECT id, title FROM deal ORDER BY id") == deals_before
    # A desk file emptied with no backups beside it is a creation cut short: made again.
    shutil.rmtree(desk.parent / "backups")
    desk.write_bytes(b"")
    assert run("deal", "list") == (0, "")


def test_a_removed_desk_beside_its_backups_is_refused_not_made_again(
    desk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A removed desk came back as a new, empty one, and its daily backups pushed the last good
    # ones out of backups/auto within a week (found by an audit of what was left alone).
    deals_before = rows(desk, "SELECT id, title FROM deal ORDER BY id")
    auto = desk.parent / "backups" / "auto"
    auto.mkdir(parents=True)
    shutil.copyfile(desk, auto / "desk-2026-11-30.sqlite")
    desk.unlink()
    for entry, args in ENTRY_POINTS.items():
        code, err = run(*args)
        assert code == 1, (entry, err)
        assert err.startswith(f"repdesk: there is no desk at {desk}, but {auto} holds"), err
        assert "`repdesk restore` lists them" in err and err.count("\n") == 1
        assert not desk.exists(), entry
    capsys.readouterr()
    # `repdesk restore` alone names the copies, with what each holds, for the rep to pick one.
    assert main(["restore"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0] == f"Backups of {desk}, newest first:"
    assert f" {len(deals_before)} deals " in listing[1]
    assert listing[1].endswith(str(auto / "desk-2026-11-30.sqlite"))
    assert listing[-1] == "Put one in place with `repdesk restore FILE`."
    assert run("restore", str(auto / "desk-2026-11-30.sqlite")) == (0, "")
    assert rows(desk, "SELECT id, title FROM deal ORDER BY id") == deals_before
    # With the backups moved away, a new desk is what the rep asked for.
    desk.unlink()
    shutil.move(desk.parent / "backups", desk.parent.parent / "kept-backups")
    assert run("deal", "list") == (0, "")
    assert rows(desk, "SELECT count(*) FROM deal") == [(0,)]


def test_backups_in_a_linked_auto_folder_or_kept_by_an_upgrade_count(
    desk: Path, tmp_path: Path
) -> None:
    # Python's rglob did not go into a linked backups/auto: the emptied desk was made again
    # and a week of its empty backups pushed the good ones out there (a hostile test).
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(desk, elsewhere / "desk-2026-11-19.sqlite")
    (desk.parent / "backups").mkdir()
    (desk.parent / "backups" / "auto").symlink_to(elsewhere)
    desk.write_bytes(b"")
    code, err = run("deal", "list")
    assert code == 1 and "empty (0 bytes)" in err and str(desk.parent / "backups" / "auto") in err
    shutil.rmtree(desk.parent / "backups")
    kept = desk.parent / "desk.sqlite.pre-v11-20261119-100000.bak"
    shutil.copyfile(elsewhere / "desk-2026-11-19.sqlite", kept)
    assert run("deal", "list")[0] == 1
    # Named like a backup but not a desk (another program's, or a few bytes): no refusal,
    # which nothing could then lift (a hostile test).
    kept.write_bytes(b"SQLite format 3")
    assert run("deal", "list") == (0, "")


def test_what_only_looks_like_a_backup_does_not_refuse_an_empty_desk(desk: Path) -> None:
    # A folder, an empty file and a link to nothing named *.sqlite refused the desk, naming a
    # restore that could not work (a hostile test).
    backups = desk.parent / "backups"
    (backups / "folder.sqlite").mkdir(parents=True)
    (backups / "empty.sqlite").write_bytes(b"")
    (backups / "gone.sqlite").symlink_to(backups / "nowhere")
    desk.write_bytes(b"")
    assert run("deal", "list") == (0, "")


def test_a_restore_through_a_link_to_an_emptied_desk_fills_the_linked_file(
    desk: Path, tmp_path: Path
) -> None:
    # The link was replaced by a plain file and its target stayed empty (a hostile test).
    deals = rows(desk, "SELECT id, title FROM deal ORDER BY id")
    backup = desk.parent / "backups" / "desk-20261119-100000.sqlite"
    backup.parent.mkdir()
    shutil.copyfile(desk, backup)
    target = tmp_path / "real" / "desk.sqlite"
    target.parent.mkdir()
    target.write_bytes(b"")
    desk.unlink()
    desk.symlink_to(target)
    assert run("restore", str(backup))[0] == 0
    assert desk.is_symlink() and rows(target, "SELECT id, title FROM deal ORDER BY id") == deals


def test_a_desk_whose_making_was_killed_is_made_again(tmp_path: Path) -> None:
    # The file was switched to WAL before its schema went in: a kill inside the schema's
    # transaction left a page with no identity, refused for ever after as "a SQLite database
    # of another program" (a hostile test: 1 kill in 40).
    home = tmp_path / "new-home"
    script = (
        "import os, signal, sys\n"
        "from repdesk.storage import migrations\n"
        "whole = migrations.apply\n"
        "def killed(*args, **kwargs):\n"
        "    whole(*args, **kwargs)  # the whole schema written, not yet committed\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "migrations.apply = killed\n"
        "from repdesk.cli import main\n"
        f"sys.exit(main(['--home', {str(home)!r}, 'deal', 'list']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert run("--home", str(home), "deal", "list") == (0, "")
    assert run("--home", str(home), "deal", "add", "After the kill")[0] == 0


@pytest.mark.slow
@pytest.mark.parametrize("problem", PROBLEMS[:5], ids=lambda p: p.__name__.replace("_", " "))
def test_the_app_refuses_an_unusable_desk_before_taking_over_the_terminal(
    desk: Path, problem: Callable[[Path], str]
) -> None:
    words = problem(desk)
    before = digest(desk)
    result = repdesk(desk.parent)  # no command: the app
    assert result.returncode == 1
    assert result.stderr.startswith(f"repdesk: {desk}") and words in result.stderr
    assert "Traceback" not in result.stderr and "\x1b[" not in result.stdout
    assert digest(desk) == before
    assert siblings(desk) == ["desk.sqlite"]


@pytest.mark.slow
def test_the_app_refuses_a_damaged_desk_before_taking_over_the_terminal(desk: Path) -> None:
    damaged_page("deal")(desk)
    before = digest(desk)
    result = repdesk(desk.parent)
    assert result.returncode == 1
    assert result.stderr.startswith(f"repdesk: {desk} is damaged"), result.stderr
    assert digest(desk) == before and siblings(desk) == ["desk.sqlite"]


# ---------------------------------------------------------------- a real read-only folder


@pytest.mark.slow
def test_a_read_only_data_folder_is_named_and_the_desk_stays_intact(tmp_path: Path) -> None:
    with tmpfs(tmp_path, 2048) as point:
        home = point / "home"
        home.mkdir()
        build_small_desk(home)
        desk = home / "desk.sqlite"
        before = table_checksums(desk)
        remount(point, "ro")
        try:
            for args in ((), *ENTRY_POINTS.values()):
                result = repdesk(home, *args)
                assert result.returncode == 1, (args, result.stderr)
                assert result.stderr.startswith(f"repdesk: {desk}: the desk cannot be written")
                assert "Traceback" not in result.stderr
        finally:
            remount(point, "rw")
        assert table_checksums(desk) == before
        assert health(desk) == ("ok", [])


# ---------------------------------------------------------------- a real full disk


@pytest.mark.slow
@pytest.mark.parametrize("wal", ["closed", "held open by the app"])
def test_a_full_disk_says_so_writes_nothing_and_the_next_try_after_freeing_space_works(
    tmp_path: Path, wal: str
) -> None:
    with tmpfs(tmp_path, 1024) as point:
        home = point / "home"
        home.mkdir()
        build_small_desk(home)
        desk = home / "desk.sqlite"
        before = table_checksums(desk)
        holder = None
        if wal != "closed":
            # The app keeps a connection open: the -wal and -shm stay, emptied by a checkpoint.
            holder = desk_file.connect(desk)
            holder.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = fill(point)
        try:
            result = repdesk(home, "log", "call", "1", "--note", "x" * 20_000)
            assert result.returncode == 1, result.stderr
            assert result.stderr == (
                f"repdesk: {desk}: the disk is full: nothing was written; "
                "free some space and try again\n"
            )
        finally:
            filler.unlink()
        assert table_checksums(desk) == before
        assert health(desk) == ("ok", [])
        result = repdesk(home, "log", "call", "1", "--note", "x" * 20_000)
        assert result.returncode == 0, result.stderr
        if holder is not None:
            holder.close()
        assert rows(desk, "SELECT count(*) FROM activity WHERE text = ?", "x" * 20_000) == [(1,)]
        assert health(desk) == ("ok", [])


# ---------------------------------------------------------------- simulated at the SQLite layer


@pytest.mark.parametrize(
    ("pragma", "words"),
    [
        # Where no file system can be mounted, SQLite itself refuses: query_only answers a
        # write as a read-only file does (SQLITE_READONLY); max_page_count as a full disk does
        # (SQLITE_FULL). The tmpfs tests above are the real thing.
        ("PRAGMA query_only = ON", "the desk cannot be written"),
        ("PRAGMA max_page_count = {pages}", "the disk is full: nothing was written"),
    ],
    ids=["read-only", "full"],
)
def test_a_refused_write_is_one_line_and_changes_nothing(
    desk: Path, monkeypatch: pytest.MonkeyPatch, pragma: str, words: str
) -> None:
    pages = rows(desk, "PRAGMA page_count")[0][0]
    real = desk_file.apply_pragmas

    def refusing(conn: sqlite3.Connection) -> None:
        real(conn)
        conn.execute(pragma.format(pages=pages))

    monkeypatch.setattr(desk_file, "apply_pragmas", refusing)
    before = table_checksums(desk)
    code, err = run("log", "call", "1", "--note", "x" * 100_000)
    assert code == 1
    assert err.startswith(f"repdesk: {desk}: {words}"), err
    assert table_checksums(desk) == before
    assert health(desk) == ("ok", [])
    shutil.rmtree(desk.parent / "backups", ignore_errors=True)
