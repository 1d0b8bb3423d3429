"""The follow-up queues (key 2): overdue, today, upcoming, no next step, going cold.

A rep can empty the day from here: complete (with the next step in the same form), snooze,
reschedule, log a call, or give a stepless deal its next step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from repdesk.core import clock, formatting
from repdesk.reports import figures
from repdesk.reports.figures import DayQueues, QueueRow
from repdesk.tui import actions
from repdesk.tui.lifecycle import can_show
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.undo import Undo
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.queue_list import QueueList
from repdesk.tui.widgets.quota_strip import QuotaStrip

if TYPE_CHECKING:
    from repdesk.tui.gateway import DeskGateway

# The first read of the screen keeps this many rows of each queue: more than the tallest
# terminal shows of the first queue, and counts the rest. The whole queues follow in a
# second read (on a desk of 10,000 deals thousands of rows, several times slower to read).
FIRST_ROWS = 100


def first_rows_reader(going_cold_days: int) -> Callable[[Any], DayQueues]:
    """The first rows of the queues, as they stand when read."""
    return lambda conn: load_queues(conn, going_cold_days, FIRST_ROWS)


# The key the desk keeps the first rows under (DeskGateway.kept): until a write, a new day or
# new settings. Which queue a step is in goes by its date; only "going cold" can change in the
# course of a day without a write (a deal's last touch turning N days old), and the whole
# queues, read as the screen shows the first rows, bring that in a moment later.
KEPT_AS = "queues-first"


def load_queues(session: Any, going_cold_days: int, limit: int | None = None) -> DayQueues:
    return figures.day_queues(
        session,
        today=clock.today(),
        now=clock.now(),
        going_cold_days=going_cold_days,
        limit=limit,
    )


class FollowUpsScreen(DeskScreen):
    TITLE = "Follow-up queues"  # the heading of its keys under `?`
    AUTO_FOCUS = "QueueList"
    BINDINGS = [
        Binding("j,down", "move(1)", "Next", id="queues.down", show=False),
        Binding("k,up", "move(-1)", "Previous", id="queues.up", show=False),
        # As on the board (g, G), and home and end as in every list: the rep looking for the
        # way back to the top pressed `[` three times (a new user's trial).
        Binding("g,home", "first", "First row", id="queues.first", show=False),
        Binding("G,end", "last", "Last row", id="queues.last", show=False),
        Binding("right_square_bracket", "section(1)", "Next section", id="queues.next_section",
                key_display="]"),
        Binding("left_square_bracket", "section(-1)", "Previous section",
                id="queues.previous_section", key_display="[", show=False),
        Binding("enter", "open", "Open deal", id="queues.open"),
        Binding("space,d", "done", "Done", id="queues.done", key_display="space"),
        Binding("z", "snooze", "Snooze", id="queues.snooze"),
        Binding("r", "reschedule", "Reschedule", id="queues.reschedule"),
        Binding("c", "log_call", "Log call", id="queues.log_call"),
        Binding("f", "follow_up", "Add follow-up", id="queues.follow_up"),
        Binding("D", "delete", "Delete follow-up", id="queues.delete", show=False),
        Binding("escape", "back", "Board", id="queues.back", show=False),
    ]  # fmt: skip
    # Below 100 cells these leave the footer (`?` lists them), so no key is cut mid-word.
    NARROW_FOOTER_HIDES = frozenset({"queues.reschedule", "queues.follow_up", "app.quit"})
    DEFAULT_CSS = """
    /* Cut with an ellipsis where it does not fit (80 columns cut it mid-word, unsaid). */
    FollowUpsScreen #queues-title {
        height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.loaded = False
        self.read_early(self._first_rows(), report=True, keep_as=KEPT_AS)

    def _first_rows(self) -> Callable[[Any], DayQueues]:
        return first_rows_reader(self.desk.settings.going_cold_days)

    @staticmethod
    def read_ahead(desk: DeskGateway) -> None:
        """Read the queues' first rows in the background and keep them, while the rep is
        elsewhere: key 2 then opens on them without waiting for a read (some 30 ms on a desk
        of 10,000 deals, benchmarks/terminal.py). The app calls it on its change timer; it
        reads when a write, a new day or new settings made what is kept stale."""
        desk.prepare(KEPT_AS, first_rows_reader(desk.settings.going_cold_days))

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        yield Static(id="queues-title")
        yield QueueList(id="queues")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        if (first := self.early_result()) is not None:
            self._show(first)
            # The whole queues once those rows are drawn: read beside the drawing, its
            # thousands of rows took the GIL from it and the first frame came twice as late.
            self.call_after_refresh(self.reload)
        else:
            self.reload()
        self.app.refresh_quota()

    def on_screen_resume(self) -> None:
        # Back from the deal page: what was done there shows here.
        if self.loaded:
            self.reload()

    @work(exclusive=True, group="queues-load")
    async def reload(self) -> None:
        days = self.desk.settings.going_cold_days
        if not self.loaded and not self.query_one(QueueList).lines:
            # The first screenful first: the rep reads the top of the day while the rest comes.
            # Only on the first read: a reload's cut could drop the row the cursor is on.
            first = await self.first_read(self._first_rows(), report=True, keep_as=KEPT_AS)
            if not can_show(self):
                return  # the rep left the screen while it was reading
            self._show(first)
        queues = await self.desk.report(lambda c: load_queues(c, days))
        if not can_show(self):
            return
        self._show(queues)
        self.loaded = True

    def _show(self, queues: DayQueues) -> None:
        listing = self.query_one(QueueList)
        listing.today, listing.now = clock.today(), clock.now()
        listing.show(queues)
        # Short enough for 80 columns: how each queue is ordered is in `?` and the README.
        title = (
            f"{formatting.when(clock.today())} · {queues.count('overdue')} overdue · "
            f"{queues.count('today')} due today · the day in time order, "
            "the rest most urgent first"
        )
        self.query_one("#queues-title", Static).update(Text(title))

    @property
    def row(self) -> QueueRow | None:
        return self.query_one(QueueList).selected

    def action_move(self, delta: int) -> None:
        self.query_one(QueueList).move(delta)

    def action_first(self) -> None:
        self.query_one(QueueList).to_edge(last=False)

    def action_last(self) -> None:
        self.query_one(QueueList).to_edge(last=True)

    def action_section(self, direction: int) -> None:
        self.query_one(QueueList).next_section(direction)

    def action_back(self) -> None:
        self.app.action_board()

    def action_open(self) -> None:
        if row := self.row:
            self.app.open_deal(row.deal_id)

    def _open(self, screen: Screen[Any]) -> None:
        self.app.push_screen(screen, self._after)

    def _after(self, result: Any) -> None:
        if result is None:
            return  # cancelled: nothing was written
        undo = result[1] if isinstance(result, tuple) else result
        if isinstance(undo, Undo):
            self.app.remember_saved(undo)
        self.query_one(QueueList).hold_place()  # on to the next row, working down the queue
        self.reload()

    def follow_undone(self, undo: Undo) -> None:
        """After `u` (RepdeskApp.undo_last): the cursor back on the row the undo put back."""
        self.query_one(QueueList).follow_deal(undo.deal_id)

    async def action_delete(self) -> None:
        if (row := self._follow_up()) is None or row.follow_up_id is None:
            return
        deleted = await self.app.delete_to_trash(
            kind="follow_up", item_id=row.follow_up_id, deal_id=row.deal_id
        )
        if deleted and can_show(self):
            self.query_one(QueueList).hold_place()
            self.reload()

    def _follow_up(self) -> QueueRow | None:
        row = self.row
        if row is not None and row.follow_up_id is None:
            if self.query_one(QueueList).section == "going_cold":
                # A going-cold deal may have a step to come: "no follow-up yet" was untrue of
                # one (a hostile test).
                self.notify(
                    "A going-cold row is the deal, not a step: c logs a touch, enter opens it "
                    "(its next steps are there)."
                )
            else:
                self.notify("This deal has no follow-up yet: f gives it a next step.")
            return None
        return row

    def action_done(self) -> None:
        if (row := self._follow_up()) and row.follow_up_id is not None:
            self._open(
                actions.done_form(
                    self.desk, follow_up_id=row.follow_up_id, title=row.title, note=row.note
                )
            )

    def action_snooze(self) -> None:
        if (row := self._follow_up()) and row.follow_up_id is not None:
            self._open(
                actions.snooze_form(self.desk, follow_up_id=row.follow_up_id, title=row.title)
            )

    def action_reschedule(self) -> None:
        if (row := self._follow_up()) and row.follow_up_id is not None and row.due_on:
            current = row.due_on.isoformat() + (
                f" {row.due_time.strftime('%H:%M')}" if row.due_time else ""
            )
            self._open(
                actions.reschedule_form(
                    self.desk,
                    follow_up_id=row.follow_up_id,
                    title=row.title,
                    current=current,
                    note=row.note,
                )
            )

    def action_log_call(self) -> None:
        if row := self.row:
            self._open(actions.log_call_form(self.desk, deal_id=row.deal_id, title=row.title))

    def action_follow_up(self) -> None:
        if row := self.row:
            self._open(actions.follow_up_form(self.desk, deal_id=row.deal_id, title=row.title))
