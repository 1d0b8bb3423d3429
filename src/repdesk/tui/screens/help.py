"""`?`: every key of the screen it was opened from, read from the live bindings.

Nothing here lists keys by hand: a binding added to a screen (or rebound in the settings'
`[keys]`) shows up by itself, with its description and its id (the name `[keys]` rebinds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from repdesk.tui.lifecycle import DismissedOnce


@dataclass
class KeyEntry:
    keys: list[str]  # as shown to the rep ("h", "←"), in binding order
    description: str
    binding_id: str
    enabled: bool = True

    @property
    def keys_text(self) -> str:
        return " ".join(self.keys)


def screen_name(screen: Screen[object]) -> str:
    return screen.title or type(screen).__name__.removesuffix("Screen")


def _own_actions(node: object) -> set[str]:
    """The actions bound in the app's own classes of `node`, not only in Textual's base
    classes (whose tab, copy and scroll keys work everywhere and would crowd out the rest)."""
    actions: set[str] = set()
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("textual.") and "BINDINGS" in vars(cls):
            for item in vars(cls)["BINDINGS"]:
                actions.add(item.action if isinstance(item, Binding) else item[1])
    return actions


def keys_of(screen: Screen[object]) -> tuple[list[KeyEntry], list[KeyEntry]]:
    """The screen's own keys (its focused widget's after them) and the app's, as they are
    bound right now: keymaps applied, actions the screen hides at the moment left out."""
    app = screen.app
    own: dict[int, set[str]] = {}
    entries: dict[tuple[int, str], KeyEntry] = {}
    for active in screen.active_bindings.values():
        binding, node = active.binding, active.node
        if id(node) not in own:
            own[id(node)] = _own_actions(node)
        if not binding.description or binding.action not in own[id(node)]:
            continue
        ident = (id(node), binding.action)  # ctrl+q and q both quit: one line
        entry = entries.get(ident)
        if entry is None:
            entry = KeyEntry([], binding.description, binding.id or "", active.enabled)
            entries[ident] = entry
        entry.binding_id = entry.binding_id or binding.id or ""
        shown = app.get_key_display(binding)
        if shown not in entry.keys:
            entry.keys.append(shown)
    # The screen's own first, then its focused widget's (sorted is stable).
    ranked = sorted(entries.items(), key=lambda item: item[0][0] != id(screen))
    screen_keys = [entry for (node, _), entry in ranked if node != id(app)]
    app_keys = [entry for (node, _), entry in ranked if node == id(app)]
    return screen_keys, app_keys


def key_for(screen: Screen[Any], action: str) -> str:
    """The key that runs `action` on `screen` now (a keymap may have changed it)."""
    return " ".join(
        screen.app.get_key_display(active.binding)
        for active in screen.active_bindings.values()
        if active.binding.action == action
    )


class KeyTable(Widget):
    """Key, what it does, and its id; in side-by-side halves when the width allows."""

    DEFAULT_CSS = "KeyTable { height: auto; }"
    COLUMN_WIDTH = 54  # key + description + id fit in this many cells

    def __init__(self, entries: list[KeyEntry], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries = entries

    def render(self) -> RenderableType:
        halves = max(1, min(2, self.size.width // self.COLUMN_WIDTH))
        table = Table.grid(padding=(0, 1), expand=True)
        for _ in range(halves):
            table.add_column(justify="right", no_wrap=True, style="bold")
            table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
            table.add_column(style="dim", no_wrap=True, overflow="ellipsis")
        rows = -(-len(self.entries) // halves)
        for row in range(rows):
            cells: list[Text] = []
            for half in range(halves):
                index = half * rows + row
                if index < len(self.entries):
                    entry = self.entries[index]
                    style = "" if entry.enabled else "dim"
                    cells += [
                        Text(entry.keys_text, style=style),
                        Text(entry.description, style=style),
                        Text(entry.binding_id),
                    ]
                else:
                    cells += [Text(), Text(), Text()]
            table.add_row(*cells)
        return table


class _KeyList(VerticalScroll, can_focus=False):
    """Scrolled by the help screen's own j/k, so it never needs the focus."""


class HelpScreen(DismissedOnce, ModalScreen[None]):
    """Opened over a screen; `esc` or `?` closes it and that screen is exactly as it was."""

    BINDINGS = [
        Binding("escape,question_mark", "close", "Close", id="help.close", key_display="esc"),
        Binding("j,down", "scroll(1)", "Scroll down", id="help.down", show=False),
        Binding("k,up", "scroll(-1)", "Scroll up", id="help.up", show=False),
        # A modal screen hides the app's keys: q quits here as on every screen.
        Binding("q", "app.quit", "Quit", id="help.quit", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background 60%; }
    HelpScreen #help-box {
        width: 118; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    /* Docked, so a short terminal scrolls the keys but never hides these two lines. */
    HelpScreen #help-title { dock: top; text-style: bold; }
    HelpScreen #help-hint { dock: bottom; color: $text-muted; }
    HelpScreen .help-group { color: $accent; text-style: bold; margin-top: 1; }
    HelpScreen #help-keys { height: auto; max-height: 100%; scrollbar-size-vertical: 1; }
    """

    def __init__(self, over: Screen[object]) -> None:
        super().__init__()
        self.over_name = screen_name(over)
        self.screen_keys, self.app_keys = keys_of(over)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text(f"Keys: {self.over_name}"), id="help-title")
            with _KeyList(id="help-keys"):
                yield Static(Text(self.over_name), classes="help-group")
                yield KeyTable(self.screen_keys, id="help-screen-keys")
                yield Static(Text("Everywhere"), classes="help-group")
                yield KeyTable(self.app_keys, id="help-app-keys")
            yield Static(
                Text("esc closes · ctrl+p runs any by name · settings.toml [keys] rebinds by id"),
                id="help-hint",
            )

    def action_close(self) -> None:
        self.dismiss()

    def action_scroll(self, lines: int) -> None:
        # At once, not at the next repaint: keys sent in a burst would each start from the
        # same place and all but a few be lost.
        self.query_one("#help-keys", _KeyList).scroll_relative(
            y=lines, animate=False, immediate=True
        )
