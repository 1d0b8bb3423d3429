"""The KPI screen's two charts: won so far against the pace line (drawn by plotext), and the
open pipeline stage by stage with how often deals go on from each stage (drawn here)."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.color import Color as TextualColor
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from repdesk import background
from repdesk.core.dates import Period
from repdesk.core.formatting import pct
from repdesk.core.text import printable
from repdesk.reports.kpi_pane import FunnelStage
from repdesk.tui.lifecycle import ReleasedFromApp
from repdesk.tui.widgets.styles import fit


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


@dataclass(frozen=True)
class WonFigure:
    """All that the won chart shows."""

    period: Period
    as_of: date
    won_by_day: tuple[tuple[date, int], ...]
    quota: int | None
    currency: str

    def define(self, plt: Plot) -> None:
        """Set the figure up in `plt`."""
        plt.clear_figure()
        unit = 1000 * 100  # thousands of the desk's currency, from cents
        period, quota = self.period, self.quota
        points = cumulative_by_day(list(self.won_by_day), period, self.as_of)
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
        plt.title(f"Won vs pace, thousands {self.currency}")

    def draw(self, width: int, height: int, theme: str, plt: Plot | None = None) -> Text:
        """The chart, by plotext, at that size in the app's theme `theme` (its plotext theme
        registered, as a mounted chart does). `plt`: a chart's own plotext figure."""
        plt = plt or Plot()
        self.define(plt)
        plt.plotsize(width, height)
        # As PlotextPlot.render does: resizing does not take without it.
        plt._set_size(width, height)
        plt.theme(plotext_theme(theme))
        lines = Text.from_ansi(plt.build()).split("\n", allow_blank=True)
        for line in lines:
            line.truncate(width)
        return Text("\n").join(lines)


@dataclass(frozen=True)
class FunnelFigure:
    """All that the funnel chart shows: (name, conversion, open deals) stage by stage."""

    stages: tuple[tuple[str, float | None, int], ...]

    @classmethod
    def of(cls, funnel: list[FunnelStage]) -> FunnelFigure:
        return cls(tuple((stage.name, stage.conversion, stage.open_count) for stage in funnel))

    TITLE = "Open deals by stage (→ went on to the next)"

    def draw(self, width: int, height: int, theme: str, plt: Plot | None = None) -> Text:
        """The chart, drawn here rather than by plotext: its horizontal bars put a bar's rows
        under its neighbour's label and drew a shorter bar as long as the one above it (six
        stages in ten rows; a new user's trial). Here each stage is one row: its name and
        conversion, then its bar, the open deals to scale; a blank row between stages where
        there is room, the whole centred."""
        ink, bar_style = _funnel_styles(theme)
        title = Text(self.TITLE, style=ink)
        title.align("center", width)
        lines = [title]
        rows = height - 4  # the title, the top and bottom edges, the ticks' figures
        if rows < 1 or not self.stages:
            lines += [Text(" " * width, style=ink) for _ in range(height - 1)]
            return _joined(lines[:height], width)
        stages = list(self.stages)
        if len(stages) > rows:  # more stages than rows: the last row says how many are left
            left_out = len(stages) - rows + 1
            stages = stages[: rows - 1]
        else:
            left_out = 0
        labels = [f"{fit(printable(name), LABEL_CELLS)} →{pct(conv)}" for name, conv, _ in stages]
        if left_out:
            labels.append(f"+{left_out} more stages")
        label_cells = min(max(cell_len(label) for label in labels), max(0, width - 5))
        plot = max(0, width - label_cells - 2)
        most = max(count for _, _, count in stages) if stages else 0
        # Evenly spaced, a blank row between stages where there is room, centred.
        gap = 1 if rows >= 2 * len(labels) - 1 else 0
        used = len(labels) + gap * (len(labels) - 1)
        edge = " " * label_cells
        blank = Text(f"{edge}│{' ' * plot}│", style=ink)
        lines.append(Text(f"{edge}┌{'─' * plot}┐", style=ink))
        lines += [blank.copy() for _ in range((rows - used) // 2)]
        for n, label in enumerate(labels):
            if n:
                lines += [blank.copy() for _ in range(gap)]
            shown = fit(label, label_cells)
            row = Text(" " * (label_cells - cell_len(shown)) + shown, style=ink)
            count = stages[n][2] if n < len(stages) else 0
            cells = 0 if not most else max(1 if count else 0, round(count / most * plot))
            cells = min(cells, plot)  # a plot of no cells (a chart two wide) has no bars
            row.append("┤" if n < len(stages) else "│")
            row.append("█" * cells, style=bar_style)
            row.append(" " * (plot - cells) + "│")
            lines.append(row)
        lines += [blank.copy() for _ in range(rows - used - (rows - used) // 2)]
        ticks = _ticks(most, plot)
        axis = "".join("┬" if column in ticks else "─" for column in range(plot))
        lines.append(Text(f"{edge}└{axis}┘", style=ink))  # 0 is at the corner
        lines.append(Text(_tick_figures(ticks, label_cells + 1, width), style=ink))
        return _joined(lines[:height], width)


# A stage's name in the funnel: its first cells, the bars get the rest.
LABEL_CELLS = 24


def _funnel_styles(theme: str) -> tuple[Style, Style]:
    """(the text and frame, the bars) in the colours plotext gives the won chart beside it,
    for the app's theme `theme` as `know_theme` found them; else the terminal's own."""
    return _FUNNEL_STYLES.get(theme, (Style(), Style(color="blue")))


def _ticks(most: int, plot: int) -> dict[int, int]:
    """Column of the plot -> the whole number of deals marked there, about four steps. A value
    is marked at the last cell of a bar of that many deals (`FunnelFigure.draw`), 0 at the
    axis's corner (column -1); where two values share a column the first is kept."""
    if plot < 1 or most < 1:
        return {-1: 0}
    step = max(1, -(-most // 4))
    ticks: dict[int, int] = {}
    for value in range(0, most + 1, step):
        ticks.setdefault(round(value / most * plot) - 1 if value else -1, value)
    return ticks


def _tick_figures(ticks: dict[int, int], offset: int, width: int) -> str:
    """The ticks' figures under them, each centred on its tick (`offset` is the plot's first
    column); one that would run into the one before, or off the edge, is left out."""
    line = [" "] * width
    free_from = 0
    for column, value in sorted(ticks.items()):
        figure = str(value)
        start = offset + column - len(figure) // 2
        start = max(start, 0) if column < 0 else start
        if start < free_from or start + len(figure) > width:
            continue
        line[start : start + len(figure)] = figure
        free_from = start + len(figure) + 1
    return "".join(line)


def _joined(lines: list[Text], width: int) -> Text:
    for line in lines:
        line.truncate(width, pad=True)
    return Text("\n").join(lines)


Figure = WonFigure | FunnelFigure

# Drawings kept across the pane's openings, by figure, size and theme: each opening makes new
# chart widgets, and plotext drew both charts again every time, some 20 ms of the time from
# key 3 to the pane on a 10,000-deal desk (benchmarks/terminal.py). A few: the months paged
# through, two sizes. The app draws this month's charts ahead, in a thread (`draw_ahead`).
_DRAWINGS: dict[tuple[Hashable, ...], Text] = {}
KEEP_DRAWINGS = 12
# One drawing at a time: a drawing ahead and the pane's own do not draw the same chart twice,
# and plotext is not known to be safe to run from two threads at once.
_DRAWING = threading.Lock()


def drawing(figure: Figure, width: int, height: int, theme: str, plt: Plot | None = None) -> Text:
    """The chart of `figure` at that size in the app's theme `theme` (its plotext theme must
    be registered, as a mounted chart does): drawn once, then kept. `plt`: a chart's own
    plotext figure, else a new one."""
    key = (figure, width, height, theme)
    with _DRAWING:
        drawn = _DRAWINGS.get(key)
        if drawn is None:
            drawn = figure.draw(width, height, theme, plt)
            # A funnel drawn before `know_theme` has the terminal's colours: not kept, so the
            # pane's own (themed) drawing is never this one.
            if not isinstance(figure, FunnelFigure) or theme in _FUNNEL_STYLES:
                _DRAWINGS[key] = drawn
            while len(_DRAWINGS) > KEEP_DRAWINGS:
                del _DRAWINGS[next(iter(_DRAWINGS))]
        return drawn


def plotext_theme(theme: str) -> str:
    """The plotext theme a chart registers for the app's theme `theme` (PlotextPlot's
    "auto")."""
    return f"textual-auto-{theme}"


class DrawnOnce(PlotextPlot, ReleasedFromApp):
    """A plot drawn once per figure, size and theme, also across the pane's openings. Textual
    renders a widget again whenever its screen is laid out or painted (on opening, on the
    pane's figures arriving, on every refresh around it); plotext redraws the whole figure
    each time. Before its first figure the chart is blank: drawing empty axes only to replace
    them a moment later cost as much as drawing the real ones."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.figure: Figure | None = None

    def show_figure(self, figure: Figure) -> None:
        self.figure = figure
        self.refresh()

    def render(self) -> RenderResult:
        if self.figure is None:
            return ""
        know_theme(self.app.theme)
        return drawing(self.figure, self.size.width, self.size.height, self.app.theme, self.plt)


class WonChart(DrawnOnce):
    """Cumulative won value through the period, with the straight pace line to the quota."""


class FunnelChart(DrawnOnce):
    """Open deals per stage as bars; each label carries how often deals went on from it."""


# Drawings on their way (draw_ahead): one thread per chart and size, however often it is asked.
_AHEAD: set[tuple[Hashable, ...]] = set()
# The app's themes plotext knows (a chart not mounted yet has not registered its theme).
_THEMES_KNOWN: set[str] = set()
# The funnel's (text, bars) styles in each of those themes (`know_theme`).
_FUNNEL_STYLES: dict[str, tuple[Style, Style]] = {}


def know_theme(theme: str) -> None:
    """Make plotext know the app's theme `theme`, as a mounted chart does, and the funnel its
    colours, for a drawing made before any chart is mounted. From the app's thread (the
    theme's colours are the app's)."""
    if theme not in _THEMES_KNOWN:
        chart = WonChart()
        chart._register_theme(theme)  # PlotextPlot's own registration, for "auto"
        # The colours PlotextPlot gives plotext: the surface behind, the foreground for text.
        variables = chart.app.theme_variables
        surface = TextualColor.parse(variables["surface"]).rich_color
        ink = TextualColor.parse(variables["foreground"]).rich_color
        _FUNNEL_STYLES[theme] = (
            Style(color=ink, bgcolor=surface),
            Style(color="blue", bgcolor=surface),
        )
        _THEMES_KNOWN.add(theme)


def draw_now(charts: list[tuple[Figure, int, int]], theme: str) -> None:
    """Draw `charts` (figure, width, height) in the app's theme `theme` (see `know_theme`),
    those not drawn already, to be kept: from a thread reading ahead."""
    for figure, width, height in charts:
        drawing(figure, width, height, theme)


def draw_ahead(charts: list[tuple[Figure, int, int]], theme: str) -> None:
    """`draw_now`, in a low-priority thread, for those not drawn and not on their way: each is
    drawn once, however often this is asked. From the app's thread."""
    keys = [(figure, width, height, theme) for figure, width, height in charts]
    todo = [key for key in keys if key not in _DRAWINGS and key not in _AHEAD]
    if not todo:
        return
    know_theme(theme)  # the thread draws with it
    _AHEAD.update(todo)

    def draw() -> None:
        background.yield_the_cpu()
        try:
            draw_now([(figure, width, height) for figure, width, height, _ in todo], theme)
        finally:
            _AHEAD.difference_update(todo)

    background.start(draw, "repdesk-draw-ahead")
