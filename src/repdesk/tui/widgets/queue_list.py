"""The follow-up queues as one virtualised list: section headings and rows, one line each.

Like the board's columns it draws only the visible lines from plain `QueueRow`s, so a queue
of thousands of stepless deals costs what ten do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from repdesk.core import clock, formatting
from repdesk.core.money import format_money
from repdesk.core.text import printable
from repdesk.reports.figures import DayQueues, QueueRow
from repdesk.tui.widgets.styles import fit_exactly, text_style


@dataclass(frozen=True, slots=True)
class Heading:
    section: str
    label: str
    count: int


Line = Heading | QueueRow


def touched(row: QueueRow, now: datetime, *, short: bool = False) -> str:
    if row.last_touch is None:
        return "never" if short else "never touched"
    days = clock.days_since(row.last_touch, clock.local_date(now))  # calendar days, as the queues
    # A thousand days and more in years: "1075d ago" filled its column and ran into the note
    # (an imported desk, a new-user trial).
    ago = f"{days}d ago" if days < 1000 else f"{days // 365}y ago"
    if short:
        return "today" if days == 0 else ago
    return "touched today" if days == 0 else f"touched {ago}"


class QueueList(ScrollView, can_focus=True, inherit_bindings=False):
    BINDINGS = [
        Binding("pageup", "page(-1)", "Page up", id="queues.page_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="queues.page_down", show=False),
    ]
    COMPONENT_CLASSES = {
        "queue-list--heading",
        "queue-list--cursor",
        "queue-list--late",
        "queue-list--muted",
    }
    DEFAULT_CSS = """
    QueueList { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    QueueList > .queue-list--heading { text-style: bold; color: $accent; }
    QueueList > .queue-list--cursor { background: $accent 30%; }
    QueueList > .queue-list--late { color: $error; }
    QueueList > .queue-list--muted { color: $text-muted; }
    """

    class Moved(Message):
        def __init__(self, row: QueueRow | None) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Line] = []
        self.sections: list[str] = []  # the section of each line
        self.cursor = 0
        self.today = date.today()
        self.now = datetime.now().astimezone()
        # What the next `show` does with the cursor instead of keeping it on its row.
        self._hold_place = False
        self._follow_deal: int | None = None

    @property
    def selected(self) -> QueueRow | None:
        line = self.lines[self.cursor] if self.lines else None
        return line if isinstance(line, QueueRow) else None

    @property
    def section(self) -> str | None:
        """The section of the row under the cursor ("overdue", ..., "going_cold")."""
        return self.sections[self.cursor] if self.sections else None

    def hold_place(self) -> None:
        """The rep acted on the row under the cursor (done, snooze, reschedule...): after the
        next read the cursor stays at its place in its section, on the row that took the
        place of the one acted on. Followed out of its section, a snoozed row took the cursor
        to Upcoming, and the next `r` rescheduled it again (a new user's trial)."""
        self._hold_place = True

    def follow_deal(self, deal_id: int) -> None:
        """After the next read, the cursor on the deal's row (in the cursor's section if it has
        one there): an undo puts back a row, and the cursor goes back to it."""
        self._follow_deal = deal_id

    def show(self, queues: DayQueues) -> None:
        """Replace the rows. The cursor stays on the same follow-up or deal while it is in the
        same section; a row gone from it leaves the cursor at its place (`_at_place`)."""
        before, place = self.selected, self._place()
        lines: list[Line] = []
        sections: list[str] = []
        for key, label in DayQueues.SECTIONS:
            rows = getattr(queues, key)
            lines.append(Heading(key, label, queues.count(key)))  # kept or not
            lines.extend(rows)
            sections.extend([key] * (len(rows) + 1))
        self.lines, self.sections = lines, sections
        hold, follow = self._hold_place, self._follow_deal
        self._hold_place, self._follow_deal = False, None
        found: int | None = None
        if follow is not None:
            found = self._row_of(lambda row: row.deal_id == follow, place)
        elif before is not None and not hold:
            same = (before.follow_up_id, before.deal_id)
            found = self._row_of(lambda row: (row.follow_up_id, row.deal_id) == same, place, True)
        if found is None:
            found = self._at_place(place)
        self.cursor = found
        self.virtual_size = Size(self.size.width, len(lines))
        self._keep_visible()
        self.refresh()

    def _place(self) -> tuple[str, int] | None:
        """The cursor's section and how many rows of it are above the cursor."""
        if self.selected is None:
            return None
        section = self.sections[self.cursor]
        above = sum(
            1
            for index in range(self.cursor)
            if self.sections[index] == section and isinstance(self.lines[index], QueueRow)
        )
        return section, above

    def _row_of(
        self,
        wanted: Callable[[QueueRow], bool],
        place: tuple[str, int] | None,
        same_section_only: bool = False,
    ) -> int | None:
        """The first row that is `wanted`, in the section of `place` first."""
        matches = [
            index
            for index, line in enumerate(self.lines)
            if isinstance(line, QueueRow) and wanted(line)
        ]
        if place is not None:
            mine = [index for index in matches if self.sections[index] == place[0]]
            if mine or same_section_only:
                return mine[0] if mine else None
        return matches[0] if matches else None

    def _at_place(self, place: tuple[str, int] | None) -> int:
        """The row at `place` now: the one that took the place of the row that was there, the
        section's last if it got shorter, the next section's first if it is empty (else the
        last row above it)."""
        if place is None:
            return self._first_row()
        section, above = place
        rows = [
            index
            for index, line in enumerate(self.lines)
            if isinstance(line, QueueRow) and self.sections[index] == section
        ]
        if rows:
            return rows[min(above, len(rows) - 1)]
        heading = next(
            i
            for i, line in enumerate(self.lines)
            if isinstance(line, Heading) and line.section == section
        )
        below, above_it = range(heading + 1, len(self.lines)), range(heading - 1, -1, -1)
        for index in chain(below, above_it):
            if isinstance(self.lines[index], QueueRow):
                return index
        return 0

    def _first_row(self) -> int:
        return next((i for i, line in enumerate(self.lines) if isinstance(line, QueueRow)), 0)

    def _last_row(self) -> int:
        rows = (
            i for i in range(len(self.lines) - 1, -1, -1) if isinstance(self.lines[i], QueueRow)
        )
        return next(rows, 0)

    def to_edge(self, last: bool) -> None:
        """To the first row (its heading in sight above it) or the last."""
        self._set(self._last_row() if last else self._first_row())

    def move(self, delta: int) -> None:
        """Move `delta` rows down (or up), stepping over the headings."""
        step = 1 if delta > 0 else -1
        index = probe = self.cursor
        moved = 0
        while moved < abs(delta):
            probe += step
            if not 0 <= probe < len(self.lines):
                break
            if isinstance(self.lines[probe], QueueRow):
                index, moved = probe, moved + 1
        self._set(index)

    def next_section(self, direction: int) -> None:
        """Jump to the first row of the next (or previous) section that has rows."""
        headings = [i for i, line in enumerate(self.lines) if isinstance(line, Heading)]
        current = max([h for h in headings if h <= self.cursor], default=0)
        ordered = headings if direction > 0 else list(reversed(headings))
        for heading in ordered:
            if (heading > current if direction > 0 else heading < current) and (
                heading + 1 < len(self.lines) and isinstance(self.lines[heading + 1], QueueRow)
            ):
                self._set(heading + 1)
                return

    def _set(self, index: int) -> None:
        if index != self.cursor:
            self.cursor = index
            self._keep_visible()
            self.refresh()
            self.post_message(self.Moved(self.selected))

    def action_page(self, direction: int) -> None:
        self.move(direction * max(1, self.size.height - 2))

    def _keep_visible(self) -> None:
        top = round(self.scroll_offset.y)
        height = self.scrollable_content_region.height
        if height <= 0:
            # Not laid out yet (rows shown as the screen mounts): the top is where it starts,
            # with the first row's heading above the cursor on the first row.
            return
        if self.cursor < top + 1:
            self.scroll_to(y=max(0, self.cursor - 1), animate=False, immediate=True, force=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True, force=True)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.lines))

    def on_click(self, event: events.Click) -> None:
        index = event.y + round(self.scroll_offset.y)
        self.focus()
        if 0 <= index < len(self.lines) and isinstance(self.lines[index], QueueRow):
            self._set(index)

    def _draw_row(
        self, text: Text, row: QueueRow, width: int, style: Callable[[str], Style], section: str
    ) -> None:
        layout = row_layout(width)
        muted = style("queue-list--muted")
        if row.due_on is not None:
            when = formatting.when(row.due_on, row.due_time)
            if layout.when < 17:
                when = when[4:]  # without the weekday
            # Today's step whose hour has passed is late too (a 09:00 call still in green at
            # 14:07: a new-user trial); it stays in Today, as the queues are by day.
            local = self.now.astimezone()
            late = row.due_on < self.today or (
                row.due_on == self.today
                and row.due_time is not None
                and row.due_time < local.time().replace(tzinfo=None)
            )
            text.append(f"   {when:<{layout.when}}", style("queue-list--late") if late else "")
        elif section == "going_cold":  # it may well have a next step: what counts is the silence
            quiet = f"{row.urgency_days}d no touch" if row.last_touch else "never touched"
            text.append(f"   {_cut(quiet, layout.when - 1):<{layout.when}}", muted)
        else:
            text.append(f"   {'no next step':<{layout.when}}", muted)
        text.append(_cut(row.title, layout.title))
        if layout.company:
            text.append(_cut(row.company, layout.company), muted)
        money = format_money(row.value_cents, row.currency, compact=True)
        text.append(f"{money:>{VALUE_CELLS - 2}}  ")
        if layout.stage:
            text.append(_cut(row.stage, layout.stage), muted)
        if layout.touch:
            touch = touched(row, self.now, short=layout.touch < 17)
            text.append(f"{touch:<{layout.touch}}", muted)
        if row.recurring:
            text.append("↻ ", muted)
        text.append(printable(row.note))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + round(self.scroll_offset.y)
        base = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        line = self.lines[index]

        def style(name: str) -> Style:
            return text_style(self, name)

        text = Text(no_wrap=True, overflow="ellipsis")
        if isinstance(line, Heading):
            text.append(f" {line.label} ({line.count})", style("queue-list--heading"))
            if not line.count:
                text.append("  nothing here", style("queue-list--muted"))
        else:
            self._draw_row(text, line, width, style, self.sections[index])
        text.truncate(width, overflow="ellipsis", pad=True)
        strip_style = base
        if index == self.cursor and isinstance(line, QueueRow):
            strip_style = base + self.get_component_rich_style("queue-list--cursor")
        segments = list(text.render(self.app.console))
        return Strip(segments).apply_style(strip_style).adjust_cell_length(width, strip_style)


@dataclass(frozen=True, slots=True)
class RowLayout:
    """Cells per field of a row at one width (0: left out). The note takes what is left."""

    when: int
    title: int
    company: int
    stage: int
    touch: int  # 9: "3d ago"; 17: "touched 3d ago"


def row_layout(width: int) -> RowLayout:
    """The fields a row keeps at `width`: the due day, title, value, company (or, with room
    for both, company and stage), last touch and the note come first; the weekday and the
    longer wording only where there is room. The note always has at least 14 cells down to 80
    columns."""
    narrow = width < 100
    when = 13 if narrow else 17  # "16 Nov 09:00" or "Mon 16 Nov 09:00"
    rest = width - 3 - when - VALUE_CELLS
    title, note, stage, touch, company = 16, 14, 12, 9, 0
    extra = rest - (title + note + stage + touch)
    grow = min(max(extra, 0), 11)
    title, extra = title + grow, extra - grow
    if extra >= 21:
        company, extra = 21, extra - 21
    elif stage:
        # Short of room for both, the company takes the stage's place: rows of one title
        # ("Insight renewal 2026" at four customers) could not be told apart at 80 columns
        # (a new-user trial), and the deal page says the stage.
        company, stage = stage, 0
    if extra >= 25:  # the long wording once the note has room anyway (30 cells)
        touch, stage, extra = 17, 13, extra - 9
    if extra < 0:  # under 80 columns: the touch, then the stage give way to the note
        touch, extra = 0, extra + touch
    if extra < 0:
        company = 0
    return RowLayout(when, title, company, stage, touch)


VALUE_CELLS = 10  # "  €19.2k  ": eight cells right-aligned and two after


def _cut(text: str, width: int) -> str:
    """A column of `width` cells: the text cut to leave one cell of gap, padded to the width.
    Cells, not characters, so a row with 漢字 or emoji lines up with the others."""
    return fit_exactly(printable(text), width - 1) + " "
