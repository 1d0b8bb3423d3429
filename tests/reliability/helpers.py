"""What the reliability tests check a desk with, from the outside: real files, real processes."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

WRITERS = Path(__file__).with_name("writers.py")
TABLES = ("stage", "deal", "stage_change", "activity", "follow_up", "objection", "quota")


# What a terminal acts on (C0 but tab and newline, DEL, C1), or turns a line around with (bidi
# embeddings, overrides, isolates): none may reach the terminal raw.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def raw_controls(output: str) -> list[str]:
    """The raw control characters in `output` (none, for anything printed from user text)."""
    return sorted(set(RAW_CONTROL.findall(output)))


def repdesk(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real `repdesk` entry point in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "repdesk", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def table_checksums(desk: Path) -> dict[str, str]:
    """A checksum of every table's rows and of the schema: bad input must change none."""
    with closing(sqlite3.connect(desk)) as conn:
        sums = {}
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in sorted(names):
            digest = hashlib.sha256()
            for row in conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid"):
                digest.update(repr(row).encode())
            sums[table] = digest.hexdigest()
        schema = conn.execute("SELECT group_concat(sql, ';') FROM sqlite_master").fetchone()[0]
        sums["(schema)"] = hashlib.sha256(str(schema).encode()).hexdigest()
        sums["(version)"] = str(conn.execute("PRAGMA user_version").fetchone()[0])
    return sums


def health(desk: Path) -> tuple[str, list[tuple[object, ...]]]:
    """(PRAGMA integrity_check, PRAGMA foreign_key_check) of the desk."""
    with closing(sqlite3.connect(desk)) as conn:
        integrity = "\n".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        return integrity, conn.execute("PRAGMA foreign_key_check").fetchall()


def rows(desk: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(desk)) as conn:
        return conn.execute(sql, args).fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))


def flip_page(data: bytearray, page: int, page_size: int = 4096) -> bytearray:
    """Damage one page (1-based) the way a bad sector or a stray write would."""
    start = (page - 1) * page_size
    for offset in range(start + 8, start + page_size, 7):
        data[offset] ^= 0xFF
    return data


# ---------------------------------------------------------------- small file systems


def _mount(*args: str) -> bool:
    if os.geteuid() != 0:
        return False
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    return result.returncode == 0


@contextmanager
def tmpfs(parent: Path, size_kb: int) -> Iterator[Path]:
    """A real, tiny file system (a tmpfs mount; needs root): skips the test where mounting
    is not allowed, so the tests that simulate at the SQLite layer carry the check there."""
    point = parent / f"mnt-{uuid.uuid4().hex[:8]}"
    point.mkdir()
    if not _mount("-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(point)):
        point.rmdir()
        pytest.skip("cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN)")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)
        point.rmdir()


def remount(point: Path, mode: str) -> None:
    result = subprocess.run(["mount", "-o", f"remount,{mode}", str(point)], capture_output=True)
    assert result.returncode == 0, result.stderr


def fill(point: Path) -> Path:
    """Fill the file system to the last byte; returns the filler to delete later."""
    filler = point / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for chunk in (b"\0" * (1 << 16), b"\0" * 512, b"\0"):
            try:
                while os.write(fd, chunk):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler
