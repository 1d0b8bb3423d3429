"""One line at the top of every screen: this month's won against quota, and the pace."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from repdesk.core import formatting
from repdesk.core.kpi import Kpis
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

    def show_figures(self, k: Kpis, currency: str, *, demo: bool = False) -> None:
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
