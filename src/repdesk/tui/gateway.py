"""The app's one door to the desk: short sessions for each action, run off the UI thread.

Screens call `await desk.read(fn)` / `await desk.write(fn)` with a function of a session; the
work runs in a thread (SQLite work, fsync included, never blocks a key press) and every call
opens and closes its own short transaction. The reports' reads (the board, the quota strip, the
queues, the KPI pane: `repdesk.reports.queries`) go through `desk.report(fn)`, which on a desk
file hands `fn` a plain sqlite3 connection: the board's first frame and its full read never
wait for SQLAlchemy, which this module imports only when a session is first needed (the app
imports it in the background after the first frame, see RepdeskApp.warm_up).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from repdesk import background
from repdesk.core import clock
from repdesk.core.errors import DeskError, RepdeskError
from repdesk.core.standing import QuotaStanding
from repdesk.reports.standing import month_standing
from repdesk.settings import Settings
from repdesk.storage import desk_file, problems
from repdesk.storage.paths import Home
from repdesk.storage.watch import ChangeWatch, FileWatch

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from repdesk.services.changes import Changeset

T = TypeVar("T")
# When a kept report was read: the writes seen by then, the day, the settings (kept reads).
_Stamp = tuple[int, date, Settings]
# The most kept reads held at once (the oldest kept goes first): months of KPI panes paged
# through on a day with no write, the queues' first rows, the strip's standing.
KEEP_AT_MOST = 16


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
        # The damage check runs in the thread of the first read (report_soon), not here.
        self._verified = verified or settings.database_url is not None
        self._verify_lock = threading.Lock()
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
        # the first read and any other connection of the app (see storage.watch.FileWatch).
        self._watch: ChangeWatch | None = None
        # Reports' results kept until a write of the app's own or a change the watch saw (each
        # bumps `_writes_seen`), until the day turns or until the settings change (`kept`):
        # the strip's figures, which every screen shows (read again on each opening they cost
        # as much SQL as the screen's own figures), and the KPI pane, read ahead while the
        # rep is on the board (`prepare`; on a big desk its read takes a second).
        self._writes_seen = 0
        self._kept: dict[Hashable, tuple[_Stamp, Any]] = {}
        self._kept_lock = threading.Lock()
        self._preparing: set[Hashable] = set()
        # A change `kept` saw before the app's timer did (changed_elsewhere reports it).
        self._change_unreported = False
        # The desk file this app's connections opened (device, inode), and what to say once
        # another was put in its place (see _follow_a_replaced_file).
        self._opened: tuple[int, int] | None = None
        self._replace_lock = threading.Lock()
        self.replaced: str | None = None
        self._followed_a_replacement = False
        self._not_a_desk: tuple[int, int] | None = None  # the file put in place, no desk
        if settings.database_url is None and home.desk.exists():
            self._opened = self._identity()
            # Not a desk (damaged, another program's): the first read says what is wrong.
            with contextlib.suppress(sqlite3.Error, DeskError):
                self._watch = self._new_watch()

    @property
    def engine(self) -> Engine:
        """Built on first use, in a worker thread: SQLAlchemy's import and the engine cost
        hundreds of milliseconds the first frame does not wait for (its reads go through
        sqlite3, see `report`)."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    from repdesk.storage import store

                    self._engine = store.desk_engine(
                        self.home.desk, self.settings.database_url, verify=False
                    )
        return self._engine

    def read_now(self, fn: Callable[[Session], T]) -> T:
        from repdesk.storage import store

        with self._while_there(), store.read_session(self.engine) as session:
            return fn(session)

    def report_now(self, fn: Callable[[Any], T]) -> T:
        """Run a report's read (`fn` of a sqlite3 connection or a session, as the functions
        over `repdesk.reports.queries` take) in one consistent snapshot. On a desk file, through
        the standard library's sqlite3: no SQLAlchemy to import, no ORM per row."""
        if self.settings.database_url is not None:
            return self.read_now(fn)
        with self._while_there():
            self.verify()
            # Never creates the file: a desk moved away must not come back empty (DeskAway).
            with contextlib.closing(desk_file.connect(self.home.desk, create=False)) as conn:
                conn.execute("BEGIN")  # one snapshot for all the report's queries; closing ends it
                return fn(conn)

    def _identity(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.home.desk)
        except OSError:
            return None
        return found.st_dev, found.st_ino

    def _follow_a_replaced_file(self) -> None:
        """Another desk file put in this one's place (`mv`, a sync tool's rename, a copy
        restored by hand) while the app holds connections to the old one: its write-ahead log
        (`desk.sqlite-wal`, named by the path) belongs to the old file, and the first new
        connection replayed it into the new one, which was then damaged for good (a hostile
        test: a healthy 20,000-deal desk lost within seconds, nothing pressed). Before any
        connection opens the new file, the old one's log is folded into the old file and
        emptied and every connection to it closed; the app then reads the new desk."""
        if self.settings.database_url is not None:
            return
        now = self._identity()
        if now is None or now == self._opened:
            if self._opened is None:
                self._opened = now
            return
        with self._replace_lock:
            if self._identity() == self._opened:
                return
            if self._opened is not None:
                if isinstance(self._watch, FileWatch):
                    self._watch.empty_the_log()  # on its connection to the old file
                if self._engine is not None:
                    self._engine.dispose()
                    self._engine = None
                if self._watch is not None:
                    self._watch.close()  # the last connection to the old file
                    self._watch = None
                self._verified = False  # the new file is checked as any desk is first
                self._followed_a_replacement = True
                self._change_unreported = True
                self.replaced = (
                    f"{self.home.desk} was replaced by another desk file (a copy, a sync "
                    "tool): repdesk shows that one now"
                )
            self._opened = self._identity()

    @contextlib.contextmanager
    def _while_there(self) -> Iterator[None]:
        """An error because the desk is away becomes DeskAway, which says where it went."""
        # Only a read or write that started after the desk went away proves it is back: one
        # already under way may finish on a connection that was still open (seen under load:
        # a false "back", then the same "away" line said a second time).
        self._follow_a_replaced_file()
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
        # On a server: the engine was built, so SQLAlchemy is in already.
        from sqlalchemy.exc import DBAPIError

        from repdesk.storage import store

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

    def is_back(self, changed: bool = False) -> bool:
        """After DeskAway: True once the desk file is there again, or a read or write went
        through since, or (`changed`: the change watch's last answer) the file changed, or
        the server's watch found it again. Notices heard on a server's watch do not count:
        they may have been sent before it went."""
        if self._not_a_desk is not None:
            if self._identity() in (self._not_a_desk, None):
                return False  # that file still (or none): not back
            self._not_a_desk = None
            self._follow_a_replaced_file()
            return True
        if self._answered_since:
            return True
        if self.settings.database_url is None:
            return changed or self.home.desk.exists()
        return changed and self._watch is not None and self._watch.reconnected

    def here_again(self) -> None:
        self.away, self.away_shown, self._answered_since = None, False, False

    def verify(self) -> None:
        """Check the desk file for damage once, before anything is written to it."""
        if not self._verified:
            with self._verify_lock:  # the first report and the first write may race here
                if not self._verified:
                    try:
                        desk_file.prepare(self.home.desk, verify=True)
                    except DeskError as exc:
                        if not self._followed_a_replacement:
                            raise
                        # Another file put in the desk's place is no desk (a text file, an
                        # empty one, a newer repdesk's): away, as a desk moved away is, the
                        # screen and any form kept, until another file is put there (the app
                        # quit, dropping a typed form: a hostile test).
                        self._not_a_desk = self._identity()
                        self.away = f"{exc}; put the desk back and repdesk goes on"
                        raise DeskAway(self.away) from None
                    self._verified = True

    def write_now(self, fn: Callable[[Session], T]) -> T:
        from repdesk.storage import store

        with self._while_there():
            self.verify()
            try:
                with store.write_session(self.engine) as session:
                    return fn(session)
            finally:
                self.wrote()  # even a failed write may have committed part of its work

    def wrote(self) -> None:
        """The desk was written (by the app, here or through the sync's `engine`, or by anyone
        the change watch saw): the strip reads again."""
        self._writes_seen += 1

    async def read(self, fn: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self.read_now, fn)

    async def report(self, fn: Callable[[Any], T], *, keep_as: Hashable | None = None) -> T:
        """`report_now` in a thread. `keep_as`: what is kept under that key, if it still
        holds, else a read whose result is kept (`report_keeping`)."""
        if keep_as is None:
            return await asyncio.to_thread(self.report_now, fn)
        known: T | None = self.kept(keep_as)
        if known is not None:
            return known
        return await asyncio.to_thread(self.report_keeping, keep_as, fn)

    async def write(self, fn: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self.write_now, fn)

    async def write_recorded(self, fn: Callable[[Session], T]) -> tuple[T, Changeset]:
        """Write, and return with the result what the write changed, row by row: the app's
        undo takes back exactly that, and refuses when another program wrote since."""

        from repdesk.services.changes import recording

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
        """`read_now` started now, in a thread, collected later (`asyncio.wrap_future`)."""
        return background.start(lambda: self.read_now(fn), "repdesk-read")

    def report_soon(self, fn: Callable[[Any], T], *, keep_as: Hashable | None = None) -> Future[T]:
        """Start a report's read now, in a thread, and collect it later
        (`asyncio.wrap_future`). The first one also checks the desk for damage, off the UI
        thread. `keep_as`: as for `report`."""
        if keep_as is None:
            return background.start(lambda: self.report_now(fn), "repdesk-read")
        known = self.kept(keep_as)
        if known is not None:
            done: Future[T] = Future()
            done.set_result(known)
            return done
        return background.start(lambda: self.report_keeping(keep_as, fn), "repdesk-read")

    def changed_elsewhere(self) -> bool:
        """True when any connection (another process included) committed since the last call.

        Costs one pragma (SQLite) or a look at a socket (PostgreSQL): cheap enough for a
        one-second timer. The baseline: on a file, when the gateway was made (before its first
        read); on a server (or a desk still being created), the first call.
        """
        self._follow_a_replaced_file()  # before the watch opens a file of its own
        if self._watch is None:
            on_file = self.settings.database_url is None
            if on_file and not self._verified:
                # A new desk: the first read is still creating the file. Or another file was
                # put in place: said once, so the app reads it (its first read checks it).
                unreported, self._change_unreported = self._change_unreported, False
                return unreported
            self._watch = self._new_watch()
            if on_file:
                # The file was new when the gateway was made, so the watch's baseline comes
                # after the first read: a deal imported from the shell in between went unseen,
                # and the welcome stayed over it (a new-user trial). Read again once, to be sure.
                self._change_unreported = True
        changed = self._watch.changed() or self._change_unreported
        self._change_unreported = False
        if changed:
            self.wrote()  # someone did: the strip reads again
        return changed

    def _new_watch(self) -> ChangeWatch:
        # On a file, without the engine: the watch comes before the app's first read.
        if self.settings.database_url is None:
            return FileWatch(self.home.desk)
        from repdesk.storage import store

        return store.watch_changes(self.engine)

    def quota_figures(self) -> QuotaStanding:
        """This month against quota, for the strip on every screen."""
        return self.report_keeping(
            "quota", lambda conn: month_standing(conn, conversion=self.settings.conversion)
        )

    def known_quota_figures(self) -> QuotaStanding | None:
        """The strip's figures from the last read, if they still hold (see `kept`)."""
        known: QuotaStanding | None = self.kept("quota")
        return known

    def report_keeping(self, key: Hashable, fn: Callable[[Any], T]) -> T:
        """`report_now`, its result kept under `key` for as long as it holds (see `kept`)."""
        stamp = self._stamp()  # taken before the read: a write during it makes it stale
        value = self.report_now(fn)
        # What went stale is never shown again: dropped, so that paging through the months
        # of the KPI pane keeps one pane a month only until the next write.
        with self._kept_lock:  # reads for the strip and the pane may end at once
            now = self._stamp()
            for old in [k for k, (when, _) in self._kept.items() if when != now]:
                del self._kept[old]
            self._kept.pop(key, None)
            self._kept[key] = (stamp, value)
            # Bounded on a quiet day too: every month of the KPI pane paged through is kept.
            while len(self._kept) > KEEP_AT_MOST:
                del self._kept[next(iter(self._kept))]
        return value

    def kept(self, key: Hashable) -> Any | None:
        """What `report_keeping` read under `key`, if nothing was written since (by the app,
        or by another program as far as the change watch can tell right now), it is still the
        same day and the settings are the same; else None.

        Asks the change watch first (one pragma on a file): a write from the shell a moment
        ago must not wait for the app's one-second timer to make figures shown now stale."""
        entry = self._kept.get(key)
        if entry is None or self.away is not None or entry[0] != self._stamp():
            return None
        if self._watch is not None:
            try:
                changed = self._watch.changed()
            except Exception:
                return None  # the timer's own look says what is wrong
            if changed:
                self._change_unreported = True  # for the timer's changed_elsewhere
                self.wrote()
                return None
        return entry[1]

    def prepare(
        self,
        key: Hashable,
        fn: Callable[[Any], T],
        *,
        then: Callable[[T], object] | None = None,
    ) -> Any | None:
        """Read a report ahead, in a thread at a low priority, and keep it (see `kept`): the
        screen that shows it opens with its figures. Nothing to do when it is kept already
        (returned) or on its way; a read that fails keeps nothing (the screen's own read says
        why). `then`: what else to make of the report ahead, in that thread, once it is
        read."""
        if key in self._preparing:
            return None
        if (kept := self.kept(key)) is not None:
            return kept
        self._preparing.add(key)

        def run() -> None:
            background.yield_the_cpu()
            try:
                report = self.report_keeping(key, fn)
                if then is not None:
                    then(report)
            finally:
                self._preparing.discard(key)

        background.start(run, "repdesk-prepare")
        return None

    def _stamp(self) -> _Stamp:
        return (self._writes_seen, clock.today(), self.settings)

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._engine is not None:
            self._engine.dispose()
