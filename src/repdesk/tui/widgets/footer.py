"""Textual's footer with two repairs: a binding group stays whole when a keymap rebinds one of
its keys, and a narrow terminal shows fewer keys instead of cutting the last one mid-word.

Textual groups a footer's keys by neighbours in `active_bindings`, and a keymap re-adds a
rebound key at the end of that dict: "HL Move" became "H Previous stage … ^l Next stage".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding

# Private module, public widgets: the pieces Textual's own footer is made of.
from textual.widgets._footer import Footer, FooterKey, FooterLabel, KeyGroup

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


class RepdeskFooter(Footer):
    DEFAULT_CSS = """
    /* Textual's compact footer puts a group's label against the next key ("Move⏎ Open"). */
    RepdeskFooter.-compact FooterLabel { margin: 0 1 0 0; }
    """

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._narrow: bool | None = None
        # Textual's footer stays empty until a frame after the screen's: this one shows its
        # keys in the first frame (the screen's bindings are known when it is composed).
        self.set_reactive(Footer._bindings_ready, True)
        self._shown: list[list[Entry]] | None = None

    def bindings_changed(self, screen: Screen) -> None:
        # Focus moves between the board's columns change no key shown: keep the keys then,
        # rather than rebuild a dozen widgets on every `h` and `l`.
        if self._shown is not None and screen is self.screen and self._entries() == self._shown:
            return
        super().bindings_changed(screen)

    def _entries(self) -> list[list[Entry]]:
        hidden = self.hidden_ids()
        by_action: defaultdict[str, list[Entry]] = defaultdict(list)
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.id not in hidden:
                by_action[binding.action].append((binding, enabled, tooltip))
        return grouped(by_action.values())

    def hidden_ids(self) -> frozenset[str]:
        hides: frozenset[str] = getattr(self.screen, "NARROW_FOOTER_HIDES", frozenset())
        return hides if self.app.size.width < NARROW else frozenset()

    def on_resize(self, event: events.Resize) -> None:
        narrow = self.app.size.width < NARROW
        if self._narrow is not None and narrow != self._narrow:
            self.call_after_refresh(self.recompose)
        self._narrow = narrow

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._narrow = self.app.size.width < NARROW
        entries = self._shown = self._entries()
        active_bindings = self.screen.active_bindings
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
            if group is not None and len(members) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for member in members:
                        binding, enabled, tooltip = member[0]
                        yield FooterKey(
                            binding.key,
                            self.app.get_key_display(binding),
                            "",
                            binding.action,
                            disabled=not enabled,
                            tooltip=tooltip or binding.description,
                            classes="-grouped",
                        ).data_bind(compact=Footer.compact)
                yield FooterLabel(group.description)
                continue
            binding, enabled, tooltip = members[0][0]
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            try:
                _node, binding, enabled, tooltip = active_bindings[self.app.COMMAND_PALETTE_BINDING]
            except KeyError:
                return
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )
