"""The first screen on an empty desk: how to get deals in, and the quota to measure them by.

Shown over the (empty) board instead of leaving a newcomer in front of six blank columns.
Every choice is a key (and a button): add the first deal, set this month's quota, look around
the demo desk, or go to the empty board; importing is a shell command, named here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from repdesk.core import clock
from repdesk.core.dates import Period, period_containing
from repdesk.core.money import format_money
from repdesk.core.text import printable
from repdesk.reports import queries
from repdesk.storage.paths import shell_command
from repdesk.tui import actions
from repdesk.tui.gateway import DeskGateway
from repdesk.tui.lifecycle import DismissedOnce
from repdesk.tui.screens.help import key_for

if TYPE_CHECKING:
    from textual import getters

    from repdesk.tui.app import RepdeskApp


IMPORT_COLUMNS = "title (the one required), company, contact, value, stage, expected_close, ..."


class Choice(Static):
    """One choice: its key and what it does; a click runs it like the key."""

    def __init__(self, action: str) -> None:
        super().__init__(id=f"welcome-{action.replace('_', '-')}", classes="choice")
        self.action = action

    async def on_click(self, event: events.Click) -> None:
        event.stop()
        if self.screen is not self.app.screen:
            return  # a second click of a double click, after the first opened a form over it
        await self.screen.run_action(self.action)


class WelcomeScreen(DismissedOnce, ModalScreen[None]):
    if TYPE_CHECKING:  # self.app is a RepdeskApp (Textual's typed getter; no runtime check)
        app = getters.app(RepdeskApp)

    TITLE = "Welcome"
    BINDINGS = [
        Binding("n", "first_deal", "Add your first deal", id="welcome.new_deal"),
        Binding("Q", "set_quota", "Set your quota", id="welcome.quota"),
        Binding("t", "demo", "Try the demo desk first", id="welcome.demo"),
        Binding("escape", "close", "Go to the empty board", id="welcome.close", key_display="esc"),
        Binding("q", "app.quit", "Quit", id="welcome.quit", show=False),
    ]
    CHOICES = ("first_deal", "set_quota", "demo", "close")
    _opening_demo = False  # `t` pressed: the demo desk is being built (action_demo)
    DEFAULT_CSS = """
    WelcomeScreen { align: center middle; background: $background 60%; }
    WelcomeScreen #welcome-box {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 2; overflow-y: auto;
    }
    WelcomeScreen #welcome-title { text-style: bold; color: $accent; margin-top: 1; }
    WelcomeScreen #welcome-intro { margin-bottom: 1; }
    WelcomeScreen .choice { height: 1; }
    WelcomeScreen .choice:hover { background: $boost; }
    WelcomeScreen #welcome-quota { color: $success; height: auto; }
    WelcomeScreen #welcome-quota.-empty { display: none; }
    WelcomeScreen #welcome-import { margin-top: 1; height: auto; }
    WelcomeScreen #welcome-desk { color: $text-muted; margin: 1 0; height: auto; }
    """

    @property
    def desk(self) -> DeskGateway:
        return self.app.desk

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome-box"):
            yield Static(Text("Welcome to repdesk"), id="welcome-title")
            yield Static(
                Text("Your desk is empty. Start whichever way suits you:"), id="welcome-intro"
            )
            for action in self.CHOICES:
                yield Choice(action)
            yield Static("", id="welcome-quota", classes="-empty")
            # Not "UTF-8 CSV": that undersold what comes in (a new-user trial).
            # Each command on a line of its own, what it does said before them: beside them,
            # "all rows or none" wrapped mid-phrase, and a long --home split a command.
            intro = Text(
                "Deals in a spreadsheet, or exported from Salesforce, HubSpot or Pipedrive? "
                "Import them from the shell: first check every row (nothing is written), then "
                "import (all rows or none):\n"
            )
            command = printable(shell_command(self.desk.home))
            intro.append(f"  {command} import deals.csv --dry-run\n", style="bold")
            intro.append(f"  {command} import deals.csv\n", style="bold")
            intro.append(f"Columns: {IMPORT_COLUMNS} (README)", style="dim")
            yield Static(intro, id="welcome-import")
            yield Static(
                Text("Everything stays in one SQLite file on this machine; works offline."),
                id="welcome-desk",
            )

    def on_mount(self) -> None:
        # The labels carry the keys as bound now: a keymap in the settings shows here too.
        descriptions = {b.action: b.description for _key, b in self._bindings}
        for choice in self.query(Choice):
            label = Text()
            label.append(f"{key_for(self, choice.action):<6}", style="bold")
            label.append(descriptions.get(choice.action, ""))
            choice.update(label)

    def action_first_deal(self) -> None:
        self.dismiss()
        self.app.board.action_new()

    def action_set_quota(self) -> None:
        def saved(result: tuple[Period, int | None] | None) -> None:
            if result is None or result[1] is None:
                return
            period, amount = result
            line = self.query_one("#welcome-quota", Static)
            money = format_money(amount, self.desk.settings.currency)
            line.update(Text(f"✓ Quota for {period.label}: {money}"))
            line.remove_class("-empty")
            self.app.refresh_quota()

        this_month = period_containing(clock.today(), "month")
        self.app.push_screen(actions.quota_form(self.desk, period=this_month, current=None), saved)

    def action_demo(self) -> None:
        if self._opening_demo:
            # A second `t` (a double tap) while the first builds it: a second build of the
            # same files stopped the app (found by a hostile test).
            return
        self._opening_demo = True
        self.query_one("#welcome-intro", Static).update(Text("Opening the demo desk…"))
        self.app.open_demo_desk()

    def action_close(self) -> None:
        self.dismiss()

    # The app's screen keys (1 board .. 5 review): a modal screen hides the app's bindings,
    # and `3` on the welcome did nothing and said nothing (a forecast trial).
    SCREEN_ACTIONS = frozenset({"board", "followups", "kpis", "playbook", "review"})

    def on_key(self, event: events.Key) -> None:
        if event.key in self._bindings.key_to_bindings:
            return  # the welcome's own keys win, as every screen's do over the app's
        bindings = self.app._bindings.copy()
        bindings.apply_keymap(self.app._keymap)  # as the rep's [keys] bind them
        for binding in bindings.key_to_bindings.get(event.key, []):
            if binding.action in self.SCREEN_ACTIONS:
                event.stop()
                self.dismiss()
                if binding.action != "board":  # the board is under the welcome
                    self.app.call_later(self.app.run_action, binding.action)
                return

    def reload(self) -> None:
        """The desk changed (app.check_for_changes): deals imported or added from the shell
        while the welcome was up end it, as they would have kept it from opening."""
        self._leave_once_deals_arrive()

    def on_screen_resume(self) -> None:
        # A form opened from here (the quota) may have covered a change made meanwhile.
        self._leave_once_deals_arrive()

    @work(exclusive=True, group="welcome-deals")
    async def _leave_once_deals_arrive(self) -> None:
        found = await self.desk.report(lambda conn: queries.fetch(conn, "has_deals"))
        if found and self.is_current and not self._opening_demo:
            self.app.notify("Deals arrived on the desk.", title="Welcome", timeout=5)
            self.dismiss()
