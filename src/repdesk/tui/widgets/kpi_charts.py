"""The KPI screen's two charts, drawn by plotext: won so far against the pace line, and the
open pipeline stage by stage with how often deals go on from each stage."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from repdesk.core.dates import Period
from repdesk.core.formatting import pct
from repdesk.core.text import printable
from repdesk.reports.kpi_pane import FunnelStage
from repdesk.tui.lifecycle import ReleasedFromApp


def cumulative_by_day(
    won_by_day: list[tuple[date, int]], period: Period, as_of: date
) -> list[tuple[int, int]]:
    """(day of the period, won so far in cents) for every day up to `as_of`: a step curve."""
    last_day = period.days_elapsed(as_of)
    points, running, changes = [], 0, dict(won_by_day)
    for offset in range(last_day):
        day = date.fromordinal(period.start.toordinal() + offset)
        running = changes.get(day, running)
        points.append((offset + 1, running))
    return points


# Drawings kept across the pane's openings, by chart, figure, size and theme: each opening
# makes new chart widgets, and plotext drew both charts again every time, some 20 ms of the
# time from key 3 to the pane on a 10,000-deal desk (benchmarks/terminal.py). A few: the
# months paged through, two sizes.
_DRAWINGS: dict[tuple[Hashable, ...], Text] = {}
KEEP_DRAWINGS = 12


class DrawnOnce(PlotextPlot, ReleasedFromApp):
    """A plot drawn once per figure, size and theme, also across the pane's openings. Textual
    renders a widget again whenever its screen is laid out or painted (on opening, on the
    pane's figures arriving, on every refresh around it); plotext redraws the whole figure
    each time. Before its first figure the chart is blank: drawing empty axes only to replace
    them a moment later cost as much as drawing the real ones."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._figure: Hashable = None  # what the figure in `plt` shows (`drawn`)

    def drawn(self, figure: Hashable) -> None:
        """`figure` (all that the drawing shows) is in `plt` now: draw it at the next render,
        or take the drawing from an earlier opening of the pane."""
        self._figure = (type(self).__name__, figure)
        self.refresh()

    def render(self) -> RenderResult:
        if self._figure is None:
            return ""
        key = (self._figure, self.size.width, self.size.height, self.app.theme)
        drawing = _DRAWINGS.get(key)
        if drawing is None:
            rendered = super().render()
            assert isinstance(rendered, Text)  # plotext's drawing, read back from ANSI
            drawing = _DRAWINGS[key] = rendered
            while len(_DRAWINGS) > KEEP_DRAWINGS:
                del _DRAWINGS[next(iter(_DRAWINGS))]
        return drawing


class WonChart(DrawnOnce):
    """Cumulative won value through the period, with the straight pace line to the quota."""

    def show(
        self,
        *,
        period: Period,
        as_of: date,
        won_by_day: list[tuple[date, int]],
        quota: int | None,
        currency: str,
    ) -> None:
        plt = self.plt
        plt.clear_figure()
        unit = 1000 * 100  # thousands of the desk's currency, from cents
        points = cumulative_by_day(won_by_day, period, as_of)
        if quota is not None:
            plt.plot([0, period.days], [0, quota / unit], label="pace", color="gray")
        if points:
            plt.plot(
                [0] + [day for day, _ in points],
                [0] + [cents / unit for _, cents in points],
                label="won",
                color="green",
            )
        ticks = sorted({1, period.days // 2, period.days} if period.days > 2 else {1})
        labels = [
            date.fromordinal(period.start.toordinal() + tick - 1).strftime("%d %b")
            for tick in ticks
        ]
        positions: list[float] = [*ticks]  # plotext declares float positions; days are ints
        plt.xticks(positions, labels)
        plt.xlim(0, period.days)
        plt.ylim(0, max([quota / unit if quota else 0, *(c / unit for _, c in points), 1]))
        plt.title(f"Won vs pace, thousands {currency}")
        self.drawn((period, as_of, tuple(won_by_day), quota, currency))


class FunnelChart(DrawnOnce):
    """Open deals per stage as bars; each label carries how often deals went on from it."""

    def show(self, funnel: list[FunnelStage]) -> None:
        plt = self.plt
        plt.clear_figure()
        if funnel:
            # plotext's output is read back as ANSI: a raw escape in a name would style it.
            labels = [
                f"{printable(stage.name)} →{pct(stage.conversion)}" for stage in reversed(funnel)
            ]
            plt.bar(
                labels,
                [stage.open_count for stage in reversed(funnel)],
                orientation="horizontal",
                width=0.6,
                color="blue",
            )
            most = max(stage.open_count for stage in funnel)
            step = max(1, -(-most // 4))  # about four whole-number ticks
            plt.xticks(list(range(0, most + step, step)))
        plt.title("Open deals by stage (→ went on to the next)")
        self.drawn(tuple((stage.name, stage.conversion, stage.open_count) for stage in funnel))
