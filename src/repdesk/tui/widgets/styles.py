"""Styles for widgets that draw their own lines."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


def text_style(widget: Widget, component: str) -> Style:
    """A component class's colour and weight only: a drawn line's own background (a cursor,
    say) must show through every cell, and a full component style would cover it."""
    full = widget.get_component_rich_style(component)
    return Style(color=full.color, bold=full.bold, dim=full.dim, italic=full.italic)
