"""The KPI pane (key 3): will the rep make quota, and what does it take.

One read per period (a worker, off the UI thread) fills every part: the headline against
quota and pace, the tiles, the won curve, the funnel, the slices and the activity weeks.
Every figure comes from `reports.kpi_pane`, the same code as `repdesk kpi --json`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from repdesk.core import clock, formatting
from repdesk.core.dates import Period, period_containing
from repdesk.core.kpi import Kpis
from repdesk.core.money import format_money, whole_units
from repdesk.core.text import cut, printable
from repdesk.reports.figures import ClosedFigures, default_as_of
from repdesk.reports.kpi_pane import KpiPane, kpi_pane
from repdesk.reports.queries import SLICE_DIMENSIONS
from repdesk.settings import Settings
from repdesk.tui import actions
from repdesk.tui.lifecycle import can_show
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.kpi_charts import (
    Figure,
    FunnelChart,
    FunnelFigure,
    WonChart,
    WonFigure,
    draw_ahead,
    draw_now,
    know_theme,
)
from repdesk.tui.widgets.quota_strip import QuotaStrip
from repdesk.tui.widgets.scrolled import ScrolledPane

if TYPE_CHECKING:
    from textual.app import App

    from repdesk.tui.gateway import DeskGateway


def load_pane(session: Any, period: Period, settings: Settings) -> KpiPane:
    return kpi_pane(
        session,
        period=period,
        # A past period as the desk stood when it ended, as `repdesk kpi --period` reads it.
        as_of=default_as_of(period, clock.today()),
        conversion=settings.conversion,
        week_start=settings.week_start_index,
    )


def pane_reader(period: Period, settings: Settings) -> Callable[[Any], KpiPane]:
    """The read of `period`'s pane, as the screen and the app's read ahead make it."""
    return lambda conn: load_pane(conn, period, settings)


def kept_as(period: Period) -> tuple[str, Period]:
    """The key a period's pane is kept under by the desk (DeskGateway.kept)."""
    return ("kpi-pane", period)


NO_QUOTA = "no quota set: Q sets it"

# The charts' place in the layout (KpiScreen.DEFAULT_CSS): side by side from WIDE columns on,
# else one above the other, CHART_HEIGHT rows each, the pane's scrollbar (its gutter kept
# always) beside them.
WIDE = 118
CHART_HEIGHT = 14
SCROLLBAR_WIDTH = 2


def chart_sizes(width: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(width, height) of the won chart and of the funnel on a terminal `width` columns wide,
    as the CSS lays them out (tests/tui/test_kpi_screen.py holds the two together): the app
    draws them ahead at these sizes."""
    inner = max(0, width - SCROLLBAR_WIDTH)
    if width >= WIDE:
        return (inner // 2, CHART_HEIGHT), (inner - inner // 2, CHART_HEIGHT)
    return (inner, CHART_HEIGHT), (inner, CHART_HEIGHT)


def chart_figures(pane: KpiPane, period: Period, currency: str) -> tuple[WonFigure, FunnelFigure]:
    """What the two charts show of `pane`, the figures of `period`."""
    won = WonFigure(
        period=period,
        as_of=pane.as_of,
        won_by_day=tuple(pane.won_by_day),
        quota=pane.kpis.quota,
        currency=currency,
    )
    return won, FunnelFigure.of(pane.funnel)


def tiles(k: Kpis, currency: str) -> list[tuple[str, str, str, str]]:
    """(title, figure, caption, explanation) for each tile. The caption fits a narrow tile;
    the explanation is its tooltip. A figure that cannot be computed is a dash, and both
    say why."""

    def money(cents: int | None) -> str:
        return format_money(whole_units(cents), currency)

    closed = k.won_count + k.lost_count
    no_closed = ("none closed", "No deal was won or lost in this period yet.")
    no_won = ("no won deals", "No deal was won in this period yet.")
    if k.coverage is not None:
        coverage = (
            f"{k.coverage:.1f}x",
            "of the rest",
            "Open value expected to close this period / quota still to win.",
        )
    elif k.ended:
        coverage = ("—", "period over", "The period is over: nothing is left to cover.")
    elif k.quota is None:
        coverage = ("—", "no quota (Q)", "Set a quota with Q to see coverage.")
    else:
        coverage = ("—", "quota made", "Nothing is left to win, so nothing to cover.")
    if k.velocity_per_day is not None:
        velocity = (
            f"{money(round(k.velocity_per_day))}/day",
            "money flow",
            "Open deals x average deal size x win rate / average cycle, per day.",
        )
    elif not k.won_count:
        velocity = ("—", *no_won)
    elif not k.avg_cycle_days:
        velocity = ("—", "no cycle", "Deals closed the day they started: no cycle length.")
    else:
        velocity = ("—", "none open", "No open deals to move.")
    return [
        ("Forecast", money(k.forecast), "on its last day" if k.ended else "won+weighted",
         "Won plus open value x probability, for deals closing this period"
         + (", as the desk stood on its last day." if k.ended else ".")),
        ("Coverage", *coverage),
        ("Win rate", formatting.pct(k.win_rate),
         *((f"{k.won_count}/{closed} won", "Won / (won + lost), decided deals only.")
           if closed else no_closed)),
        ("Avg cycle", "—" if k.avg_cycle_days is None else f"{k.avg_cycle_days:.0f} days",
         *(("first→close", "Days from first contact to close, over closed deals.")
           if closed else no_closed)),
        ("Avg deal", money(k.avg_deal_size),
         *(("per won deal", "The mean value of deals won this period.")
           if k.won_count else no_won)),
        ("Velocity", *velocity),
        ("Open", money(k.open_value), formatting.count(k.open_count, "deal"),
         "Every open deal, whenever it is expected to close."),
    ]  # fmt: skip


def headline(k: Kpis, currency: str, width: int) -> Text:
    """Won against quota with a bar and a pace marker, then what it takes."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"Won {format_money(whole_units(k.won_value), currency)}", style="bold")
    if k.quota is None:
        text.append(f" · {NO_QUOTA}", style="dim")
        text.append(f" · ended {k.end:%d %b}\n" if k.ended else f" · {k.days_left} days left\n")
        text.append(_bar(None, None, width))
        text.append("\nSet a quota to see pace, what is left and the pipeline it takes.", "dim")
        return text
    text.append(f" of {format_money(whole_units(k.quota), currency)} · ")
    text.append(formatting.pct(k.attainment), style="bold")
    text.append(" · ")
    arrow = formatting.pace_arrow(k)
    text.append(
        (arrow + " " if arrow else "") + formatting.pace(k, currency),
        style="red" if arrow == "▼" else "green",
    )
    text.append(f" · ended {k.end:%d %b}\n" if k.ended else f" · {k.days_left} days left\n")
    expected = k.expected_by_now or 0
    text.append(_bar(k.won_value / k.quota, expected / k.quota, width))
    if k.ended:
        text.append("  │ the quota\n", style="dim")
        if formatting.made(k):
            text.append("Quota made.", style="green")
        else:
            text.append(f"The period is over: {formatting.outcome(k, currency)}.", style="red")
        return text
    pace = format_money(whole_units(expected), currency)
    text.append(f"  │ pace: {pace} by today\n", style="dim")
    if k.remaining == 0:
        text.append("Quota made. Everything from here is over target.", style="green")
        return text
    text.append(f"To go: {format_money(whole_units(k.remaining), currency)}")
    if k.deals_needed is not None:
        deals = "1 deal" if k.deals_needed == 1 else f"{k.deals_needed} deals"
        text.append(f" = {deals} of {format_money(whole_units(k.avg_deal_size), currency)}")
    if k.pipeline_needed is not None:
        text.append(
            f" · needs {format_money(whole_units(k.pipeline_needed), currency)} of pipeline at "
            f"{formatting.pct(k.win_rate)} win rate"
        )
    elif k.win_rate is None:
        text.append(" · pipeline needed: — (no deals closed yet to give a win rate)", "dim")
    return text


def _bar(done: float | None, pace: float | None, width: int) -> Text:
    """An attainment bar: filled to `done`, with │ where the pace expects the rep to be."""
    cells = max(width, 10)
    filled = 0 if done is None else min(cells, round(done * cells))
    bar = Text(
        "█" * filled, style="green" if done and pace is not None and done >= pace else "yellow"
    )
    bar.append("░" * (cells - filled), style="dim")
    if pace is not None:
        mark = min(cells - 1, round(pace * cells))
        bar = bar[:mark] + Text("│", style="bold") + bar[mark + 1 :]
    return bar


def forecast_lines(k: Kpis, currency: str) -> Text:
    """The forecast categories of the deals expected to close in the period, and won + commit
    (+ best case) against the quota: what the period brings for sure, and if the likely close."""

    def money(cents: int) -> str:
        return format_money(whole_units(cents), currency)

    sums = k.categories
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Forecast", style="bold")
    text.append(
        f"  commit {money(sums.commit)} · best case {money(sums.best_case)} · "
        f"pipeline {money(sums.pipeline)}"
    )
    text.append(
        "  that were to close this period, on its last day\n"
        if k.ended
        else "  closing this period (F on a deal sets your call)\n",
        style="dim",
    )
    for label, value, share in (
        ("Won + commit", k.won_and_commit, k.commit_attainment),
        ("+ best case", k.won_commit_best_case, k.best_case_attainment),
    ):
        text.append(f"{label:<14}", style="dim")
        text.append(money(value), style="bold")
        if share is not None:
            made = share >= 1
            text.append(f"  {formatting.pct(share)} of quota", style="green" if made else "yellow")
        text.append("   ")
    text.rstrip()
    if k.close_passed_count:
        text.append("\n")
        text.append(formatting.close_passed(k, currency), style="yellow")
    return text


def lessons_lines(k: Kpis, currency: str) -> Text:
    """What the period's lost deals teach (by reason, by competitor) and the won customers'
    score."""
    text = Text()
    for title, groups, nobody in (
        ("Lost by reason", k.lost_by_reason, "(no reason)"),
        ("Lost to", k.lost_by_competitor, "a competitor, unnamed"),
    ):
        text.append(f"{title:<16}", style="bold")
        if not groups:
            text.append("none this period\n", style="dim")
            continue
        for n, group in enumerate(groups[:LESSONS_SHOWN]):
            text.append(" · " if n else "")
            text.append(cut(group.name, LESSON_CHARS) or nobody)
            text.append(
                f" {group.count}× {format_money(whole_units(group.value_cents), currency)}", "dim"
            )
        more = len(groups) - LESSONS_SHOWN
        text.append(f" · {more} more" if more > 0 else "", style="dim")
        text.append("\n")
    nps = k.nps
    text.append(f"{'NPS':<16}", style="bold")
    if nps.score is None:
        text.append("no won customer of this period answered yet (V on a won deal)", "dim")
    else:
        text.append(f"{nps.score:+.0f}", style="green" if nps.score >= 0 else "red")
        answered = "1 answered" if nps.answered == 1 else f"{nps.answered} answered"
        text.append(
            f"  {answered}: {formatting.count(nps.promoters, 'promoter')}, "
            f"{formatting.count(nps.passives, 'passive')}, "
            f"{formatting.count(nps.detractors, 'detractor')}",
            style="dim",
        )
    return text


LESSONS_SHOWN = 4  # the biggest; `repdesk kpi --json` has them all
LESSON_CHARS = 40  # of each name: a reason from an import or a sync may be pages long


SLICE_TITLES = {"source": "Source", "product": "Product", "region": "Region", "segment": "Segment"}
SORTS = (
    ("won value", lambda f: -f.won_value_cents),
    ("win rate", lambda f: -(f.win_rate if f.win_rate is not None else -1)),
    ("cycle", lambda f: f.avg_cycle_days if f.avg_cycle_days is not None else float("inf")),
    ("deal size", lambda f: -(f.avg_deal_size or 0)),
    ("closed", lambda f: -(f.won_count + f.lost_count)),
)


class Tile(Static):
    DEFAULT_CSS = """
    Tile { height: 4; border: round $primary-darken-1; padding: 0 0 0 1;
           text-wrap: nowrap; text-overflow: ellipsis; }
    Tile.-dash { border: round $panel-lighten-2; }
    """

    def show(self, title: str, figure: str, caption: str, explanation: str) -> None:
        self.border_title = title
        self.set_class(figure == "—", "-dash")
        self.tooltip = explanation
        self.update(
            Text.assemble(
                (figure, "bold"), "\n", (caption, "dim"), no_wrap=True, overflow="ellipsis"
            )
        )


class KpiScreen(DeskScreen):
    TITLE = "KPIs against quota"  # the heading of its keys under `?`
    AUTO_FOCUS = "#kpi-body"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    BINDINGS = [
        Binding("m", "kind('month')", "Month", id="kpi.month"),
        # q quits here as everywhere: the quarter is p's second stop (month, quarter, year).
        Binding("p", "next_kind", "Month/quarter/year", id="kpi.period_kind"),
        Binding("y", "kind('year')", "Year", id="kpi.year"),
        Binding("left_square_bracket", "shift(-1)", "Previous", id="kpi.previous", key_display="["),
        Binding("right_square_bracket", "shift(1)", "Next", id="kpi.next", key_display="]"),
        Binding("0", "current", "This period", id="kpi.current"),
        Binding("Q", "set_quota", "Set quota", id="kpi.set_quota", key_display="Q"),
        Binding("b", "dimension", "Slice by", id="kpi.dimension"),
        Binding("s", "sort", "Sort slices", id="kpi.sort"),
        Binding("escape", "back", "Board", id="kpi.back", show=False),
    ]
    # At 80 columns `Q` (set the quota) did not fit (a new-user trial): `p` reaches the month
    # and the year too, and `?` lists m and y.
    NARROW_FOOTER_HIDES = frozenset({"kpi.month", "kpi.year"})
    DEFAULT_CSS = """
    KpiScreen #kpi-body { height: 1fr; scrollbar-gutter: stable; }
    KpiScreen #kpi-period {
        height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis;
    }
    KpiScreen.-reading #kpi-body > * { visibility: hidden; }
    KpiScreen.-reading #kpi-body > #kpi-period { visibility: visible; }
    KpiScreen #kpi-headline { height: 3; padding: 0 1; margin-top: 1; }
    KpiScreen #kpi-left-out { height: auto; padding: 0 1; color: $warning; }
    KpiScreen #kpi-left-out.-none { display: none; }
    KpiScreen #kpi-tiles { layout: grid; grid-size: 4; grid-gutter: 0 1; height: auto;
                           padding: 0 1; margin-top: 1; }
    KpiScreen.-wide #kpi-tiles { grid-size: 7; }
    KpiScreen #kpi-forecast { height: auto; padding: 0 1; margin-top: 1; }
    KpiScreen #kpi-lessons { height: auto; padding: 0 1; margin-top: 1; }
    KpiScreen #kpi-charts { height: 14; margin-top: 1; }
    KpiScreen.-narrow #kpi-charts { layout: vertical; height: 28; }
    KpiScreen WonChart, KpiScreen FunnelChart { height: 1fr; width: 1fr; }
    KpiScreen #kpi-lower { height: auto; margin-top: 1; padding: 0 1; }
    KpiScreen.-narrow #kpi-lower { layout: vertical; }
    KpiScreen #slices-box { width: 1fr; height: auto; }
    KpiScreen.-narrow #slices-box { width: 100%; }
    KpiScreen #slices-title, KpiScreen #activity-title { height: 1; text-style: bold; }
    KpiScreen #slices { height: auto; max-height: 14; }
    KpiScreen #activity-box { width: 38; height: auto; margin-left: 2; }
    KpiScreen.-narrow #activity-box { margin: 1 0 0 0; width: 100%; }
    KpiScreen #activity { height: auto; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.period = period_containing(clock.today(), "month")
        self.pane: KpiPane | None = None
        self._headline_width = -1  # the width the headline's bar was drawn for
        self.dimension = SLICE_DIMENSIONS[0]
        self.sort_index = 0
        self._reopened = False  # set by reopen until the pane is on top again
        self.read_early(self._reader(), report=True, keep_as=kept_as(self.period))
        self._set_breakpoint()

    def _set_breakpoint(self) -> None:
        # The breakpoint's class from the start: Textual sets it on the first resize, after
        # the first layout, which put the charts side by side at any width and drew them at
        # sizes no read ahead knew (chart_sizes). And a pane kept while away from the screen
        # is not told of a resize meanwhile.
        wide = self.app.size.width >= WIDE
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-narrow")

    def reopen(self) -> None:
        """The app shows this pane again (kept between openings: RepdeskApp.action_kpis): on
        this month, at the top, as a new pane opens; the slices keep their dimension and sort.
        Its figures are read as on the first opening, from what the desk keeps when it still
        holds: with nothing changed, nothing is laid out or drawn again but the frame."""
        self.workers.cancel_group(self, "kpi-load")  # a read for the period left behind
        self.period = period_containing(clock.today(), "month")
        self.read_early(self._reader(), report=True, keep_as=kept_as(self.period))
        self._set_breakpoint()
        if self.is_mounted:  # else made ahead (RepdeskApp.make_kpi_pane_ahead), still mounting
            self.query_one("#kpi-body", ScrolledPane).scroll_home(animate=False, immediate=True)
        self._reopened = True

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if self._reopened:
            self._reopened = False
            # Textual restyles every widget of a screen coming back (10-15 ms here). This
            # pane was styled as it was made, and a new theme restyles every screen the app
            # holds, this one too. Restyled all the same when Textual's own count of style
            # changes moved while it was away (it counts a theme, not the screens it reached).
            restyle = self._css_update_count != self.app._css_update_count
            event.refresh_styles = restyle
            self._css_update_count = self.app._css_update_count
            # Decided here, also for a pane made ahead coming up the first time: DeskScreen's
            # skip of a first restyle would undo a theme chosen since (found by a hostile test).
            self._resumed_before = True
            pane = self.early_result()
            if pane is None:
                if self.pane is not None and self.pane.kpis.period != self.period.label:
                    self._show_reading()  # never the period left behind, while this one reads
                self.reload()
            elif pane is not self.pane or self.app.size.width != self._headline_width:
                self.pane = pane
                self.show_pane(pane)
            self.app.refresh_quota()
            # The sync's state may have moved while away: the app tells the screens it holds
            # on its stack, not this one (found by a hostile test).
            self.query_one(QuotaStrip).show_sync(self.app.sync.line)
        super()._on_screen_resume(event)

    def _show_reading(self) -> None:
        """The period's line, saying its figures are being read; the rest of the pane hidden
        until they come (show_pane), not the figures of the period shown before."""
        self.add_class("-reading")
        line = _period_heading(self.period)
        line.append(" · reading the figures…", style="dim")
        self.query_one("#kpi-period", Static).update(line)

    def _reader(self) -> Callable[[Any], KpiPane]:
        return pane_reader(self.period, self.desk.settings)

    @staticmethod
    def read_ahead(desk: DeskGateway, app: App[Any] | None = None) -> None:
        """Read this month's pane in the background and keep it, while the rep is elsewhere,
        and with `app`, draw its charts at the size its terminal gives them, in its theme: key
        3 then opens on its figures (on a desk of 100,000 deals the read takes a second;
        plotext's drawing was a third of the pane's first opening on 10,000). The app calls it
        on its change timer; it reads only when what is kept went stale, and draws only what
        is not drawn yet (the terminal resized, another theme)."""
        period = period_containing(clock.today(), "month")
        reader = pane_reader(period, desk.settings)
        if app is None:
            desk.prepare(kept_as(period), reader)
            return
        currency, theme = str(desk.settings.currency), app.theme
        won_size, funnel_size = chart_sizes(app.size.width)

        def charts(pane: KpiPane) -> list[tuple[Figure, int, int]]:
            won, funnel = chart_figures(pane, period, currency)
            return [(won, *won_size), (funnel, *funnel_size)]

        know_theme(theme)  # before a thread draws with it
        kept = desk.prepare(
            kept_as(period), reader, then=lambda pane: draw_now(charts(pane), theme)
        )
        if isinstance(kept, KpiPane):  # read already: drawn too, unless resized or restyled
            draw_ahead(charts(kept), theme)

    @staticmethod
    def has_figures_ahead(desk: DeskGateway) -> bool:
        """This month's pane is read ahead and still holds: a pane made now opens on it."""
        return desk.kept(kept_as(period_containing(clock.today(), "month"))) is not None

    @property
    def currency(self) -> str:
        return str(self.desk.settings.currency)

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        with ScrolledPane(id="kpi-body"):
            yield Static(id="kpi-period")
            yield Static(id="kpi-headline")
            yield Static(id="kpi-left-out", classes="-none")
            with Vertical(id="kpi-tiles"):
                for n in range(7):
                    yield Tile(id=f"tile-{n}")
            yield Static(id="kpi-forecast")
            with Horizontal(id="kpi-charts"):
                yield WonChart(id="won-chart")
                yield FunnelChart(id="funnel-chart")
            with Horizontal(id="kpi-lower"):
                with Vertical(id="slices-box"):
                    yield Static(id="slices-title")
                    table: DataTable[Any] = DataTable(
                        id="slices", cursor_type="none", zebra_stripes=True
                    )
                    table.can_focus = False  # keys sort it; arrows scroll the pane
                    yield table
                with Vertical(id="activity-box"):
                    yield Static("Week so far vs same span last week", id="activity-title")
                    yield Static(id="activity")
            yield Static(id="kpi-lessons")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        # Styled as it mounts: Textual's count of restyles, as a pane kept away reads it.
        self._css_update_count = self.app._css_update_count
        self._reopened = False  # asked for while mounting: this shows the read it started
        if (pane := self.early_result()) is not None:
            self.pane = pane
            self.show_pane(pane)
        else:
            self.reload()
        self.app.refresh_quota()

    @work(exclusive=True, group="kpi-load")
    async def reload(self) -> None:
        period = self.period
        pane = await self.first_read(self._reader(), report=True, keep_as=kept_as(period))
        if not can_show(self) or period != self.period:
            return  # the rep moved on while this was reading
        self.pane = pane
        self.show_pane(pane)

    def _show_headline(self, k: Kpis) -> None:
        # The bar takes the width the line leaves: drawn again when the terminal is resized.
        # The app's width: a pane shown again after a resize is laid out after this.
        self._headline_width = self.app.size.width
        width = max(10, self._headline_width - 40)
        self.query_one("#kpi-headline", Static).update(headline(k, self.currency, width))

    def on_resize(self) -> None:
        # Textual sends one on opening too, at the width the headline was drawn at: drawing it
        # again then cost a layout of the whole pane (benchmarks/terminal.py).
        if self.pane is not None and self.app.size.width != self._headline_width:
            self._show_headline(self.pane.kpis)

    def show_pane(self, pane: KpiPane) -> None:
        self.remove_class("-reading")
        k, cur, today = pane.kpis, self.currency, pane.as_of
        now = clock.today()  # a past period is read as of its last day, not as of today
        state = (
            "current"
            if self.period.contains(now)
            else "past"
            if self.period.end < now
            else "future"
        )
        line = _period_heading(self.period)
        line.append(f" · {state} {self.period.kind}")
        line.append(f" · as of {formatting.when(today)}", style="dim")
        line.append("   m p y · [ ] · 0 · Q quota", style="dim")
        self.query_one("#kpi-period", Static).update(line)
        self._show_headline(k)
        left_out = self.query_one("#kpi-left-out", Static)
        left_out.set_class(not k.left_out_deals, "-none")
        if k.left_out_deals:
            left_out.update(
                Text(
                    f"Left out of every figure: {formatting.left_out(k)}. "
                    "Add a rate under [rates] in the settings to count them."
                )
            )
        for n, figures in enumerate(tiles(k, cur)):
            self.query_one(f"#tile-{n}", Tile).show(*figures)
        self.query_one("#kpi-forecast", Static).update(forecast_lines(k, cur))
        self.query_one("#kpi-lessons", Static).update(lessons_lines(k, cur))
        won, funnel = chart_figures(pane, self.period, cur)
        self.query_one(WonChart).show_figure(won)
        self.query_one(FunnelChart).show_figure(funnel)
        self.show_slices()
        self.query_one("#activity", Static).update(_activity(pane))

    def show_slices(self) -> None:
        if self.pane is None:
            return
        sort_name, sort_key = SORTS[self.sort_index]
        title = SLICE_TITLES[self.dimension]
        self.query_one("#slices-title", Static).update(
            Text.assemble(
                f"By {title.lower()}",
                (
                    f"  sorted by {sort_name} · b: the next slice · s: sort",
                    "dim",
                ),
            )
        )
        table: DataTable[Any] = self.query_one("#slices", DataTable)
        table.clear(columns=True)
        table.add_columns(title, "Won", "Lost", "Win rate", "Avg cycle", "Avg deal", "Won value")
        rows = sorted(self.pane.slices[self.dimension], key=lambda r: sort_key(r.figures))
        for row in rows:
            table.add_row(*_slice_cells(row.value, row.figures, self.currency))
        if not rows:
            # Short: the first column is as wide as its widest cell, and a sentence here
            # pushed "Won value" out of the table on an empty desk (a new user's trial).
            table.add_row(Text("none closed", style="dim"), *[""] * 6)

    def action_kind(self, kind: str) -> None:
        self._show_period(period_containing(clock.today(), kind))

    def action_next_kind(self) -> None:
        kinds = ("month", "quarter", "year")
        self.action_kind(kinds[(kinds.index(self.period.kind) + 1) % len(kinds)])

    def action_shift(self, step: int) -> None:
        try:
            self._show_period(self.period.next() if step > 0 else self.period.prev())
        except ValueError:
            self.notify("No periods before year 1 or after 9999.")

    def action_current(self) -> None:
        self._show_period(period_containing(clock.today(), self.period.kind))

    def _show_period(self, period: Period) -> None:
        self.period = period
        # At the top, where the period's name is: scrolled down, another period's figures
        # read as the one shown before (a forecast trial).
        self.query_one("#kpi-body", ScrolledPane).scroll_home(animate=False, immediate=True)
        self.reload()

    def action_set_quota(self) -> None:
        current = (
            self.pane.kpis.quota
            if self.pane and self.pane.kpis.period == (self.period.label)
            else None
        )

        def saved(result: Any) -> None:
            if result is not None:
                self.reload()
                self.app.refresh_quota()
                actions.say_quota_cleared(self.app, result)

        self.app.push_screen(
            actions.quota_form(self.desk, period=self.period, current=current), saved
        )

    def action_dimension(self) -> None:
        index = SLICE_DIMENSIONS.index(self.dimension)
        self.dimension = SLICE_DIMENSIONS[(index + 1) % len(SLICE_DIMENSIONS)]
        self.show_slices()

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.show_slices()

    def action_back(self) -> None:
        self.app.action_board()


def _period_heading(period: Period) -> Text:
    """The period's name and days: the first words of the pane's top line."""
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(_period_name(period), style="bold")
    line.append(f"  {period.start:%d %b} – {period.end:%d %b %Y}")
    return line


def _period_name(period: Period) -> str:
    if period.kind == "month":
        return period.start.strftime("%B %Y")
    if period.kind == "quarter":
        return f"Q{period.index} {period.year}"
    return str(period.year)


def _slice_cells(value: str, f: ClosedFigures, currency: str) -> list[Text]:
    numbers = [
        str(f.won_count),
        str(f.lost_count),
        formatting.pct(f.win_rate),
        "—" if f.avg_cycle_days is None else f"{f.avg_cycle_days:.0f} d",
        format_money(whole_units(f.avg_deal_size), currency),
        format_money(whole_units(f.won_value_cents), currency),
    ]
    name = Text(printable(value) or "(none)", style="" if value else "dim")
    return [name, *(Text(number, justify="right") for number in numbers)]


def _activity(pane: KpiPane) -> Text:
    text = Text()
    for week in pane.activity:
        delta = week.this_week - week.last_week
        arrow = "▲" if delta > 0 else "▼" if delta < 0 else "="
        style = "green" if delta > 0 else "red" if delta < 0 else "dim"
        text.append(
            f"{week.kind.capitalize() + 's':<10}{week.this_week:>5}  vs {week.last_week:<5}"
        )
        text.append(f"{arrow}{abs(delta) if delta else ''}\n", style=style)
    return text
