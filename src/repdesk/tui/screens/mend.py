"""Mending mistakes in the app: pick what to delete on a deal, and the trash (palette: Trash)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from repdesk.core import formatting
from repdesk.core.text import printable
from repdesk.services import activities, deals, followups, objections, trash
from repdesk.services.gone import KEEP_DAYS
from repdesk.storage.models import saved_id
from repdesk.tui.forms import ConfirmScreen
from repdesk.tui.lifecycle import DismissedOnce
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.undo import undo_of
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.pick_list import PickList
from repdesk.tui.widgets.quota_strip import QuotaStrip


class PickScreen(DismissedOnce, ModalScreen[Any]):
    """Pick one of a few things: enter takes it, esc takes none (dismissed with None). More
    than NARROWED_FROM of them: what is typed narrows the list (↑ ↓ move in it): the deal for
    a captured mail was one of every deal on the desk, found by scrolling (a new-user trial).
    """

    NARROWED_FROM = 10

    DEFAULT_CSS = """
    PickScreen { align: center middle; background: $background 60%; }
    PickScreen > Vertical {
        width: 80; max-width: 100%; height: auto; max-height: 80%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    PickScreen #pick-title { text-style: bold; }
    PickScreen #pick-keys { color: $text-muted; }
    /* At most half the terminal: at 80x24 the list took its keys line and border. */
    PickScreen OptionList { height: auto; max-height: 50vh; }
    PickScreen #pick-filter { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="pick.cancel"),
        # A modal screen hides the app's keys: q quits here as on every screen.
        Binding("q", "app.quit", "Quit", id="pick.quit", show=False),
        # From the narrowing field (it has no use for them), the list's cursor.
        Binding("down", "cursor_down", "Next", id="pick.down", show=False),
        Binding("up", "cursor_up", "Previous", id="pick.up", show=False),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[str, Any]], keys: str) -> None:
        super().__init__()
        self.heading, self.choices, self.keys = title, list(choices), keys
        self.shown = list(range(len(self.choices)))  # the choices listed, by their index
        self.labels = [printable(label) for label, _ in self.choices]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(printable(self.heading)), id="pick-title")
            if len(self.choices) > self.NARROWED_FROM:
                yield Input(placeholder="type to narrow the list", id="pick-filter")
            # Text, not str: a title or a note with [brackets] is never markup here.
            yield PickList(*(Option(Text(label)) for label in self.labels))
            yield Static(Text(self.keys), id="pick-keys")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        words = event.value.casefold().split()
        self.shown = [
            index
            for index, label in enumerate(self.labels)
            if all(word in label.casefold() for word in words)
        ]
        listing = self.query_one(PickList)
        listing.clear_options()
        listing.add_options(Option(Text(self.labels[i])) for i in self.shown)
        listing.highlighted = 0 if self.shown else None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        index = self.query_one(PickList).highlighted
        if index is not None and index < len(self.shown):
            self.dismiss(self.choices[self.shown[index]][1])

    def action_cursor_down(self) -> None:
        self.query_one(PickList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(PickList).action_cursor_up()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[self.shown[event.option_index]][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


def deal_parts(session: Any, deal_id: int) -> list[tuple[str, tuple[str, int]]]:
    """Everything on a deal the rep can delete, with its id: the deal, then its timeline."""
    deal = deals.get_deal(session=session, deal_id=deal_id)
    parts: list[tuple[str, tuple[str, int]]] = [
        (f"the whole deal #{deal.id} {deal.title}, with everything on it", ("deal", deal_id))
    ]
    for fu in followups.pending(session=session, deal_id=deal_id):
        note = f" · {fu.note}" if fu.note else ""
        parts.append((f"follow-up {formatting.when(fu.due_on, fu.due_time)}{note}",
                      ("follow_up", saved_id(fu))))  # fmt: skip
    for obj in objections.objections_of(session=session, deal_id=deal_id):
        parts.append((f"objection {obj.category}: {obj.said}", ("objection", saved_id(obj))))
    for act in activities.timeline_activities(session=session, deal_id=deal_id):
        when = act.at.astimezone().strftime("%d %b %H:%M")
        words = " · ".join(w for w in (act.outcome, act.text) if w)
        parts.append((f"{act.kind} {when}" + (f" · {words}" if words else ""),
                      ("activity", saved_id(act))))  # fmt: skip
    return parts


class TrashScreen(DeskScreen):
    """What was deleted in the last 30 days; enter puts the one under the cursor back."""

    TITLE = "Trash"  # the heading of its keys under `?`
    BINDINGS = [
        Binding("enter,R", "restore", "Restore", id="trash.restore", key_display="enter"),
        Binding("E", "empty", "Empty the trash", id="trash.empty"),
        Binding("escape", "back", "Back", id="trash.back"),
    ]
    DEFAULT_CSS = """
    TrashScreen #trash-title { height: auto; padding: 0 1; color: $text-muted; }
    TrashScreen OptionList { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.items: list[trash.TrashItem] = []

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        yield Static(id="trash-title")
        yield PickList(id="trash-list")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        self.reload()
        self.app.refresh_quota()

    @work(exclusive=True, group="trash-load")
    async def reload(self) -> None:
        items = await self.desk.read(lambda s: trash.list_trash(session=s))
        if not self.is_attached:
            return
        self.items = items
        listing = self.query_one(OptionList)
        keep = listing.highlighted
        listing.clear_options()
        for item in items:
            line = Text()
            line.append(f"{item.word:<10}", style="bold")
            line.append(printable(item.label))
            deleted = item.deleted_at.astimezone().strftime("%d %b %H:%M")
            line.append(f"  deleted {deleted}, kept until {item.expires_on():%d %b}", style="dim")
            listing.add_option(Option(line))
        if items:
            listing.highlighted = min(keep or 0, len(items) - 1)
        title = (
            f"{formatting.count(len(items), 'thing')} in the trash, each kept "
            f"{KEEP_DAYS} days · enter restores · E empties it for good"
            if items
            else "The trash is empty: what you delete (D) waits here 30 days."
        )
        self.query_one("#trash-title", Static).update(Text(title))

    def _current(self) -> trash.TrashItem | None:
        index = self.query_one(OptionList).highlighted
        return self.items[index] if index is not None and index < len(self.items) else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.restore_in_background()

    @work(exclusive=True, group="trash-write")
    async def restore_in_background(self) -> None:
        # A worker made by @work starts the coroutine only when it runs: one cancelled by the
        # next enter before it started leaves nothing never awaited.
        await self.action_restore()

    async def action_restore(self) -> None:
        item = self._current()
        if item is None:
            self.notify("Nothing in the trash to restore.")
            return
        try:
            back, changes = await self.desk.write_recorded(
                lambda s: trash.restore(session=s, trash_id=item.id)
            )
        except Exception as exc:
            self.notify(self.desk.explain(exc), severity="error", timeout=10)
            return
        moved = (
            f" as #{back.item_id}" if back.kind == "deal" and back.item_id != back.old_id else ""
        )
        said = f"; {back.note}" if back.note else ""
        self.notify(printable(f"Restored {back.what}{moved}{said}."), markup=False)
        self.app.remember_undo(undo_of(f"restore of {back.what}", back.deal_id, changes))
        self.reload()
        self.app.board.reload()
        self.app.refresh_quota()

    def action_empty(self) -> None:
        if not self.items:
            self.notify("The trash is empty.")
            return

        async def empty() -> int:
            return await self.desk.write(lambda s: trash.empty_trash(session=s))

        def done(count: Any) -> None:
            if count:
                self.notify(f"Emptied the trash: {formatting.count(count, 'thing')} gone for good.")
                self.reload()

        question = (
            f"Empty the trash? {formatting.count(len(self.items), 'thing')} will be gone for "
            "good: no undo."
        )
        self.app.push_screen(ConfirmScreen(question, on_yes=empty), done)

    def action_back(self) -> None:
        self.dismiss(None)
