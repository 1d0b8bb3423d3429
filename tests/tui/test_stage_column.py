"""The virtualised board column on its own: cursor, scrolling, cost at 10,000 cards."""

from __future__ import annotations

from datetime import date

from textual.app import App, ComposeResult

from repdesk.core.views import CardRow
from repdesk.tui.widgets.stage_column import CARD_HEIGHT, HEADER_HEIGHT, StageColumn

TODAY = date(2026, 11, 20)


def card(n: int, **kw: object) -> CardRow:
    base: dict[str, object] = dict(
        deal_id=n, title=f"Deal {n}", company=f"Company {n}", contact="", value_cents=n * 100_000,
        currency="EUR", stage_id=1, days_in_stage=3, next_due=TODAY, next_due_time=None,
        overdue=False, open_objections=0, rotting=False,
    )  # fmt: skip
    base.update(kw)
    return CardRow(**base)  # type: ignore[arg-type]


class ColumnApp(App[None]):
    def __init__(self, cards: list[CardRow]) -> None:
        super().__init__()
        self.cards = cards
        self.moves: list[int | None] = []

    def compose(self) -> ComposeResult:
        yield StageColumn(1, "Proposal", id="column")

    def on_mount(self) -> None:
        column = self.query_one(StageColumn)
        column.today = TODAY
        column.set_cards(self.cards)
        column.focus()

    def on_stage_column_cursor_moved(self, event: StageColumn.CursorMoved) -> None:
        self.moves.append(event.card.deal_id if event.card else None)


async def test_cursor_moves_clamp_and_scroll_in_whole_cards() -> None:
    app = ColumnApp([card(n) for n in range(1, 31)])
    async with app.run_test(size=(30, 20)) as pilot:
        column = app.query_one(StageColumn)
        column.move_cursor(-1)
        assert column.cursor_index == 0
        column.cursor_last()
        await pilot.pause()
        assert column.selected is not None and column.selected.deal_id == 30
        assert round(column.scroll_offset.y) % CARD_HEIGHT == 0
        top = round(column.scroll_offset.y) // CARD_HEIGHT
        visible = (column.size.height - HEADER_HEIGHT) // CARD_HEIGHT
        assert top <= 29 < top + visible + 1
        column.move_cursor(100)
        assert column.cursor_index == 29
        column.cursor_first()
        await pilot.pause()
        assert column.scroll_offset.y == 0
        assert app.moves[-1] == 1


async def test_set_cards_keeps_the_selected_deal_after_reordering() -> None:
    app = ColumnApp([card(n) for n in range(1, 6)])
    async with app.run_test(size=(30, 20)) as pilot:
        column = app.query_one(StageColumn)
        column.move_cursor(2)
        assert column.selected is not None and column.selected.deal_id == 3
        column.set_cards([card(n) for n in (5, 3, 4, 2, 1)], keep_deal=3)
        await pilot.pause()
        assert column.cursor_index == 1 and column.selected.deal_id == 3  # type: ignore[union-attr]
        column.set_cards([card(9)], keep_deal=3)  # gone: clamp
        assert column.selected is not None and column.selected.deal_id == 9


async def test_ten_thousand_cards_cost_what_ten_do() -> None:
    app = ColumnApp([])
    async with app.run_test(size=(40, 40)) as pilot:
        widgets = len(app.query("*"))
        column = app.query_one(StageColumn)
        column.set_cards([card(n) for n in range(10_000)])
        await pilot.pause()
        for _ in range(50):
            column.move_cursor(1)
        await pilot.pause()
        assert len(app.query("*")) == widgets  # no widget per card
        # Only cards in sight were drawn: those on screen now and on the way down to them.
        visible = column.size.height // CARD_HEIGHT + 1
        assert 0 < len(column._strips) <= 50 + visible


async def test_marks_and_literal_text() -> None:
    cards = [
        card(1, title="[bold]ACME[/] [", overdue=True, next_due=date(2026, 11, 18)),
        card(2, next_due=None, open_objections=2, rotting=True, days_in_stage=40),
    ]
    app = ColumnApp(cards)
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        column = app.query_one(StageColumn)
        lines = [column.render_line(y).text for y in range(HEADER_HEIGHT, HEADER_HEIGHT + 8)]
        assert "[bold]ACME[/] [" in lines[0]
        assert "late 18 Nov" in lines[2]
        assert "⚑2" in lines[4] and "no next step" in lines[6] and "40d rot" in lines[6]


async def test_a_narrow_lost_card_keeps_its_day_and_its_reason() -> None:
    """At 120 columns a lost card read "lost 01 Dec:…": the reason, what a rep looks for,
    was the part cut; then the day went for it (an audit). Narrow, the column's name says
    lost, and the day and the reason stay ("15d" still says how long ago)."""
    lost = dict(status="lost", closed_on=date(2026, 11, 5), next_due=None)
    cards = [card(1, lost_reason="price", **lost), card(2, lost_reason="", **lost)]
    for width, first, second in (
        (40, "lost 05 Nov: price", "lost 05 Nov"),
        (20, "05 Nov: price", "lost 05 Nov"),
        (17, "05 Nov: p…", "05 Nov"),
    ):
        app = ColumnApp(cards)
        async with app.run_test(size=(width, 20)) as pilot:
            await pilot.pause()
            column = app.query_one(StageColumn)
            facts = column.render_line(HEADER_HEIGHT + 2).text
            assert first in facts and "15d" in facts
            assert second in column.render_line(HEADER_HEIGHT + 6).text


async def test_a_day_of_another_year_says_its_year() -> None:
    """A new user's trial on an imported desk: "won 27 Nov 1102d" of 2023 read as last week,
    and a next step late since 2023 as "late 08 Nov"."""
    won = card(1, status="won", closed_on=date(2023, 11, 27), stage_id=7)
    late = card(2, next_due=date(2023, 11, 8), overdue=True)
    recent = card(3, status="won", closed_on=date(2026, 11, 13), stage_id=7)
    # In the new year, but weeks away: its day, not "Jan 2027" (a new-user trial).
    soon = card(4, next_due=date(2027, 1, 8))
    # This year, but more than half a year ago: the year, as the shell's dates have it.
    spring = card(5, status="won", closed_on=date(2026, 3, 2), stage_id=7)
    app = ColumnApp([won, late, recent, soon, spring])
    async with app.run_test(size=(44, 40)) as pilot:
        await pilot.pause()
        column = app.query_one(StageColumn)
        text = "\n".join(column.render_line(y).text for y in range(column.size.height))
        assert "won Nov 2023" in text and "2y ago" in text
        assert "late Nov 2023" in text
        assert "won 13 Nov " in text and "13 Nov 2026" not in text and "7d ago" in text
        assert "next Fri 08 Jan" in text and "Jan 2027" not in text
        assert "won Mar 2026" in text


async def test_a_click_selects_the_card_under_the_mouse() -> None:
    app = ColumnApp([card(n) for n in range(1, 6)])
    async with app.run_test(size=(30, 20)) as pilot:
        column = app.query_one(StageColumn)
        await pilot.click(StageColumn, offset=(3, HEADER_HEIGHT + CARD_HEIGHT * 2 + 1))
        assert column.selected is not None and column.selected.deal_id == 3


def header_lines(app: App[None]) -> list[str]:
    return app.query_one(StageColumn).header_text().splitlines()


async def test_the_header_says_how_many_cards_are_out_of_sight() -> None:
    app = ColumnApp([card(n) for n in range(1, 31)])
    async with app.run_test(size=(30, 20)) as pilot:  # 18 lines of cards: four whole cards
        column = app.query_one(StageColumn)
        await pilot.pause()
        assert header_lines(app)[1] == "30 deals · €465k  ↓26"
        column.cursor_last()
        await pilot.pause()
        assert header_lines(app)[1] == "30 deals · €465k  ↑26"
        column.move_cursor(-5)  # the cursor stays in view: one card above it, four below
        await pilot.pause()
        above, below = column.hidden_cards()
        assert above + below == 26 and above > 0 and below > 0
        assert f"↑{above} ↓{below}" in header_lines(app)[1]


async def test_a_narrow_scrolled_header_keeps_its_total_and_the_cards_above() -> None:
    """At 80 columns, scrolled, the header read "↑3 ↓19 of 25": the total and what it left
    out went (found by an audit). The cards above are said; those below go first."""
    cards = [card(n, value_cents=1_579_000) for n in range(1, 27)]
    app = ColumnApp(cards)
    async with app.run_test(size=(16, 20)) as pilot:  # 14 cells inside the padding
        column = app.query_one(StageColumn)
        column.cursor_last()
        await pilot.pause()
        column.move_cursor(-8)
        await pilot.pause()
        above, below = column.hidden_cards()
        assert above and below
        assert header_lines(app)[1] == f"26·€411k ↑{above}"


async def test_a_narrow_header_keeps_whole_figures() -> None:
    app = ColumnApp([card(n, value_cents=1_579_000) for n in range(1, 27)])
    async with app.run_test(size=(19, 20)) as pilot:  # 17 cells inside the padding
        await pilot.pause()
        line = header_lines(app)[1]
        assert "…" not in line and line.startswith("26") and "€411k" in line, line


async def test_the_column_draws_its_lines_as_textual_would() -> None:
    """The column hands its lines straight to the app's filters (StageColumn.render_lines):
    each is the line Textual's own drawing through the widget's styles gives, focused or not,
    scrolled, cut at the left or right, and with no cards at all."""
    from textual.geometry import Region
    from textual.widget import Widget

    def same(column: StageColumn, crop: Region) -> None:
        ours = column.render_lines(crop)
        textual = Widget.render_lines(column, crop)
        assert [list(s) for s in ours] == [list(s) for s in textual]

    app = ColumnApp([card(n, overdue=n % 3 == 0, open_objections=n % 2) for n in range(1, 30)])
    async with app.run_test(size=(30, 20)) as pilot:
        column = app.query_one(StageColumn)
        await pilot.pause()
        width, height = column.outer_size
        assert column._plainly_styled()
        same(column, Region(0, 0, width, height))
        column.cursor_last()  # scrolled to the end
        await pilot.pause()
        same(column, Region(0, 0, width, height))
        same(column, Region(3, 2, width - 5, height - 4))  # cut on every side
        app.set_focus(None)
        await pilot.pause()
        same(column, Region(0, 0, width, height))
        column.set_cards([])
        await pilot.pause()
        same(column, Region(0, 0, width, height))
        assert (
            "no deals" in column.render_lines(Region(0, 0, width, height))[HEADER_HEIGHT + 1].text
        )
        column.styles.padding = (0, 1)  # styled: Textual draws it
        await pilot.pause()
        assert not column._plainly_styled()


async def test_the_header_stays_put_while_the_cards_scroll() -> None:
    """One widget draws the stage's header, its cards and its right edge: scrolled to the
    last card, the name and figures are still on the first two lines, the edge on every one,
    and a click on the header focuses the column without moving its cursor."""
    app = ColumnApp([card(n) for n in range(1, 31)])
    async with app.run_test(size=(30, 20)) as pilot:
        column = app.query_one(StageColumn)
        column.cursor_last()
        await pilot.pause()
        assert column.scroll_offset.y > 0
        lines = [column.render_line(y).text for y in range(column.size.height)]
        assert lines[0].strip(" ▕") == "Proposal"
        assert lines[1].startswith(" 30 deals")
        assert all(line.endswith("▕") and len(line) == 30 for line in lines)
        assert "Deal 30" in "".join(lines[HEADER_HEIGHT:])
        app.set_focus(None)
        await pilot.click(StageColumn, offset=(3, 0))
        assert column.has_focus and column.selected is not None
        assert column.selected.deal_id == 30
