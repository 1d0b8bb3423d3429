"""RepdeskApp: built by a factory, never at import. Global keys, the quota strip on every
screen, and the cheap watch that shows changes written by other processes (the shell)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.widgets import HelpPanel

from repdesk import clock, problems
from repdesk.paths import Home
from repdesk.services.board import load_board
from repdesk.settings import Settings, save_value
from repdesk.tui.actions import Undo
from repdesk.tui.commands import JumpToDeal, ScreenActions
from repdesk.tui.gateway import DeskGateway
from repdesk.tui.screens.board import BoardScreen
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.followups import FollowUpsScreen, load_queues
from repdesk.tui.screens.playbook import PlaybookScreen
from repdesk.tui.widgets.quota_strip import QuotaStrip


class RepdeskStopped(Exception):
    """An error the app cannot go on after, rendered as one line (not a traceback)."""

    def __rich__(self) -> Text:
        return Text(f"repdesk: {self.args[0]}", style="bold red")


# How often the app asks the desk "did anyone else write?" (one cheap pragma).
WATCH_SECONDS = 1.0


class RepdeskApp(App[int]):
    TITLE = "repdesk"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {JumpToDeal, ScreenActions}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Keys", id="app.help", key_display="?"),
        Binding("1", "board", "Board", id="app.board", show=False),
        Binding("2", "followups", "Follow-ups", id="app.followups", show=False),
        Binding("3", "kpis", "KPIs", id="app.kpis", show=False),
        Binding("4", "playbook", "Playbook", id="app.playbook", show=False),
        Binding("ctrl+p", "command_palette", "Palette", id="app.palette", show=False),
    ]

    def __init__(self, desk: DeskGateway) -> None:
        super().__init__()
        self.desk = desk
        # The board's read starts now, in a thread, while Textual sets up the screen.
        self.board = BoardScreen(first_load=desk.read_soon(load_board))
        self.set_keymap(desk.settings.keys)

    def on_mount(self) -> None:
        try:
            self.theme = self.desk.settings.theme
        except Exception:  # an unknown theme name in the settings: keep the default
            self.notify(f"Unknown theme {self.desk.settings.theme!r}; using the default.")
        self.desk.changed_elsewhere()  # the baseline: later writes by anyone count as changes
        self.push_screen(self.board)
        self.set_interval(WATCH_SECONDS, self.check_for_changes)

    def watch_theme(self, theme: str) -> None:
        if self.is_mounted and theme != self.desk.settings.theme:
            self.desk.settings = self.desk.settings.with_theme(theme)
            try:
                save_value(self.desk.home.settings, "theme", theme)
            except OSError:
                self.notify("Could not save the theme in the settings file.", severity="warning")

    def check_for_changes(self) -> None:
        """Another process (e.g. `repdesk log call` in another terminal) wrote: show it."""
        if self.desk.changed_elsewhere():
            screen = self.screen
            # Every screen that shows desk data has a reload(); forms and help do not.
            reload = getattr(screen, "reload", None)
            if callable(reload):
                reload()
            if screen is not self.board:
                self.board.reload()
            self.refresh_quota()

    @work(exclusive=True, group="quota")
    async def refresh_quota(self) -> None:
        import asyncio

        figures = await asyncio.to_thread(self.desk.quota_figures)
        for screen in self.screen_stack:
            for strip in screen.query(QuotaStrip):
                strip.show_figures(figures, self.desk.settings.currency)

    def open_deal(self, deal_id: int) -> None:
        def back(_: Any) -> None:
            self.board.reload()

        self.push_screen(DealScreen(deal_id), back)

    def jump_to_deal(self, deal_id: int) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.open_deal(deal_id)

    def remember_undo(self, undo: Undo) -> None:
        self.board.undo_stack.append(undo)

    def action_board(self) -> None:
        while self.screen is not self.board and len(self.screen_stack) > 2:
            self.pop_screen()

    def action_playbook(self) -> None:
        if not isinstance(self.screen, PlaybookScreen):
            self.action_board()
            self.push_screen(PlaybookScreen())

    def action_followups(self) -> None:
        if isinstance(self.screen, FollowUpsScreen):
            return
        self.action_board()
        self.push_screen(FollowUpsScreen(), lambda _: self.board.reload())

    def action_kpis(self) -> None:
        # Imported on first use: the charts' plotting library is not needed for the board.
        from repdesk.tui.screens.kpi import KpiScreen

        if not isinstance(self.screen, KpiScreen):
            self.action_board()
            self.push_screen(KpiScreen())

    @work(exclusive=True, group="launch-notice")
    async def launch_notice(self) -> None:
        """On launch: how many follow-ups are overdue and due today."""
        days = self.desk.settings.going_cold_days
        queues = await self.desk.read(lambda s: load_queues(s, days))
        overdue, today = len(queues.overdue), len(queues.today)
        if overdue or today:
            self.notify(
                f"{overdue} overdue and {today} due today: press 2 for your queues.",
                title="Follow-ups",
                severity="warning" if overdue else "information",
                timeout=8,
            )

    def action_help(self) -> None:
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def _handle_exception(self, error: Exception) -> None:
        # Textual's default is a full traceback. A rep gets one line that names the desk and
        # what to do (a damaged file, a full disk); the details go to a crash log.
        message, _ = problems.describe(error, str(self.desk.home.desk))
        super()._handle_exception(RepdeskStopped(message))

    def on_unmount(self) -> None:
        self.desk.close()


def create_app(home: Home, settings: Settings) -> RepdeskApp:
    return RepdeskApp(DeskGateway(home, settings))


def run_app(home: Home, settings: Settings) -> int:
    _ = clock.now()  # a malformed REPDESK_NOW fails here, before the screen is taken over
    app = create_app(home, settings)
    app.run()
    return app.return_code or 0
