"""One board column: a virtualised list of deal cards on Textual's line API.

A widget per card costs seconds and hundreds of MB at 10,000 deals; ready-made list widgets
build every row up front. This column keeps plain `CardRow` tuples and draws only the lines on
screen (`render_line`), so its cost does not grow with the number of deals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from repdesk.core import formatting
from repdesk.core.money import format_money
from repdesk.core.text import printable
from repdesk.core.views import CardRow, ColumnTotal
from repdesk.tui.widgets.styles import fit as _fit
from repdesk.tui.widgets.styles import text_style

CARD_HEIGHT = 4  # three lines of card and a blank line between cards
HEADER_HEIGHT = 2  # the stage's name, and its figures
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
    """A stage: its name and figures on two header lines, its cards below them, and an edge
    at its right. One widget, not a header, a list and a box around them: at six stages that
    was eighteen widgets to compose, style and draw before the first frame, a fifth of it
    (benchmarks/terminal.py). The header stays put while the cards scroll."""

    # Arrows belong to the board (column and card moves), not to scrolling: the view follows
    # the cursor. Page keys move the cursor a screenful.
    BINDINGS = [
        Binding("pageup", "page(-1)", "Page up", id="column.page_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="column.page_down", show=False),
    ]

    COMPONENT_CLASSES = {
        "stage-column--header",
        "stage-column--header-focused",
        "stage-column--edge",
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
    StageColumn > .stage-column--header { background: $panel; color: $text; text-style: bold; }
    StageColumn > .stage-column--header-focused {
        background: $accent; color: $text; text-style: bold;
    }
    StageColumn > .stage-column--edge { color: $panel; }
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
        # The header's figures: the stage's count and total, and the desk's currency.
        self._summary: tuple[ColumnTotal, str] | None = None
        # Drawn cards by (card, width, cursor state): a card's strips depend on nothing else,
        # so new data or a resize never needs the cache emptied (only bounded).
        self._strips: dict[tuple[CardRow, int, str, date], list[Strip]] = {}
        # Styles read at the start of each drawing pass (render_lines).
        self._styles_now: dict[str, Style] = {}
        self._base_now: Style | None = None
        self._edge_now: Segment | None = None
        self._blank_now: Strip | None = None

    @property
    def _view_height(self) -> int:
        """The lines the cards have: the column's, less the header's."""
        return max(0, self.scrollable_content_region.height - HEADER_HEIGHT)

    @property
    def _card_width(self) -> int:
        return max(0, self.scrollable_content_region.width - 1)  # the edge takes a cell

    def hidden_cards(self) -> tuple[int, int]:
        """How many cards are out of sight (wholly or in part) above and below the view."""
        if not self._cards:
            return 0, 0
        top = round(self.scroll_offset.y)
        bottom = top + self._view_height  # the first line out of sight
        above = min(len(self._cards), -(-top // CARD_HEIGHT))
        # A card counts as seen when its three lines are; the blank line may be cut.
        seen_to = max(above, (bottom - (CARD_HEIGHT - 1)) // CARD_HEIGHT + 1)
        below = max(0, self._count - seen_to)
        return above, below

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
        self,
        cards: Sequence[CardRow],
        *,
        keep_deal: int | None = None,
        shown: int | None = None,
        size: ColumnTotal | None = None,
        currency: str = "EUR",
    ) -> None:
        """`shown`: how many cards the stage has, when `cards` are only its first ones.
        `size`: the header's count and total (converted at the settings' rates; default: the
        cards at face value)."""
        before = self.selected
        self._cards = cards
        self._count = len(cards) if shown is None else shown
        size = size or ColumnTotal(len(cards), sum(card.value_cents for card in cards))
        self._summary = (size, currency)
        index = None
        if keep_deal is not None:
            index = next((i for i, c in enumerate(cards) if c.deal_id == keep_deal), None)
        self._cursor = index if index is not None else max(0, min(self._cursor, len(cards) - 1))
        self._update_virtual_size()
        self._scroll_cursor_visible()
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
        top = HEADER_HEIGHT + index * CARD_HEIGHT - round(self.scroll_offset.y)
        self.refresh(Region(0, max(HEADER_HEIGHT, top), self.size.width, CARD_HEIGHT))

    def _update_virtual_size(self) -> None:
        # Padded so that even the furthest scroll starts on a card's first line; the header
        # lines count, so the furthest scroll shows the last card above the bottom edge.
        total = len(self._cards) * CARD_HEIGHT
        height = self._view_height
        if total > height:
            total += (height - total) % CARD_HEIGHT
        self.virtual_size = Size(self.size.width, max(1, total) + HEADER_HEIGHT)

    def _scroll_cursor_visible(self) -> None:
        """Scroll just enough to show the cursor card, in whole cards: the top of the column
        is never half a card."""
        if not self._cards:
            return
        height = self._view_height
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

    def on_focus(self) -> None:
        self._refresh_focus()

    def on_blur(self) -> None:
        self._refresh_focus()

    def _refresh_focus(self) -> None:
        # The header takes the accent while the column has the focus; the cursor card dims.
        self.refresh(Region(0, 0, self.size.width, HEADER_HEIGHT))
        self._refresh_card(self._cursor)

    def on_click(self, event: events.Click) -> None:
        self.focus()
        if event.y < HEADER_HEIGHT:
            return
        index = (event.y - HEADER_HEIGHT + round(self.scroll_offset.y)) // CARD_HEIGHT
        if 0 <= index < len(self._cards):
            self._set_cursor(index)

    # ------------------------------------------------------------------ drawing

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles read once per pass, not per line: each read walks the ancestors' styles.
        self._styles_now = {}
        self._base_now = self.rich_style
        self._edge_now = None
        self._blank_now = None
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
        width = self._card_width
        if y < HEADER_HEIGHT:
            return self._edged(self._header_strip(y, width))
        line = y - HEADER_HEIGHT + round(self.scroll_offset.y)
        index, offset = divmod(line, CARD_HEIGHT)
        if index < len(self._cards) and offset < CARD_HEIGHT - 1:
            return self._card_strips(index, width)[offset]  # kept with their edge
        base = self._base_now or self.rich_style
        if not self._cards and line == 1:
            muted = self.get_component_rich_style("stage-column--muted")
            text = Segment(_fit(" no deals", width), base + muted)
            return self._edged(Strip([text]).adjust_cell_length(width, base))
        if self._blank_now is None or self._blank_now.cell_length != width + 1:
            self._blank_now = self._edged(Strip.blank(width, base))
        return self._blank_now

    def _edged(self, strip: Strip) -> Strip:
        """`strip` with the column's right edge after it."""
        if self._edge_now is None:
            base = self._base_now or self.rich_style
            edge = base + self.get_component_rich_style("stage-column--edge")
            self._edge_now = Segment("▕", edge)
        return Strip([*strip, self._edge_now], strip.cell_length + 1)

    def header_lines(self, width: int) -> tuple[str, str]:
        """The header's two lines, `width` cells at most: the stage's whole name where it
        fits, and its figures (see `figures`)."""
        return _fit(printable(self.stage_name), width), self.figures(width)

    def header_text(self) -> str:
        """The header as drawn now: the stage's name, then its figures."""
        return "\n".join(self.header_lines(max(0, self._card_width - 2)))

    def _header_strip(self, y: int, width: int) -> Strip:
        # One cell of padding each side, as the cards have.
        focused = "stage-column--header-focused" if self.has_focus else "stage-column--header"
        style = (self._base_now or self.rich_style) + self.get_component_rich_style(focused)
        inner = max(0, width - 2)
        text = _fit(printable(self.stage_name), inner) if y == 0 else self.figures(inner)
        # The padding in the header's colours without its weight: the text starts a cell in.
        padding = Style(color=style.color, bgcolor=style.bgcolor)
        if y == 1:
            style += _NOT_BOLD
        segments = [Segment(" ", padding), Segment(text, style)]
        return Strip(segments).adjust_cell_length(width, padding)

    def figures(self, width: int) -> str:
        """The second header line, the longest form that fits: count, total, the deals left
        out of the total (no rate for their currency), then what is hidden. A column never
        hides its (most urgent) top cards without saying so; the count of those below goes
        first when room is short."""
        if self._summary is None:
            return ""
        figures, currency = self._summary
        count = figures.count
        total = format_money(figures.total_cents, currency, compact=True)
        whole = _whole_money(figures.total_cents, currency)
        above, below = self.hidden_cards()
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
        # What was left out of the total outlives the word "deals" and the cents; the spaces
        # go last, before the count and the total give way to what is hidden.
        forms = [
            f"{main}{out}{gap + hidden if hidden else ''}"
            for out in left_out
            for main, gap in mains
        ]
        forms += [f"{count}·{whole}{out}{' ' + hidden if hidden else ''}" for out in left_out]
        if above:
            # Scrolled: the cards above are said (they are the most urgent), those below go
            # before the total does: "↑3 ↓19 of 25" lost the total and what it left out (an
            # audit).
            forms += [f"{count}·{whole}{out} ↑{above}" for out in left_out]
        if hidden:
            forms += [f"{hidden} of {count}", hidden]
        return next((form for form in forms if cell_len(form) <= width), _fit(forms[-1], width))

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
        """A card's three lines, as plain segments, each with the edge (Rich's Text costs
        several times more, and a first frame draws some seventy cards)."""
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
            strips.append(self._edged(Strip(segments).adjust_cell_length(width, base)))
        return strips

    def _closed_facts(self, card: CardRow, inner: int) -> list[Part]:
        """A won or lost card: when it closed (and why it was lost), and how long ago."""
        style = self._style
        if card.closed_on is None:  # not expected: a closed deal always has its close date
            return _line((card.status, style("stage-column--muted")), ("", _PLAIN), inner)
        day = self._day(card.closed_on)
        won = card.status == "won"
        reason = f": {printable(card.lost_reason)}" if not won and card.lost_reason else ""
        look = style("stage-column--good" if won else "stage-column--muted")
        what = (f"{card.status} {day}{reason}", look)
        days = max(0, (self.today - card.closed_on).days)
        span = f"{days}d" if days < 1000 else f"{days // 365}y"
        if cell_len(f"{what[0]} {span}") > inner:
            # Narrow: the column's name says won or lost; the day stays and the reason is cut
            # (the day once went for the reason, at 120 columns always: an audit).
            what = (f"{day}{reason}", look)
        # "15d ago" where it fits beside the rest, else "15d": the date and reason come first.
        ago = f"{span} ago" if cell_len(f"{what[0]} {span} ago") <= inner else span
        return _line(what, (ago, style("stage-column--muted")), inner)

    def _day(self, day: date) -> str:
        """`27 Nov`, or `Nov 2023` half a year away or more: "won 27 Nov" of 2023 read as last
        week, and "27 Nov 2023" was cut on a card (new-user trials on an imported desk). By
        distance, as `formatting.when` dates, not by calendar year: a next step on 8 January
        read "next Fri Jan 2027" in December, its day gone (a new-user trial)."""
        near = abs((day - self.today).days) < formatting.YEAR_SHOWN_FROM_DAYS
        return day.strftime("%d %b" if near else "%b %Y")

    def _open_facts(self, card: CardRow, inner: int) -> list[Part]:
        """An open card: its next step, and its days in the stage (red once rotting)."""
        style = self._style
        if card.next_due is None:
            step = ("no next step", style("stage-column--warning"))
        else:
            day = self._day(card.next_due)
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
_NOT_BOLD = Style(bold=False)


def _whole_money(cents: int, currency: str) -> str:
    """Compact money without the decimal ("€410k", not "€410.5k"): for a narrow header."""
    units = Decimal(cents) / 100
    for limit in (Decimal(10**9), Decimal(10**6), Decimal(10**3)):
        if abs(units) >= limit:
            whole = (units / limit).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            return format_money(int(whole * limit * 100), currency, compact=True)
    return format_money(cents, currency, compact=True)
