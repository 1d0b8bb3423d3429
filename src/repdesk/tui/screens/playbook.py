"""The playbook (key 4): per kind of objection, how often it comes up, how many are still open,
how deals that heard it ended against all your decided deals, and your best answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from repdesk.core import formatting
from repdesk.core.text import printable
from repdesk.reports import figures
from repdesk.reports.figures import ObjectionStats
from repdesk.services import objections
from repdesk.services.objections import PlaybookAnswer
from repdesk.tui.lifecycle import can_show
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.quota_strip import QuotaStrip


@dataclass(frozen=True)
class PlaybookData:
    stats: list[ObjectionStats]
    overall: float | None
    best: dict[str, list[PlaybookAnswer]]


def load_playbook(session: Any) -> PlaybookData:
    stats, overall = figures.objection_stats(session)
    best = {
        s.category: objections.playbook(session=session, category=s.category, limit=2)
        for s in stats
        if s.count
    }
    return PlaybookData(stats, overall, best)


def render_playbook(data: PlaybookData) -> Table:
    table = Table(expand=True, show_lines=True, header_style="bold", box=None, padding=(0, 1))
    table.add_column("Objection", no_wrap=True)
    table.add_column("Heard", justify="right")
    table.add_column("Open", justify="right")
    table.add_column("Win rate when heard", justify="right", no_wrap=True)
    table.add_column("Your best answers (from won deals first)", ratio=1)
    overall = data.overall
    for s in data.stats:
        rate = Text(formatting.pct(s.win_rate))
        if s.win_rate is not None and overall is not None:
            gap = round((s.win_rate - overall) * 100)
            rate.append(f"  {gap:+d} pts", style="green" if gap >= 0 else "red")
        else:
            rate.append("  no decided deals yet", style="dim")
        answers = Text()
        for answer in data.best.get(s.category, []):
            answers.append("won " if answer.deal_status == "won" else f"{answer.deal_status} ",
                           style="green" if answer.deal_status == "won" else "dim")  # fmt: skip
            answers.append(printable(answer.answer) + "\n")
        if not answers:
            answers.append("no answers recorded yet", style="dim")
        table.add_row(
            Text(s.category, style="bold"),
            str(s.count),
            Text(str(s.open), style="red" if s.open else "dim"),
            rate,
            answers,
        )
    return table


class PlaybookScreen(DeskScreen):
    TITLE = "Playbook"  # the heading of its keys under `?`
    BINDINGS = [Binding("escape", "back", "Board", id="playbook.back")]
    DEFAULT_CSS = """
    PlaybookScreen #playbook-summary { height: auto; padding: 0 1; color: $text-muted; }
    PlaybookScreen #playbook-table { padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.data: PlaybookData | None = None
        self.read_early(load_playbook)

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        yield Static(id="playbook-summary")
        with VerticalScroll():
            yield Static(id="playbook-table")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        if (data := self.early_result()) is not None:
            self._show(data)
        else:
            self.reload()
        self.app.refresh_quota()

    @work(exclusive=True, group="playbook-load")
    async def reload(self) -> None:
        data = await self.first_read(load_playbook)
        if can_show(self):
            self._show(data)

    def _show(self, data: PlaybookData) -> None:
        self.data = data
        summary = (
            f"Your overall win rate: {formatting.pct(data.overall)} of decided deals. "
            "Objections whose deals win least come first: prepare those answers."
        )
        self.query_one("#playbook-summary", Static).update(Text(summary))
        self.query_one("#playbook-table", Static).update(render_playbook(data))

    def action_back(self) -> None:
        self.app.action_board()
