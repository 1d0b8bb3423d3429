"""A screen's body that scrolls, with its scroll keys listed in the help (`?`).

Textual's scroll containers scroll with the arrows, page keys, home and end already, but as
keys of Textual's own classes, which the help leaves out (screens/help.py): a rep on an
80x24 terminal saw no way to reach the bottom of the KPI pane. Bound again here, the same keys
run the same actions and show up in the help, each with an id the settings' `[keys]` rebinds.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll


class ScrolledPane(VerticalScroll):
    BINDINGS = [
        Binding("k,up", "scroll_up", "Scroll up", id="pane.scroll_up", show=False),
        Binding("j,down", "scroll_down", "Scroll down", id="pane.scroll_down", show=False),
        Binding("pageup", "page_up", "Page up", id="pane.page_up", show=False),
        Binding("pagedown", "page_down", "Page down", id="pane.page_down", show=False),
        Binding("home", "scroll_home", "Top", id="pane.top", show=False),
        Binding("end", "scroll_end", "Bottom", id="pane.bottom", show=False),
    ]
