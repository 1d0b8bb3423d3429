"""Styles for widgets that draw their own lines."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from textual.widget import Widget


def text_style(widget: Widget, component: str) -> Style:
    """A component class's colour and weight only: a drawn line's own background (a cursor,
    say) must show through every cell, and a full component style would cover it."""
    full = widget.get_component_rich_style(component)
    return Style(color=full.color, bold=full.bold, dim=full.dim, italic=full.italic)


def fit(text: str, width: int) -> str:
    """Cut to `width` cells with an ellipsis (cards are narrow; titles are not). Cells, not
    characters: 漢字 and most emoji take two."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    # set_cell_size never splits a wide character (it pads instead); "Elbe Logistik…", not
    # "Elbe Logistik …".
    return set_cell_size(text, width - 1).rstrip() + "…"


def fit_exactly(text: str, width: int) -> str:
    """`fit`, then padded with spaces to exactly `width` cells: a column of a row."""
    return set_cell_size(fit(text, width), width)
