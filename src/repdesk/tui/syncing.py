"""The app's side of the CRM sync (src/repdesk/sync/): `repdesk sync pipedrive` from a key or
the palette, and where the sync stands on the top line of every screen.

The sync runs in a daemon thread (a worker awaits it): its requests and writes never hold up a
key press, and quitting mid-sync ends it as a kill would, which the sync is made to survive
(nothing lost, nothing sent twice: see src/repdesk/sync/engine.py). What it writes reaches the
screens through the app's change watch, as a write from the shell does.

The top line: nothing for a desk that does not sync; else "Pipedrive: synced 4 min ago ·
3 waiting · 2 conflicts (B)", "Pipedrive: syncing…", or why the last sync could not run
("no API token", "offline", "token refused", "rate limit reached").
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text

from repdesk import background
from repdesk.core import clock, formatting
from repdesk.core.text import printable

if TYPE_CHECKING:
    from repdesk.sync.engine import Report
    from repdesk.sync.state import Status

# "synced 4 min ago" ages: the line is read again this often (one small query).
AGE_SECONDS = 30.0
CRM = "Pipedrive"


def sync_line(
    status: Status | None, now: datetime, *, running: bool = False, problem: str | None = None
) -> str | None:
    """The words for the top line (see the module's docstring); None: say nothing."""
    if running:
        return f"{CRM}: syncing…"
    if status is None or not (status.linked or status.last_error or problem):
        return None
    from repdesk.sync.state import ago

    if problem is not None:
        parts = [f"{CRM}: not synced: {problem}"]
    elif status.last_error and status.linked:
        parts = [f"{CRM}: {status.failed(now)}"]
    elif status.last_error:
        parts = [f"{CRM}: not synced: failed"]
    elif status.last_sync is not None:
        parts = [f"{CRM}: synced {ago(status.last_sync, now)}"]
    else:
        parts = [f"{CRM}: never synced"]
    if status.waiting:
        parts.append(f"{status.waiting:,} waiting")
    if status.conflicts:
        parts.append(f"{formatting.count(status.conflicts, 'conflict')} (B)")
    if status.refused:
        parts.append(f"{status.refused:,} refused")
    return " · ".join(parts)


def summary(report: Report) -> str:
    """The toast after a sync from the app: what moved, and what waits for the rep."""
    took = report.taken_new + report.taken_changed
    sent = report.created + report.updated + report.deleted
    # "1 change", not "1 changes" (a trial).
    changes = f"{took:,} change" + ("" if took == 1 else "s")
    words = [f"Synced with {CRM}: {changes} taken in, {sent:,} sent"]
    if report.linked:
        linked = "1 imported deal" if report.linked == 1 else f"{report.linked:,} imported deals"
        words.append(f"{linked} linked")
    if report.trashed:
        words.append(f"{report.trashed:,} deleted there (in the trash, T)")
    if report.refused:
        words.append(f"{report.refused:,} refused by {CRM}, set aside (sync status lists them)")
    if report.kept_both:
        texts = "1 text" if report.kept_both == 1 else f"{report.kept_both:,} texts"
        words.append(f"{texts} changed on both sides: both kept")
    line = "; ".join(words) + "."
    if report.conflicts:
        line += (
            f" {formatting.count(report.conflicts, 'field')} changed on both sides: "
            "B lists them to settle."
        )
    return line + "".join(f"\n{note}" for note in report.notes[:3])


def _mark(status: Status | None) -> tuple[Any, ...]:
    """What a sync that ends changes on the desk: when it went through, or when it failed."""
    if status is None:
        return (None, None)
    return (status.last_sync, status.failed_at)


class AppSync:
    """Held by the app (`app.sync`): runs the sync and keeps the top line's words."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.running = False
        self.problem: str | None = None  # why this session's last sync could not run
        # Another sync was under way: the desk's sync marks then; once they change, it ended.
        self._busy_mark: tuple[Any, ...] | None = None
        self.status: Status | None = None
        self.line: Text | None = None
        # Set after the first frame (start_watch): the sync's modules import SQLAlchemy, which
        # the first frame never waits for (tests/tui/test_first_frame.py).
        self.watching = False

    def start_watch(self) -> None:
        """After the first paint: the line now, and again as its "N min ago" ages."""
        self.watching = True
        self.refresh()
        self.app.set_interval(AGE_SECONDS, self.refresh)

    def refresh(self) -> None:
        """Read the sync's state again (after a write, or as time goes by)."""
        if self.watching:
            # The method, not a coroutine made now: a worker the next refresh cancels before
            # it starts would leave its coroutine never awaited (a warning, and a leak).
            self.app.run_worker(self._refresh, exclusive=True, group="sync-line")

    async def _refresh(self) -> None:
        desk = self.app.desk

        def read() -> Status:
            # The import in the thread too: right after the first frame SQLAlchemy may still be
            # on its way in (RepdeskApp.warm_up), and the event loop must not wait for it.
            from repdesk.sync import state

            status: Status = desk.read_now(state.status)
            return status

        try:
            self.status = await asyncio.to_thread(read)
        except Exception:
            return  # the desk is away or damaged: its own line says so
        if self._busy_mark is not None and self._busy_mark != _mark(self.status):
            # The other sync (a shell's) ended: its outcome is on the desk, and the line
            # said "another sync is under way" until the app's next sync (a trial).
            self.problem, self._busy_mark = None, None
        self._show()

    def _show(self) -> None:
        words = sync_line(self.status, clock.now(), running=self.running, problem=self.problem)
        failed = self.problem is not None or bool(self.status and self.status.last_error)
        style = "yellow" if failed or (self.status and self.status.conflicts) else "dim"
        self.line = None if words is None else Text(printable(words), style=style)
        from repdesk.tui.lifecycle import can_show
        from repdesk.tui.widgets.quota_strip import QuotaStrip

        for screen in self.app.screen_stack:
            if can_show(screen):
                for strip in screen.query(QuotaStrip):
                    strip.show_sync(self.line)

    def desk_changed(self) -> None:
        """Another desk in the app (the demo's): its own state, nothing of the last one's."""
        self.problem, self.status, self._busy_mark = None, None, None
        self.refresh()

    def run(self) -> None:
        """The key and the palette: sync now, in the background."""
        if self.running:
            self.app.notify(f"A sync with {CRM} is under way.")
            return
        if self.app.on_demo:
            # Made-up deals: they must never reach the company's CRM.
            self.app.notify(
                f"The demo desk does not sync with {CRM}: `repdesk` opens your own desk.",
                severity="warning",
            )
            return
        self.running = True
        self._show()
        self.app.run_worker(self._run, group="sync")

    async def _run(self) -> None:
        from repdesk.sync.connector import SyncBusy, SyncError, short_reason

        desk = self.app.desk
        try:
            report = await asyncio.wrap_future(background.start(self._sync, "repdesk-sync"))
        except SyncError as exc:
            self.problem = short_reason(exc)
            self._busy_mark = _mark(self.status) if isinstance(exc, SyncBusy) else None
            self.app.notify(str(exc), title=CRM, severity="error", timeout=12)
        except Exception as exc:
            self.problem = "failed"
            self.app.notify(desk.explain(exc), title=CRM, severity="error", timeout=12)
        else:
            self.problem = None
            severity = "warning" if report.conflicts else "information"
            self.app.notify(summary(report), title=CRM, severity=severity, timeout=10)
        finally:
            self.running = False
        self._show()
        self.refresh()

    def _sync(self) -> Report:
        """In the sync's own thread: the token, the client, one run."""
        from repdesk.sync import secrets
        from repdesk.sync.connector import SyncError
        from repdesk.sync.engine import Sync, record_failure
        from repdesk.sync.pipedrive import PipedriveClient

        desk = self.app.desk
        settings = desk.settings
        desk.verify()
        try:
            token = secrets.token()
            client = PipedriveClient(settings.pipedrive_url, token)
        except SyncError as exc:  # as the shell keeps it (src/repdesk/cli/sync.py)
            record_failure(desk.engine, str(exc))
            raise
        try:
            runner = Sync(
                desk.engine,
                client,
                all_owners=settings.pipedrive_all_owners,
                pipeline_id=settings.pipedrive_pipeline,
                currency=settings.currency,
            )
            return runner.run()
        finally:
            desk.wrote()
            client.close()
