"""The crash log is the rep's own (issue 18 item 4, issue 14): in the rep's log folder, 0600,
never through a planted link, bounded, and without the desk's data."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.shell import run

from repdesk.cli import figures
from repdesk.cli.shell import Desk
from repdesk.storage import problems

SECRET = "Acme Secret Merger GmbH"


class _Picky(sa.types.TypeDecorator[str]):
    """A column type that refuses a value the way SQLModel refuses a naive datetime."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        raise ValueError(f"{value!r} is not allowed")


def _statement_error() -> sa.exc.StatementError:
    """A real SQLAlchemy error whose message holds the statement's parameters."""
    engine = sa.create_engine("sqlite://")
    table = sa.Table("deal", sa.MetaData(), sa.Column("title", _Picky()))
    table.create(engine)
    try:
        with engine.begin() as conn:
            conn.execute(table.insert(), {"title": SECRET})
    except sa.exc.StatementError as exc:
        assert SECRET in str(exc)  # what the old log copied in
        return exc
    finally:
        engine.dispose()
    raise AssertionError("the insert went through")


def _crash(home: Path) -> str:
    message, code = problems.describe(_statement_error(), str(home / "desk.sqlite"))
    assert code == 1
    return message


def test_the_log_is_in_the_home_and_the_line_names_it(home: Path) -> None:
    message = _crash(home)
    log = home / "logs" / "crash.log"
    assert f"details in {log}" in message and "\n" not in message
    assert "repdesk-crash.log" not in message  # the old shared file in /tmp


def test_without_a_home_the_log_is_in_the_users_log_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPDESK_HOME")
    message = problems.describe(KeyError(SECRET), "the desk")[0]
    log = tmp_path / "xdg-state" / "repdesk" / "log" / "crash.log"  # platformdirs on Linux
    assert f"details in {log}" in message
    assert log.exists()


def test_the_log_and_its_folder_are_for_the_reps_eyes_only(home: Path) -> None:
    _crash(home)
    log = home / "logs" / "crash.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_an_old_world_readable_log_is_made_private(home: Path) -> None:
    log = home / "logs" / "crash.log"
    log.parent.mkdir(parents=True)
    log.write_text("=== old\n")
    log.chmod(0o644)
    _crash(home)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_link_planted_at_the_log_is_not_followed(home: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("the rep's precious file\n")
    victim.chmod(0o644)
    log = home / "logs" / "crash.log"
    log.parent.mkdir(parents=True)
    log.symlink_to(victim)
    message = _crash(home)
    assert victim.read_text() == "the rep's precious file\n"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert log.is_symlink()
    assert f"no details kept: {log} cannot be written" in message
    assert "Traceback" not in message


def test_a_fifo_at_the_log_neither_blocks_nor_takes_the_log(home: Path) -> None:
    log = home / "logs" / "crash.log"
    log.parent.mkdir(parents=True)
    os.mkfifo(log)
    assert "no details kept" in _crash(home)


def test_the_log_holds_no_parameter_values_nor_messages_that_quote_data(home: Path) -> None:
    _crash(home)
    problems.describe(KeyError(SECRET), str(home / "desk.sqlite"))
    text = (home / "logs" / "crash.log").read_text()
    assert SECRET not in text and "Secret" not in text
    assert "parameters" not in text
    # What a bug report needs is still there: the error's type, where, and the SQL.
    assert "sqlalchemy.exc.StatementError" in text and "builtins.ValueError" in text
    assert "builtins.KeyError" in text
    assert "SQL: INSERT INTO deal (title) VALUES (?)" in text
    assert "process_bind_param" in text  # the frame that raised


def test_the_log_stays_bounded_and_keeps_the_newest(home: Path) -> None:
    log = home / "logs" / "crash.log"
    for number in range(400):
        problems.describe(RuntimeError(f"crash {number}"), "the desk", crash_log=log)
        assert log.stat().st_size <= problems.CRASH_LOG_LIMIT
    problems.describe(AttributeError("newest_crash_marker"), "the desk", crash_log=log)
    text = log.read_text()
    assert text.startswith("=== ")  # cut at an entry's start, never mid-entry
    assert text.rstrip().endswith("AttributeError: newest_crash_marker")
    assert log.stat().st_size <= problems.CRASH_LOG_LIMIT


def test_the_shell_names_the_log_of_its_home(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(desk: Desk, args: object) -> int:
        raise _statement_error()

    monkeypatch.setattr(figures, "cmd_today", broken)
    other = tmp_path / "other"
    code, _, err = run("--home", other, "today")
    assert code == 1
    log = other.resolve() / "logs" / "crash.log"
    assert err.startswith("repdesk: unexpected error: ValueError:")
    assert err.endswith(f"(details in {log})\n") and err.count("\n") == 1
    assert SECRET not in log.read_text()


def test_a_failed_workers_own_error_is_in_the_log(home: Path) -> None:
    from textual.worker import WorkerFailed

    try:
        {}[SECRET]
    except KeyError as exc:
        failed = WorkerFailed(exc)
    problems.describe(failed, "the desk")
    text = (home / "logs" / "crash.log").read_text()
    assert "textual.worker.WorkerFailed" in text and "builtins.KeyError" in text
    assert "test_a_failed_workers_own_error_is_in_the_log" in text  # where it was raised
    assert SECRET not in text
