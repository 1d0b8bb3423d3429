"""`repdesk quota --short` answers from the line its last run left, and only while that line is
still true: every write, by repdesk or any other program, a new day, new settings or another
home makes the next run read the desk again (repdesk/storage/status_line.py)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from tests.shell import ok

from repdesk.storage import status_line

SHORT = ("quota", "--short")


def _remembered(home: Path) -> str | None:
    assert os.environ["REPDESK_HOME"] == str(home)
    return status_line.recall(list(SHORT))


def _desk(home: Path) -> None:
    ok("quota", "set", "2026-11", "60000")
    ok("deal", "add", "Acme renewal", "--value", "12000", "--stage", "Negotiation")


def test_the_line_is_remembered_and_recalled_until_the_desk_changes(home: Path) -> None:
    _desk(home)
    first = ok(*SHORT)
    assert first.startswith("€0/€60k 0%")
    assert (home / status_line.FILE_NAME).exists()
    assert _remembered(home) == first
    assert ok(*SHORT) == first  # from the file: the same, to the byte
    ok("deal", "won", "1")
    assert _remembered(home) is None  # the win made the line stale
    won = ok(*SHORT)
    assert won.startswith("€12k/€60k 20%")
    assert _remembered(home) == won


def test_a_write_by_another_program_holding_the_desk_open_is_seen(home: Path) -> None:
    """Another program's commit, still in the WAL (its connection open, nothing checkpointed):
    the desk file is unchanged, the wal-index is not."""
    _desk(home)
    desk = home / "desk.sqlite"
    with closing(sqlite3.connect(desk)) as other:
        other.execute("PRAGMA wal_autocheckpoint = 0")
        other.execute("SELECT count(*) FROM deal").fetchone()
        ok(*SHORT)
        size_before = desk.stat().st_size
        assert _remembered(home) is not None
        with other:
            other.execute("UPDATE quota SET amount_cents = 3000000")
        assert desk.stat().st_size == size_before
        assert _remembered(home) is None
        assert ok(*SHORT).startswith("€0/€30k 0%")
        assert _remembered(home) is not None
    # Closing checkpointed the write into the file: still the new figures, remembered anew.
    assert ok(*SHORT).startswith("€0/€30k 0%")


def test_a_new_day_new_settings_or_another_home_read_again(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _desk(home)
    line = ok(*SHORT)
    assert line.endswith(" 10d\n")  # 20 November: ten days left after today
    monkeypatch.setenv("REPDESK_NOW", "2026-11-21T09:30:00+00:00")
    assert _remembered(home) is None
    assert ok(*SHORT).endswith(" 9d\n")
    (home / "settings.toml").write_text('currency = "USD"\n', encoding="utf-8")
    assert _remembered(home) is None
    assert ok(*SHORT).startswith("$0/$60k")
    monkeypatch.setenv("REPDESK_HOME", str(tmp_path / "elsewhere"))
    assert status_line.recall(list(SHORT)) is None
    assert ok(*SHORT).startswith("2026-11 €0 won, no quota")


def test_only_the_bare_command_on_a_desk_file_is_remembered(home: Path) -> None:
    _desk(home)
    ok("quota", "--short", "2026-11")
    ok("quota")
    ok("quota", "--json")
    assert not (home / status_line.FILE_NAME).exists()
    assert status_line.recall(["quota"]) is None
    assert status_line.recall(["--home", str(home), *SHORT]) is None


def test_a_torn_or_foreign_file_is_ignored(home: Path) -> None:
    _desk(home)
    line = ok(*SHORT)
    remembered = home / status_line.FILE_NAME
    whole = remembered.read_bytes()
    for damaged in (b"", whole[:40], whole[:-3] + b"\xff\xfe\xfd", b"x" + whole[1:]):
        remembered.write_bytes(damaged)
        if damaged.endswith(b"\xfd"):
            assert _remembered(home) is None  # not UTF-8: read again
        assert ok(*SHORT) == line
    # A FIFO in its place is never opened for reading (that would wait for ever).
    remembered.unlink()
    os.mkfifo(remembered)
    assert _remembered(home) is None
    assert ok(*SHORT) == line
    assert _remembered(home) == line  # replaced by the line, as a file
    # A home where the line cannot be kept (its place taken by a folder): the line all the
    # same, every time, and nothing left behind.
    remembered.unlink()
    remembered.mkdir()
    assert ok(*SHORT) == line
    assert ok(*SHORT) == line
    assert sorted(p.name for p in home.iterdir() if "quota-short" in p.name) == [".quota-short"]


def test_the_default_folders_are_platformdirs_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On Linux the shortcut finds the default home without importing platformdirs; it must
    find the same folders, whatever the XDG variables say."""
    import platformdirs

    monkeypatch.delenv("REPDESK_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "rep"))
    cases: list[dict[str, str | None]] = [
        {"XDG_DATA_HOME": None, "XDG_CONFIG_HOME": None},
        {"XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "  "},
        {"XDG_DATA_HOME": str(tmp_path / "d"), "XDG_CONFIG_HOME": str(tmp_path / "c") + " "},
    ]
    for case in cases:
        for name, value in case.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        expected = (
            platformdirs.user_data_dir("repdesk", appauthor=False),
            platformdirs.user_config_dir("repdesk", appauthor=False),
        )
        assert status_line.dirs_for(None) == expected, case


def test_the_remembered_line_imports_nothing_else(home: Path) -> None:
    """The point of it: a status bar's run starts Python and reads two small files."""
    _desk(home)
    ok(*SHORT)
    probe = (
        "import sys\n"
        "from repdesk.cli import main\n"
        "code = main(['quota', '--short'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('repdesk'))\n"
        "print(loaded, file=sys.stderr)\n"
        "raise SystemExit(code)\n"
    )
    started = time.perf_counter()
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert shown.stdout.startswith("€0/€60k 0%"), shown.stderr
    assert shown.stderr.strip() == str(
        ["repdesk", "repdesk.cli", "repdesk.storage", "repdesk.storage.status_line"]
    )
    assert time.perf_counter() - started < 30  # a sanity bound, not a benchmark


def test_the_first_run_after_a_change_reads_the_desk_without_the_parser(home: Path) -> None:
    """A status bar's run after a write reads the desk: it skips argparse and the command
    registry (a tenth of that run), with the very arguments the parser would give it, and
    `dataclasses` (it imports `inspect`: another tenth; core/values.py)."""
    from repdesk.cli import entry
    from repdesk.cli.registry import build_parser, command_word

    parsed = build_parser(command_word(list(SHORT))).parse_args(list(SHORT))
    assert vars(entry.quota_short_args()) == vars(parsed)
    _desk(home)
    probe = (
        "import sys\n"
        "from repdesk.cli import main\n"
        "code = main(['quota', '--short'])\n"
        "print(sorted(m for m in sys.modules if m in ('argparse', 'repdesk.cli.registry',"
        " 'repdesk.reports.figures', 'sqlalchemy', 'dataclasses', 'inspect')),"
        " file=sys.stderr)\n"
        "raise SystemExit(code)\n"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("€0/€60k 0%")
    assert shown.stderr.strip() == "[]"
    assert _remembered(home) == shown.stdout  # and it left its line for the next run


def test_today_reads_the_desk_without_the_parser(home: Path) -> None:
    """`repdesk today` alone (the rep's look at the day) skips argparse and the registry too,
    with the very arguments the parser gives it; any option goes through the parser. Neither
    imports `dataclasses` (core/values.py)."""
    from repdesk.cli import entry
    from repdesk.cli.registry import build_parser, command_word

    parsed = build_parser(command_word(["today"])).parse_args(["today"])
    assert vars(entry.today_args()) == vars(parsed)
    _desk(home)
    for words, parser_used in (
        (["today"], "[]"),
        (["today", "--all"], "['argparse', 'dataclasses']"),
    ):
        probe = (
            "import sys\n"
            "from repdesk.cli import main\n"
            f"code = main({words!r})\n"
            "print(sorted(m for m in sys.modules if m in ('argparse', 'sqlalchemy',"
            " 'dataclasses')),"
            " file=sys.stderr)\n"
            "raise SystemExit(code)\n"
        )
        shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith("Overdue (")
        assert shown.stderr.strip() == parser_used


def test_the_line_is_never_written_through_a_link(home: Path, tmp_path: Path) -> None:
    _desk(home)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    remembered = home / status_line.FILE_NAME
    remembered.symlink_to(outside)
    left = home / f"{status_line.FILE_NAME}.{os.getpid()}.tmp"  # this process's own temp name
    left.symlink_to(outside)
    line = ok(*SHORT)
    ok(*SHORT)
    assert outside.read_text() == "keep me\n"
    assert not remembered.is_symlink() and _remembered(home) == line
    assert oct(remembered.stat().st_mode & 0o777) == "0o600"


def test_a_write_to_a_linked_desk_held_open_is_seen(home: Path, tmp_path: Path) -> None:
    """desk.sqlite a link to a desk kept elsewhere (a synced folder): SQLite keeps the -wal and
    the -shm beside the file the link points to, not beside the link. A commit by a program
    holding the desk open (the app) must make the next line read the desk again."""
    elsewhere = tmp_path / "synced"
    elsewhere.mkdir()
    _desk(home)
    (home / "desk.sqlite").rename(elsewhere / "desk.sqlite")
    (home / "desk.sqlite").symlink_to(elsewhere / "desk.sqlite")
    with closing(sqlite3.connect(home / "desk.sqlite")) as other:
        other.execute("PRAGMA wal_autocheckpoint = 0")
        other.execute("SELECT count(*) FROM deal").fetchone()
        assert ok(*SHORT).startswith("€0/€60k 0%")
        assert _remembered(home) is not None
        with other:
            other.execute("UPDATE quota SET amount_cents = 3000000")
        assert (elsewhere / "desk.sqlite-wal").exists()  # where the commit went
        assert ok(*SHORT).startswith("€0/€30k 0%")


def test_a_write_whose_mtime_was_put_back_is_seen(home: Path) -> None:
    """A write in WAL mode, checkpointed when its program closed, leaves the file's size and
    header as they were; a tool that keeps mtimes (touch -d, cp -p, rsync -t, an unpacked
    archive) can put the old mtime back. The change time cannot be put back."""
    _desk(home)
    desk = home / "desk.sqlite"
    assert ok(*SHORT).startswith("€0/€60k 0%")
    before = desk.stat()
    with closing(sqlite3.connect(desk)) as other, other:
        other.execute("UPDATE quota SET amount_cents = 3000000")
    assert not Path(f"{desk}-wal").exists()  # checkpointed into the file
    os.utime(desk, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert desk.stat().st_size == before.st_size
    assert ok(*SHORT).startswith("€0/€30k 0%")


def test_no_secret_of_the_environment_is_written_down(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Pipedrive token lives in REPDESK_PIPEDRIVE_TOKEN or the keyring, never in a file
    (settings.toml refuses it). The remembered state must not copy it to disk either."""
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", "pd-token-0123456789abcdef")
    monkeypatch.setenv("REPDESK_SERVE_TOKEN", "serve-token-0123456789abcdef")
    _desk(home)
    line = ok(*SHORT)
    assert _remembered(home) == line  # still remembered
    kept = (home / status_line.FILE_NAME).read_bytes()
    assert b"pd-token-0123456789abcdef" not in kept
    assert b"serve-token-0123456789abcdef" not in kept


def _run_short(
    *, stdout: Any = subprocess.PIPE, closed: bool = False
) -> subprocess.CompletedProcess[str]:
    """`repdesk quota --short` as a status bar runs it: its own process, stdout as given (or
    closed), stdin empty; a run that hangs is ended after a while."""
    command = [sys.executable, "-c", "import sys; from repdesk.cli import main; sys.exit(main())",
               *SHORT]  # fmt: skip
    if closed:
        command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
    return subprocess.run(
        command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, text=True,
        timeout=20,
    )  # fmt: skip


@pytest.mark.parametrize("how", ["full", "closed"])
def test_a_remembered_line_that_cannot_be_printed_says_so_in_one_line(home: Path, how: str) -> None:
    """As the read path does (entry.main's last line of defence): no traceback."""
    _desk(home)
    ok(*SHORT)
    assert _remembered(home) is not None
    if how == "full":
        with open("/dev/full", "w") as full:
            shown = _run_short(stdout=full)
    else:
        shown = _run_short(closed=True)
    assert shown.returncode != 0
    assert "Traceback" not in shown.stderr, shown.stderr
    assert shown.stderr.startswith("repdesk: "), shown.stderr


@pytest.mark.parametrize("name", [status_line.FILE_NAME, "desk.sqlite-shm"])
def test_a_fifo_beside_the_desk_does_not_hang_the_status_bar(home: Path, name: str) -> None:
    """A named pipe where the remembered line or the wal-index should be: opening it to read
    waits for a writer that never comes. The status bar must get an answer."""
    _desk(home)
    os.mkfifo(home / name)
    try:
        shown = _run_short()
    except subprocess.TimeoutExpired:
        pytest.fail(f"repdesk quota --short hung on a FIFO at {name}")
    assert "Traceback" not in shown.stderr, shown.stderr


# The code the line is made by beyond the reports and formatting: the command and its period
# (cli/figures.py, cli/shell.py), the currency symbols (core/currencies.py), the month's days
# (core/dates.py), the clock, printable() and the rates and currency (settings.py).
LINE_MAKERS = ("cli/figures.py", "cli/shell.py", "core/currencies.py", "core/dates.py",
               "core/clock.py", "core/text.py", "settings.py")  # fmt: skip


@pytest.mark.parametrize("name", LINE_MAKERS)
def test_a_change_to_any_code_that_makes_the_line_reads_again(home: Path, name: str) -> None:
    """On an editable install (`pip install -e`, as in development), checking out a branch
    rewrites only the files that differ: a new symbol or a fixed month length in one of these
    must not leave the old line in the status bar."""
    import repdesk

    source = Path(repdesk.__file__).parent / name
    _desk(home)
    ok(*SHORT)
    assert _remembered(home) is not None
    was = source.stat()
    try:
        os.utime(source, ns=(was.st_atime_ns, was.st_mtime_ns + 1_000_000_000))
        assert _remembered(home) is None, f"{name} changed, the line did not"
    finally:
        os.utime(source, ns=(was.st_atime_ns, was.st_mtime_ns))
