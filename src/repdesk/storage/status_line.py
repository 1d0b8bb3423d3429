"""`repdesk quota --short` remembered between runs, so a status bar's question costs a file read.

A status bar (tmux, i3blocks, a shell prompt) runs `repdesk quota --short` every few seconds,
and the desk changes a few times an hour. Each run that reads the desk leaves its line in
`.quota-short` beside the desk, with a digest of the state it read (never the state: it holds
the environment, secrets and all): the next run prints that line without importing the rest
of repdesk when nothing that could change it has changed:

- the desk: its file (inode, size, mtime and its 100-byte header, where SQLite keeps the schema
  version and a change counter), and while any program has it open, the first 96 bytes of its
  `-shm` wal-index, which SQLite changes on every commit (the frame count, the salts and the
  checksum of the last frame: see https://www.sqlite.org/walformat.html). A commit that is not
  in that header yet is one no reader could see either;
- the settings file, byte for byte; the environment that chooses the desk, the clock or the
  output (REPDESK_*, XDG_*, HOME, TZ, LANG, LC_*, PYTHON*); the local date and UTC offset;
- the code that makes the line (this module, the command, the reports, the formatting, the
  money, dates and clock, and the settings).

The state is taken before the desk is read, so a write during the read leaves a line that is
never recalled. A desk on PostgreSQL is never remembered (there is no file to watch). Standard
library only, and nothing else is imported on the way: the point is to start fast.
"""

from __future__ import annotations

import os
import stat
import sys
import time

WORDS = ("quota", "--short")
FILE_NAME = ".quota-short"
_MAGIC = b"repdesk quota --short 2\n"
_ENV_PREFIXES = ("REPDESK_", "XDG_", "LC_", "PYTHON")
_ENV_NAMES = ("HOME", "TZ", "LANG")
# The wal-index header, twice; not the checkpoint information after it, whose read marks
# every reader moves.
_SHM_HEADER = 96
# Relative to src/repdesk: the code whose change changes the line.
_CODE = ("storage/status_line.py", "reports/figures.py", "reports/standing.py",
         "reports/queries.py", "core/formatting.py", "core/kpi.py", "core/standing.py",
         "core/money.py", "core/currencies.py", "core/dates.py", "core/clock.py",
         "core/text.py", "cli/figures.py", "cli/shell.py", "settings.py")  # fmt: skip
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_dirs() -> tuple[str, str] | None:
    """The data and config folders platformdirs gives on Linux and the BSDs, without importing
    it (a third of a fast run). None elsewhere: there, no line is remembered for the default
    home. A wrong guess costs only the shortcut: `remember` stores a line only where the home
    really is (tests/cli/test_status_line.py compares this with platformdirs)."""
    if sys.platform == "darwin" or sys.platform.startswith(("win", "cygwin")):
        return None
    if "ANDROID_DATA" in os.environ and "ANDROID_ROOT" in os.environ:
        return None
    home = os.path.expanduser("~")
    # As platformdirs.unix: a blank variable is unset, any other value is taken as it is.
    data = os.environ.get("XDG_DATA_HOME", "")
    config = os.environ.get("XDG_CONFIG_HOME", "")
    return (
        os.path.join(data if data.strip() else os.path.join(home, ".local", "share"), "repdesk"),
        os.path.join(config if config.strip() else os.path.join(home, ".config"), "repdesk"),
    )


def dirs_for(home: str | None) -> tuple[str, str] | None:
    """The data and config folders of `home` (--home's value, else REPDESK_HOME's), as
    repdesk.storage.paths resolves them."""
    chosen = home if home is not None else os.environ.get("REPDESK_HOME") or None
    if chosen is None:
        return default_dirs()
    root = os.path.realpath(os.path.expanduser(chosen))
    return root, root


def _head(path: str, size: int) -> bytes:
    """The first `size` bytes of a regular file; b"-" for anything else (a FIFO put in its
    place would block the status bar for ever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return b"-"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b"-"
        return os.read(fd, size)
    except OSError:
        return b"-"
    finally:
        os.close(fd)


def _stat(path: str, *, changed: bool = False) -> bytes:
    try:
        found = os.stat(path)
    except OSError:
        return b"-"
    stated = f"{found.st_ino}:{found.st_size}:{found.st_mtime_ns}"
    if changed:
        # The change time too (the desk's alone): a tool that keeps mtimes (touch -d, cp -p,
        # rsync -t) can put the old mtime back over a write, and in WAL mode the write
        # changes neither size nor header. Not the -wal's: SQLite run as root chowns it to
        # the desk's owner on every open, which sets its change time.
        stated += f":{found.st_ctime_ns}"
    return stated.encode()


def desk_state(data_dir: str, config_dir: str) -> bytes:
    """Everything the line depends on but the desk's contents, and what stands for those."""
    desk = os.path.join(data_dir, "desk.sqlite")
    # SQLite keeps a linked desk's -wal and -shm beside the file the link points to.
    real_desk = os.path.realpath(desk)
    settings = os.path.join(config_dir, "settings.toml")
    env = sorted(
        (name, value)
        for name, value in os.environ.items()
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES
    )
    parts = [
        data_dir.encode("utf-8", "surrogateescape"),
        config_dir.encode("utf-8", "surrogateescape"),
        repr(env).encode("utf-8", "surrogateescape"),
        time.strftime("%Y-%m-%d %z").encode(),
        *(_stat(os.path.join(_PACKAGE, name)) for name in _CODE),
        _stat(settings),
        _head(settings, 1 << 16),
        _stat(desk, changed=True),
        _head(desk, 100),
        _stat(real_desk + "-wal"),
        _head(real_desk + "-shm", _SHM_HEADER),
    ]
    return b"\x00".join(part.replace(b"\x00", b"\x00\x01") for part in parts)


def _digest(state: bytes) -> bytes:
    """What is kept of the state: a digest, never the state itself, which holds the REPDESK_*
    environment (REPDESK_PIPEDRIVE_TOKEN: a secret kept out of every file) and the settings."""
    try:
        from _blake2 import blake2b  # hashlib's own, without hashlib's OpenSSL (10 ms)
    except ImportError:  # a Python built without it
        from hashlib import blake2b
    return blake2b(state, digest_size=32).hexdigest().encode()


def recall(words: list[str]) -> str | None:
    """The remembered line for these command-line words, if they are `quota --short` and
    nothing it depends on has changed since; else None (and the command runs)."""
    if tuple(words) != WORDS:
        return None
    dirs = dirs_for(None)
    if dirs is None:
        return None
    state = desk_state(*dirs)
    stored = _head(os.path.join(dirs[0], FILE_NAME), 1 << 20)
    if not stored.startswith(_MAGIC):
        return None
    digest, newline, line = stored[len(_MAGIC) :].partition(b"\n")
    if not newline or digest != _digest(state):
        return None
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def remember(data_dir: str, config_dir: str, state: bytes, output: str) -> None:
    """Keep `output` for the next run, if it would find it (the home is where `recall` looks).
    `state` is desk_state() from before the desk was read. A home that cannot be written to
    only loses the shortcut."""
    if dirs_for(None) != (data_dir, config_dir):
        return
    target = os.path.join(data_dir, FILE_NAME)
    temporary = f"{target}.{os.getpid()}.tmp"
    # A new file of the rep's alone, never through a link left in its place.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        with open(os.open(temporary, flags, 0o600), "wb") as file:
            file.write(_MAGIC + _digest(state) + b"\n" + output.encode("utf-8"))
        os.replace(temporary, target)
    except OSError:
        from contextlib import suppress  # only here: recall() imports nothing it need not

        with suppress(OSError):
            os.unlink(temporary)
