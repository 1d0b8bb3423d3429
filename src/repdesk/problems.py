"""What went wrong, in words a rep can act on: shared by the shell and the app, so neither
ever shows a traceback. Standard library only."""

from __future__ import annotations

import os
import sqlite3
import traceback
from pathlib import Path


def unwrap(exc: BaseException) -> BaseException:
    """The error that explains: SQLAlchemy wraps the driver's, Textual wraps a worker's."""
    for attribute in ("orig", "error"):
        inner = getattr(exc, attribute, None)
        if isinstance(inner, BaseException):
            return unwrap(inner)
    return exc


def explain_sqlite(exc: sqlite3.Error) -> str:
    text = str(exc)
    # The code tells what the text does not: in WAL mode a full disk often shows as a failed
    # resize of the -shm file ("disk I/O error"), a read-only folder as "unable to open".
    code = getattr(exc, "sqlite_errorname", "") or ""
    if (
        "readonly" in text
        or "read-only" in text
        or code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN"))
    ):
        return f"the desk cannot be written ({text}): check the permissions of its folder"
    if "full" in text or code in ("SQLITE_FULL", "SQLITE_IOERR_SHMSIZE"):
        return "the disk is full: nothing was written; free some space and try again"
    if "locked" in text:
        return "the desk stayed busy for 10 seconds (another repdesk is writing): try again"
    return f"the desk could not be used: {text}"


def write_crash_log(exc: BaseException) -> str:
    """Keep the details for a bug report; the rep gets one line."""
    try:
        path = Path(os.environ.get("TMPDIR", "/tmp")) / "repdesk-crash.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return str(path)
    except OSError:
        return "no log: the temp folder is not writable"


def one_line(text: object) -> str:
    """A message's lines joined: a driver's error (PostgreSQL's DETAIL and HINT lines,
    SQLite's "*** in database main ***" header) must not break the one line a rep reads."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def describe(exc: BaseException, desk_path: str) -> tuple[str, int]:
    """One line for the rep and the exit code, for an error nothing else handled."""
    from repdesk.desk_file import DeskError  # desk_file uses this module: imported late

    cause = unwrap(exc)
    if isinstance(cause, DeskError):  # already one line that names the desk and the fix
        return one_line(cause), 1
    if isinstance(cause, sqlite3.OperationalError):
        return f"{desk_path}: {explain_sqlite(cause)}", 1
    if isinstance(cause, sqlite3.DatabaseError):
        return one_line(f"{desk_path} is damaged ({cause}): restore a backup"), 1
    if type(cause).__module__.startswith("psycopg"):
        # The server's own words, first line only (the rest is DETAIL/HINT/CONTEXT).
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        return f"the desk's PostgreSQL server refused: {first}", 1
    log = write_crash_log(exc)
    return one_line(f"unexpected error: {cause.__class__.__name__}: {cause} (details in {log})"), 1
