"""One board column: a virtualised list of deal cards on Textual's line API.

A widget per card costs seconds and hundreds of MB at 10,000 deals; ready-made list widgets
build every row up front. This column keeps plain `CardRow` tuples and draws only the lines on
screen (`render_line`), so its cost does not grow with the number of deals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from repdesk.core import formatting
from repdesk.core.money import format_money
from repdesk.core.text import printable
from repdesk.core.views import CardRow, ColumnTotal
from repdesk.tui.widgets.styles import fit as _fit
from repdesk.tui.widgets.styles import text_style

CARD_HEIGHT = 4  # three lines of card and a blank line between cards
_CACHE_LIMIT = 512


Part = tuple[str, Style]


def _line(left: Part, right: Part, width: int) -> list[Part]:
    """`left` cut with an ellipsis so that `right` fits whole at the right edge."""
    right_cells = cell_len(right[0])
    room = max(0, width - right_cells - (1 if right_cells else 0))
    left = (_fit(left[0], room), left[1])
    gap = max(0, width - cell_len(left[0]) - right_cells)
    return [left, (" " * gap, _PLAIN), right]


_PLAIN = Style()


class StageColumn(ScrollView, can_focus=True, inherit_bindings=False):
    # Arrows belong to the board (column and card moves), not to scrolling: the view follows
    # the cursor. Page keys move the cursor a screenful.
    BINDINGS = [
        Binding("pageup", "page(-1)", "Page up", id="column.page_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="column.page_down", show=False),
    ]

    COMPONENT_CLASSES = {
        "stage-column--title",
        "stage-column--cursor",
        "stage-column--cursor-blurred",
        "stage-column--overdue",
        "stage-column--warning",
        "stage-column--muted",
        "stage-column--good",
    }

    DEFAULT_CSS = """
    StageColumn {
        height: 1fr;
        scrollbar-size-vertical: 0;  /* the header's count says how many; every cell counts */
        overflow-x: hidden;
    }
    StageColumn > .stage-column--title { text-style: bold; }
    StageColumn > .stage-column--cursor { background: $accent 30%; }
    StageColumn > .stage-column--cursor-blurred { background: $panel-lighten-2; }
    StageColumn > .stage-column--overdue { color: $error; text-style: bold; }
    StageColumn > .stage-column--warning { color: $warning; }
    StageColumn > .stage-column--muted { color: $text-muted; }
    StageColumn > .stage-column--good { color: $success; }
    /* On a light background the plain theme colours are too pale to read: their text shades. */
    StageColumn:light > .stage-column--overdue { color: $text-error; }
    StageColumn:light > .stage-column--warning { color: $text-warning; }
    StageColumn:light > .stage-column--good { color: $text-success; }
    """

    class CursorMoved(Message):
        """The selected card changed (or the column emptied)."""

        def __init__(self, column: StageColumn, card: CardRow | None) -> None:
            super().__init__()
            self.column = column
            self.card = card

        @property
        def control(self) -> StageColumn:
            return self.column

    def __init__(self, stage_id: int, stage_name: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stage_id = stage_id
        self.stage_name = stage_name
        self.today = date.today()
        self._cards: Sequence[CardRow] = ()
        self._count = 0  # the stage's cards, those not read yet included
        self._cursor = 0
        # Drawn cards by (card, width, cursor state): a card's strips depend on nothing else,
        # so new data or a resize never needs the cache emptied (only bounded).
        self._strips: dict[tuple[CardRow, int, str, date], list[Strip]] = {}
        # Styles read at the start of each drawing pass (render_lines).
        self._styles_now: dict[str, Style] = {}
        self._base_now: Style | None = None
        # Told (above, below) whenever the cards out of sight change: the header shows them.
        self.on_hidden: Callable[[int, int], None] | None = None

    def hidden_cards(self) -> tuple[int, int]:
        """How many cards are out of sight (wholly or in part) above and below the view."""
        if not self._cards:
            return 0, 0
        top = round(self.scroll_offset.y)
        bottom = top + self.scrollable_content_region.height  # the first line out of sight
        above = min(len(self._cards), -(-top // CARD_HEIGHT))
        # A card counts as seen when its three lines are; the blank line may be cut.
        seen_to = max(above, (bottom - (CARD_HEIGHT - 1)) // CARD_HEIGHT + 1)
        below = max(0, self._count - seen_to)
        return above, below

    def _report_hidden(self) -> None:
        if self.on_hidden is not None:
            self.on_hidden(*self.hidden_cards())

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._report_hidden()

    # ------------------------------------------------------------------ data

    @property
    def cards(self) -> Sequence[CardRow]:
        return self._cards

    @property
    def cursor_index(self) -> int:
        return self._cursor

    @property
    def selected(self) -> CardRow | None:
        return self._cards[self._cursor] if self._cards else None

    def set_cards(
        self, cards: Sequence[CardRow], *, keep_deal: int | None = None, count: int | None = None
    ) -> None:
        """`count`: how many cards the stage has, when `cards` are only the first of them."""
        before = self.selected
        self._cards = cards
        self._count = len(cards) if count is None else count
        index = None
        if keep_deal is not None:
            index = next((i for i, c in enumerate(cards) if c.deal_id == keep_deal), None)
        self._cursor = index if index is not None else max(0, min(self._cursor, len(cards) - 1))
        self._update_virtual_size()
        self._scroll_cursor_visible()
        self._report_hidden()
        self.refresh()
        if self.selected != before:
            self.post_message(self.CursorMoved(self, self.selected))

    def select_deal(self, deal_id: int) -> bool:
        for index, card in enumerate(self._cards):
            if card.deal_id == deal_id:
                self._set_cursor(index)
                return True
        return False

    # ------------------------------------------------------------------ cursor

    def _set_cursor(self, index: int) -> None:
        if not self._cards:
            return
        index = max(0, min(len(self._cards) - 1, index))
        if index == self._cursor:
            return
        old = self._cursor
        self._cursor = index
        self._refresh_card(old)
        self._refresh_card(index)
        self._scroll_cursor_visible()
        self.post_message(self.CursorMoved(self, self.selected))

    def move_cursor(self, delta: int) -> None:
        self._set_cursor(self._cursor + delta)

    def cursor_first(self) -> None:
        self._set_cursor(0)

    def cursor_last(self) -> None:
        self._set_cursor(len(self._cards) - 1)

    def notify_style_update(self) -> None:
        # A new theme or CSS: the drawn cards carry the old colours.
        self._strips.clear()
        super().notify_style_update()

    def action_page(self, direction: int) -> None:
        self.move_cursor(direction * max(1, self.size.height // CARD_HEIGHT))

    def _refresh_card(self, index: int) -> None:
        top = index * CARD_HEIGHT - round(self.scroll_offset.y)
        self.refresh(Region(0, top, self.size.width, CARD_HEIGHT))

    def _update_virtual_size(self) -> None:
        # Padded so that even the furthest scroll starts on a card's first line.
        total = len(self._cards) * CARD_HEIGHT
        height = self.scrollable_content_region.height
        if total > height:
            total += (height - total) % CARD_HEIGHT
        self.virtual_size = Size(self.size.width, max(1, total))

    def _scroll_cursor_visible(self) -> None:
        """Scroll just enough to show the cursor card, in whole cards: the top of the column
        is never half a card."""
        if not self._cards:
            return
        height = self.scrollable_content_region.height
        top = self._cursor * CARD_HEIGHT
        current = round(self.scroll_offset.y)
        target = current
        if top < current:
            target = top
        elif top + CARD_HEIGHT - 1 > current + height:
            fits = max(1, (height + 1) // CARD_HEIGHT)  # the last card needs no blank line
            target = (self._cursor - fits + 1) * CARD_HEIGHT
        if target != current:
            self.scroll_to(y=max(0, target), animate=False, immediate=True, force=True)

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_cursor_visible()
        self._report_hidden()

    def on_focus(self) -> None:
        self._refresh_card(self._cursor)

    def on_blur(self) -> None:
        self._refresh_card(self._cursor)

    def on_click(self, event: events.Click) -> None:
        index = (event.y + round(self.scroll_offset.y)) // CARD_HEIGHT
        self.focus()
        if 0 <= index < len(self._cards):
            self._set_cursor(index)

    # ------------------------------------------------------------------ drawing

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles read once per pass, not per line: each read walks the ancestors' styles.
        self._styles_now = {}
        self._base_now = self.rich_style
        if not self.is_attached or not self._plainly_styled():
            # A column being removed is still drawn until the next layout, without its
            # component styles (Textual clears them): Textual's drawing keeps its lines.
            return super().render_lines(crop)
        # Textual passes each line through the widget's styles (border, padding, tint,
        # opacity: a column has none of them) and makes a new strip of it: a fifth of the
        # first frame's drawing, for lines that come out as they went in. Here they go
        # straight to the app's line filters and the crop, as Textual's own do
        # (_styles_cache.StylesCache.render); a test holds the two to the same lines.
        filters = self.get_line_filters()
        background = self.background_colors[1]
        strips = []
        for y in crop.line_range:
            strip = self.render_line(y)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            strips.append(strip)
        x1, x2 = crop.column_span
        if (x1, x2) != (0, self.outer_size.width):
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _plainly_styled(self) -> bool:
        styles = self.styles
        return (
            not any(edge for edge, _ in styles.border)
            and not any(edge for edge, _ in styles.outline)
            and not any(styles.padding)
            and not styles.tint.a
            and self.opacity == 1
            and styles.text_opacity == 1
            and not styles.has_rule("hatch")
        )

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = y + round(self.scroll_offset.y)
        index, offset = divmod(line, CARD_HEIGHT)
        base = self._base_now or self.rich_style
        if not self._cards:
            if line == 1:
                muted = self.get_component_rich_style("stage-column--muted")
                return Strip([Segment(_fit(" no deals", width), base + muted)]).adjust_cell_length(
                    width, base
                )
            return Strip.blank(width, base)
        if index >= len(self._cards) or offset == CARD_HEIGHT - 1:
            return Strip.blank(width, base)
        return self._card_strips(index, width)[offset]

    def _card_strips(self, index: int, width: int) -> list[Strip]:
        card = self._cards[index]
        state = ("focused" if self.has_focus else "blurred") if index == self._cursor else ""
        key = (card, width, state, self.today)
        strips = self._strips.get(key)
        if strips is None:
            if len(self._strips) > _CACHE_LIMIT:
                self._strips.clear()
            strips = self._strips[key] = self._draw(card, width, state)
        return strips

    def _style(self, name: str) -> Style:
        if name not in self._styles_now:
            self._styles_now[name] = text_style(self, name)
        return self._styles_now[name]

    def _draw(self, card: CardRow, width: int, state: str) -> list[Strip]:
        """A card's four lines, as plain segments (Rich's Text costs several times more, and
        a first frame draws some seventy cards)."""
        plain = self._base_now or self.rich_style
        base = plain
        if state == "focused":
            base = plain + self.get_component_rich_style("stage-column--cursor")
        elif state == "blurred":
            base = plain + self.get_component_rich_style("stage-column--cursor-blurred")
        style = self._style
        inner = max(0, width - 2)  # one cell of padding each side

        # Each line: what may be cut on the left, what must stay whole on the right.
        flags = f"⚑{card.open_objections}" if card.open_objections else ""
        title = _line(
            (printable(card.title), style("stage-column--title")),
            (flags, style("stage-column--warning")),
            inner,
        )
        value = format_money(card.value_cents, card.currency, compact=True)
        company = _line(
            (printable(card.company), style("stage-column--muted")), (value, _BOLD), inner
        )
        if card.status != "open":
            facts = self._closed_facts(card, inner)
        else:
            facts = self._open_facts(card, inner)

        strips = []
        for parts in (title, company, facts):
            # The card's background (cursor or not) under the text's own colours.
            segments = [Segment(" ", base)]
            segments.extend(Segment(text, base + own) for text, own in parts if text)
            strips.append(Strip(segments).adjust_cell_length(width, base))
        strips.append(Strip.blank(width, plain))
        return strips

    def _closed_facts(self, card: CardRow, inner: int) -> list[Part]:
        """A won or lost card: when it closed (and why it was lost), and how long ago."""
        style = self._style
        if card.closed_on is None:  # not expected: a closed deal always has its close date
            return _line((card.status, style("stage-column--muted")), ("", _PLAIN), inner)
        day = card.closed_on.strftime("%d %b")
        if card.status == "won":
            what = (f"won {day}", style("stage-column--good"))
        else:
            reason = f": {printable(card.lost_reason)}" if card.lost_reason else ""
            what = (f"lost {day}{reason}", style("stage-column--muted"))
        days = max(0, (self.today - card.closed_on).days)
        if card.status != "won" and card.lost_reason and cell_len(f"{what[0]} {days}d") > inner:
            # Narrow: the reason before the day, which "15d" beside it still tells.
            what = (f"lost: {printable(card.lost_reason)}", what[1])
        # "15d ago" where it fits beside the rest, else "15d": the date and reason come first.
        ago = f"{days}d ago" if cell_len(f"{what[0]} {days}d ago") <= inner else f"{days}d"
        return _line(what, (ago, style("stage-column--muted")), inner)

    def _open_facts(self, card: CardRow, inner: int) -> list[Part]:
        """An open card: its next step, and its days in the stage (red once rotting)."""
        style = self._style
        if card.next_due is None:
            step = ("no next step", style("stage-column--warning"))
        else:
            day = card.next_due.strftime("%d %b")
            at = f" {card.next_due_time.strftime('%H:%M')}" if card.next_due_time else ""
            if card.overdue:
                step = (f"late {day}", style("stage-column--overdue"))
            elif card.next_due == self.today:
                step = (f"today{at}", style("stage-column--good"))
            else:
                weekday = card.next_due.strftime("%a ")
                long = f"next {weekday}{day}{at}"
                step = (long if len(long) <= inner - 8 else f"next {day}", _PLAIN)
        if card.rotting:
            # "rot" when it fits beside the next step, else a red "!" (same meaning).
            fits = cell_len(step[0]) + len(f"{card.days_in_stage}d rot") < inner
            age = (
                f"{card.days_in_stage}d{' rot' if fits else '!'}",
                style("stage-column--overdue"),
            )
        else:
            age = (f"{card.days_in_stage}d", style("stage-column--muted"))
        return _line(step, age, inner)


_BOLD = Style(bold=True)


def _whole_money(cents: int, currency: str) -> str:
    """Compact money without the decimal ("€410k", not "€410.5k"): for a narrow header."""
    units = Decimal(cents) / 100
    for limit in (Decimal(10**9), Decimal(10**6), Decimal(10**3)):
        if abs(units) >= limit:
            whole = (units / limit).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            return format_money(int(whole * limit * 100), currency, compact=True)
    return format_money(cents, currency, compact=True)


class StageHeader(Static):
    DEFAULT_CSS = """
    StageHeader {
        height: 2;
        padding: 0 1;
        background: $panel;
        color: $text;
        text-style: bold;
    }
    """

    _summary: tuple[str, ColumnTotal, str] | None = None
    _hidden: tuple[int, int] = (0, 0)  # as last drawn
    # The column below: what it hides is read when the header is drawn, after the layout
    # (before it, the column has no height and would seem to hide every card).
    column: StageColumn | None = None

    def update_summary(self, name: str, total: ColumnTotal, currency: str) -> None:
        self._summary = (printable(name), total, currency)
        self.refresh()

    def update_hidden(self, above: int, below: int) -> None:
        """How many cards are scrolled out of sight above and below: a column never hides
        its (most urgent) top cards without saying so."""
        if (above, below) != self._hidden:
            self.refresh()

    def figures(self, width: int) -> str:
        """The second line, the longest form that fits: count, total, the deals left out of
        the total (no rate for their currency), then what is hidden."""
        if self._summary is None:
            return ""
        _, figures, currency = self._summary
        count = figures.count
        total = format_money(figures.total_cents, currency, compact=True)
        whole = _whole_money(figures.total_cents, currency)
        if self.column is not None:
            self._hidden = self.column.hidden_cards()
        above, below = self._hidden
        hidden = " ".join(
            part for part in (f"↑{above}" if above else "", f"↓{below}" if below else "") if part
        )
        deals = formatting.count(count, "deal")
        left_out = [""]
        if figures.left_out:
            codes, more = "/".join(figures.left_out_currencies), figures.left_out
            left_out = [f" + {more} in {codes}, no rate", f" +{more} {codes} no rate",
                        f" +{more} {codes}", f" +{more}?"]  # fmt: skip
        mains = [
            (f"{deals} · {total}", "  "),
            (f"{deals} · {whole}", "  "),
            (f"{count} · {whole}", " "),
        ]
        # What was left out of the total outlives the word "deals" and the cents.
        forms = [
            f"{main}{out}{gap + hidden if hidden else ''}"
            for out in left_out
            for main, gap in mains
        ]
        if hidden:
            forms += [f"{hidden} of {count}", hidden]
        return next(
            (form for form in forms if Text(form).cell_len <= width), _fit(forms[-1], width)
        )

    def render(self) -> Text:
        # Two lines, so a narrow column keeps the whole stage name and its figures.
        width = self.content_region.width
        name = self._summary[0] if self._summary else str(self.content)
        text = Text(_fit(name, width), no_wrap=True)
        text.append("\n" + self.figures(width), style="not bold")
        return text


class StageColumnBox(Vertical):
    """A stage's header above its column of cards."""

    DEFAULT_CSS = """
    StageColumnBox {
        border-right: vkey $panel;
    }
    /* Textual restyles, on a focus change, the subtree of the nearest ancestor that has a
       :focus-within rule of its own: without this one the header kept its old colour. */
    StageColumnBox:focus-within {
        border-right: vkey $panel;
    }
    StageColumnBox:focus-within > StageHeader {
        background: $accent;
        color: $text;
    }
    """

    def __init__(self, stage_id: int, stage_name: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._header = StageHeader(printable(stage_name))
        self._column = StageColumn(stage_id, stage_name)
        self._column.on_hidden = self._header.update_hidden
        self._header.column = self._column

    @property
    def column(self) -> StageColumn:
        return self._column

    def render_lines(self, crop: Region) -> list[Strip]:
        # Every line of the box is the same: blank under its header and column, and the
        # border at the right (it has no top or bottom border and no padding). Textual draws
        # each line of it through its styles, border included, and the header and column
        # then cover all but the border: a sixth of the first frame's drawing (some 200 of
        # its 470 lines on a 120-cell screen, benchmarks/terminal.py). One line, repeated.
        if crop.height <= 1:
            return super().render_lines(crop)
        line = super().render_lines(Region(crop.x, crop.y, crop.width, 1))
        return line * crop.height

    def compose(self) -> ComposeResult:
        yield self._header
        yield self._column

    def set_cards(
        self,
        cards: Sequence[CardRow],
        *,
        keep_deal: int | None = None,
        currency: str = "EUR",
        size: ColumnTotal | None = None,
        shown: int | None = None,
    ) -> None:
        """`size`: the column's count and total (converted at the settings' rates; default:
        the cards at face value). `shown`: how many cards the stage has, when `cards` are only
        its first ones."""
        size = size or ColumnTotal(len(cards), sum(card.value_cents for card in cards))
        self._column.set_cards(cards, keep_deal=keep_deal, count=shown)
        self._header.update_summary(self._column.stage_name, size, currency)
