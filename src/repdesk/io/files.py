"""Where an export may go, and writing it whole or not at all. Standard library only.

`repdesk export csv $REPDESK_HOME/desk.sqlite` once wrote a CSV over the live desk, and an
export run as root could write into a device. An export now goes only to a new file, or
over an existing regular file when asked (`--force`), never over the desk's own files.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from repdesk.core.errors import DeskError, RepdeskError

_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# What a pipe may bring to an import, whose size is not known before reading it (a file's is).
PIPE_LIMIT = 512 * 1024 * 1024


def read_input(path: Path, what: str) -> bytes:
    """The bytes of a file to import (`what`: "a CSV file"), or RepdeskError in one line.
    Opened without waiting (a named pipe with no writer would hang the open), and refused
    unless a regular file or a pipe: `/dev/zero` or `/dev/urandom` never end, and reading
    them ate all the machine's memory. A pipe gives at most PIPE_LIMIT bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise RepdeskError(f"{path}: no such file") from None
    except OSError as exc:
        raise RepdeskError(f"{path}: cannot be read ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        os.close(fd)
        raise RepdeskError(f"{path}: is {_kind(mode)}, not {what}")
    with os.fdopen(fd, "rb") as handle:
        os.set_blocking(fd, True)
        try:
            if stat.S_ISREG(mode):
                return handle.read()
            data = handle.read(PIPE_LIMIT + 1)
        except OSError as exc:
            raise RepdeskError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(data) > PIPE_LIMIT:
        raise RepdeskError(
            f"{path}: a pipe that brought more than {PIPE_LIMIT // 2**20} MB: save it to a file "
            "and import the file"
        )
    return data


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def export_target(
    text: str, *, keep: Iterable[Path], keep_folders: Iterable[Path], force: bool
) -> Path:
    """The file an export may write, from what the rep typed; RepdeskError says why not.

    `keep`: files never written (the desk and its -wal/-shm), matched through symlinks and
    hard links; `keep_folders`: folders nothing is written into (the backups).
    """
    if not text.strip():
        raise RepdeskError(f"FILE: {text!r} is not a file name: give one, e.g. deals.csv")
    path = Path(text)
    real = path.expanduser().resolve()
    try:
        found = path.stat()  # follows a symlink: what would really be written
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise RepdeskError(f"cannot write {path}: {exc.strerror}") from None
    for kept in keep:
        same_inode = False
        if found is not None:
            with_stat = _stat_or_none(kept)
            same_inode = with_stat is not None and (with_stat.st_dev, with_stat.st_ino) == (
                found.st_dev,
                found.st_ino,
            )
        if same_inode or real == kept.resolve():
            raise RepdeskError(f"{path} is the desk's own file {kept.name}: export to another file")
    for folder in keep_folders:
        if _inside(real, folder.resolve()):
            raise RepdeskError(f"{path} is in the desk's folder {folder}: export elsewhere")
    if found is not None:
        if not stat.S_ISREG(found.st_mode):
            raise RepdeskError(f"{path} is {_kind(found.st_mode)}: give a file name to write")
        if not force:
            raise RepdeskError(f"{path} already exists: add --force to replace it")
    return path


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to the disk, then rename it
    over `path`: a reader (a calendar, a spreadsheet) sees the old file or the new one, and a
    full disk or a kill leaves the old file as it was, never half of the new one."""
    folder = path.parent
    try:
        existing = path.stat().st_mode if path.exists() else None
    except OSError:
        existing = None
    _forget_old_partials(folder, path.name)
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".partial")
    except OSError as exc:
        raise _write_error(path, exc) from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
            # mkstemp makes the file private; an export gets the mode a plain write would.
            os.fchmod(out.fileno(), stat.S_IMODE(existing) if existing else _default_mode())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise _write_error(path, exc) from None
    _sync_folder(folder)


# A temporary file this old is no write under way: one a kill left (another repdesk may still
# be writing a younger one).
STALE_PARTIAL_SECONDS = 15 * 60


def _forget_old_partials(folder: Path, name: str) -> None:
    """Delete what a killed write of this very file left beside it (`.desk.json.x1y2.partial`,
    4 MB each, kept for good: a hostile test). Never another file's, never a young one."""
    now = time.time()
    for leftover in folder.glob(f".{glob.escape(name)}.*.partial"):
        with contextlib.suppress(OSError):
            if leftover.is_file() and now - leftover.stat().st_mtime > STALE_PARTIAL_SECONDS:
                leftover.unlink()


def _write_error(path: Path, exc: OSError) -> Exception:
    if exc.errno in _FULL:
        # A desk-side problem, exit 1 (README): the export was not written, the old file stays.
        return DeskError(f"cannot write {path}: the disk is full; nothing was written")
    return RepdeskError(f"cannot write {path}: {exc.strerror or exc}")


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _sync_folder(folder: Path) -> None:
    # The rename itself reaches the disk only with its folder (POSIX); not possible everywhere.
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
