"""The KPI screen's two charts, drawn by plotext: won so far against the pace line, and the
open pipeline stage by stage with how often deals go on from each stage."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text
from textual.app import RenderResult
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

    def define(self, plt: Plot) -> dict[str, str]:
        """Set the figure up in `plt`; what to put back in the drawing (`narrow_stand_ins`)."""
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
        return {}


@dataclass(frozen=True)
class FunnelFigure:
    """All that the funnel chart shows: (name, conversion, open deals) stage by stage."""

    stages: tuple[tuple[str, float | None, int], ...]

    @classmethod
    def of(cls, funnel: list[FunnelStage]) -> FunnelFigure:
        return cls(tuple((stage.name, stage.conversion, stage.open_count) for stage in funnel))

    def define(self, plt: Plot) -> dict[str, str]:
        """Set the figure up in `plt`; what to put back in the drawing (`narrow_stand_ins`)."""
        plt.clear_figure()
        back: dict[str, str] = {}
        if self.stages:
            shown = list(reversed(self.stages))
            # plotext's output is read back as ANSI: a raw escape in a name would style it.
            labels, back = narrow_stand_ins(
                [
                    f"{fit(printable(name), LABEL_CELLS)} →{pct(conversion)}"
                    for name, conversion, _ in shown
                ]
            )
            plt.bar(
                labels,
                [count for _, _, count in shown],
                orientation="horizontal",
                width=0.6,
                color="blue",
            )
            most = max(count for _, _, count in shown)
            step = max(1, -(-most // 4))  # about four whole-number ticks
            plt.xticks(list(range(0, most + step, step)))
        plt.title("Open deals by stage (→ went on to the next)")
        return back


# A stage's name in the funnel: its first cells, the bars get the rest.
LABEL_CELLS = 24
# Private-use characters, one cell wide: stand-ins for plotext (`narrow_stand_ins`), those
# the labels themselves hold left out.
_STAND_INS = range(0xE000, 0xF900)


def narrow_stand_ins(labels: list[str]) -> tuple[list[str], dict[str, str]]:
    """`labels` as plotext can lay them out, and what to put back in its drawing. plotext counts
    characters, not cells: a stage named in 字 (two cells each) pushed its row's bars past the
    chart's edge and broke the lines around it in the terminal (found by a hostile test). Each
    character of two cells (with the marks that join it) stands in as two one-cell characters,
    a character with joining marks as one; `put_back` restores them in the drawing."""
    taken = set("".join(labels))
    stand_ins = (code for code in _STAND_INS if chr(code) not in taken)
    back: dict[str, str] = {}
    laid_out: list[str] = []
    for label in labels:
        parts: list[str] = []
        for cluster in _clusters(label):
            cells = cell_len(cluster)
            if cells == len(cluster):
                parts.append(cluster)
                continue
            key = "".join(chr(next(stand_ins, 0x20)) for _ in range(cells))
            if key.strip():
                back[key] = cluster
            parts.append(key)
        laid_out.append("".join(parts))
    return laid_out, back


def _clusters(text: str) -> list[str]:
    """A character and the zero-width marks after it, each (one leading mark on its own)."""
    clusters: list[str] = []
    for char in text:
        if clusters and get_character_cell_size(char) == 0:
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def put_back(drawn: str, back: dict[str, str]) -> str:
    """plotext's drawing with the characters `narrow_stand_ins` stood in for; a stand-in left
    alone (plotext cut the label there) is a blank."""
    for key, cluster in back.items():
        drawn = drawn.replace(key, cluster)
    for key in back:
        for char in key:
            drawn = drawn.replace(char, " ")
    return drawn


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
            plt = plt or Plot()
            back = figure.define(plt)
            plt.plotsize(width, height)
            # As PlotextPlot.render does: resizing does not take without it.
            plt._set_size(width, height)
            plt.theme(plotext_theme(theme))
            lines = Text.from_ansi(put_back(plt.build(), back)).split("\n", allow_blank=True)
            for line in lines:  # a wide character no stand-in caught ends at the edge
                line.truncate(width)
            drawn = _DRAWINGS[key] = Text("\n").join(lines)
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
        return drawing(self.figure, self.size.width, self.size.height, self.app.theme, self.plt)


class WonChart(DrawnOnce):
    """Cumulative won value through the period, with the straight pace line to the quota."""


class FunnelChart(DrawnOnce):
    """Open deals per stage as bars; each label carries how often deals went on from it."""


# Drawings on their way (draw_ahead): one thread per chart and size, however often it is asked.
_AHEAD: set[tuple[Hashable, ...]] = set()
# The app's themes plotext knows (a chart not mounted yet has not registered its theme).
_THEMES_KNOWN: set[str] = set()


def know_theme(theme: str) -> None:
    """Make plotext know the app's theme `theme`, as a mounted chart does, for a drawing made
    before any chart is mounted. From the app's thread (the theme's colours are the app's)."""
    if theme not in _THEMES_KNOWN:
        WonChart()._register_theme(theme)  # PlotextPlot's own registration, for "auto"
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
