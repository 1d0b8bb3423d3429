"""The footer: the keys of the screen, drawn by one widget on one line.

Textual's footer builds a widget per key (some twenty on the board): restyling and drawing
them was a quarter of the time to the board's first frame, and every focus move rebuilt them.
This one keeps the keys as plain data and draws them as one line of text. It also repairs two
things of Textual's: a binding group stays whole when a keymap rebinds one of its keys (Textual
groups keys by neighbours in `active_bindings`, and a keymap re-adds a rebound key at its end:
"HL Move" became "H Previous stage … ^l Next stage"), and a key that does not fit is left out
whole instead of cut mid-word (`?` lists every key).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen

NARROW = 100  # below this many cells the screen's NARROW_FOOTER_HIDES leave the footer

Entry = tuple[Binding, bool, str]  # binding, enabled, tooltip


def grouped(entries: Iterable[list[Entry]]) -> list[list[Entry]]:
    """The footer's entries (one list per action) with each group's members side by side,
    at the place of the group's first member."""
    ordered: list[list[Entry]] = []
    by_group: dict[object, list[list[Entry]]] = {}
    for entry in entries:
        group = entry[0][0].group
        if group is None:
            ordered.append(entry)
        elif group in by_group:
            by_group[group].append(entry)
        else:
            by_group[group] = [entry]
            ordered.append(entry)  # stands for the whole group
    result: list[list[Entry]] = []
    for entry in ordered:
        group = entry[0][0].group
        result.extend(by_group[group] if group is not None else [entry])
    return result


class Item(NamedTuple):
    """One thing on the footer: a key and what it does, or a group's keys and their name.
    (A named tuple: the first frame defines it, see repdesk.core.views.)"""

    keys: tuple[tuple[str, str], ...]  # (key to press, as shown)
    description: str
    enabled: bool
    tooltip: str

    @property
    def width(self) -> int:
        shown = "".join(display for _, display in self.keys)
        return cell_len(f"{shown} {self.description}")


class RepdeskFooter(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer--key", "footer--description", "footer--hover"}
    DEFAULT_CSS = """
    RepdeskFooter {
        dock: bottom;
        height: 1;
        background: $panel;
        color: $footer-foreground;
    }
    RepdeskFooter > .footer--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    RepdeskFooter > .footer--description { color: $footer-description-foreground; }
    RepdeskFooter > .footer--hover { background: $block-hover-background; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._items: list[Item] = []
        self._palette: Item | None = None
        # Where each item was drawn: (first cell, cell after the last, item).
        self._spans: list[tuple[int, int, Item]] = []
        self._hover: Item | None = None
        # The footer's own style with each component's over it, read once a theme.
        self._styles_now: dict[str, Style] = {}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._read_bindings()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen:
            self._read_bindings()

    def on_resize(self, event: events.Resize) -> None:
        self._read_bindings()  # the keys a narrow terminal leaves out

    def hidden_ids(self) -> frozenset[str]:
        hides: frozenset[str] = getattr(self.screen, "NARROW_FOOTER_HIDES", frozenset())
        return hides if self.app.size.width < NARROW else frozenset()

    def _read_bindings(self) -> None:
        """The screen's keys as items; redrawn only when they changed (a focus move between
        the board's columns changes none)."""
        hidden = self.hidden_ids()
        active = self.screen.active_bindings
        by_action: defaultdict[str, list[Entry]] = defaultdict(list)
        for _, binding, enabled, tooltip in active.values():
            if binding.show and binding.id not in hidden:
                by_action[binding.action].append((binding, enabled, tooltip))
        items: list[Item] = []
        entries = grouped(by_action.values())
        index = 0
        while index < len(entries):
            group = entries[index][0][0].group
            members = [entries[index]]
            while (
                group is not None
                and index + len(members) < len(entries)
                and entries[index + len(members)][0][0].group is group
            ):
                members.append(entries[index + len(members)])
            index += len(members)
            firsts = [member[0] for member in members]  # an action's first key stands for it
            if group is not None and len(members) > 1:
                description, tooltip = group.description, ""
            else:
                description, tooltip = firsts[0][0].description, firsts[0][2]
            items.append(
                Item(
                    keys=tuple((b.key, self.app.get_key_display(b)) for b, _, _ in firsts),
                    description=description,
                    enabled=all(enabled for _, enabled, _ in firsts),
                    tooltip=tooltip or " · ".join(b.description for b, _, _ in firsts),
                )
            )
        palette = None
        # Below NARROW the palette key gives way (the board's status line names ctrl+p).
        if self.app.ENABLE_COMMAND_PALETTE and self.app.size.width >= NARROW:
            found = active.get(self.app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _, binding, enabled, tooltip = found
                palette = Item(
                    keys=((binding.key, self.app.get_key_display(binding)),),
                    description=binding.description,
                    enabled=enabled,
                    tooltip=tooltip or binding.description,
                )
        if (items, palette) != (self._items, self._palette):
            self._items, self._palette = items, palette
            self.refresh()

    @property
    def items(self) -> list[Item]:
        """The items drawn (those that fit), left to right, the palette key last."""
        return [item for _, _, item in self._spans]

    def render_line(self, y: int) -> Strip:
        # Drawn as segments on the line API: a Rich Text went through Rich's console to be
        # drawn, a sixth of the board's first frame (benchmarks/terminal.py).
        width = self.size.width
        base = self.rich_style
        key = self._styles_now.get("key")
        if key is None:
            self._styles_now = {
                name: base + self.get_component_rich_style(f"footer--{name}", partial=True)
                for name in ("key", "description", "hover")
            }
        styles = self._styles_now
        dim = Style(dim=True)
        segments: list[Segment] = []

        def draw(item: Item) -> None:
            extra = (styles["hover"] if item == self._hover else Style()) + (
                Style() if item.enabled else dim
            )
            for _, shown in item.keys:
                segments.append(Segment(shown, styles["key"] + extra))
            segments.append(Segment(f" {item.description}", styles["description"] + extra))

        # Every key if they fit, with the palette key at the right edge. Else the palette key
        # goes, then keys from the right, but never the last (`?`, the way to all the others).
        def cells(items: list[Item]) -> int:
            return 1 + sum(item.width + 1 for item in items)

        shown, palette = list(self._items), self._palette
        if palette is not None and cells(shown) + palette.width + 2 > width:
            palette = None
        while len(shown) > 1 and cells(shown) > width:
            del shown[-2]
        spans, x = [], 1
        gap = Segment(" ", base)
        segments.append(gap)
        for item in shown:
            draw(item)
            spans.append((x, x + item.width, item))
            x += item.width + 1
            segments.append(gap)
        if palette is not None:
            right = palette.width + 2
            segments.append(Segment(" " * (width - right - x), base))
            segments.append(Segment("▏", base + dim))
            spans.append((width - right + 1, width - 1, palette))
            draw(palette)
            segments.append(gap)
        self._spans = spans
        return Strip(segments).crop_extend(0, width, base)

    def notify_style_update(self) -> None:
        self._styles_now = {}  # a new theme: its colours
        super().notify_style_update()

    def _item_at(self, x: int) -> Item | None:
        return next((item for start, end, item in self._spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        item = self._item_at(event.x)
        if item != self._hover:
            self._hover = item
            self.tooltip = item.tooltip if item is not None else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        item = self._item_at(event.x)
        if item is None:
            return
        if not item.enabled:
            self.app.bell()
            return
        # A group's name runs the key under the pointer, else the group's first key.
        x = next(start for start, _, drawn in self._spans if drawn is item)
        for key, shown in item.keys:
            if event.x < x + cell_len(shown):
                self.app.simulate_key(key)
                return
            x += cell_len(shown)
        self.app.simulate_key(item.keys[0][0])
