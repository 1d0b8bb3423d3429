"""One line at the top of every screen: this month's won against quota, and the pace."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from repdesk.core import formatting
from repdesk.core.money import format_money
from repdesk.core.standing import QuotaStanding


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
        self._drawn: tuple[Text, Text] | None = None  # the line's two sides as drawn last

    def on_mount(self) -> None:
        # The CRM sync's state (tui/syncing.py), when the desk syncs: a new screen's strip
        # shows it from the start. Drawn again if the figures came first (a quota read that
        # finished while the screen was being mounted): asked for the same figures later, the
        # strip draws nothing new (show_figures), so the line would lack the sync's state.
        self.show_sync(getattr(getattr(self.app, "sync", None), "line", None))
        # The figures the app showed last, on a screen whose opening does not ask for them (a
        # contact or company page, the capture screen: their line was empty, a new-user
        # trial). No read here: the board's strip mounts before the first read.
        draw = getattr(self.app, "draw_last_quota", None)
        if callable(draw):
            draw(self)

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

    def on_resize(self) -> None:
        self._draw()  # the sync's words take what the width leaves (see _right)

    def _right(
        self, lines: tuple[Text, Text, Text], days_left: tuple[str, str], demo: bool
    ) -> tuple[Text, Text]:
        """The line's two sides. The right is kept whole: the sync's state, the demo mark, the
        days left. On a narrow terminal the figures are said in short first ("▲ 2.1k", "10d"),
        then the sync says less ("Pipedrive: not synced: no API token", then "Pipedrive: not
        synced"), each with the figures whole and then short, then the sync goes, then the
        figures are said as the status bar's `quota --short` says them ("€27.3k/€60k 45%
        ▼12.8k"); only then are they cut."""

        def with_sync(sync: Text | None, days: str = days_left[0]) -> Text:
            right = Text("  ", no_wrap=True)
            if sync is not None:
                right.append_text(sync)
                right.append("  ")
            if demo:
                right.append(" demo desk ", style="bold reverse")
                right.append("  ")
            right.append(days, style="dim")
            return right

        full, short, tiny = lines
        # Not laid out yet (the figures came first): the strip spans the screen. Drawn for
        # some other width, the first frame at 80 columns read "behind…" and changed to the
        # short form a few frames later (a new user's trial).
        width = self.content_region.width or self.app.size.width - self.styles.padding.width
        if width <= 0:  # no size at all yet: on_resize draws it again
            return full, with_sync(self._sync)
        syncs = self._sync_forms()
        whole, in_short = days_left
        # The sync's whole state (what waits, the conflicts to settle) before the figures in
        # full: at 120 columns "· 3 waiting" went while the short figures had room (an audit).
        tries: list[tuple[Text, Text | None, str]] = [
            option for sync in syncs for option in ((full, sync, whole), (short, sync, in_short))
        ]
        # Without the sync (or with none to say): whole, then in short. Tried also with no
        # sync state at all, where 70 columns cut the pace mid-figure.
        tries += [(full, None, whole), (short, None, in_short), (tiny, None, in_short)]
        for left, sync, days in tries:
            right = with_sync(sync, days)
            if left.cell_len + right.cell_len <= width:
                return left, right
        # Cut at the end: "won €27,25…" read as another amount (a hostile test).
        return tiny, with_sync(None, in_short)

    def _sync_forms(self) -> list[Text]:
        """The sync's state, longest first: whole, its first part, that part's first two
        clauses ("Pipedrive: not synced"); none when the desk does not sync."""
        if self._sync is None:
            return []
        whole = self._sync
        first = whole.split(" · ")[0] if " · " in whole.plain else whole
        parts = first.plain.split(": ")
        forms = [whole]
        crm, _, when = first.plain.partition(": ")
        if " · " in whole.plain and when.startswith("synced"):
            # What waits and the conflicts to settle before when it synced: at 80 columns the
            # line kept "synced 4 min ago" and dropped the counts (a trial).
            counts = whole.plain.split(" · ", 1)[1]
            forms.append(Text(f"{crm}: {counts}", style=whole.style, no_wrap=True))
        forms.append(first)
        if len(parts) > 2:
            forms.append(first[: len(": ".join(parts[:2]))])
        return forms

    def _draw(self) -> None:
        if self._shown is None:
            return
        k, currency, demo = self._shown
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{k.period}  ", style="bold")
        line.append(f"won {format_money(k.won_value, currency)}")
        short = line.copy()
        if k.quota is None:
            line.append(f"  ·  no quota: press Q or run repdesk quota set {k.period} AMOUNT", "dim")
            short.append("  ·  no quota: press Q", "dim")
        else:
            for side in (line, short):
                side.append(f" of {format_money(k.quota, currency)}  ")
                side.append(formatting.pct(k.attainment), style="bold")
                side.append("  ·  ")
            mark = formatting.pace_arrow(k)
            arrow, style = (mark + " " if mark else ""), ("red" if mark == "▼" else "green")
            line.append(arrow + formatting.pace(k, currency), style=style)
            in_short = (
                ("made" if mark == "▲" else "missed")
                if k.ended
                else "on pace"
                if not mark
                else format_money(abs(k.pace_delta or 0), "", compact=True)
            )
            short.append(arrow + in_short, style=style)
        days = "ended" if k.ended else formatting.count(k.days_left, "day") + " left"
        days_short = "ended" if k.ended else f"{k.days_left}d"
        tiny = Text(
            formatting.quota_short(k, currency, days=False), no_wrap=True, overflow="ellipsis"
        )
        line, right = self._right((line, short, tiny), (days, days_short), demo)
        if (line, right) == self._drawn:
            # A resize that leaves the line as it was (every opening of a screen sends one):
            # updating it anyway cost a layout of the whole screen after its first frame.
            return
        self._drawn = (line, right)
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True, justify="right")
        grid.add_row(line, right)
        self.update(grid)
