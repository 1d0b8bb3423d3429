"""The deal board: one column per stage, deals as cards, driven entirely by keys."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from types import ModuleType
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Static

from repdesk.core import clock, formatting
from repdesk.core.text import printable
from repdesk.core.views import CardRow, StageRow
from repdesk.services import board
from repdesk.services.board import FirstScreen, first_screen, load_board
from repdesk.tui.lifecycle import can_show
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.undo import Undo
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.quota_strip import QuotaStrip
from repdesk.tui.widgets.stage_column import StageColumn

MOVE = Binding.Group("Move", compact=True)
NAV = Binding.Group("Navigate", compact=True)


def _actions() -> ModuleType:
    """The forms, imported on first use: the app loads them in the background right after the
    first paint (RepdeskApp.warm_up), so by the first key press this is a dict lookup."""
    from repdesk.tui import actions

    return actions


class BoardScreen(DeskScreen):
    """Each binding has an id (keymaps rebind it) and a description (footer, help, palette)."""

    TITLE = "Board"  # the heading of its keys under `?`

    BINDINGS = [
        Binding("h,left", "column(-1)", "Previous column", id="board.left", group=NAV),
        Binding("l,right", "column(1)", "Next column", id="board.right", group=NAV),
        Binding("k,up", "card(-1)", "Previous card", id="board.up", group=NAV, show=False),
        Binding("j,down", "card(1)", "Next card", id="board.down", group=NAV, show=False),
        Binding("g", "first", "First card", id="board.first", show=False),
        Binding("G", "last", "Last card", id="board.last", show=False),
        Binding("H", "move(-1)", "Previous stage", id="board.previous_stage", group=MOVE),
        Binding("L", "move(1)", "Next stage", id="board.next_stage", group=MOVE),
        Binding("enter", "open", "Open", id="board.open"),
        Binding("c", "log_call", "Log call", id="board.log_call"),
        Binding("f", "follow_up", "Follow-up", id="board.follow_up"),
        Binding("o", "objection", "Objection", id="board.objection", show=False),
        Binding("n", "new", "New deal", id="board.new"),
        Binding("e", "edit", "Edit", id="board.edit", show=False),
        Binding("w", "won", "Mark won", id="board.won"),
        Binding("x", "lost", "Mark lost", id="board.lost"),
        Binding("W", "won_on", "Mark won on a day", id="board.won_on", show=False),
        Binding("D", "delete", "Delete deal", id="board.delete", show=False),
        Binding("M", "merge", "Merge a duplicate into the deal", id="board.merge", show=False),
        Binding("F", "forecast", "Forecast call", id="board.forecast", show=False),
        Binding("u", "undo", "Undo", id="board.undo", show=False),
        Binding("slash", "filter", "Filter", id="board.filter"),
        Binding("escape", "clear_filter", "Clear filter", id="board.clear_filter", show=False),
        Binding("v", "toggle_closed", "Show won/lost", id="board.toggle_closed", show=False),
        Binding("s", "cycle_order", "Change order", id="board.sort", show=False),
    ]

    # Below 100 cells these leave the footer (`?` lists them), so no key is cut mid-word.
    NARROW_FOOTER_HIDES = frozenset({"board.won", "board.lost", "board.filter", "app.quit"})

    # The board focuses its current column itself once the cards are in.
    AUTO_FOCUS = ""

    DEFAULT_CSS = """
    BoardScreen #columns { height: 1fr; overflow-x: auto; overflow-y: hidden; }
    BoardScreen StageColumn { height: 1fr; }
    BoardScreen #filter { dock: bottom; }
    BoardScreen #board-status { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, first: Future[FirstScreen] | None = None) -> None:
        """`first`: the first frame's read, started before Textual was imported (the app's
        start) or at least before the screen is composed."""
        super().__init__()
        self.first = first
        self.stages: list[StageRow] = []
        self.cards: dict[int, list[CardRow]] = {}
        # Until the full read is in, `cards` holds each stage's first cards only, and this
        # each stage's every deal by currency. None: `cards` holds every card.
        self.sizes: dict[int, board.StageMoney] | None = None
        self.order = "due"
        self.needle = ""
        self.show_closed = False
        self.column_index = 0
        self.undo_stack: list[Undo] = []
        self.loaded = False  # every card is in (not just the first screenful)
        self.last_pending = False  # `G` pressed before every card was in
        # After an undo: the (stage, deal) the cursor goes to once the cards are reloaded.
        self.follow: tuple[int, int] | None = None
        self._columns_lock = asyncio.Lock()
        self.first_frame_held = False  # see _compositor_refresh

    def _compositor_refresh(self) -> None:
        # Textual (8.2) renders the whole screen here and then drops the frame while the app
        # batches updates (App._display), and the app's start is one batch update around the
        # first screen's compose, layout and first render (App._process_messages): the first
        # frame was rendered twice, 40 of the 460 ms to the cards in tmux on a 10,000-deal
        # desk (benchmarks/terminal.py). Held instead, and drawn once when the start is over
        # (RepdeskApp.on_ready); the compositor keeps the regions to draw meanwhile.
        app = self.app
        if app._batch_count and not app.started and self is app.screen:
            self.first_frame_held = True
            return
        super()._compositor_refresh()

    def compose(self) -> ComposeResult:
        # Usually the first read is in by now: the columns are laid out once, with their cards.
        if self.first is not None and self.first.done():
            self.stages = self.first.result().board.stages
        yield QuotaStrip(id="quota-strip")
        # A plain Horizontal: a scroll container would take the arrow keys for scrolling.
        with Horizontal(id="columns"):
            yield from self._new_columns()
        yield Static("", id="board-status")
        # The filter field (`/`) comes after the first frame: see add_filter_field.
        yield RepdeskFooter()

    async def add_filter_field(self) -> None:
        """The filter field, mounted once the first frame is out, while the app still holds
        the keys (RepdeskApp.warmed_up): the first frame does not show it, and an Input (its
        styles to read, its widget to mount) cost that frame a few ms. No key reaches the board
        before it is in, so `/` always finds it."""
        footers = self.query(RepdeskFooter)
        if self._filter_field() is not None or not footers or not can_show(self):
            return  # in already, or the app quits during its start: the board is going
        field = Input(placeholder="filter: title, company or contact (esc clears)", id="filter")
        field.display = False  # shown by `/`; hidden, it can never take the focus
        await self.mount(field, before=footers.first())

    def _filter_field(self) -> Input | None:
        found = self.query("#filter")
        return found.first(Input) if found else None

    async def on_mount(self) -> None:
        if self.first is not None and self.stages:
            start = self.first.result()
        else:  # not read yet when composed (a server, a slow disk): the columns come now
            if self.first is not None:
                start = await asyncio.wrap_future(self.first)
            else:
                conversion = self.desk.settings.conversion
                start = await self.desk.report(lambda c: first_screen(c, conversion=conversion))
            if not can_show(self):
                return  # replaced (the demo desk opened) while it was reading
            self.stages = start.board.stages
            await self._mount_columns()
        self.first = None
        self.app.show_quota(start.quota)
        self._show(start.board.cards, sizes=start.board.sizes)

    def _show(
        self, cards: dict[int, list[CardRow]], *, sizes: dict[int, board.StageMoney] | None = None
    ) -> None:
        """Show `cards`: every card, or (with `sizes`) each stage's first cards."""
        if sizes is not None and self.loaded:
            return  # a full read came in first (a slow first read): it stays
        first = not self.loaded and self.sizes is None
        self.cards = cards
        self.sizes = sizes
        keep: dict[int, int | None] | None = None
        if self.follow is not None:
            stage_id, deal_id = self.follow
            self.follow = None
            for index, column in enumerate(self.columns()):
                if column.stage_id == stage_id:
                    self.column_index = index
            keep = {stage_id: deal_id}
        self.redraw(keep=keep)
        if sizes is None:
            if not self.loaded:
                # Keys 3 and 2 come soon after the start: their reads need not wait for the
                # app's one-second timer (RepdeskApp.read_ahead).
                self.call_later(self.app.read_ahead)
            self.loaded = True
            if self.last_pending:
                self.last_pending = False
                self.action_last()
        if first:
            # The first frame: what it did not wait for starts once it is out.
            self.app.first_frame_composed()
        elif sizes is None:
            self.app.refresh_quota()

    def _new_columns(self) -> list[StageColumn]:
        visible = self._visible_stages()
        self.column_index = max(0, min(self.column_index, len(visible) - 1))
        columns = [StageColumn(s.id, s.name, id=f"stage-{s.id}") for s in visible]
        self._fit_columns(columns)
        return columns

    MIN_COLUMN_WIDTH = 20

    def _fit_columns(self, columns: list[StageColumn]) -> None:
        """Share the width between the columns; below a readable width each, the board
        scrolls sideways. Set before the first layout (from the terminal's width), so the
        columns are laid out once."""
        if not columns:
            return
        # The columns span the screen; before the first layout the screen has no size yet.
        width = self.size.width or self.app.size.width
        each, spare = divmod(width, len(columns))
        if each < self.MIN_COLUMN_WIDTH:
            each, spare = self.MIN_COLUMN_WIDTH, 0
        for index, column in enumerate(columns):
            column.styles.width = each + (1 if index < spare else 0)

    def on_resize(self) -> None:
        self._fit_columns(self.columns())

    async def _mount_columns(self) -> None:
        """Lay the columns out again, whole: shielded, because a reload is cancelled by the
        next one, and a cancel that reaches Textual's removal of the old columns stops it
        halfway (seen under load: widgets left neither mounted nor gone, and the app waiting
        on them). Two lay-outs take turns; the later one reads the stages then."""
        await asyncio.shield(self._lay_out_columns())

    async def _lay_out_columns(self) -> None:
        async with self._columns_lock:
            if not can_show(self):
                return
            container = self.query_one("#columns", Horizontal)
            await container.remove_children()
            await container.mount_all(self._new_columns())

    # ------------------------------------------------------------- data

    def start_over(self) -> None:
        """The app works on another desk now (the demo desk, from the welcome): its stages
        and cards, and none of this desk's undo steps, filter or place."""
        self.undo_stack.clear()
        self.follow = None
        self.last_pending = False
        self.column_index = 0
        self.show_closed = False
        if (field := self._filter_field()) is not None:
            field.value = ""
            field.display = False
        self.needle = ""
        self.reload()

    @work(exclusive=True, group="board-load")
    async def reload(self) -> None:
        """Load every card off the UI thread, then redraw keeping the cursor where it was."""
        include_closed = self.show_closed
        stages, cards = await self.desk.report(
            lambda c: load_board(c, include_closed=include_closed)
        )
        if can_show(self) and include_closed == self.show_closed:
            self.stages = stages
            if self._columns_differ():
                # Stages added, renamed, reordered or removed (the stages screen, the shell), or
                # an earlier reload cancelled by this one while it was mounting the columns:
                # compared with the columns on screen, not with the last read, so a cancelled
                # remount is redone.
                await self._mount_columns()
                if not can_show(self):
                    return
            self._show(cards)

    def _visible_stages(self) -> list[StageRow]:
        return [s for s in self.stages if s.kind == "open" or self.show_closed]

    def _columns_differ(self) -> bool:
        shown = [(column.stage_id, column.stage_name) for column in self.columns()]
        return shown != [(stage.id, stage.name) for stage in self._visible_stages()]

    def columns(self) -> list[StageColumn]:
        return list(self.query(StageColumn))

    def current_column(self) -> StageColumn | None:
        columns = self.columns()
        return columns[self.column_index] if columns else None

    def selected(self) -> CardRow | None:
        column = self.current_column()
        return column.selected if column else None

    def redraw(self, *, keep: dict[int, int | None] | None = None) -> None:
        needle = self.needle.lower()
        today = clock.today()
        settings = self.desk.settings
        conversion = settings.conversion
        kinds = {stage.id: stage.kind for stage in self.stages}
        counted, left_out = 0, 0
        left_out_codes: set[str] = set()
        for column in self.columns():
            stage_id = column.stage_id
            cards = self.cards.get(stage_id, [])
            if needle:
                cards = [c for c in cards if board.matches(c, needle)]
            cards = board.ordered(cards, self.order)
            # Before the full read, the header tells the stage's true size, not the window's.
            money = self.sizes.get(stage_id, {}) if self.sizes is not None else None
            if needle or money is None:
                money = board.stage_money(cards)
            # Summed as the KPI pane sums them, so the two never disagree.
            size = board.column_total(money, conversion)
            if kinds.get(stage_id) == "open":
                counted += size.count
                left_out += size.left_out
                left_out_codes.update(size.left_out_currencies)
            column.today = today
            keep_deal = (keep or {}).get(stage_id)
            if keep_deal is None and column.selected is not None:
                keep_deal = column.selected.deal_id
            column.set_cards(
                cards,
                keep_deal=keep_deal,
                currency=settings.currency,
                size=size,
                shown=sum(deals for deals, _ in money.values()),
            )
        self._focus_current()
        # The open deals the KPI pane counts (the Won and Lost columns aside).
        status = formatting.count(counted, "deal")
        if left_out:
            codes = ", ".join(sorted(left_out_codes))
            status += f" (+{left_out} in {codes}, no rate in settings)"
        status += f" · sorted by {board.ORDER_LABELS[self.order]}"
        if needle:
            status += f" · filter: {printable(self.needle)}"
        if self.show_closed:
            status += " · showing won and lost"
        # The way to every key stays in view on a narrow terminal: the rest gives way.
        line = Table.grid(expand=True)
        line.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        line.add_column(no_wrap=True, justify="right")
        line.add_row(Text(status), Text("  ? every key · ctrl+p palette"))
        self.query_one("#board-status", Static).update(line)

    def _focus_current(self) -> None:
        column = self.current_column()
        if column is not None and not isinstance(self.focused, Input):
            # At once, not queued (as `focus()` is): the first frame shows the current column.
            self.set_focus(column)
            column.scroll_visible()

    def on_descendant_focus(self, event: Any) -> None:
        # A click on a card in another column makes that column the current one.
        for index, column in enumerate(self.columns()):
            if column is event.widget:
                self.column_index = index

    # ------------------------------------------------------------- navigation

    def action_column(self, delta: int) -> None:
        self.last_pending = False
        columns = self.columns()
        if columns:
            self.column_index = max(0, min(len(columns) - 1, self.column_index + delta))
            self._focus_current()

    def action_card(self, delta: int) -> None:
        self.last_pending = False
        if column := self.current_column():
            column.move_cursor(delta)

    def action_first(self) -> None:
        self.last_pending = False
        if column := self.current_column():
            column.cursor_first()

    def action_last(self) -> None:
        if column := self.current_column():
            column.cursor_last()
            # Only the first screenful is in yet: the real last card comes with the rest.
            self.last_pending = self.sizes is not None

    # ------------------------------------------------------------- changes

    def _require_card(self) -> CardRow | None:
        card = self.selected()
        if card is None:
            self.notify("No deal here: move to a card first (h/l, j/k).", severity="warning")
        return card

    async def action_move(self, delta: int) -> None:
        card = self._require_card()
        if card is None:
            return
        open_stages = [s for s in self.stages if s.kind == "open"]
        ids = [s.id for s in open_stages]
        if card.stage_id not in ids:
            self.notify("Reopen a closed deal by moving it from the deal page.", severity="warning")
            return
        index = ids.index(card.stage_id) + delta
        if index < 0:
            self.notify(f"{open_stages[0].name} is the first stage.")
            return
        if index >= len(ids):
            self.notify(f"{open_stages[-1].name} is the last open stage: w marks the deal won.")
            return
        target = open_stages[index]
        from repdesk.services import deals  # loaded after the first paint (see _actions)
        from repdesk.tui.undo import undo_of

        try:
            _, changes = await self.desk.write_recorded(
                lambda s: deals.move_deal(session=s, deal_id=card.deal_id, stage=str(target.id))
            )
        except Exception as exc:
            if not can_show(self):
                return
            self.notify(self.desk.explain(exc), severity="error", timeout=10)
            return
        # The undo puts back what the move changed (the days in the stage included), and only
        # while the deal is as the move left it.
        self.undo_stack.append(
            undo_of(
                f"move of {card.title} to {target.name}",
                card.deal_id,
                changes,
                stage_id=card.stage_id,
            )
        )
        if not can_show(self):
            return
        self._move_locally(card, target.id)
        self.reload()

    def _move_locally(self, card: CardRow, stage_id: int) -> None:
        """Show the move at once (the reload that follows only confirms it)."""
        self.cards[card.stage_id] = [c for c in self.cards.get(card.stage_id, []) if c != card]
        moved = card._replace(stage_id=stage_id, days_in_stage=0, rotting=False)
        self.cards.setdefault(stage_id, []).append(moved)
        if self.sizes is not None:
            for stage, sign in ((card.stage_id, -1), (stage_id, 1)):
                money = self.sizes.setdefault(stage, {})
                count, total = money.get(card.currency, (0, 0))
                money[card.currency] = (count + sign, total + sign * card.value_cents)
        for index, column in enumerate(self.columns()):
            if column.stage_id == stage_id:
                self.column_index = index
        self.redraw(keep={stage_id: card.deal_id})

    def _open(
        self, screen: Screen[Any] | str, *, then: Callable[[Any], None] | None = None
    ) -> None:
        """Push a form or question built by `actions`; a string is a reason not to (shown)."""
        if isinstance(screen, str):
            self.notify(screen)
            return
        self.app.push_screen(screen, then or self._after_change)

    def _after_change(self, result: Any) -> None:
        if result is None:
            return  # cancelled: nothing was written
        undo = result[1] if isinstance(result, tuple) else result
        if isinstance(undo, Undo):
            self.app.remember_saved(undo)
        self.reload()

    def action_log_call(self) -> None:
        if card := self._require_card():
            self._open(_actions().log_call_form(self.desk, deal_id=card.deal_id, title=card.title))

    def action_follow_up(self) -> None:
        if card := self._require_card():
            self._open(_actions().follow_up_form(self.desk, deal_id=card.deal_id, title=card.title))

    def action_objection(self) -> None:
        if card := self._require_card():
            self._open(_actions().objection_form(self.desk, deal_id=card.deal_id, title=card.title))

    def action_edit(self) -> None:
        if card := self._require_card():
            self._open(_actions().deal_form(self.desk, deal_id=card.deal_id, stage_id=None))

    def action_won(self) -> None:
        if card := self._require_card():
            self._open(_actions().win(self.desk, deal_id=card.deal_id))

    def action_lost(self) -> None:
        if card := self._require_card():
            self._open(_actions().lose(self.desk, deal_id=card.deal_id))

    def action_forecast(self) -> None:
        if card := self._require_card():
            self._open(_actions().forecast_form(self.desk, deal_id=card.deal_id))

    def action_new(self) -> None:
        column = self.current_column()
        stage_id = column.stage_id if column else None
        if not any(s.id == stage_id and s.kind == "open" for s in self.stages):
            stage_id = None

        def added(result: Any) -> None:
            if result is not None:
                self.undo_stack.append(result[1])
                self.reload()
                note = f"; {result[1].result}" if result[1].result else ""
                self.notify(printable(f"Added {result[0].title}{note}"), markup=False)

        self._open(_actions().deal_form(self.desk, deal_id=None, stage_id=stage_id), then=added)

    async def action_undo(self) -> None:
        await self.app.undo_last()

    def action_won_on(self) -> None:
        if card := self._require_card():
            self._open(_actions().win_on(self.desk, deal_id=card.deal_id))

    def action_merge(self) -> None:
        if card := self._require_card():
            self._open(_actions().merge_form(self.desk, keep_id=card.deal_id, title=card.title))

    async def action_delete(self) -> None:
        card = self._require_card()
        if card is None:
            return
        deleted = await self.app.delete_to_trash(
            kind="deal", item_id=card.deal_id, deal_id=card.deal_id
        )
        if deleted and can_show(self):
            self.reload()

    def action_open(self) -> None:
        card = self._require_card()
        if card is not None:
            self.app.open_deal(card.deal_id)

    # ------------------------------------------------------------- filter and views

    def action_filter(self) -> None:
        if (field := self._filter_field()) is None:
            return  # not in yet: the app holds every key until it is (add_filter_field)
        field.display = True
        field.focus()

    def action_clear_filter(self) -> None:
        if (field := self._filter_field()) is not None:
            field.value = ""
            field.display = False
        self.needle = ""
        self.redraw()
        # The field had the focus: give it to the column now, or a key straight after escape
        # (enter, to open the card) lands in the hidden field before Textual moves the focus.
        self.set_focus(None)
        self._focus_current()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value.strip()
        self.redraw()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.display = False
        self.set_focus(None)
        self._focus_current()

    async def action_toggle_closed(self) -> None:
        self.show_closed = not self.show_closed
        await self._mount_columns()
        self.reload()

    def action_cycle_order(self) -> None:
        self.order = board.ORDERS[(board.ORDERS.index(self.order) + 1) % len(board.ORDERS)]
        self.redraw()
        self.notify(f"Sorted by {board.ORDER_LABELS[self.order]}.")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing a filter, letters go to the filter, not to the board's actions.
        typing = isinstance(self.focused, Input)
        return not typing or action == "clear_filter"
