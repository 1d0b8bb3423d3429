"""What a hostile test of the shell found writing where it should not (issue 18): a number
taken for text, a closed deal closed again, exports over the desk, a home whose name is read
as a URL, damage only integrity_check sees, backups lost to a clock gone back, messages that
do not say which option was wrong. Each test fails without its fix."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.reliability.helpers import fill, health, remount, rows, table_checksums, tmpfs
from tests.shell import ok, refused, run

from repdesk.storage import desk_file


@pytest.fixture
def desk(home: Path) -> Path:
    ok("deal", "add", "Fleet 2000 trucks", "--company", "Acme", "--value", "45000",
       "--first-contact", "2026-10-01")  # fmt: skip
    ok("deal", "add", "Seats", "--company", "Gamma-1 GmbH", "--value", "12k",
       "--first-contact", "2026-09-01")  # fmt: skip
    return home / "desk.sqlite"


def status_of(desk: Path, deal_id: int) -> tuple[Any, ...]:
    return rows(desk, "SELECT status, closed_on FROM deal WHERE id = ?", deal_id)[0]


# ---------------------------------------------------------------- item 5: a number is an id


@pytest.mark.parametrize(
    "args",
    [
        ("deal", "won", "0"),
        ("deal", "lost", "-1", "--reason", "x"),
        ("deal", "move", "2000", "Demo"),
        ("deal", "show", "1000"),
        ("log", "call", "-1"),
        ("follow-up", "add", "0", "tomorrow"),
        ("deal", "won", "9" * 30),
    ],
)
def test_a_number_that_is_no_deal_is_refused_not_searched_as_text(
    desk: Path, args: tuple[str, ...]
) -> None:
    before = table_checksums(desk)
    err = refused(*args)
    number = args[2]
    assert f"no deal #{number[:20]}" in err and "`repdesk deal list` shows the ids" in err
    assert err.count("\n") == 1
    assert table_checksums(desk) == before


def test_text_with_digits_still_finds_its_deal(desk: Path) -> None:
    assert "Won #1 Fleet 2000 trucks" in ok("deal", "won", "fleet 2000")
    assert "Lost #2 Seats (Gamma-1 GmbH)" in ok("deal", "lost", "gamma-1", "--reason", "x")


# ---------------------------------------------------------------- item 12: closed stays dated


@pytest.mark.parametrize(
    "again",
    [("deal", "won", "1"), ("deal", "move", "1", "Won"), ("deal", "won", "1", "--on", "today")],
)
def test_winning_a_won_deal_again_keeps_its_close_date(desk: Path, again: tuple[str, ...]) -> None:
    ok("deal", "won", "1", "--on", "2026-10-14")
    before = table_checksums(desk)
    err = refused(*again)
    assert (
        err == "repdesk: deal #1 is already won (on 2026-10-14): reopen it first to change that\n"
    )
    assert status_of(desk, 1) == ("won", "2026-10-14")
    assert table_checksums(desk) == before


def test_losing_a_lost_deal_again_keeps_its_reason_and_date(desk: Path) -> None:
    ok("deal", "lost", "2", "--reason", "price", "--on", "2026-10-02")
    err = refused("deal", "lost", "2", "--reason", "timing")
    assert "deal #2 is already lost (on 2026-10-02)" in err
    assert rows(desk, "SELECT lost_reason, closed_on FROM deal WHERE id = 2") == [
        ("price", "2026-10-02")
    ]


def test_the_service_refuses_too_so_the_app_gets_it(desk: Path) -> None:
    from repdesk.core.errors import AlreadyClosed
    from repdesk.services import deals
    from repdesk.storage import store

    ok("deal", "won", "1", "--on", "2026-10-14")
    engine = store.make_engine(desk)
    try:
        with pytest.raises(AlreadyClosed), store.write_session(engine) as session:
            deals.win_deal(session=session, deal_id=1)
    finally:
        engine.dispose()
    assert status_of(desk, 1) == ("won", "2026-10-14")


# ---------------------------------------------------------------- item 24: lost deals' steps


@pytest.mark.parametrize(
    "args",
    [
        ("follow-up", "add", "2", "tomorrow"),
        ("log", "call", "2", "--next", "tomorrow"),
    ],
)
def test_a_follow_up_on_a_lost_deal_is_refused(desk: Path, args: tuple[str, ...]) -> None:
    ok("deal", "lost", "2", "--reason", "price")
    before = table_checksums(desk)
    err = refused(*args)
    assert err == (
        "repdesk: deal #2 is lost: a follow-up on it would never show; reopen it first\n"
    )
    assert table_checksums(desk) == before


def test_a_won_deal_keeps_its_post_sale_follow_ups(desk: Path) -> None:
    ok("deal", "won", "1")
    ok("follow-up", "add", "1", "tomorrow", "--note", "referral ask")
    assert "referral ask" in ok("today")


def test_a_repeating_step_ends_when_its_deal_is_lost(desk: Path) -> None:
    ok("follow-up", "add", "2", "today", "--every", "7d")
    ok("deal", "lost", "2", "--reason", "price")
    assert ok("follow-up", "done", "1") == "Done: follow-up 1\n"
    assert rows(desk, "SELECT COUNT(*) FROM follow_up WHERE done_at IS NULL") == [(0,)]


# ---------------------------------------------------------------- item 8: a home is a path


@pytest.mark.parametrize("name", ["desk%20two", "desk?mode=ro", "desk#1"])
def test_a_home_whose_name_looks_like_a_url_gets_the_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    home = tmp_path / name
    monkeypatch.setenv("REPDESK_HOME", str(home))
    ok("deal", "add", "Fleet")
    assert rows(home / "desk.sqlite", "SELECT title FROM deal") == [("Fleet",)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no "desk two" beside it


# ---------------------------------------------------------------- item 23: said after commit


def test_a_write_that_fails_at_commit_prints_no_success_line(
    desk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk shows at commit, when the write-ahead log grows: SQLite fails the commit.
    from sqlalchemy import Engine, event

    def full(_conn: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    event.listen(Engine, "commit", full)
    try:
        code, out, err = run("deal", "add", "Second")
    finally:
        event.remove(Engine, "commit", full)
    assert (code, out) == (1, "")
    assert err.startswith(f"repdesk: {desk}: the disk is full: nothing was written")
    assert rows(desk, "SELECT COUNT(*) FROM deal") == [(2,)]


# ---------------------------------------------------------------- item 7: where exports go

FORMATS = ("csv", "json", "ics")


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("name", ["desk.sqlite", "desk.sqlite-wal", "desk.sqlite-shm"])
def test_an_export_never_writes_over_the_desk(desk: Path, kind: str, name: str) -> None:
    ok("backup")  # the desk's -wal and -shm are there too while something has it open
    target = desk.parent / name
    before = target.read_bytes() if target.exists() else None
    kept = table_checksums(desk)
    err = refused("export", kind, target, "--force")
    assert f"{target} is the desk's own file {name}: export to another file" in err
    assert (target.read_bytes() if target.exists() else None) == before
    assert table_checksums(desk) == kept and health(desk) == ("ok", [])


@pytest.mark.parametrize("kind", FORMATS)
def test_an_export_never_writes_over_the_desk_through_a_link(desk: Path, kind: str) -> None:
    (desk.parent / "soft").symlink_to(desk)
    (desk.parent / "hard").hardlink_to(desk)
    before = desk.read_bytes()
    for link in ("soft", "hard"):
        assert "is the desk's own file desk.sqlite" in refused(
            "export", kind, desk.parent / link, "--force"
        )
    assert desk.read_bytes() == before


def test_an_export_never_writes_into_the_backups(desk: Path) -> None:
    ok("backup")
    backups = desk.parent / "backups"
    kept = {p.name: p.read_bytes() for p in backups.iterdir()}
    for target in (backups, *(backups / name for name in kept), backups / "new.csv"):
        assert "is in the desk's folder" in refused("export", "csv", target, "--force")
    assert {p.name: p.read_bytes() for p in backups.iterdir()} == kept


@pytest.mark.parametrize(
    ("target", "words"), [("/dev/null", "is a device"), ("/", "is a folder"), ("", "FILE: ''")]
)
def test_an_export_needs_a_regular_file_name(desk: Path, target: str, words: str) -> None:
    err = refused("export", "csv", target, "--force")
    assert words in err and err.count("\n") == 1


@pytest.mark.parametrize("kind", FORMATS)
def test_an_existing_file_is_replaced_only_with_force(
    desk: Path, tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "exports" / f"mine.{kind}"
    target.parent.mkdir()
    target.write_text("the rep's own notes\n", encoding="utf-8")
    target.chmod(0o640)
    assert f"{target} already exists: add --force to replace it" in refused("export", kind, target)
    assert target.read_text(encoding="utf-8") == "the rep's own notes\n"
    ok("export", kind, target, "--force")
    assert target.read_text(encoding="utf-8") != "the rep's own notes\n"
    assert target.stat().st_mode & 0o777 == 0o640  # replaced, keeping its permissions
    assert [p.name for p in target.parent.iterdir()] == [target.name]


@pytest.mark.parametrize("kind", FORMATS)
def test_a_full_disk_during_an_export_exits_1_and_leaves_the_old_file(
    desk: Path, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "exports" / f"old.{kind}"
    target.parent.mkdir()
    target.write_text("last week's export\n", encoding="utf-8")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)  # where a full disk shows when the data is flushed
    code, out, err = run("export", kind, target, "--force")
    assert (code, out) == (1, "")
    assert err == f"repdesk: cannot write {target}: the disk is full; nothing was written\n"
    assert target.read_text(encoding="utf-8") == "last week's export\n"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_an_export_onto_a_really_full_disk_leaves_no_partial_file(
    desk: Path, tmp_path: Path
) -> None:
    for n in range(40):  # an export of a few KB
        ok("deal", "add", f"Deal {n} " + "x" * 80)
    with tmpfs(tmp_path, 64) as point:
        filler = fill(point)
        code, _, err = run("export", "json", point / "desk.json")
        assert code == 1 and "the disk is full; nothing was written" in err, err
        assert sorted(p.name for p in point.iterdir()) == [filler.name]


# ---------------------------------------------------------------- item 21: a read-only folder


@contextlib.contextmanager
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may write into: a read-only mount as root (who ignores permissions),
    else a folder without write permission."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    with tmpfs(tmp_path, 256) as point:
        remount(point, "ro")
        yield point


@pytest.mark.parametrize("name", ["copy.sqlite", "sub/copy.sqlite"])
def test_a_backup_into_a_read_only_folder_names_the_folder(
    desk: Path, tmp_path: Path, name: str
) -> None:
    with read_only_folder(tmp_path) as folder:
        target = folder / name
        code, out, err = run("backup", target)
        assert (code, out) == (1, "")
        assert err.startswith(f"repdesk: cannot back up {desk} to {target}: the folder ")
        assert str(target.parent) in err and "unexpected" not in err
        assert err.count("\n") == 1
        assert list(folder.iterdir()) == []


# ---------------------------------------------------------------- item 26: the clock went back


def test_the_daily_backup_survives_a_clock_set_back(desk: Path) -> None:
    import shutil

    from repdesk.cli.app import _start_auto_backup
    from repdesk.storage.paths import Home

    folder = desk.parent / "backups" / "auto"
    folder.mkdir(parents=True)
    for day in range(21, 28):  # a week taken while the clock ran ahead of today (2026-11-20)
        shutil.copyfile(desk, folder / f"desk-2026-11-{day}.sqlite")
    ok("deal", "add", "Written after the clock went back")
    _start_auto_backup(Home(data_dir=desk.parent, config_dir=desk.parent)).join(timeout=30)
    taken = folder / "desk-2026-11-20.sqlite"
    assert taken.exists(), sorted(p.name for p in folder.iterdir())
    assert rows(taken, "SELECT title FROM deal WHERE id = 3") == [
        ("Written after the clock went back",)
    ]
    kept = sorted(p.name for p in folder.glob("desk-*.sqlite"))
    assert kept == ["desk-2026-11-20.sqlite"] + [f"desk-2026-11-{d}.sqlite" for d in range(22, 28)]


# ---------------------------------------------------------------- item 25: a first contact to come


def test_an_import_refuses_a_first_contact_to_come_with_its_line(
    desk: Path, tmp_path: Path
) -> None:
    source = tmp_path / "future.csv"
    source.write_text(
        "title,company,first_contact\nPast,Acme,2026-11-01\nFuture,Acme,2099-01-01\n",
        encoding="utf-8",
    )
    before = table_checksums(desk)
    err = refused("import", source)
    assert f"{source}:3: first_contact '2099-01-01': expected today (2026-11-20) or earlier" in err
    assert table_checksums(desk) == before


@pytest.mark.parametrize(
    ("close", "status"),
    [(("deal", "won", "1"), "won"), (("deal", "lost", "1", "--reason", "x"), "lost")],
)
def test_a_deal_with_a_first_contact_to_come_can_still_be_closed(
    desk: Path, close: tuple[str, ...], status: str
) -> None:
    with contextlib.closing(sqlite3.connect(desk)) as conn, conn:  # as an older import left it
        conn.execute("UPDATE deal SET first_contact = '2099-01-01' WHERE id = 1")
    ok(*close)
    assert rows(desk, "SELECT status, closed_on, first_contact FROM deal WHERE id = 1") == [
        (status, "2026-11-20", "2026-11-20")
    ]


# ---------------------------------------------------------------- item 11: indexes vs rows


def index_disagrees_with_rows(desk: Path) -> None:
    """Damage only integrity_check sees: an index whose entries no longer match its table
    (here its definition names another column than the one its b-tree was built from; a bad
    sector or an old SQLite bug leaves the same kind of mismatch). Every page still reads
    whole, so quick_check says ok."""
    with contextlib.closing(sqlite3.connect(desk)) as conn, conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX ix_deal_closed_on ON deal (title)' "
            "WHERE name = 'ix_deal_closed_on'"
        )
    with contextlib.closing(sqlite3.connect(desk)) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert "missing from index" in conn.execute("PRAGMA integrity_check").fetchone()[0]


DAMAGED = "is damaged (row 1 missing from index ix_deal_closed_on)"


@pytest.mark.parametrize(
    "args",
    [("deal", "add", "Must not land"), ("log", "call", "1"), ("backup",)],
    ids=["deal add", "log call", "backup"],
)
def test_a_desk_whose_index_disagrees_with_its_rows_is_refused(
    desk: Path, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPDESK_NOW", "2026-11-21T09:30:00+00:00")  # a new day: a full check
    index_disagrees_with_rows(desk)
    before = desk.read_bytes()
    code, out, err = run(*args)
    assert (code, out) == (1, "")
    assert err.startswith(f"repdesk: {desk} {DAMAGED}") and err.count("\n") == 1, err
    assert desk.read_bytes() == before
    assert not list((desk.parent / "backups").glob("**/*.sqlite"))


def test_the_app_does_not_start_on_a_desk_whose_index_disagrees_with_its_rows(
    desk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from repdesk.cli.app import open_app
    from repdesk.cli.shell import Desk
    from repdesk.storage import paths

    monkeypatch.setenv("REPDESK_NOW", "2026-11-21T09:30:00+00:00")
    index_disagrees_with_rows(desk)

    def run_app(_app: object) -> None:
        pytest.fail("the app started on a damaged desk")

    home = paths.resolve_home(str(desk.parent))
    with pytest.raises(desk_file.DeskError, match=r"missing from index ix_deal_closed_on"):
        open_app(Desk(home), auto_backup=False, run=run_app)


def test_a_desk_file_replaced_the_same_day_is_checked_in_full(desk: Path, tmp_path: Path) -> None:
    ok("deal", "add", "Checked in full today")  # the mark: this file, checked today
    copy = tmp_path / "synced.sqlite"
    copy.write_bytes(desk.read_bytes())
    index_disagrees_with_rows(copy)
    copy.replace(desk)  # a sync tool or a copy puts another file in its place
    code, _, err = run("deal", "add", "Must not land")
    assert code == 1 and DAMAGED in err


def test_a_backup_whose_index_disagrees_with_its_rows_is_not_restored(
    desk: Path, tmp_path: Path
) -> None:
    ok("deal", "add", "Checked in full today")
    backup = tmp_path / "old.sqlite"
    ok("backup", backup)
    index_disagrees_with_rows(backup)
    kept = table_checksums(desk)
    code, _, err = run("restore", backup)
    assert code == 2
    assert err == f"repdesk: not restored: {backup} {DAMAGED}; the desk is unchanged\n"
    assert table_checksums(desk) == kept


# ---------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("deal", "add", "X", "--value", "abc"), "--value: 'abc' is not an amount"),
        (("quota", "set", "2026-11", "abc"), "AMOUNT: 'abc' is not an amount"),
        (("deal", "won", "1", "--on", "2026-13-01"), "--on: '2026-13-01' is not a date"),
        (("deal", "add", "X", "--first-contact", "x"), "--first-contact: 'x' is not a date"),
        (("log", "call", "1", "--next", "nope"), "--next: 'nope' is not a date"),
        (("follow-up", "add", "1", "x"), "WHEN: 'x' is not a date"),
        (("kpi", "--period", "x"), "--period: 'x' is not a period"),
        (("kpi", "--as-of", "x"), "--as-of: 'x' is not a date"),
    ],
)
def test_a_bad_value_names_its_option(desk: Path, args: tuple[str, ...], message: str) -> None:
    assert refused(*args).startswith(f"repdesk: {message}")


@pytest.mark.parametrize(
    "args",
    [
        ("deal", "won", "1", "--on", ""),
        ("deal", "lost", "1", "--reason", "x", "--on", " "),
        ("--home", "", "deal", "add", "X"),
        ("deal", "add", "X", "--value", ""),
        ("deal", "add", "X", "--stage", ""),
        ("deal", "add", "X", "--currency", ""),
        ("deal", "add", "X", "--first-contact", ""),
        ("log", "call", "1", "--next", ""),
        ("log", "call", "1", "--minutes", ""),
        ("follow-up", "add", "1", "tomorrow", "--every", ""),
        ("kpi", "--period", ""),
        # an empty count once cleared what it set (a score, a rot limit, an own probability)
        ("deal", "set", "1", "--probability", ""),
        ("stage", "set", "Prospect", "--rot", " "),
        ("stage", "add", "Pilot", "--probability", ""),
    ],
)
def test_an_empty_value_is_refused_not_taken_as_not_given(
    desk: Path, args: tuple[str, ...]
) -> None:
    before = table_checksums(desk)
    err = refused(*args)
    flag = next(a for a in args if a.startswith("--") and a not in ("--reason",))
    assert err.startswith(f"repdesk: argument {flag}: ") and "is empty" in err, err
    assert table_checksums(desk) == before


@pytest.mark.parametrize(
    "args",
    [
        ("deal", "nps", "1", " "),
        ("stage", "move", "Prospect", ""),
        # An empty FILE made the default backup; restore said ". is a directory" (an audit).
        ("backup", ""),
        ("restore", ""),
        ("export", "json", ""),
        ("import", ""),
        ("migrate-to", ""),
        ("serve", "--host", ""),
    ],
)
def test_an_empty_argument_is_refused_not_taken_as_none(desk: Path, args: tuple[str, ...]) -> None:
    before = table_checksums(desk)
    assert "is empty: give a value" in refused(*args)
    assert table_checksums(desk) == before


def test_one_deal_is_one_deal(desk: Path, tmp_path: Path) -> None:
    ok("deal", "won", "1")
    assert ok("deal", "list").endswith("\n1 deal\n")
    assert "Won:               €45,000 in 1 deal\n" in ok("kpi")
    assert "Open pipeline:     €12,000 in 1 deal\n" in ok("kpi")
    source = tmp_path / "one.csv"
    source.write_text("title,company\nNew one,Delta\n", encoding="utf-8")
    out = ok("import", source)
    assert ": 1 row (UTF-8)\n" in out and "Imported 1 deal from" in out


def test_what_killed_backups_restores_and_upgrades_left_is_removed_at_the_next_start(
    desk: Path,
) -> None:
    import time

    folder = desk.parent
    (folder / "backups" / "auto").mkdir(parents=True)
    stray = [
        folder / ".restore-20261119-101010.sqlite",
        folder / ".restore-20261119-101010.sqlite-wal",
        folder / f".{desk.name}.pre-v3-20261119T101010Z.bak.partial",
        folder / "backups" / ".desk-20261119-101010.sqlite.partial",
        folder / "backups" / "auto" / ".desk-2026-11-19.sqlite.partial",
    ]
    empty_bak = folder / f"{desk.name}.pre-v3-20261119T101010Z.bak"
    for path in [*stray, empty_bak]:
        path.write_bytes(b"" if path == empty_bak else b"half a copy")
        os.utime(path, (time.time() - 3600,) * 2)  # an hour ago: nobody is writing it
    running = folder / "backups" / ".desk-20261120-093000.sqlite.partial"
    running.write_bytes(b"being written right now")
    ok("deal", "add", "Next start")
    left = sorted(str(p.relative_to(folder)) for p in folder.rglob(".*"))
    # Left: the check's mark, the settings' last read (README), and the copy still being made.
    assert left == [
        ".desk.sqlite.checked", ".settings.toml.read",
        "backups/.desk-20261120-093000.sqlite.partial",
    ]  # fmt: skip
    assert not empty_bak.exists()


def test_an_upgrade_copy_that_fails_midway_leaves_no_file_named_as_a_backup(
    tmp_path: Path,
) -> None:
    class Killed(BaseException):
        pass

    class DiesMidCopy:
        def backup(self, _dest: sqlite3.Connection) -> None:
            raise Killed

    target = tmp_path / "desk.sqlite.pre-v9-20261120T093000Z.bak"
    with pytest.raises(Killed):
        desk_file.backup(DiesMidCopy(), target)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


NOISY_COMMAND = """
import logging, sys, warnings
from sqlalchemy.exc import SAWarning
from repdesk import cli
from repdesk.cli import deals

def noisy(desk, args):
    desk.engine  # as `deal list` does: SQLAlchemy logs only where there is an engine
    warnings.warn(SAWarning("transaction already deassociated from connection\\nsecond line"))
    try:
        raise ConnectionError("server closed the connection unexpectedly")
    except ConnectionError:
        logging.getLogger("sqlalchemy.pool.impl.QueuePool").error(
            "Exception during reset or similar", exc_info=True
        )
    print("Listed")
    return 0

deals.cmd_deal_list = noisy
sys.exit(cli.main(["deal", "list"]))
"""


def test_library_warnings_and_logs_never_reach_the_rep(desk: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", NOISY_COMMAND], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "Listed\n", "")


def test_a_postgresql_error_is_one_line(desk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg
    from sqlalchemy.exc import DataError

    from repdesk.cli import deals

    def refused_by_server(_desk: object, _args: object) -> int:
        orig = psycopg.errors.CharacterNotInRepertoire(
            'invalid byte sequence for encoding "UTF8": 0x00\nCONTEXT:  unnamed portal parameter $1'
        )
        raise DataError("INSERT INTO deal ...", {}, orig)

    monkeypatch.setattr(deals, "cmd_deal_list", refused_by_server)
    code, _, err = run("deal", "list")
    assert code == 1
    assert err == (
        "repdesk: the desk's PostgreSQL server refused: "
        'invalid byte sequence for encoding "UTF8": 0x00\n'
    )


def test_a_damage_report_over_several_lines_is_one_line(tmp_path: Path) -> None:
    from repdesk.storage import problems

    damaged = sqlite3.DatabaseError("*** in database main ***\nPage 5: btreeInitPage() error 11")
    message, code = problems.describe(damaged, "/desk.sqlite")
    assert (message, code) == ("/desk.sqlite is damaged (*** in database main *** Page 5: "
                               "btreeInitPage() error 11): restore a backup", 1)  # fmt: skip
