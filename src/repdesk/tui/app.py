"""RepdeskApp: built by a factory, never at import. Global keys, the quota strip on every
screen, and the cheap watch that shows changes written by other processes (the shell)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, work
from textual.app import App
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.worker import WorkerFailed

from repdesk import background
from repdesk.core import clock
from repdesk.core.standing import QuotaStanding
from repdesk.core.text import printable, shown_value
from repdesk.services.board import FirstScreen, first_screen, load_board
from repdesk.settings import Settings, SettingsError, save_value
from repdesk.settings import load as load_settings
from repdesk.storage import problems
from repdesk.storage.paths import Home, demo_owner, shell_command
from repdesk.tui.gateway import DeskAway, DeskGateway
from repdesk.tui.keyorder import KeysInOrder
from repdesk.tui.lifecycle import (
    already_done,
    asked_from_the_top,
    can_show,
    forget_removed_widgets,
    reload_when_composed,
)
from repdesk.tui.screens.board import BoardScreen
from repdesk.tui.syncing import AppSync
from repdesk.tui.undo import Undo
from repdesk.tui.widgets.quota_strip import QuotaStrip

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.notifications import SeverityLevel
    from textual.timer import Timer

    from repdesk.tui.screens.kpi import KpiScreen

# Everything but the board loads after the first paint, in a thread (RepdeskApp.warm_up): the
# board shows sooner, and by the first key press these are already imported. SQLAlchemy and
# SQLModel come first: the first frame reads with sqlite3 (DeskGateway.report) and never waits
# for them, every write and the deal page need them.
DEFERRED_MODULES = (
    "repdesk.storage.store",
    "repdesk.services.changes",
    "repdesk.tui.actions",
    "repdesk.tui.commands",
    "repdesk.tui.screens.deal",
    "repdesk.tui.screens.followups",
    "repdesk.tui.screens.help",
    "repdesk.tui.screens.playbook",
    "repdesk.tui.screens.review",
    "repdesk.tui.screens.kpi",
    "repdesk.tui.screens.mend",
    "repdesk.tui.screens.people",
    "repdesk.tui.screens.stages",
    "repdesk.tui.screens.sync",
    "repdesk.tui.screens.welcome",
)


# A button pressed or let go: it may open a screen (a footer key, a card), see warm_up.
_CLICKS = (events.MouseDown, events.MouseUp)
# What the rep does (check_for_changes collects garbage only after QUIET_SECONDS without it).
_INPUT = (events.Key, events.MouseDown, events.MouseUp, events.MouseScrollDown,
          events.MouseScrollUp, events.Paste)  # fmt: skip
QUIET_SECONDS = 1.0
# A closed screen leaves its widgets to the collector (some 7,000 objects, 17 ms of a full
# pass on the benchmark's desk): collected once this long passes with no key or click after
# the close. Left to the 1-second tick, the closes of a rep going from screen to screen with
# less than a second between keys piled up into one pass of 170 ms, in the middle of the
# fifth opening of the KPI pane (benchmarks/terminal.py).
CLOSED_SCREEN_PAUSE_SECONDS = 0.25


def _jump_to_deal() -> type[Provider]:
    from repdesk.tui.commands import JumpToDeal

    return JumpToDeal


def _screen_actions() -> type[Provider]:
    from repdesk.tui.commands import ScreenActions

    return ScreenActions


def _find_people() -> type[Provider]:
    from repdesk.tui.screens.people import FindPeople

    return FindPeople


def _capture() -> type[Provider]:
    from repdesk.tui.screens.people import CaptureCommand

    return CaptureCommand


class RepdeskStopped(Exception):
    """An error the app cannot go on after, rendered as one line (not a traceback)."""

    def __rich__(self) -> Text:
        # One line, never cut at the app's width: the terminal wraps it if it must.
        line = f"repdesk: {self.args[0]}"
        return Text(line, style="bold red", no_wrap=True, overflow="ignore")


# After this long with keys held for a big desk's damage check, the app says why.
CHECK_NOTICE_SECONDS = 1.0

# How often the app asks the desk "did anyone else write?" (one cheap pragma).
WATCH_SECONDS = 1.0

KPI_SCREEN_NAME = "kpi"  # the KPI pane, installed: kept between openings (action_kpis)


def lenient_terminal_input() -> None:
    """Bytes from the terminal that are not UTF-8 (an 8-bit Alt key, a Latin-1 paste, a lone
    C1 byte) read as U+FFFD instead of ending the app: Textual's Linux driver decodes its input
    strictly, and one such byte stopped the app with a raw traceback and lost the notes being
    edited (found by a hostile test). Its decoder factory is the one name to replace."""
    if sys.platform == "win32":
        return
    import codecs

    from textual.drivers import linux_driver

    def replacing(encoding: str) -> Callable[..., codecs.IncrementalDecoder]:
        factory = codecs.getincrementaldecoder(encoding)
        return lambda *_args, **_kwargs: factory(errors="replace")

    linux_driver.getincrementaldecoder = replacing  # type: ignore[attr-defined,assignment]


class RepdeskApp(KeysInOrder, App[int]):
    TITLE = "repdesk"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {_jump_to_deal, _screen_actions, _find_people, _capture}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Keys", id="app.help", key_display="?"),
        Binding("1", "board", "Board", id="app.board", show=False),
        # Described in the words a rep types in the palette (it found nothing for "overdue",
        # "going cold" or "commit" but a contact whose letters held them: a new-user trial).
        Binding("2", "followups", "Follow-ups: overdue, going cold",
                id="app.followups", show=False),
        Binding("3", "kpis", "KPIs: quota, pace, forecast", id="app.kpis", show=False),
        Binding("4", "playbook", "Playbook: objection answers", id="app.playbook",
                show=False),
        Binding("5", "review", "Weekly review: commitments", id="app.review",
                show=False),
        Binding("ctrl+p", "command_palette", "Palette", id="app.palette", show=False),
        Binding("ctrl+t", "change_theme", "Theme", id="app.theme", show=False),
        Binding("T", "trash", "Trash: restore what was deleted", id="app.trash", show=False),
        Binding("S", "stages", "Stages: your pipeline", id="app.stages", show=False),
        # The KPI pane's own Q sets the quota of the period it shows; everywhere else, this
        # month's (the one the strip measures against).
        Binding("Q", "set_quota", "Set this month's quota", id="app.set_quota", show=False),
        # Every screen: the stack holds the app's writes from all of them (the board's own
        # `board.undo` is the same action).
        Binding("u", "undo", "Undo the last change", id="app.undo", show=False),
        # The CRM sync (tui/syncing.py): in the background, its state on the top line. Keys
        # no screen binds, upper or lower case: a missed shift does nothing (see README).
        Binding("I", "sync", "Sync with Pipedrive now", id="app.sync", show=False),
        Binding("B", "sync_conflicts", "Sync conflicts: settle each", id="app.sync_conflicts",
                show=False),
    ]  # fmt: skip

    def __init__(
        self,
        desk: DeskGateway,
        *,
        own_home: Home | None = None,
        first: Future[FirstScreen] | None = None,
        checking: Future[Any] | None = None,
    ) -> None:
        """`own_home`: the rep's home when `desk` is its demo desk (`repdesk demo`).
        `first`: the first frame's read, when the caller started it already.
        `checking`: the desk's damage check, still running (a big desk, see open_app in
        cli/app.py): the warm-up waits for it before any key goes through."""
        super().__init__()
        lenient_terminal_input()
        self.desk = desk
        self._checking = checking
        self._loading: Future[Exception | None] | None = None  # the warm-up (warm_up)
        desk.remember_undo = self.remember_undo
        self.on_demo = own_home is not None
        # The rep's own settings file, also while the app shows the demo desk.
        self.settings_file = (own_home or desk.home).settings
        # Else the board's first read starts now, in a thread, while Textual sets up.
        self.board = BoardScreen(first or self.read_first_screen())
        self.set_keymap(desk.settings.keys)
        self.sync = AppSync(self)
        # Set once SQLAlchemy and the other screens are imported, after the first frame.
        self.warmed = threading.Event()
        # Keys and clicks wait from the start until the imports after the first frame are in
        # (see warm_up): a key read before that frame, its action run after the imports
        # began, met them half made (found by a hostile test).
        self._warming = True
        self._held_clicks: list[events.MouseEvent] = []
        self._last_input = time.monotonic()  # the last key or click (check_for_changes)
        self._collect_timer: Timer | None = None  # see _collect_after_a_pause
        self._first_frame_due = False  # the board holds its first cards, not yet drawn
        self._kpi_screen: KpiScreen | None = None  # kept between openings (action_kpis)
        self._last_quota: QuotaStanding | None = None  # the figures every strip shows
        # False until the app's start is over (on_ready): the board holds its first frame
        # back until then (BoardScreen._compositor_refresh).
        self.started = False

    def read_first_screen(self) -> Future[FirstScreen]:
        conversion = self.desk.settings.conversion
        return self.desk.report_soon(lambda conn: first_screen(conn, conversion=conversion))

    def on_mount(self) -> None:
        try:
            self.theme = self.desk.settings.theme
        except Exception:  # an unknown theme name in the settings: keep the default
            # Quoted cut short: a 900 KB name filled the screen (a hostile test).
            theme = shown_value(self.desk.settings.theme)
            self.notify(f"Unknown theme {theme}; using the default.")
        # The baseline: what was written before now is in the full read after the first frame.
        self.desk.changed_elsewhere()
        self.set_interval(WATCH_SECONDS, self.check_for_changes)

    def get_default_screen(self) -> BoardScreen:
        # The board is the bottom of the stack, in place of Textual's own empty screen: that
        # one was composed, styled and laid out under the board for nothing, and the board,
        # pushed from on_mount, was laid out and drawn inside the app's start (one batch
        # update), its first frame then drawn again (benchmarks/terminal.py: 30-40 ms of
        # the first frame on a 10,000-deal desk).
        return self.board

    def pop_screen(self) -> AwaitComplete:
        # The board is the bottom of the stack and stays: Textual stops the app when the last
        # screen goes. And a pop asked from a screen that is no longer on top is a second
        # dismissal of it: two clicks on a line of Textual's own palette or theme picker both
        # reach it before it is gone, and its second dismissal popped the screen under it
        # (the app's own screens are dismissed once: lifecycle.DismissedOnce).
        if len(self.screen_stack) <= 1 or not asked_from_the_top(self):
            return already_done()
        popped: AwaitComplete = super().pop_screen()
        self._collect_after_a_pause()
        return popped

    def _collect_after_a_pause(self) -> None:
        """The collector's full pass at the first pause in the keys and clicks."""
        if self._collect_timer is None:
            self._collect_timer = self.set_timer(
                CLOSED_SCREEN_PAUSE_SECONDS, self._collect_in_the_pause
            )

    def _collect_in_the_pause(self) -> None:
        self._collect_timer = None
        wait = CLOSED_SCREEN_PAUSE_SECONDS - (time.monotonic() - self._last_input)
        if self._warming:
            wait = QUIET_SECONDS
        if wait > 0:
            self._collect_timer = self.set_timer(wait, self._collect_in_the_pause)
            return
        self.collect_garbage()

    def collect_garbage(self) -> None:
        """The collector's full pass, if due (background.collect_if_due), with nothing of the
        removed widgets left in Textual's caches to keep them."""
        forget_removed_widgets()
        background.collect_if_due()

    def on_ready(self) -> None:
        # Textual posts Ready at the first screen's first layout, and the app reads it once its
        # start (one batch update) is over: the first frame the board held back is drawn now.
        self.started = True
        if self.board.first_frame_held:
            self.board.first_frame_held = False
            self.board.refresh()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast of the app and its widgets comes here (Widget.notify calls this). Its
        text is never markup, whatever a caller asks for: a message names deals, stages,
        settings and paths, and `[/]` would crash the app, `[@click=...]` make a live action."""
        kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        super().notify(
            printable(message, multiline=True),
            title=printable(title),
            severity=severity,
            markup=False,
            **kwargs,
        )

    def get_key_display(self, binding: Binding) -> str:
        # A key comes from the settings' [keys]: the footer, `?` and the palette show it.
        return printable(super().get_key_display(binding))

    def watch_theme(self, theme: str) -> None:
        if theme != self.desk.settings.theme:
            self.desk.settings = self.desk.settings.with_theme(theme)
            try:
                save_value(self.settings_file, "theme", theme)
            except OSError:
                self.notify("Could not save the theme in the settings file.", severity="warning")
            except SettingsError as exc:  # the rep broke the file while the app ran
                self.notify(str(exc), severity="warning", timeout=10)

    def desk_is_away(self, message: str) -> None:
        """The desk file moved away or its server stopped: one line, once, and the screen
        stays; check_for_changes reloads everything when the desk is back."""
        self.desk.away = message
        if not self.desk.away_shown:
            self.desk.away_shown = True
            self.notify(message, title="Desk", severity="error", timeout=10, markup=False)

    def check_for_changes(self) -> None:
        """Another process (e.g. `repdesk log call` in another terminal) wrote: show it. Also
        notices a desk that went away, and reloads everything when it is back."""
        if not self.screen_stack:
            # Quitting: the screens are gone before this timer stops (seen on a busy machine,
            # where `self.screen` then raised and the quit ended in "unexpected error").
            return
        changed = self.desk.changed_elsewhere()
        if self.desk.away is None and (gone := self.desk.file_gone()) is not None:
            self.desk_is_away(gone)
            return
        if self.desk.away is not None:
            if not self.desk.away_shown:  # found by a read nobody waited for (read_ahead)
                self.desk_is_away(self.desk.away)
            if not self.desk.is_back(changed):
                return
            self.desk.here_again()
            self.notify("The desk is back.", title="Desk", timeout=5)
            changed = True
        if self.desk.replaced is not None:
            self.notify(self.desk.replaced, title="Desk", timeout=10, severity="warning")
            self.desk.replaced = None
        if changed:
            screen = self.screen
            # Every screen that shows desk data has a reload(); forms and help do not.
            reload = getattr(screen, "reload", None)
            if callable(reload):
                reload_when_composed(screen, reload)
            if screen is not self.board:
                self.board.reload()
            for below in self.screen_stack[:-1]:  # under the top; the board reloads above
                mark = getattr(below, "changed_while_away", None)
                if below is not self.board and callable(mark):
                    mark()
            self.refresh_quota()
            self.sync.refresh()  # "3 waiting" counts the writes not sent yet
        self.read_ahead()
        if not self._warming and time.monotonic() - self._last_input >= QUIET_SECONDS:
            self.make_kpi_pane_ahead()
            # The collector's full pass, while nobody types (background.collect_in_pauses).
            self.collect_garbage()

    def read_ahead(self) -> None:
        """Once a second (the change timer): when this month's KPI pane or the queues' first
        rows went stale (a write, a new day, new settings), read them again in the background,
        and draw the pane's charts, so keys 3 and 2 open on their figures. Not while the
        imports are loading (the screens' modules are among them), the desk is away, or the
        screen is up (it reads for itself); nor before every card is in (the board's full read
        after the first frame goes first)."""
        if self._warming or self.desk.away is not None or not self.board.loaded:
            return
        if not self.screen_stack:
            return  # quitting: called from the start's last steps (warmed_up, the board's read)
        from repdesk.tui.screens.followups import FollowUpsScreen
        from repdesk.tui.screens.kpi import KpiScreen

        if not isinstance(self.screen, KpiScreen):
            KpiScreen.read_ahead(self.desk, self)
        if not isinstance(self.screen, FollowUpsScreen):
            FollowUpsScreen.read_ahead(self.desk)

    def make_kpi_pane_ahead(self) -> None:
        """In a pause on the board, once this month's figures are read ahead: the KPI pane
        made off screen (composed, filled and styled, as Textual starts a screen it is asked
        to show), so that key 3's first opening only lays it out and draws it, as the later
        ones do (action_kpis keeps it). About half of the first opening, on the UI thread in
        a pause instead of after the key."""
        from repdesk.tui.screens.kpi import KpiScreen

        if self._kpi_screen is not None or self.screen is not self.board:
            return
        if self.desk.away is not None or not KpiScreen.has_figures_ahead(self.desk):
            return
        screen = self._new_kpi_screen()
        # Textual's own start of a screen, as push_screen does it (its message pump, compose
        # and mount), without the push: the pane is there, not shown.
        self._get_screen(screen)

    def _new_kpi_screen(self) -> KpiScreen:
        from repdesk.tui.screens.kpi import KpiScreen

        screen = self._kpi_screen = KpiScreen()
        # Installed, the pane stays when the rep goes back to the board: the next opening
        # shows it again instead of composing, styling and laying out its 26 widgets anew.
        self.install_screen(screen, KPI_SCREEN_NAME)
        return screen

    def refresh_quota(self) -> None:
        """Show this month's figures on every strip: at once when nothing was written since
        the last read (a screen opened on a quiet desk has its strip in its first frame),
        else after a read."""
        known = self.desk.known_quota_figures()
        if known is not None:
            self.show_quota(known)
        else:
            self._read_quota()

    @work(exclusive=True, group="quota")
    async def _read_quota(self) -> None:
        self.show_quota(await asyncio.to_thread(self.desk.quota_figures))

    def show_quota(self, figures: QuotaStanding) -> None:
        self._last_quota = figures
        for screen in self.screen_stack:
            if not can_show(screen):
                continue  # going away: its strip is being removed
            for strip in screen.query(QuotaStrip):
                strip.show_figures(figures, self.desk.settings.currency, demo=self.on_demo)

    def draw_last_quota(self, strip: QuotaStrip) -> None:
        """A strip mounted after the last figures went out shows them too."""
        if self._last_quota is not None:
            strip.show_figures(self._last_quota, self.desk.settings.currency, demo=self.on_demo)

    def open_deal(self, deal_id: int) -> None:
        from repdesk.tui.screens.deal import DealScreen

        self.push_screen(DealScreen(deal_id), self._reload_board)

    def _reload_board(self, _result: object) -> None:
        """What a screen pushed from the board calls when it closes."""
        self.board.reload()

    def jump_to_deal(self, deal_id: int) -> None:
        self.action_board()
        self.open_deal(deal_id)

    def remember_undo(self, undo: Undo) -> None:
        self.board.undo_stack.append(undo)

    def remember_saved(self, undo: Undo) -> None:
        """A form's write: kept for undo, and said, as a new deal or a delete is (a card that
        moves or a row that goes is easy to miss)."""
        self.remember_undo(undo)
        what = printable(undo.description)
        came_to = f", {printable(undo.result)}" if undo.result else ""
        self.notify(f"{what[:1].upper()}{what[1:]}: saved{came_to} · u undoes.", markup=False)

    async def delete_to_trash(self, *, kind: str, item_id: int, deal_id: int) -> bool:
        """Move a deal, activity, follow-up or objection to the trash, say so (or why not) and
        keep its undo; True when it went. The board, the deal page and the queues share it."""
        from repdesk.tui import actions

        try:
            item, undo = await actions.delete(
                self.desk, kind=kind, item_id=item_id, deal_id=deal_id
            )
        except Exception as exc:
            self.notify(self.desk.explain(exc), severity="error", timeout=10)
            return False
        self.remember_undo(undo)
        # The label holds the deal's title as typed: a line break in it broke the toast's line.
        self.notify(f"Deleted {printable(item.what)}: u undoes; the trash (T) keeps it 30 days.")
        return True

    async def undo_last(self) -> None:
        """Take back the app's last write (the stack holds every one since the start); refuse,
        saying why, when what it wrote changed since (another program wrote there)."""
        from repdesk.services.changes import UndoRefused

        stack = self.board.undo_stack
        if not stack:
            self.notify("Nothing to undo.")
            return
        undo = stack.pop()
        what = printable(undo.description)
        try:
            await self.desk.write(undo.revert)
        except UndoRefused as exc:
            # Left off the stack: trying again cannot help, and the next `u` goes further back.
            self.notify(
                f"Cannot undo the {what}: {printable(str(exc))}. Nothing was changed.",
                severity="warning",
                markup=False,
                timeout=10,
            )
            return
        except Exception as exc:
            stack.append(undo)  # a full disk, a busy desk: still there to try again
            self.notify(self.desk.explain(exc), severity="error", timeout=10)
            return
        self.notify(f"Undid the {what}.", markup=False)
        if undo.stage_id is not None:
            # The cursor follows the deal back to the column it returned to.
            self.board.follow = (undo.stage_id, undo.deal_id)
        # A screen of rows puts its cursor back on what the undo brought back (the queues).
        follow = getattr(self.screen, "follow_undone", None)
        if callable(follow):
            follow(undo)
        reload = getattr(self.screen, "reload", None)
        if self.screen is not self.board and callable(reload):
            reload()
        self.board.reload()

    async def action_undo(self) -> None:
        await self.undo_last()

    async def action_set_quota(self) -> None:
        from textual.screen import ModalScreen

        from repdesk.core.dates import period_containing
        from repdesk.tui import actions

        if isinstance(self.screen, ModalScreen):
            return  # a form or a question is open: its own keys first
        known = self.desk.known_quota_figures()
        if known is None:
            # Not read since the last write, or only the first frame's read (the strip shows
            # the quota, and an empty form read as none set): read it now.
            with contextlib.suppress(Exception):  # the desk away: the form still opens
                known = await asyncio.to_thread(self.desk.quota_figures)
            if isinstance(self.screen, ModalScreen):
                return

        def saved(result: Any) -> None:
            if result is not None:
                self.refresh_quota()
                actions.say_quota_cleared(self, result)

        self.push_screen(
            actions.quota_form(
                self.desk,
                period=period_containing(clock.today(), "month"),
                current=known.quota if known is not None else None,
            ),
            saved,
        )

    def action_stages(self) -> None:
        from repdesk.tui.screens.stages import StagesScreen

        if not isinstance(self.screen, StagesScreen):
            self.push_screen(StagesScreen(), self._reload_board)

    def action_trash(self) -> None:
        from repdesk.tui.screens.mend import TrashScreen

        if not isinstance(self.screen, TrashScreen):
            self.push_screen(TrashScreen(), self._reload_board)

    def action_sync(self) -> None:
        self.sync.run()

    def action_sync_conflicts(self) -> None:
        from repdesk.tui.screens.sync import ConflictsScreen

        if not isinstance(self.screen, ConflictsScreen):
            self.push_screen(ConflictsScreen(), self._reload_board)

    def action_board(self) -> None:
        while self.screen is not self.board and len(self.screen_stack) > 1:
            self.pop_screen()

    def action_playbook(self) -> None:
        from repdesk.tui.screens.playbook import PlaybookScreen

        if not isinstance(self.screen, PlaybookScreen):
            self.action_board()
            self.push_screen(PlaybookScreen())

    def action_followups(self) -> None:
        from repdesk.tui.screens.followups import FollowUpsScreen

        if isinstance(self.screen, FollowUpsScreen):
            return
        self.action_board()
        self.push_screen(FollowUpsScreen(), self._reload_board)

    def action_review(self) -> None:
        from repdesk.tui.screens.review import ReviewScreen

        if not isinstance(self.screen, ReviewScreen):
            self.action_board()
            self.push_screen(ReviewScreen(), self._reload_board)

    def action_kpis(self) -> None:
        screen = self._kpi_screen
        if screen is not None and screen in self.screen_stack:
            while self.screen is not screen:  # under help or a form: back to it
                self.pop_screen()
            return
        self.action_board()
        if screen is None or not can_show(screen):
            screen = self._new_kpi_screen()
        else:
            screen.reopen()
        self.push_screen(screen)

    def first_frame_composed(self) -> None:
        """The board holds its first cards: `after_first_paint` runs once they are drawn."""
        self._first_frame_due = True

    def post_display_hook(self) -> None:
        # Textual calls this after each frame it displays (and after one a batch update held
        # back). `call_after_refresh` is too early for the first frame: the app's start runs
        # in one batch update (App._process_messages), inside which callbacks run at once and
        # nothing is drawn. Started there, the work after the first frame (every card,
        # SQLAlchemy's import) fought the drawing of it: in tmux the cards showed a second
        # later. Here the frame has gone to the driver (its writer thread, in a terminal).
        if self._first_frame_due and not self._batch_count:
            self._first_frame_due = False
            self.call_later(self.after_first_paint)

    def after_first_paint(self) -> None:
        """The board's first frame is out: now the work it did not wait for."""
        self.warm_up()
        # Every card, not just the first screenful, and the quota figures again: a write from
        # the shell between the first frame's read and the watch's start shows up here.
        self.board.reload()

    async def warmed_up(self) -> None:
        """The imports are in: what needs them (and the keys and clicks held meanwhile) goes."""
        await self.board.add_filter_field()  # before any key: `/` finds it
        if not can_show(self.board):
            # The app quits during its start (found under scripts/under-load): its screens are
            # being removed, and the filter field found no footer to go above.
            return
        self._warming = False
        self.launch_notice()
        self.sync.start_watch()
        clicks, self._held_clicks = self._held_clicks, []
        for click in clicks:
            await super().on_event(click)
        await self.next_key()
        self.read_ahead()  # the board's cards may be in already: see BoardScreen._show

    def keys_held(self) -> bool:
        return self._warming

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _INPUT):
            self._last_input = time.monotonic()
        if self._warming and isinstance(event, _CLICKS) and not event.is_forwarded:
            self._held_clicks.append(event)  # a click may open a screen: see warm_up
            return
        await super().on_event(event)

    @work(exclusive=True, group="launch-notice")
    async def launch_notice(self) -> None:
        """On launch: the welcome on an empty desk, else how many follow-ups are due."""
        from repdesk.tui.screens.welcome import WelcomeScreen

        if not any(self.board.cards.values()):
            _, every_card = await self.desk.report(lambda c: load_board(c, include_closed=True))
            if not any(every_card.values()) and self.screen is self.board:
                self.push_screen(WelcomeScreen())
                return
        # The two counts, not the queues: on a big desk reading every queue right after the
        # first frame cost a second of CPU and the memory of all its rows.
        from repdesk.reports import figures  # imported by the warm-up, after the first frame

        day = clock.today()
        overdue, today = await self.desk.report(lambda c: figures.due_counts(c, today=day))
        if overdue or today:
            self.notify(
                f"{overdue} overdue and {today} due today: press 2 for your queues.",
                title="Follow-ups",
                severity="warning" if overdue else "information",
                timeout=8,
            )

    def warm_up(self) -> None:
        """Import SQLAlchemy, the other screens and the forms in a thread, now that the board
        is up, and build the engine the first write will use.

        Until that is done nothing else imports them: keys and clicks wait (a key typed
        meanwhile lands once it is done, in order), and so do the launch notice and the sync
        line. Python imports a package from two threads at once badly: SQLAlchemy's modules
        import each other, and the second thread can be handed one half made ("cannot import
        name 'AdaptedConnection' from partially initialized module", seen when the launch
        notice imported the welcome screen during this)."""
        desk = self.desk
        self._warming = True
        if self._checking is not None:
            self.set_timer(CHECK_NOTICE_SECONDS, self._still_checking)

        def load() -> Exception | None:
            """In a thread: the imports; a damage check's verdict (see open_app) first."""
            if self._checking is not None:
                try:
                    self._checking.result()
                except Exception as exc:
                    return exc  # a damaged desk: no key ever goes through
            try:
                for name in DEFERRED_MODULES:
                    importlib.import_module(name)
                if desk.settings.database_url is None:
                    # A desk that went away meanwhile: the write that needs it says so.
                    with contextlib.suppress(Exception):
                        _ = desk.engine
                        # SQLAlchemy compiles each statement the first time it runs (the
                        # first deal page opened took 75 ms to read, later ones 12): once here.
                        from repdesk.tui.screens.deal import warm_page_reads

                        desk.read_now(warm_page_reads)
            finally:
                # The collector was paused for the start (cli.open_app): the imports' objects
                # live as long as the process; frozen now, no collection ever walks them, and
                # none ran in the middle of the imports to stall a key press.
                background.resume_collector()
                self.warmed.set()
            return None

        self._loading = background.start(load, "repdesk-warm-up")
        # Collected in a worker of the app's own loop: one that is gone (a quick quit) simply
        # never runs it.
        self._when_warm()

    def _still_checking(self) -> None:
        """Keys held for a while: say why (the first start of a day checks every page of a big
        desk, several seconds)."""
        if self._checking is not None and not self._checking.done():
            self.notify(
                "Checking the desk for damage, as on the first start of each day: the keys "
                "you press wait until it is done.",
                title="Desk",
                timeout=6,
            )

    @work(group="warm-up")
    async def _when_warm(self) -> None:
        if self._loading is None:
            return
        problem = await asyncio.wrap_future(self._loading)
        if problem is not None:
            self._handle_exception(problem)  # the app stops with the desk's one line
            return
        await self.warmed_up()
        # Every screen is known now: a [keys] entry for no binding is a typo to point out.
        unknown = sorted(set(self.desk.settings.keys) - binding_ids())
        if unknown:
            self.notify(
                f"{self.settings_file}: [keys] names no action: {', '.join(unknown)}. "
                "`?` shows each key's id.",
                title="Settings",
                severity="warning",
                timeout=12,
            )

    def action_help(self) -> None:
        from repdesk.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    @work(exclusive=True, group="open-demo")
    async def open_demo_desk(self) -> None:
        """From the welcome: the demo desk in place of the (empty) desk, which stays as it is."""
        home = self.desk.home.demo
        from repdesk import demo  # only on this path: the app's start does not pay for it

        await asyncio.to_thread(
            lambda: demo.ensure_built(home, today=clock.today(), now=clock.now())
        )
        own = shell_command(self.desk.home)
        old, self.desk = self.desk, DeskGateway(home, self._demo_settings(home))
        self.desk.remember_undo = self.remember_undo
        old.close()
        self.on_demo = True
        self.desk.changed_elsewhere()
        self.sync.desk_changed()
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        self.board.start_over()  # the bottom of the stack (get_default_screen): kept
        self.sub_title = "demo desk"
        self.notify(
            "This is the demo desk, made up and rebuilt daily. Your own desk is untouched: "
            f"`{printable(own)}` opens it.",
            title="Demo desk",
            timeout=10,
        )

    def _demo_settings(self, home: Home) -> Settings:
        """The demo desk's own settings (its currency rates: the rep's own would leave its
        pounds and dollars out of every figure, and a rep's server would be the wrong desk),
        in the rep's theme, as `repdesk demo` opens it (create_app)."""
        try:
            return load_settings(home.settings).with_theme(self.desk.settings.theme)
        except Exception:  # a demo settings file damaged since it was built: the rep's will do
            return self.desk.settings.replace(database_url=None)

    async def _dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        # A key whose action reads the desk (opening a form) while the desk is away: the line
        # of desk_is_away, not the end of the app (an error in a handler would end it).
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except DeskAway as exc:
            self.desk_is_away(str(exc))
            return True

    def _handle_exception(self, error: Exception) -> None:
        if isinstance(error, NoMatches) and not self.is_running:
            # Quitting while a form was still being put together (under load: a quit right
            # after `n`): Textual removed the Select's list before the Select's own mount
            # looked for it. Nothing of the rep's is lost; the quit goes on without a line.
            return
        if isinstance(error, WorkerFailed) and isinstance(error.error, DeskAway):
            # A read or write in a worker found the desk away: the worker is over, the screen
            # and everything else goes on.
            self.desk_is_away(str(error.error))
            return
        # Textual's default is a full traceback. A rep gets one line that names the desk and
        # what to do (a damaged file, a full disk); the details go to a crash log.
        home = self.desk.home
        message, _ = problems.describe(error, str(home.desk), crash_log=home.crash_log)
        super()._handle_exception(RepdeskStopped(message))

    def _print_error_renderables(self) -> None:
        # After the first error Textual adds "NOTE: 1 of N errors shown. Run with textual run
        # --dev ...": a rep gets the first error's one line (each is in the crash log).
        if "debug" not in self.features:
            del self._exit_renderables[1:]
            if isinstance(self._exception, RepdeskStopped) and self._exit_renderables:
                # Textual drew the line at the app's width (App.panic) and prints what it drew
                # cropped: "…is damaged (Page 35029: btreeInitPage() returns error c", the way
                # out cut off. Printed whole instead, for the terminal to wrap (found by a
                # hostile test, on a big desk checked after its first frame).
                self._exit_renderables.clear()
                self.error_console.print(self._exception.__rich__(), soft_wrap=True)
                return
        super()._print_error_renderables()

    def on_unmount(self) -> None:
        self.desk.close()


def binding_ids() -> set[str]:
    """The id of every binding of every screen and widget loaded (see DEFERRED_MODULES)."""
    from textual.dom import DOMNode

    found: set[str] = set()
    classes: list[type] = [DOMNode]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        for binding in cls.__dict__.get("BINDINGS", []):
            if getattr(binding, "id", None):
                found.add(binding.id)
    return found


def create_app(
    home: Home,
    settings: Settings,
    *,
    verified: bool = False,
    first: Future[FirstScreen] | None = None,
    checking: Future[Any] | None = None,
) -> RepdeskApp:
    """`verified`: the caller checked the desk file for damage (see DeskGateway), or is
    checking it (`checking`, see RepdeskApp). `first`: the first frame's read, started by the
    caller (see open_app in cli/app.py)."""
    own_home = demo_owner(home)
    if own_home is not None:
        # The demo keeps its own settings (currency rates) but wears the rep's theme.
        # A damaged settings file of the rep's: the demo's own theme will do.
        with contextlib.suppress(Exception):
            settings = settings.with_theme(load_settings(own_home.settings).theme)
    desk = DeskGateway(home, settings, verified=verified)
    return RepdeskApp(desk, own_home=own_home, first=first, checking=checking)


def run_app(
    home: Home,
    settings: Settings,
    *,
    verified: bool = False,
    first: Future[FirstScreen] | None = None,
    checking: Future[Any] | None = None,
    run: Callable[[RepdeskApp], object] = RepdeskApp.run,
) -> int:
    """`run`: how to run it (the benchmark runs it headless and stops at the first paint)."""
    _ = clock.now()  # a malformed REPDESK_NOW fails here, before the screen is taken over
    background.share_the_gil_finely()  # `repdesk demo` and the tests come this way too
    app = create_app(home, settings, verified=verified, first=first, checking=checking)
    run(app)
    return app.return_code or 0
