"""The app's one door to the desk: short sessions for each action, run off the UI thread.

Screens call `await desk.read(fn)` / `await desk.write(fn)` with a function of a session; the
work runs in a thread (SQLite work, fsync included, never blocks a key press) and every call
opens and closes its own short transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from repdesk import background
from repdesk.core.errors import DeskError, RepdeskError
from repdesk.core.kpi import Kpis
from repdesk.reports import figures
from repdesk.services.changes import Changeset, recording
from repdesk.settings import Settings
from repdesk.storage import desk_file, problems, store
from repdesk.storage.paths import Home

T = TypeVar("T")


class DeskAway(RepdeskError):
    """The desk is not there right now (its file moved away, its server down): the app says so
    in one line, keeps its screen and picks the desk up again when it is back."""


# SQLSTATEs of a server that went away: a lost connection (class 08), an administrator's or a
# crash's shutdown, a server still starting.
_SERVER_GONE = ("08", "57P01", "57P02", "57P03")


class DeskGateway:
    def __init__(self, home: Home, settings: Settings, *, verified: bool = False) -> None:
        self.home = home
        self.settings = settings
        # The damage check runs in the thread of the first read (read_soon), not here.
        self._verified = verified or settings.database_url is not None
        self._engine: Engine | None = None
        # Where a write's undo goes when its screen has no result to carry it (the app's stack).
        self.remember_undo: Callable[[Any], None] | None = None
        self._engine_lock = threading.Lock()
        # Why the desk is away (DeskAway's line), and whether the rep has been shown it; the
        # app puts both back when the desk is back (RepdeskApp.check_for_changes).
        self.away: str | None = None
        self.away_shown = False
        self._answered_since = False  # a read or write went through after `away` was set
        # Asks "did anyone write?" once a second: SQLite's data_version, or PostgreSQL's
        # LISTEN/NOTIFY on a server (see store.watch_changes). On a file, made now, before
        # the first read and any other connection of the app (see store.FileWatch).
        self._watch: store.ChangeWatch | None = None
        if settings.database_url is None and home.desk.exists():
            # Not a desk (damaged, another program's): the first read says what is wrong.
            with contextlib.suppress(sqlite3.Error, DeskError):
                self._watch = self._new_watch()

    @property
    def engine(self) -> Engine:
        """Built on first use, usually in a worker thread: building it costs some 10 ms of
        imports the first frame need not wait for (its read goes through sqlite3)."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = store.desk_engine(
                        self.home.desk, self.settings.database_url, verify=False
                    )
        return self._engine

    def read_now(self, fn: Callable[[Session], T]) -> T:
        with self._while_there(), store.read_session(self.engine) as session:
            return fn(session)

    @contextlib.contextmanager
    def _while_there(self) -> Iterator[None]:
        """An error because the desk is away becomes DeskAway, which says where it went."""
        # Only a read or write that started after the desk went away proves it is back: one
        # already under way may finish on a connection that was still open (seen under load:
        # a false "back", then the same "away" line said a second time).
        started_away = self.away is not None
        try:
            yield
            if started_away and self.away is not None:
                self._answered_since = True
        except DeskAway:
            raise
        except Exception as exc:
            away = self.why_away(exc)
            if away is None:
                raise
            self.away = away
            raise DeskAway(away) from exc

    def file_gone(self) -> str | None:
        """What to say when the desk file is not where it was (None: it is, or on a server)."""
        if self.settings.database_url is not None or self.home.desk.exists():
            return None
        return f"{self.home.desk} is gone (moved or deleted?): put it back and repdesk goes on"

    def why_away(self, exc: BaseException) -> str | None:
        if self.settings.database_url is None:
            return self.file_gone()
        if isinstance(exc, store.ServerUnreachable):
            return f"{exc}; repdesk goes on when it is back"
        if isinstance(exc, DBAPIError):
            cause = problems.unwrap(exc)
            state = getattr(cause, "sqlstate", None)
            if (
                exc.connection_invalidated
                or (type(cause).__name__ == "OperationalError" and state is None)
                or (state or "").startswith(_SERVER_GONE)
            ):
                reason = next(iter(str(cause).strip().splitlines()), type(cause).__name__)
                return (
                    f"the desk's server stopped answering ({reason}); "
                    "repdesk goes on when it is back"
                )
        return None

    def is_back(self) -> bool:
        """After DeskAway: True once the desk file is there again, or a read or write went
        through since (a server's return is also seen by its change watch reconnecting)."""
        if self._answered_since:
            return True
        return self.settings.database_url is None and self.home.desk.exists()

    def here_again(self) -> None:
        self.away, self.away_shown, self._answered_since = None, False, False

    def verify(self) -> None:
        """Check the desk file for damage once, before anything is written to it."""
        if not self._verified:
            desk_file.prepare(self.home.desk, verify=True)
            self._verified = True

    def write_now(self, fn: Callable[[Session], T]) -> T:
        with self._while_there():
            self.verify()
            with store.write_session(self.engine) as session:
                return fn(session)

    async def read(self, fn: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self.read_now, fn)

    async def write(self, fn: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self.write_now, fn)

    async def write_recorded(self, fn: Callable[[Session], T]) -> tuple[T, Changeset]:
        """Write, and return with the result what the write changed, row by row: the app's
        undo takes back exactly that, and refuses when another program wrote since."""

        def run(session: Session) -> tuple[T, Changeset]:
            with recording(session) as changes:
                result = fn(session)
            return result, changes

        return await self.write(run)

    async def write_or_explain(self, fn: Callable[[Session], object]) -> str | None:
        """Write, or say in one line why not (a refusal, a read-only folder, a full disk):
        for key presses that have no form to keep the message in."""
        try:
            await self.write(fn)
        except Exception as exc:
            return self.explain(exc)
        return None

    def explain(self, exc: BaseException) -> str:
        """The one line a rep reads for a read or write that failed: a refusal, the desk gone
        away (said here, so the change watch does not say it again), a full disk; anything
        unexpected goes to the crash log, which the line names."""
        if isinstance(exc, DeskAway):
            self.away_shown = True
            return str(exc)
        if isinstance(exc, RepdeskError):
            return str(exc)
        return problems.describe(exc, str(self.home.desk), crash_log=self.home.crash_log)[0]

    def read_soon(self, fn: Callable[[Session], T]) -> Future[T]:
        """Start a read now, in a thread, and collect it later (`asyncio.wrap_future`). The
        first one also checks the desk for damage, off the UI thread."""

        def run() -> T:
            with self._while_there():
                self.verify()
            return self.read_now(fn)

        return background.start(run, "repdesk-read")

    def changed_elsewhere(self) -> bool:
        """True when any connection (another process included) committed since the last call.

        Costs one pragma (SQLite) or a look at a socket (PostgreSQL): cheap enough for a
        one-second timer. The baseline: on a file, when the gateway was made (before its first
        read); on a server (or a desk still being created), the first call.
        """
        if self._watch is None:
            if self.settings.database_url is None and not self._verified:
                return False  # a new desk: the first read is still creating the file
            self._watch = self._new_watch()
        return self._watch.changed()

    def _new_watch(self) -> store.ChangeWatch:
        # On a file, without the engine: the watch comes before the app's first read.
        if self.settings.database_url is None:
            return store.FileWatch(self.home.desk)
        return store.watch_changes(self.engine)

    def quota_figures(self) -> Kpis:
        """This month against quota, for the strip on every screen."""
        return self.read_now(
            lambda s: figures.month_figures(s, conversion=self.settings.conversion)
        )

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._engine is not None:
            self._engine.dispose()
