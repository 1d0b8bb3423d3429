"""What went wrong, in words a rep can act on: shared by the shell and the app, so neither
ever shows a traceback. Standard library only."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path


def unwrap(exc: BaseException) -> BaseException:
    """The error that explains: SQLAlchemy wraps the driver's, Textual wraps a worker's."""
    for attribute in ("orig", "error"):
        inner = getattr(exc, attribute, None)
        if isinstance(inner, BaseException):
            return unwrap(inner)
    return exc


def explain_sqlite(exc: sqlite3.Error, desk: str | Path | None = None) -> str:
    """`desk`: the desk file, when the caller knows it (a read-only file is named as such)."""
    text = str(exc)
    # The code tells what the text does not: in WAL mode a full disk often shows as a failed
    # resize of the -shm file ("disk I/O error"), a read-only folder as "unable to open".
    code = getattr(exc, "sqlite_errorname", "") or ""
    if (
        "readonly" in text
        or "read-only" in text
        or code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN"))
    ):
        if desk is not None and os.path.isfile(desk) and not os.access(desk, os.W_OK):
            # The file, not its folder: `chmod 444 desk.sqlite` blamed the folder (a hostile
            # test).
            return (
                f"the desk cannot be written ({text}): the file is read-only; check its permissions"
            )
        return f"the desk cannot be written ({text}): check the permissions of its folder"
    if "full" in text or code in ("SQLITE_FULL", "SQLITE_IOERR_SHMSIZE"):
        return "the disk is full: nothing was written; free some space and try again"
    if "locked" in text:
        # An import holds the desk to its end, all rows or none (a 20,000-row one, 37 s on a
        # busy machine: a hostile test), so the line says what may be writing.
        return (
            "the desk stayed busy for 10 seconds (another repdesk is writing: an import or a "
            "restore holds it to its end): nothing was changed; try again"
        )
    return f"the desk could not be used: {text}"


# The log keeps the newest crashes and at most this much: a crash loop cannot fill a disk.
CRASH_LOG_LIMIT = 256 * 1024
# Messages of these name code (an attribute, a module), never the desk's data; every other
# message may quote a title, a company or a value (a KeyError, a server's "Key (title)=(Acme)").
_CODE_ONLY_MESSAGES = (AttributeError, NameError, ImportError, RecursionError, NotImplementedError)


def crash_report(exc: BaseException) -> str:
    """What a bug report needs and nothing of the desk's: each exception's type, where it was
    raised, and the SQL with its placeholders (SQLAlchemy's message ends in "[parameters: ...]",
    the values: left out with every other message)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        wrapped = getattr(current, "error", None)  # Textual's WorkerFailed keeps it here
        if isinstance(wrapped, BaseException) and current.__cause__ is None:
            current = wrapped
            continue
        cause = current.__cause__
        current = (
            cause if cause is not None or current.__suppress_context__ else current.__context__
        )
    import traceback  # only for a crash: 2 ms of every shell command's start

    parts: list[str] = []
    for error in reversed(chain):
        if parts:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(error.__traceback__))
        kind = type(error)
        line = f"{kind.__module__}.{kind.__qualname__}"
        if isinstance(error, _CODE_ONLY_MESSAGES):
            line += f": {error}"
        elif isinstance(error, sqlite3.Error):
            line += f" ({getattr(error, 'sqlite_errorname', '') or 'no code'})"
        else:
            line += " (message left out: it may quote the desk's data)"
        parts.append(line + "\n")
        statement = getattr(error, "statement", None)  # SQLAlchemy's StatementError
        if isinstance(statement, str):
            parts.append(f"SQL: {' '.join(statement.split())}\n")
    text = "".join(parts)
    if len(text) > CRASH_LOG_LIMIT // 4:  # a deep recursion: the start and the end tell
        keep = CRASH_LOG_LIMIT // 8
        text = (
            f"{text[:keep]}\n[... {len(text) - 2 * keep} characters left out ...]\n{text[-keep:]}"
        )
    return text


def write_crash_log(exc: BaseException, path: Path) -> str:
    """Keep the details for a bug report (appended to the rep's own log, see crash_report).
    Returns the words for the rep's one line: where the details are, or why there are none."""
    import datetime

    from repdesk import __version__

    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    entry = f"=== {stamp} repdesk {__version__}\n{crash_report(exc)}\n".encode()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Never through a link planted at the log's name, created for the rep's eyes only, and
        # never a FIFO or a device that would block or swallow it.
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(path, flags, 0o600)
    except OSError as exc_open:
        return f"no details kept: {path} cannot be written ({exc_open.strerror or exc_open})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return f"no details kept: {path} is not a regular file"
        os.fchmod(fd, 0o600)  # a log made before this rule was world-readable
        if info.st_size + len(entry) > CRASH_LOG_LIMIT:
            # Keep the newest entries that fit with this one, from an entry's start.
            os.lseek(fd, 0, os.SEEK_SET)
            old = os.read(fd, info.st_size)
            tail = old[-max(CRASH_LOG_LIMIT // 2 - len(entry), 0) :]
            start = tail.find(b"=== ")
            kept = tail[start:] if start >= 0 and tail else b""
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, kept)
        else:
            os.lseek(fd, 0, os.SEEK_END)
        os.write(fd, entry)
    except OSError as exc_write:
        return f"no details kept: {path} cannot be written ({exc_write.strerror or exc_write})"
    finally:
        os.close(fd)
    return f"details in {path}"


def one_line(text: object) -> str:
    """A message's lines joined: a driver's error (PostgreSQL's DETAIL and HINT lines,
    SQLite's "*** in database main ***" header) must not break the one line a rep reads."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def describe(
    exc: BaseException, desk_path: str, *, crash_log: Path | None = None
) -> tuple[str, int]:
    """One line for the rep and the exit code, for an error nothing else handled.
    `crash_log`: where the details go (default: the home's, see paths.Home.crash_log)."""
    from repdesk.core.errors import DeskError

    cause = unwrap(exc)
    if isinstance(cause, DeskError):  # already one line that names the desk and the fix
        return one_line(cause), 1
    if isinstance(cause, sqlite3.OperationalError):
        return f"{desk_path}: {explain_sqlite(cause, desk_path)}", 1
    if isinstance(cause, sqlite3.IntegrityError):
        # A UNIQUE or FOREIGN KEY rule refused a write, which went back whole: a bug, no
        # damage. "Restore a backup" would have thrown away the rep's work since (a sync that
        # met a deal twice in Pipedrive's pages said so: a hostile test).
        log = write_crash_log(exc, crash_log or _home_crash_log())
        return one_line(
            f"the desk refused a change ({cause}): nothing of it was written and {desk_path} "
            f"is as it was; this is a bug ({log})"
        ), 1
    if isinstance(cause, sqlite3.DatabaseError):
        return one_line(f"{desk_path} is damaged ({cause}): restore a backup"), 1
    if type(cause).__module__.startswith("psycopg"):
        # The server's own words, first line only (the rest is DETAIL/HINT/CONTEXT).
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        return f"the desk's PostgreSQL server refused: {first}", 1
    log = write_crash_log(exc, crash_log or _home_crash_log())
    first_line = next(iter(str(cause).splitlines()), "")  # a server's error adds DETAIL lines
    return f"unexpected error: {cause.__class__.__name__}: {first_line} ({log})", 1


def _home_crash_log() -> Path:
    from repdesk.storage.paths import resolve_home

    return resolve_home().crash_log
