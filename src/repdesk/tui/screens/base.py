"""What every full screen of the desk shares: the app typed as a RepdeskApp, and its desk."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual.screen import Screen

from repdesk.tui.lifecycle import DismissedOnce, reload_when_composed

if TYPE_CHECKING:
    from textual import getters

    from repdesk.tui.app import RepdeskApp
    from repdesk.tui.gateway import DeskGateway

T = TypeVar("T")

# How long a screen's mount waits for the read its key started (DeskScreen.early_result).
EARLY_WAIT_SECONDS = 0.2


class DeskScreen(DismissedOnce, Screen[None]):
    if TYPE_CHECKING:  # self.app is a RepdeskApp (Textual's typed getter; no runtime check)
        app = getters.app(RepdeskApp)

    _resumed_before = False
    _early: Future[Any] | None = None
    _changed_while_away = False

    def changed_while_away(self) -> None:
        """Another program wrote while this screen was under another (a contact page, a form):
        it reads again when it is back on top (the deal page showed neither a call logged nor
        a contact put on it from the shell while its contact page was open: a hostile test)."""
        self._changed_while_away = True

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles the whole screen when it comes to the top, for a screen that was
        # away while the theme or the classes changed. Pushed the first time, every widget
        # was styled as it mounted a moment ago: the restyle cost the board's first frame
        # about 25 ms of the 190 from the app's mount, and the KPI pane more (benchmarks/).
        # Textual's own handler still runs, as the event's `refresh_styles` foresees.
        if not self._resumed_before:
            self._resumed_before = True
            event.refresh_styles = False
        super()._on_screen_resume(event)
        reload = getattr(self, "reload", None)
        if self._changed_while_away and callable(reload):
            self._changed_while_away = False
            reload_when_composed(self, reload)

    @property
    def desk(self) -> DeskGateway:
        """The desk the app works on (a gateway: reads and writes off the UI thread)."""
        return self.app.desk

    def read_early(
        self, fn: Callable[[Any], Any], *, report: bool = False, keep_as: Hashable | None = None
    ) -> None:
        """Start the screen's first read now, with the key that opens it (call it from
        `__init__`): it runs in a thread while the screen is composed and drawn, instead of
        after (about a third of the time from the key to the figures on the KPI pane).
        `keep_as` (a report): what the desk keeps under that key, when it still holds (see
        DeskGateway.kept), else a read whose result is kept."""
        desk = self.desk
        self._early = desk.report_soon(fn, keep_as=keep_as) if report else desk.read_soon(fn)

    def early_result(self) -> Any | None:
        """The early read's result, when it is in within EARLY_WAIT_SECONDS (call it from
        `on_mount`): the screen's first frame then holds its figures, laid out and drawn once
        instead of empty and again (each pass a good part of the time to the figures), and
        the read runs meanwhile with the GIL to itself. None: it takes longer (a server, a
        big desk) or failed: the screen draws without it, and `first_read` collects it (and
        says what went wrong) in the screen's worker."""
        early = self._early
        if early is None:
            return None
        try:
            result = early.result(timeout=EARLY_WAIT_SECONDS)
        except Exception:
            return None
        self._early = None
        return result

    async def first_read(
        self, fn: Callable[[Any], T], *, report: bool = False, keep_as: Hashable | None = None
    ) -> T:
        """The read `read_early` started (the same `fn`), the first time; then a new one.
        `report`: `fn` takes a report's connection (DeskGateway.report), else a session;
        `keep_as` (a report): as for `read_early`."""
        early, self._early = self._early, None
        if early is not None:
            result: T = await asyncio.wrap_future(early)
            return result
        return await (self.desk.report(fn, keep_as=keep_as) if report else self.desk.read(fn))
