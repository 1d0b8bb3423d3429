"""The desk file itself, with the standard library only: identity, creation, upgrade, backup.

The shell's fast read path and the SQLAlchemy engine both start here, so a foreign or damaged
file is refused before anything (SQLAlchemy included) opens it for writing.
"""

from __future__ import annotations

import _thread  # threading's Lock itself: threading is 1 ms of every command's start
import errno
import os
import sqlite3
import struct
from collections import OrderedDict
from contextlib import closing, suppress
from datetime import UTC, datetime
from pathlib import Path

from repdesk.core import clock
from repdesk.core.errors import DeskError
from repdesk.storage import migrations, problems

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000


# One read-only descriptor per file (device, inode) whose header this process read, kept
# open: see _describe_header. The oldest go past a bound (a long test run reads hundreds).
_HANDLES: OrderedDict[tuple[int, int], int] = OrderedDict()
_HANDLE_LIMIT = 32
_HANDLES_LOCK = _thread.allocate_lock()


def _describe_header(path: Path) -> tuple[int, int, bool] | None:
    """(application_id, user_version, in WAL mode) from the file header; None for a new file.

    Reads bytes only: a file that is not ours is never opened by SQLite, so it stays
    byte-for-byte as it was (no -wal or -shm appears beside it).

    Through a descriptor that stays open. Closing any descriptor of a file drops every POSIX
    lock the process holds on it, SQLite's included: a header read (open, read, close) while
    the app's connections were open let another process, closing last, delete the -wal and
    -shm under them (disk I/O errors, and two write-ahead logs for one desk).
    """
    try:
        header = _read_first_bytes(path)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise DeskError(f"{path} is a directory, not a repdesk desk file") from None
    except PermissionError:
        raise DeskError(f"{path} cannot be read: permission denied") from None
    if not header:
        return None
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise DeskError(f"{path} is not a repdesk desk: it is not a SQLite database")
    user_version, application_id = (
        struct.unpack(">i", header[60:64])[0],
        struct.unpack(">i", header[68:72])[0],
    )
    return application_id & 0xFFFFFFFF, user_version, header[18] == 2


def _read_first_bytes(path: Path) -> bytes:
    status = path.stat()
    key = (status.st_dev, status.st_ino)
    with _HANDLES_LOCK:
        handle = _HANDLES.get(key)
        if handle is None:
            handle = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            opened = os.fstat(handle)
            # Swapped between the stat and the open: keyed by what was opened. A second
            # descriptor of a file already held is kept too, never closed (see above).
            key = (opened.st_dev, opened.st_ino)
            _HANDLES.setdefault(key, handle)
            while len(_HANDLES) > _HANDLE_LIMIT:
                os.close(_HANDLES.popitem(last=False)[1])
        else:
            _HANDLES.move_to_end(key)
        if hasattr(os, "pread"):
            return os.pread(handle, 100, 0)
        os.lseek(handle, 0, os.SEEK_SET)  # Windows: no pread (and no POSIX locks to keep)
        return os.read(handle, 100)


def connect(path: Path, *, readonly: bool = False, create: bool = True) -> sqlite3.Connection:
    """A raw sqlite3 connection with the desk's pragmas (the engine sets the same ones).
    `create=False`: a missing file is an error, not a new empty one."""
    _describe_header(path)  # the process's first look at the file comes before any connection
    timeout = BUSY_TIMEOUT_MS / 1000
    if readonly or not create:
        mode = "ro" if readonly else "rw"
        uri = f"{path.resolve().as_uri()}?mode={mode}"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
    else:
        conn = sqlite3.connect(path, isolation_level=None, timeout=timeout)
    apply_pragmas(conn)
    return conn


def apply_pragmas(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        # FULL: a call the rep saw logged survives a power cut, not just a crash.
        conn.execute("PRAGMA synchronous = FULL")
    except UnicodeDecodeError:
        # The first statement reads the schema. Damaged schema text makes SQLite's message
        # ("malformed database schema (...)") quote bytes that are not UTF-8, and Python fails
        # decoding the message instead of raising it: damage all the same.
        raise sqlite3.DatabaseError("malformed database schema (its text is unreadable)") from None


def prepare(path: Path, *, verify: bool = False, full: bool = False) -> int:
    """Make `path` a desk at the latest schema: create it, or check and upgrade it.

    `verify` checks for damage first: anything that may write asks for it, so damage is
    reported before a write lands on top of it. `PRAGMA quick_check` (~50-100 ms on a 17 MB
    desk) finds damaged pages but does not compare indexes with their tables;
    `PRAGMA integrity_check` does, at ~6 times the cost. So the full check runs on the first
    verify of each day, and whenever the file was replaced (another inode) since the last
    clean full check, recorded in `.desk.sqlite.checked` beside the desk; `full` asks for it
    regardless (before a backup, a restore or a migrate-to). The size and mtime cannot tell:
    every checkpoint of our own writes changes them.
    Returns the schema version. Raises DeskError for anything that is not a usable desk.
    """
    header = _describe_header(path)
    if header is None:
        _refuse_a_lost_desk(path)
        return _create(path)
    application_id, header_version, wal = header
    if application_id != migrations.APPLICATION_ID:
        raise DeskError(
            f"{path} is not a repdesk desk: it is a SQLite database of another program "
            "(move it away or point --home elsewhere)"
        )
    if header_version > migrations.LATEST:
        raise _newer(path, header_version)
    companions = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    ours = [companion for companion in companions if not companion.exists()]
    try:
        with closing(connect(path)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > migrations.LATEST:
                raise _newer(path, version)
            if verify:
                remove_leftovers(path)  # the start of a session that may write
                thorough = full or not _checked_today(path)
                check = "integrity_check" if thorough else "quick_check"
                problem = conn.execute(f"PRAGMA {check}(1)").fetchone()[0]
                if problem != "ok":
                    raise sqlite3.DatabaseError(
                        problems.one_line(problem.removeprefix("*** in database main ***\n"))
                    )
                if thorough:
                    _mark_checked(path)
            if not wal:  # e.g. a desk restored from a plain copy
                conn.execute("PRAGMA journal_mode = WAL")
            if version < migrations.LATEST:
                _upgrade(path, conn, version)
            return migrations.LATEST
    except sqlite3.OperationalError as exc:
        # Not damage: a read-only folder, a full disk, a lock held too long.
        raise DeskError(f"{path}: {problems.explain_sqlite(exc, path)}") from None
    except sqlite3.DatabaseError as exc:
        # SQLite cannot checkpoint a damaged file on close, so the -wal and -shm it made for us
        # stay. Ours and empty: take them away, so the file is left exactly as it was found.
        wal_file = companions[0]
        if len(ours) == 2 and (not wal_file.exists() or wal_file.stat().st_size == 0):
            for companion in ours:
                companion.unlink(missing_ok=True)
        raise DeskError(
            f"{path} is damaged ({exc}): restore a backup with `repdesk restore`"
        ) from None


def _refuse_a_lost_desk(path: Path) -> None:
    """A missing or empty desk file beside backups of a desk was a desk: a full disk, a copy
    gone wrong or a slip in a file manager took it. Made a new desk, it looked like a desk with
    no deals, and a week of daily backups of that empty desk pushed the last good ones out
    (found by a hostile test). A missing file with no backups beside it is a first start; an
    empty one, a creation cut short: both made (again). The backups are looked for where
    repdesk writes them (`backups/`, `backups/auto/`, either a link; the copies an upgrade
    keeps beside the desk), as copies of a desk; a folder that cannot be read may hold
    them."""
    try:
        if path.stat().st_size != 0:
            return
        missing = False
    except FileNotFoundError:
        missing = True
    except OSError:
        return
    backups = path.parent / "backups"
    found = None
    for folder, pattern in _backup_places(path):
        try:
            # Copies of a desk, not anything named like one: another program's database or a
            # damaged file alone in backups/ refused the desk for good (a hostile test).
            if any(_a_desk_copy(copy) for copy in folder.glob(pattern)):
                found = folder
                break
        except OSError:  # unreadable: it may hold them
            found = folder
            break
    if found is None:
        return
    if missing:
        away = f"the {path.name}.pre-v*.bak files" if found == path.parent else str(backups)
        raise DeskError(
            f"there is no desk at {path}, but {found} holds backups of one: `repdesk restore` "
            f"lists them and `repdesk restore FILE` brings one back; or move {away} away to "
            "start a new desk"
        )
    raise DeskError(
        f"{path} is empty (0 bytes), and {found} holds backups of a desk: `repdesk restore` "
        "lists them and `repdesk restore FILE` brings one back; or move the empty file away to "
        "start a new desk"
    )


def _backup_places(path: Path) -> list[tuple[Path, str]]:
    """Where repdesk writes copies of the desk at `path`, as (folder, pattern)."""
    backups = path.parent / "backups"
    return [
        (path.parent, f"{path.name}.pre-v*.bak"),
        (backups, "*.sqlite"),
        (backups / "auto", "*.sqlite"),
    ]


class Backup:
    """One copy of the desk: its file, when it was written, and how many deals it holds
    (None when it cannot be read as a desk). A plain class: `quota` and `today` import this
    module and nothing of `typing` (tests/cli/test_cli.py)."""

    __slots__ = ("deals", "file", "written")

    def __init__(self, file: Path, written: float, deals: int | None) -> None:
        self.file, self.written, self.deals = file, written, deals


def backups_of(path: Path) -> list[Backup]:
    """Every copy of the desk at `path` that repdesk made where it makes them (what a restore
    can bring back), newest first. Each is only read: opened immutable, so nothing appears
    beside it; one that is not a desk, or is damaged, is listed with no count."""
    seen: dict[Path, Backup] = {}
    for folder, pattern in _backup_places(path):
        try:
            files = [copy for copy in folder.glob(pattern) if _holds_something(copy)]
        except OSError:
            continue
        for copy in files:
            try:
                written = copy.stat().st_mtime
            except OSError:
                continue
            seen.setdefault(copy.absolute(), Backup(copy, written, _deals_in(copy)))
    return sorted(seen.values(), key=lambda backup: (-backup.written, str(backup.file)))


def _deals_in(copy: Path) -> int | None:
    if not _a_desk_copy(copy):
        return None
    # immutable: nothing is written or left beside the copy (no -wal, no -shm).
    uri = f"{copy.resolve().as_uri()}?immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            return int(conn.execute("SELECT count(*) FROM deal").fetchone()[0])
    except sqlite3.Error:
        return None


def _a_desk_copy(copy: Path) -> bool:
    """A file that holds a repdesk desk (by its header: SQLite's, with repdesk's identity)."""
    if not _holds_something(copy):
        return False
    try:
        header = _describe_header(copy)
    except (DeskError, OSError):
        return False
    return header is not None and header[0] == migrations.APPLICATION_ID


def _holds_something(copy: Path) -> bool:
    try:
        return copy.is_file() and copy.stat().st_size > 0
    except OSError:
        return False


def _check_mark(path: Path) -> Path:
    return path.with_name(f".{path.name}.checked")


def _identity_today(path: Path) -> str:
    status = path.stat()
    return f"{clock.today().isoformat()} {status.st_dev} {status.st_ino}"


def _checked_today(path: Path) -> bool:
    """Did a full integrity_check pass on this very file (inode) today?"""
    try:
        # Bytes, not read_text(encoding=...): opening a text file looks its codec up, which
        # may import it, and this runs in a thread beside the app's own imports at its start
        # (cli/app.py): one start ended "unexpected error: LookupError" that way.
        return _check_mark(path).read_bytes().strip() == _identity_today(path).encode()
    except OSError:
        return False


def _mark_checked(path: Path) -> None:
    with suppress(OSError):  # a read-only folder: the full check runs again next time
        _check_mark(path).write_bytes(_identity_today(path).encode() + b"\n")  # as above


def _newer(path: Path, version: int) -> DeskError:
    return DeskError(
        f"{path} was written by a newer repdesk (schema {version}; this version knows up to "
        f"{migrations.LATEST}): upgrade repdesk to open it"
    )


def _create(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path)
    except (OSError, sqlite3.Error) as exc:
        raise DeskError(f"cannot create the desk at {path}: {exc}") from None
    with closing(conn):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have made the desk while this one waited for the lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                # The identity goes in with the schema, so a half-created file is never "ours".
                migrations.apply(conn.execute, from_version=0, dialect="sqlite")
                conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {migrations.LATEST}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        # WAL only once the schema is in: switched first, a kill inside the schema's
        # transaction left a page of a database with no identity, refused from then on as
        # "another program's" (found by a hostile test). Killed before this line, the desk
        # is whole in the rollback journal's mode, which prepare() turns to WAL.
        conn.execute("PRAGMA journal_mode = WAL")
    return migrations.LATEST


def _upgrade(path: Path, conn: sqlite3.Connection, version: int) -> None:
    backup(conn, path.with_name(f"{path.name}.pre-v{migrations.LATEST}-{_stamp()}.bak"))
    # Table rebuilds must not cascade-delete children: keys off for the whole upgrade (this
    # pragma is a no-op inside a transaction, so it goes first), checked before commit.
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have finished the upgrade while we waited for the lock.
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        if current < migrations.LATEST:
            migrations.apply(conn.execute, from_version=current, dialect="sqlite")
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise DeskError(f"upgrading {path} would break {len(problems)} references")
            conn.execute(f"PRAGMA user_version = {migrations.LATEST}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def backup(conn: sqlite3.Connection, target: Path) -> Path:
    """A consistent copy through SQLite's backup API, safe while others write. Written under
    a temporary name first: an upgrade killed mid-copy left a 0-byte `.bak` that looked like
    a backup."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial_of(target)
    try:
        with closing(sqlite3.connect(partial, isolation_level=None)) as dest:
            conn.backup(dest)
        partial.replace(target)
    finally:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
    return target


def _partial_of(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial")


# What a killed backup, restore or upgrade leaves behind, in the desk's folder and its backup
# folders. Removed at the next start once old enough that no running repdesk can still be
# writing it (a copy of a 17 MB desk takes about a second; its file's mtime moves meanwhile).
_LEFTOVERS = (".*.partial", ".restore-*.sqlite", ".restore-*.sqlite-*")
_STALE_SECONDS = 15 * 60


def remove_leftovers(desk: Path) -> list[Path]:
    """Delete the stray files of killed backups, restores and upgrades beside `desk`; returns
    what was removed. Never fails: a folder that cannot be listed or written is left alone."""
    import time

    removed = []
    folders = (desk.parent, desk.parent / "backups", desk.parent / "backups" / "auto")
    now = time.time()
    for folder in folders:
        candidates = [p for pattern in _LEFTOVERS for p in folder.glob(pattern)]
        # A 0-byte copy named like a finished upgrade backup (from before these were written
        # under a temporary name) holds nothing to keep.
        candidates += [p for p in folder.glob(f"{desk.name}.pre-v*.bak") if _size(p) == 0]
        for path in candidates:
            try:
                status = path.lstat()
                if now - status.st_mtime < _STALE_SECONDS or not path.is_file():
                    continue  # maybe still being written (or the clock went back): next time
                path.unlink()
                removed.append(path)
            except OSError:
                continue
    return removed


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


# ---------------------------------------------------------------- backup and restore


def integrity_check(conn: sqlite3.Connection) -> str | None:
    """None if the database is whole, its indexes matching its tables; else SQLite's first
    complaint. (quick_check misses an index that disagrees with its table.)"""
    result = conn.execute("PRAGMA integrity_check(1)").fetchone()[0]
    if result == "ok":
        return None
    return problems.one_line(str(result).removeprefix("*** in database main ***\n"))


def take_backup(desk: Path, target: Path) -> Path:
    """A consistent copy of `desk` at `target`, safe while the app writes.

    The backup API copies every page in one step inside one read transaction, so the copy is
    one moment of the desk even if a write lands meanwhile (WAL readers never block writers).
    It goes to a temporary name first and is checked before it takes its real name, so a
    backup file is never half written. The copy is a plain single file (no -wal beside it).
    """
    if not desk.is_file():
        raise DeskError(f"there is no desk at {desk} to back up")
    partial = _partial_of(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        with closing(connect(desk)) as source:
            with closing(sqlite3.connect(partial, isolation_level=None)) as dest:
                source.backup(dest)
                dest.execute("PRAGMA journal_mode = DELETE")
                problem = integrity_check(dest)
        if problem is not None:
            raise DeskError(f"{desk} is damaged ({problem}): the backup was not kept")
        partial.replace(target)
    except (OSError, sqlite3.Error) as exc:
        raise DeskError(f"cannot back up {desk} to {target}: {_why_not(target, exc)}") from None
    finally:
        # On a read-only folder even this unlink fails: it must not replace the message above.
        with suppress(OSError):
            partial.unlink(missing_ok=True)
    return target


def _why_not(target: Path, exc: OSError | sqlite3.Error) -> str:
    """Why a file could not be written at `target`, naming its folder."""
    folder = target.parent
    number = getattr(exc, "errno", None)
    if number == errno.EROFS or "readonly" in str(exc) or "read-only" in str(exc):
        return f"the folder {folder} is read-only"
    if number in (errno.EACCES, errno.EPERM) or "unable to open" in str(exc):
        return f"the folder {folder} cannot be written (check its permissions)"
    if number in (errno.ENOSPC, errno.EDQUOT) or "full" in str(exc):
        return f"the disk holding {folder} is full"
    return str(getattr(exc, "strerror", None) or exc)


AUTO_KEEP = 7


def auto_backup(desk: Path, folder: Path, *, today: str, keep: int = AUTO_KEEP) -> Path | None:
    """Today's automatic backup (`desk-YYYY-MM-DD.sqlite` in `folder`), unless it exists;
    then `keep` are kept: the one just taken and the latest-named others. Costs one stat once
    today's is taken.

    The one just taken is never among those deleted, whatever its name: with the clock set
    back it is named before the older ones, and sorting by name alone deleted it at once.
    """
    target = folder / f"desk-{today}.sqlite"
    if target.exists() or not desk.exists():
        return None
    take_backup(desk, target)
    others = sorted(
        p for p in folder.glob("desk-????-??-??.sqlite") if p.is_file() and p.name != target.name
    )
    for old in others[: max(0, len(others) - (max(keep, 1) - 1))]:
        old.unlink(missing_ok=True)
    return target


class RestoreRefused(Exception):
    """The file offered to `repdesk restore` is not a desk we can put in place; nothing changed."""


def check_restorable(path: Path) -> int:
    """The schema version of a desk file fit to restore; RestoreRefused says why not.

    Only the header is read here (no SQLite): `restore_desk` checks the pages on a copy.
    """
    if not path.exists():
        raise RestoreRefused(f"{path}: no such file")
    try:
        header = _describe_header(path)
    except DeskError as exc:
        raise RestoreRefused(str(exc)) from None
    if header is None:
        raise RestoreRefused(f"{path} is empty: not a repdesk desk")
    application_id, version, _wal = header
    if application_id != migrations.APPLICATION_ID:
        raise RestoreRefused(
            f"{path} is not a repdesk desk: it is a SQLite database of another program"
        )
    if version > migrations.LATEST:
        raise RestoreRefused(
            f"{path} was written by a newer repdesk (schema {version}; this version knows up "
            f"to {migrations.LATEST}): upgrade repdesk to restore it"
        )
    if version < 1:
        raise RestoreRefused(f"{path} has no schema: it is not a finished repdesk desk")
    return version


def _copy_files(source: Path, target: Path) -> None:
    """Copy a database file and its committed-but-not-checkpointed WAL, if it has one."""
    import shutil

    shutil.copyfile(source, target)
    wal = Path(f"{source}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{target}-wal"))


def _remove_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def restore_desk(desk: Path, source: Path, keep_folder: Path) -> tuple[int, Path | None]:
    """Put the desk in `source` in place of `desk`; returns (its schema, where the replaced
    desk was kept). Checks run on a copy, so `source` is only read; the replaced desk is
    kept before anything changes; the desk's content is swapped in one SQLite transaction,
    so the open app sees the old desk or the new one, never a mix."""
    version = check_restorable(source)
    # Through a link to the desk, its target is restored (a damaged or emptied desk's file is
    # replaced: the link itself was, and its target stayed as it was; a hostile test).
    desk = Path(os.path.realpath(desk))
    if desk.exists() and source.resolve() == desk:
        raise RestoreRefused(f"{source} is the desk itself: restore from a backup file")
    stamp = datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
    staging = desk.with_name(f".restore-{stamp}.sqlite")
    try:
        desk.parent.mkdir(parents=True, exist_ok=True)
        _remove_files(staging)
        _copy_files(source, staging)
        with closing(sqlite3.connect(staging, isolation_level=None)) as candidate:
            try:
                problem = integrity_check(candidate)
                broken = candidate.execute("PRAGMA foreign_key_check").fetchone()
                identity = candidate.execute("PRAGMA application_id").fetchone()[0]
                candidate.execute("PRAGMA journal_mode = DELETE")
            except sqlite3.DatabaseError as exc:
                raise RestoreRefused(f"{source} is damaged ({exc})") from None
            if problem is not None:
                raise RestoreRefused(f"{source} is damaged ({problem})")
            if broken is not None:
                raise RestoreRefused(
                    f"{source} is damaged: its {broken[0]} rows point at missing rows"
                )
            if identity & 0xFFFFFFFF != migrations.APPLICATION_ID:
                raise RestoreRefused(f"{source} is not a repdesk desk")
        kept = _keep_current(desk, keep_folder, stamp) if desk.exists() else None
        _swap_in(desk, staging)
    except (OSError, sqlite3.Error) as exc:
        raise DeskError(
            f"cannot restore {source} into {desk}: {exc}; the desk is unchanged"
        ) from None
    finally:
        _remove_files(staging)
    prepare(desk)  # an older backup is upgraded (and its pre-upgrade copy kept) right away
    return version, kept


def _keep_current(desk: Path, folder: Path, stamp: str) -> Path:
    kept = folder / f"desk-before-restore-{stamp}.sqlite"
    try:
        prepare(desk)
        return take_backup(desk, kept)
    except DeskError:
        # Damaged or foreign: keep its bytes as they are, whatever they hold.
        folder.mkdir(parents=True, exist_ok=True)
        _copy_files(desk, kept)
        return kept


def _swap_in(desk: Path, staging: Path) -> None:
    try:
        usable = _describe_header(desk) is not None and prepare(desk) > 0
    except DeskError:
        usable = False
    if usable:
        # Into the live file through the backup API: one write transaction that other
        # connections (an open app) wait for, then see whole.
        with closing(sqlite3.connect(staging, isolation_level=None)) as source:
            with closing(connect(desk)) as live:
                live_size = live.execute("PRAGMA page_size").fetchone()[0]
                if source.execute("PRAGMA page_size").fetchone()[0] != live_size:
                    source.execute(f"PRAGMA page_size = {int(live_size)}")
                    source.execute("VACUUM")
                source.backup(live)
        return
    # The old file is damaged or not ours (its bytes are kept): the copy takes its place.
    _remove_files(desk)
    staging.replace(desk)
