"""One line at the top of every screen: this month's won against quota, and the pace."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from repdesk.core import formatting
from repdesk.core.kpi import QuotaStanding
from repdesk.core.money import format_money


class QuotaStrip(Static):
    DEFAULT_CSS = """
    QuotaStrip {
        height: 1;
        width: 100%;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[QuotaStanding, str, bool] | None = None
        self._sync: Text | None = None

    def on_mount(self) -> None:
        # The CRM sync's state (tui/syncing.py), when the desk syncs: a new screen's strip
        # shows it from the start. Drawn again if the figures came first (a quota read that
        # finished while the screen was being mounted): asked for the same figures later, the
        # strip draws nothing new (show_figures), so the line would lack the sync's state.
        self.show_sync(getattr(getattr(self.app, "sync", None), "line", None))

    def show_sync(self, line: Text | None) -> None:
        """The sync's state at the right of the line ("Pipedrive: synced 4 min ago ·
        3 waiting"), or nothing for a desk that does not sync."""
        if line == self._sync:
            return
        self._sync = line
        self._draw()

    def show_figures(self, k: QuotaStanding, currency: str, *, demo: bool = False) -> None:
        if self._shown == (k, currency, demo):
            return  # the same line again (every screen's opening asks): no layout, no paint
        self._shown = (k, currency, demo)
        self._draw()

    def _draw(self) -> None:
        if self._shown is None:
            return
        k, currency, demo = self._shown
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{k.period}  ", style="bold")
        line.append(f"won {format_money(k.won_value, currency)}")
        if k.quota is None:
            line.append(f"  ·  no quota: press 3 or run repdesk quota set {k.period} AMOUNT", "dim")
        else:
            line.append(f" of {format_money(k.quota, currency)}  ")
            line.append(formatting.pct(k.attainment), style="bold")
            line.append("  ·  ")
            ahead = formatting.made(k) if k.ended else (k.pace_delta or 0) >= 0
            line.append(
                ("▲ " if ahead else "▼ ") + formatting.pace(k, currency),
                style="green" if ahead else "red",
            )
        # Kept whole at the right edge; on a narrow terminal the figures on the left give way.
        right = Text("  ", no_wrap=True)
        if self._sync is not None:
            right.append_text(self._sync)
            right.append("  ")
        if demo:
            right.append(" demo desk ", style="bold reverse")
            right.append("  ")
        left = "ended" if k.ended else formatting.count(k.days_left, "day") + " left"
        right.append(left, style="dim")
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True, justify="right")
        grid.add_row(line, right)
        self.update(grid)
