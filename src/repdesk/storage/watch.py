"""Did anyone write to the desk file? The SQLite side of the change watch, standard library
only: the app makes it before its first frame, which imports nothing of SQLAlchemy (the
server's watch, store.ServerWatch, needs it)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Protocol

from repdesk.core.errors import DeskError
from repdesk.storage import desk_file


class ChangeWatch(Protocol):
    def changed(self) -> bool:
        """True when any connection (another process included) committed a write since the
        last call. The first call compares with the watch's baseline: a file watch takes it
        when made, a server watch at that first call. Cheap enough for a 1-second timer."""
        ...

    def close(self) -> None: ...

    @property
    def reconnected(self) -> bool:
        """True when the last `changed()` said so because the watch found its database again
        after losing it (a server back), not because of a write it heard."""
        ...


class FileWatch:
    """SQLite's PRAGMA data_version on a connection of its own: it changes whenever another
    connection commits. The connection never opens a transaction, so it holds no snapshot and
    blocks no checkpoint.

    The baseline is taken when it is made: the app makes it before its first read, so no
    write in between goes unseen. Made before the app's other connections, its shared memory
    (-shm) is mapped first: a connection closing as the last one deletes the -wal and -shm
    files, and a watch that mapped a deleted -shm would never see another commit. Each check
    also compares the files it opened with those on disk (a restore swaps a damaged desk; a
    race can still delete the -shm) and starts over on the new ones, reporting a change.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._shm = Path(f"{path}-shm")
        self.reconnected = False  # the last change reported was the files opened anew
        self._open()

    def _open(self) -> None:
        # Never creates the file: a desk moved away for a moment must not come back empty.
        conn = desk_file.connect(self._path, create=False)
        try:
            version: int = conn.execute("PRAGMA data_version").fetchone()[0]
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn
        self._version, self._files = version, self._identity()

    def _identity(self) -> tuple[int | None, int | None]:
        found: list[int | None] = []
        for path in (self._path, self._shm):
            try:
                found.append(path.stat().st_ino)
            except OSError:
                found.append(None)
        return found[0], found[1]

    def changed(self) -> bool:
        self.reconnected = False
        files = self._identity()
        if self._conn is None or files != self._files:
            if files[0] is None:
                return False  # no desk there right now (mid-restore, a folder unmounted)
            # Closed first: the process maps one -shm per file, and a new connection opened
            # beside the old one would share the old one's stale mapping.
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            try:
                self._open()
            except (sqlite3.Error, OSError, DeskError):
                return False  # not a desk that opens yet: look again next time
            self.reconnected = True
            return True
        version: int = self._conn.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._version
        self._version = version
        return changed

    def empty_the_log(self) -> None:
        """Fold the write-ahead log into the file this watch opened and empty it: done before
        letting go of a desk file another was put in place of, so no connection to the new
        one replays the old one's log into it (which wrecked it: a hostile test)."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
