"""The weekly review (key 5): the commitments to judge and make, then what changed in the week.

The same review as `repdesk review` (services/review.py): a week that is over is kept as it
ended the first time it is read, so the screen reads through a write.

It reads as one page: the commitments and what changed scroll together (ReviewBody), the
page keys scroll it wherever the cursor is, and ↑↓ go through the commitments, then on down
the page (CommitmentList). Before, the commitments were a box of their own that took every
key, and at 80x24 what changed stayed below the screen (a new user's trial).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Region
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from repdesk.core import clock
from repdesk.core.money import format_money
from repdesk.core.review import QUIET_WHEN_EMPTY, SECTIONS, Line, brought_in_note
from repdesk.core.text import cut, printable
from repdesk.core.weeks import Week, span_text, week_containing
from repdesk.services import review
from repdesk.services.review import CommitmentLine, ReviewPage
from repdesk.tui import actions
from repdesk.tui.lifecycle import can_show
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.undo import undo_of
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.pick_list import PickList
from repdesk.tui.widgets.quota_strip import QuotaStrip
from repdesk.tui.widgets.scrolled import ScrolledPane

MARKS = {"kept": ("✓ kept", "green"), "missed": ("✗ missed", "red"), "open": ("? open", "yellow")}


def heading(page: ReviewPage) -> Text:
    r = page.review
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"Week {r.week}", style="bold")
    text.append(f"  {span_text(r.start, r.end, ' – ')} · ")
    if r.frozen_at is not None:
        text.append(f"as it ended, kept {r.frozen_at.astimezone():%d %b %H:%M}", style="dim")
    else:
        text.append("as it ended" if r.closed else "so far", style="dim")
    text.append("   [ ] · 0 · C commit · + kept · - missed · D drop", style="dim")
    return text


def commitment_prompt(commitment: CommitmentLine, this_week: bool) -> Text:
    mark, style = MARKS.get(commitment.judged, (commitment.judged, ""))
    text = Text(no_wrap=True, overflow="ellipsis")
    # Both words the same width: the rows of the two weeks line up (a new user's trial).
    text.append(f"{'this week' if this_week else 'week before':<12}", style="dim")
    text.append(f"{mark:<9}", style=style)
    text.append(f" #{commitment.deal_id} {printable(commitment.title)}: ", style="bold")
    text.append(printable(commitment.text))
    text.append(f"  since: {printable(commitment.since)}", style="dim")
    return text


def render_review(page: ReviewPage, currency: str) -> Text:
    """Every section of what changed, then the activity against the week before."""
    r = page.review
    text = Text()
    for key, title in SECTIONS:
        lines = r.section(key)
        if key in QUIET_WHEN_EMPTY and not lines:
            continue
        text.append(f"{title} ({len(lines)})", style="bold")
        if key in ("won", "lost") and lines:
            total = r.won_value_cents if key == "won" else r.lost_value_cents
            text.append(f"  {format_money(total, currency)}", style="bold")
            if note := r.left_out_note(key):
                text.append(f" {note}", style="dim")
        text.append("\n")
        if not lines:
            text.append("  none\n", style="dim")
        for line in lines:
            text.append("  ")
            text.append_text(_line(key, line))
            text.append("\n")
        if key == "new" and r.brought_in:
            text.append(f"  {brought_in_note(r.brought_in)}\n", style="dim")
    text.append("Activity against the week before\n", style="bold")
    for count in r.activity:
        delta = count.this_week - count.week_before
        style = "green" if delta > 0 else "red" if delta < 0 else "dim"
        text.append(f"  {count.kind.capitalize() + 's':<10}{count.this_week:>5}  vs ")
        text.append(f"{count.week_before:<5}", style=style)
        text.append("\n")
    text.rstrip()
    return text


def _line(key: str, line: Line) -> Text:
    text = Text()
    # Cut to a line's worth each: a company pages long filled the screen (a hostile test).
    text.append(f"#{line.deal_id} {cut(line.title, 100)}")
    if line.company:
        text.append(f" ({cut(line.company, 60)})", style="dim")
    text.append(f" · {format_money(line.value_cents, line.currency)}")
    if key in ("advanced", "regressed", "forecast"):
        text.append(f": {printable(line.was or '-')} → {printable(line.now or '-')}")
    elif key == "slipped" and line.note == "passed":
        text.append(f": expected {line.was}, passed while open", style="yellow")
    elif key == "slipped":
        text.append(f": {line.was} → {line.now}", style="yellow")
    elif key == "won":
        text.append(f" · {line.now}", style="green")
    elif key == "lost":
        text.append(f" · {line.now}: {printable(line.note)}", style="red")
    elif key == "closed_late":
        style = "green" if line.note == "won" else "red"
        text.append(f" · {printable(line.note)} on {line.now}", style=style)
    elif line.note:
        text.append(f" · {printable(line.note)}", style="dim")
    return text


class ReviewBody(ScrolledPane, can_focus=False):
    """The whole review below its heading, scrolled by the page keys (ScrolledPane's, with
    their ids) while the commitments keep the cursor: it never takes the focus, so `+`, `-`
    and `D` always act on a commitment. Its page-down key is in the footer: the rep saw no sign
    that the review went on below the screen."""

    BINDINGS = [
        dataclasses.replace(binding, show=True) if binding.id == "pane.page_down" else binding
        for binding in ScrolledPane.BINDINGS
        if isinstance(binding, Binding)
    ]


class CommitmentList(PickList, inherit_bindings=False):
    """The commitments, drawn whole inside ReviewBody: ↓ goes down them and, past the last one,
    on down the review; ↑ comes back up the same way. The page keys are not bound here, so
    they reach ReviewBody and scroll the whole review (OptionList's own moved the cursor in
    the box and nothing else)."""

    BINDINGS = [
        Binding("j,down", "cursor_down", "Next commitment, then down the review",
                id="review.down", show=False),
        Binding("k,up", "cursor_up", "Previous commitment, or up the review",
                id="review.up", show=False),
    ]  # fmt: skip

    def _pane(self) -> ReviewBody:
        return self.screen.query_one(ReviewBody)

    def _rows(self, index: int) -> tuple[int, int]:
        """The screen rows the option at `index` takes, first and after the last.
        (OptionList keeps its options' lines to itself; Textual is pinned, constraints.txt.)"""
        top = self.content_region.y - round(self.scroll_y) + self._index_to_line[index]
        return top, top + self._heights[index]

    def _in_sight(self, index: int | None) -> bool:
        if index is None:
            return False
        view = self._pane().scrollable_content_region
        top, bottom = self._rows(index)
        return top < view.bottom and bottom > view.y

    def _past_the_list(self) -> bool:
        """The review scrolled on below the commitments: ↑ and ↓ scroll it until it is back."""
        pane = self._pane()
        return pane.scroll_y > 0 and self.region.bottom < pane.scrollable_content_region.bottom

    def _scroll(self, lines: int) -> None:
        # At once, not at the next repaint: keys sent in a burst would each start from the
        # same place and all but a few be lost (as screens/help.py scrolls).
        self._pane().scroll_relative(y=lines, animate=False, immediate=True)

    def _keep_in_sight(self) -> None:
        if self.highlighted is None:
            return
        pane = self._pane()
        top, bottom = self._rows(self.highlighted)
        y = round(pane.scroll_y) + top - pane.scrollable_content_region.y
        pane.scroll_to_region(Region(0, y, 1, bottom - top), animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        index = self.highlighted
        last = index is not None and index >= self.option_count - 1
        if last or not self._in_sight(index) or self._past_the_list():
            self._scroll(1)
        else:
            super().action_cursor_down()
            self._keep_in_sight()

    def action_cursor_up(self) -> None:
        index = self.highlighted
        if not index or not self._in_sight(index) or self._past_the_list():
            self._scroll(-1)
        else:
            super().action_cursor_up()
            self._keep_in_sight()


class ReviewScreen(DeskScreen):
    TITLE = "Weekly review"  # the heading of its keys under `?`
    AUTO_FOCUS = "#review-commitments"
    BINDINGS = [
        Binding("left_square_bracket", "shift(-1)", "Previous", id="review.previous",
                key_display="["),
        Binding("right_square_bracket", "shift(1)", "Next", id="review.next",
                key_display="]"),
        Binding("0", "current", "This week", id="review.current"),
        # One meaning per key across the app (c logs a call, y and n answer questions).
        Binding("C", "commit", "Commit", id="review.commit", key_display="C"),
        Binding("plus", "mark('kept')", "Kept", id="review.kept", key_display="+"),
        Binding("minus", "mark('missed')", "Missed", id="review.missed", key_display="-"),
        # In the footer too: the heading's list of keys is cut at 80 columns, and D went with
        # it (a new-user trial).
        Binding("D", "delete", "Drop", id="review.drop"),
        Binding("escape", "back", "Board", id="review.back", show=False),
    ]  # fmt: skip
    # Below 100 cells these leave the footer (`?` lists them) for pgdn, the way to the rest of
    # the review: "q Quit" and "0 This week" are said in the help and the heading.
    NARROW_FOOTER_HIDES = frozenset({"review.current", "app.quit"})
    DEFAULT_CSS = """
    ReviewScreen #review-heading {
        height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ReviewScreen #review-commitments-title { height: 1; padding: 0 1; margin-top: 1;
                                             text-style: bold; }
    /* Every commitment drawn: the review scrolls them with the rest (ReviewBody). */
    ReviewScreen #review-commitments { height: auto; max-height: 1000; margin: 0 1; }
    ReviewScreen #review-body { height: 1fr; }
    ReviewScreen #review-changes { padding: 0 1; margin-top: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.week: Week | None = None
        self.page: ReviewPage | None = None
        self.shown: list[CommitmentLine] = []  # the options' commitments, in their order
        self._made: int | None = None  # the commitment C just made: the cursor goes to it

    def this_week(self) -> Week:
        return week_containing(clock.today(), self.desk.settings.week_start_index)

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        yield Static(id="review-heading")
        with ReviewBody(id="review-body"):
            yield Static(id="review-commitments-title")
            yield CommitmentList(id="review-commitments")
            yield Static(id="review-changes")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        self.week = self.this_week()
        self.reload()
        self.app.refresh_quota()

    @work(exclusive=True, group="review-load")
    async def reload(self) -> None:
        week = self.week or self.this_week()
        conversion = self.desk.settings.conversion
        try:
            # A write only when a week is to be kept: a read-only desk shows its review too.
            keeping = await self.desk.read(lambda s: review.to_keep(session=s, week=week))
            page = await (self.desk.write if keeping else self.desk.read)(
                lambda s: review.weekly_review(
                    session=s, week=week, conversion=conversion, keep=keeping
                )
            )
        except Exception as exc:
            self.notify(self.desk.explain(exc), severity="error", timeout=10)
            return
        if not can_show(self) or week != self.week:
            return  # the rep moved on while this was reading
        self.show_page(page)

    def show_page(self, page: ReviewPage) -> None:
        if self.page is not None and self.page.review.week != page.review.week:
            # Another week reads from its top, not from where the last one was left.
            self.query_one(ReviewBody).scroll_home(animate=False, immediate=True)
        self.page = page
        self.query_one("#review-heading", Static).update(heading(page))
        options = self.query_one("#review-commitments", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        self.shown = [*page.commitments, *page.last_week]
        for commitment in page.commitments:
            options.add_option(Option(commitment_prompt(commitment, True)))
        for commitment in page.last_week:
            options.add_option(Option(commitment_prompt(commitment, False)))
        if self.shown:
            options.highlighted = min(highlighted or 0, len(self.shown) - 1)
            made = [i for i, c in enumerate(self.shown) if c.id == self._made]
            if made:
                # The one just made (C): the cursor stayed on the first row, and the next
                # `+` marked another commitment (a new user's trial).
                options.highlighted = made[0]
        self._made = None
        to_mark = sum(1 for c in page.last_week if c.judged == "open")
        title = Text(f"Commitments ({len(page.commitments)} this week, ")
        title.append(f"{len(page.last_week)} the week before")
        # Whose: "1 to mark" beside three open read as this week's (a new user's trial).
        title.append(f"; {to_mark} of those to mark" if to_mark else "", style="yellow")
        title.append(")" + ("" if self.shown else ": C makes one"))
        self.query_one("#review-commitments-title", Static).update(title)
        currency = str(self.desk.settings.currency)
        self.query_one("#review-changes", Static).update(render_review(page, currency))

    def action_shift(self, step: int) -> None:
        week = self.week or self.this_week()
        target = week.next() if step > 0 else week.prev()
        if target.start > clock.today():
            self.notify("That week has not begun: it has no review yet.")
            return
        self.week = target
        self.reload()

    def action_current(self) -> None:
        self.week = self.this_week()
        self.reload()

    def highlighted(self) -> CommitmentLine | None:
        index = self.query_one("#review-commitments", OptionList).highlighted
        if index is None or not 0 <= index < len(self.shown):
            self.notify("No commitment here: C makes one.")
            return None
        return self.shown[index]

    def action_commit(self) -> None:
        week = self.week or self.this_week()
        if review.week_over(week, clock.now()):
            week = self.this_week()  # commitments are for this week (or one to come)

        def made(result: Any) -> None:
            if result is not None:
                self.app.remember_undo(result[1])
                self._made = getattr(result[0], "id", None)
                self.reload()

        self.app.push_screen(actions.commitment_form(self.desk, week=week), made)

    async def action_mark(self, outcome: str) -> None:
        commitment = self.highlighted()
        if commitment is None:
            return
        week_start = self.desk.settings.week_start_index
        done = await self._write_undoably(
            lambda s: review.mark_commitment(
                session=s, commitment_id=commitment.id, outcome=outcome, week_start=week_start
            ),
            f"mark of the commitment '{printable(commitment.text)}' as {outcome}",
            commitment,
        )
        if done:
            self.notify(f"Marked {outcome}: {printable(commitment.text)} · u undoes")

    async def action_delete(self) -> None:
        commitment = self.highlighted()
        if commitment is None:
            return
        week_start = self.desk.settings.week_start_index
        done = await self._write_undoably(
            lambda s: review.drop_commitment(
                session=s, commitment_id=commitment.id, week_start=week_start
            ),
            f"drop of the commitment '{printable(commitment.text)}'",
            commitment,
        )
        if done:
            self.notify(f"Dropped: {printable(commitment.text)} · u undoes")

    async def _write_undoably(self, fn: Any, description: str, commitment: CommitmentLine) -> bool:
        """Write, and let `u` take it back: a mark or a drop was the app's one write `u` could
        not undo, and undoing the commitment made just before then blamed "another program"
        (a hostile test)."""
        try:
            _, changes = await self.desk.write_recorded(fn)
        except Exception as exc:
            if can_show(self):
                self.notify(self.desk.explain(exc), severity="warning", timeout=8)
            return False
        self.app.remember_undo(undo_of(description, commitment.deal_id, changes))
        self.reload()
        return True

    def action_back(self) -> None:
        self.app.action_board()
