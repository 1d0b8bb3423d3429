"""The sync's conflicts list (key B, or the palette): every field that the desk and Pipedrive
both changed since the last sync, each settled with a key: `<` keeps the desk's value (sent
at the next sync), `>` keeps Pipedrive's (written on the desk now). Nothing is overwritten
until the rep says which.

Every value is text from the company's CRM: shown as plain `Text`, printable on one line and
cut short (src/repdesk/sync/engine.py Conflict), never as markup.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from repdesk.core import formatting
from repdesk.core.text import printable
from repdesk.tui.lifecycle import can_show
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.pick_list import PickList
from repdesk.tui.widgets.quota_strip import QuotaStrip


def conflict_text(conflict: Any) -> Text:
    """One conflict as a line of the list: what it is, then both values side by side."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(printable(conflict.what), style="bold")
    line.append("  ·  desk: ")
    line.append(printable(conflict.desk_shown), style="bold")
    line.append("  ·  Pipedrive: ")
    line.append(printable(conflict.remote_shown), style="bold")
    return line


class ConflictsScreen(DeskScreen):
    TITLE = "Sync conflicts"  # the heading of its keys under `?`
    BINDINGS = [
        Binding("less_than_sign", "settle('desk')", "Keep the desk's", id="conflicts.desk",
                key_display="<"),
        Binding("greater_than_sign", "settle('pipedrive')", "Keep Pipedrive's",
                id="conflicts.pipedrive", key_display=">"),
        Binding("enter", "open", "Open deal", id="conflicts.open"),
        Binding("escape", "back", "Back", id="conflicts.back"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    ConflictsScreen #conflicts-title { height: auto; padding: 0 1; color: $text-muted; }
    ConflictsScreen OptionList { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.conflicts: list[Any] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        yield Static(id="conflicts-title")
        yield PickList(id="conflicts-list")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        self.reload()
        self.app.refresh_quota()

    @work(exclusive=True, group="conflicts-load")
    async def reload(self) -> None:
        from repdesk.sync.engine import conflicts

        found = await self.desk.read(conflicts)
        if not can_show(self):
            return
        self.conflicts = found
        listing = self.query_one(OptionList)
        keep = listing.highlighted
        listing.clear_options()
        listing.add_options([Option(conflict_text(c)) for c in found])
        if found:
            listing.highlighted = min(keep or 0, len(found) - 1)
        title = (
            f"{formatting.count(len(found), 'field')} changed on both the desk and Pipedrive "
            "since the last sync · < keeps the desk's value (sent at the next sync) · "
            "> keeps Pipedrive's · enter opens the deal"
            if found
            else "No conflicts: nothing was changed on both sides."
        )
        self.query_one("#conflicts-title", Static).update(Text(title))
        self.loaded = True

    def _current(self) -> Any:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.conflicts):
            return None
        return self.conflicts[index]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        conflict = self._current()
        if conflict is not None and conflict.deal_id is not None:
            self.app.open_deal(conflict.deal_id)

    async def action_settle(self, side: str) -> None:
        from repdesk.sync.engine import settle_in

        conflict = self._current()
        if conflict is None:
            self.notify("No conflict to settle.")
            return
        try:
            kept = await self.desk.write(lambda s: settle_in(s, conflict.id, side))
        except Exception as exc:
            self.notify(self.desk.explain(exc), severity="error", timeout=10)
            return
        if side == "desk":
            said = f"Kept the desk's {kept.desk_shown} for {kept.what}: sent at the next sync."
        else:
            said = f"Kept Pipedrive's {kept.remote_shown} for {kept.what}."
        self.notify(said)
        self.reload()
        self.app.sync.refresh()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.reload()

    def action_back(self) -> None:
        self.dismiss(None)
