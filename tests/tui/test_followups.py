"""The follow-up queues screen (key 2), driven by keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import db, reading, until
from textual.pilot import Pilot

from repdesk.storage.paths import Home
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.forms import FormScreen
from repdesk.tui.screens.board import BoardScreen
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.followups import FollowUpsScreen
from repdesk.tui.widgets.queue_list import Heading, QueueList

SIZE = (140, 40)


async def queues(pilot: Pilot[Any]) -> QueueList:
    app = pilot.app
    await until(pilot, lambda: app.board.loaded)
    await pilot.press("2")
    await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen) and app.screen.loaded)
    await pilot.pause()
    return app.screen.query_one(QueueList)


def sections(listing: QueueList) -> dict[str, int]:
    return {line.section: line.count for line in listing.lines if isinstance(line, Heading)}


async def reloaded(pilot: Pilot[Any]) -> QueueList:
    """The queues back on screen with their read after the last change done."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen) and app.screen.loaded)
    await until(pilot, lambda: not reading(app.screen))
    await pilot.pause()
    return pilot.app.screen.query_one(QueueList)  # type: ignore[no-any-return]


async def test_key_2_shows_every_section_with_its_count(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        listing = await queues(pilot)
        assert sections(listing) == {
            "overdue": 1, "today": 1, "upcoming": 1, "no_next_step": 2, "going_cold": 2,
        }  # fmt: skip
        assert listing.selected is not None and listing.selected.title == "Fleet tracking rollout"
        text = "\n".join(listing.render_line(y).text for y in range(12))
        assert "Chase the signature" in text and "touched 5d ago" in text
        assert "[bold]ACME[/] expansion [" in text  # user text stays literal
        await pilot.press("1")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))


async def test_the_first_rows_show_before_the_whole_queues_are_read(
    app: RepdeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a big desk the queues are thousands of rows: the screen shows the first ones of each
    queue, with every queue's full count, while the whole queues are read."""
    import threading

    from repdesk.tui.screens import followups

    whole_read = threading.Event()
    original = followups.load_queues

    def load(connection: Any, days: int, limit: int | None = None) -> Any:
        if limit is None:
            whole_read.wait(30)  # held until the test has seen the first rows
        return original(connection, days, limit)

    monkeypatch.setattr(followups, "FIRST_ROWS", 1)
    monkeypatch.setattr(followups, "load_queues", load)
    # Short: the rows overflow the list, so a scroll would stay (not be undone by the layout).
    async with app.run_test(size=(140, 10)) as pilot:
        await until(pilot, lambda: app.board.loaded)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen))
        screen = app.screen
        listing = screen.query_one(QueueList)
        await until(pilot, lambda: bool(listing.lines))
        rows = [line for line in listing.lines if not isinstance(line, Heading)]
        assert len(rows) == 5 and not screen.loaded  # one of each queue, so far
        counts = {"overdue": 1, "today": 1, "upcoming": 1, "no_next_step": 2, "going_cold": 2}
        assert sections(listing) == counts  # each queue's whole count already
        # Shown as the screen mounted, before its layout: still at the top, the first
        # heading in sight above the cursor's row (it was scrolled out until the whole read).
        await until(pilot, lambda: listing.size.height > 0)  # laid out
        await pilot.pause()
        assert listing.scroll_offset.y == 0
        assert listing.render_line(0).text.strip().startswith("Overdue (1)")
        whole_read.set()
        await until(pilot, lambda: screen.loaded)
        assert len([line for line in listing.lines if not isinstance(line, Heading)]) == 7
        assert sections(listing) == counts


async def test_done_completes_and_schedules_the_next_step_in_one_form(
    app: RepdeskApp, home: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await queues(pilot)
        await pilot.press("space")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert form.raw_values()["next"] == "2026-11-25"  # three working days out
        await pilot.press(*"co", "right", "enter")
        listing = await reloaded(pilot)
        assert sections(listing)["overdue"] == 0
        assert db(home, "SELECT outcome FROM follow_up WHERE id = 1") == [("connected",)]
        pending = "SELECT due_on, note FROM follow_up WHERE done_at IS NULL AND deal_id = 1"
        assert db(home, pending) == [("2026-11-25", "Chase the signature")]


async def test_snooze_with_a_quick_choice(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await queues(pilot)
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("m", "enter")
        await reloaded(pilot)
        assert db(home, "SELECT due_on FROM follow_up WHERE id = 1") == [("2026-11-23",)]


async def test_snooze_and_done_say_the_day_they_came_to(app: RepdeskApp, home: Path) -> None:
    """A new user's trial: "Snooze of the follow-up on …: saved" left the rep to look the new
    day up."""
    from tests.tui.drive import said

    async with app.run_test(size=SIZE) as pilot:
        await queues(pilot)
        await pilot.press("z")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("m", "enter")  # next Monday: 23 Nov
        await reloaded(pilot)
        await until(pilot, lambda: said(app, "saved, due Mon 23 Nov · u undoes"))
        await pilot.press("space")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"co", "right", "enter")  # the next step three working days out
        await reloaded(pilot)
        await until(pilot, lambda: said(app, "saved, next step due Wed 25 Nov · u undoes"))


async def test_reschedule_refuses_a_bad_date_by_the_field(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await queues(pilot)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert form.raw_values()["when"] == "2026-11-18"
        form.query_one("#field-when").value = "2026-13-01"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert "'2026-13-01' is not a date" in str(form.query_one("#error-when").render())
        form.query_one("#field-when").value = "tomorrow 16:00"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await reloaded(pilot)
        assert db(home, "SELECT due_on, due_time FROM follow_up WHERE id = 1") == [
            ("2026-11-21", "16:00:00.000000")
        ]
        # A day typed alone keeps the time of day, as a snooze does (it went: an audit).
        # The cursor stayed in the day's work (Overdue empty: Today's first row); the step is
        # first in Upcoming now.
        listing = app.screen.query_one(QueueList)
        assert listing.selected is not None and listing.selected.title == "40 seats renewal"
        await pilot.press("right_square_bracket")
        assert listing.selected is not None and listing.selected.follow_up_id == 1
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"mon", "enter")
        await until(pilot, lambda: db(home, "SELECT due_on, due_time FROM follow_up WHERE id = 1")
                    == [("2026-11-23", "16:00:00.000000")])  # fmt: skip


async def test_f_gives_a_stepless_deal_its_next_step(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        listing = await queues(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        assert listing.selected is not None and listing.selected.follow_up_id is None
        title = listing.selected.title
        await pilot.press("space")  # no follow-up to complete: says so
        await pilot.pause()
        assert isinstance(app.screen, FollowUpsScreen)
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"+2d", "enter")
        listing = await reloaded(pilot)
        assert sections(listing)["no_next_step"] == 1
        assert db(home, f"SELECT count(*) FROM follow_up f JOIN deal d ON d.id = f.deal_id "
                  f"WHERE d.title = '{title}' AND f.done_at IS NULL") == [(1,)]  # fmt: skip


async def test_z_on_a_going_cold_row_says_what_the_row_is(app: RepdeskApp) -> None:
    """A hostile test: `z` or `D` on a going-cold row said the deal had no follow-up, of a deal
    with a step to come."""
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        listing = await queues(pilot)
        await pilot.press("G")  # the last row: going cold
        assert listing.section == "going_cold" and listing.selected is not None
        await pilot.press("z")
        await until(pilot, lambda: any("A going-cold row is the deal, not a step" in str(n.message)
                                       for n in app._notifications))  # fmt: skip
        assert not any("no follow-up yet" in str(n.message) for n in app._notifications)
        await pilot.press("left_square_bracket")  # no next step: that is true there
        assert listing.section == "no_next_step"
        await pilot.press("z")
        await until(pilot, lambda: any("no follow-up yet" in str(n.message)
                                       for n in app._notifications))  # fmt: skip


async def test_enter_opens_the_deal_and_c_logs_a_call(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await queues(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"no answer", "enter")
        listing = await reloaded(pilot)
        # The call answered the overdue follow-up.
        assert sections(listing)["overdue"] == 0


async def test_launch_notice_counts_overdue_and_today(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded)
        await until(pilot, lambda: any("overdue" in str(n.message) for n in app._notifications))
        message = next(str(n.message) for n in app._notifications if "overdue" in str(n.message))
        assert message == "1 overdue and 1 due today: press 2 for your queues."


async def test_key_4_shows_the_playbook_by_category(app: RepdeskApp) -> None:
    from repdesk.tui.screens.playbook import PlaybookScreen

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded)
        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, PlaybookScreen) and app.screen.data)
        data = app.screen.data
        price = next(s for s in data.stats if s.category == "price")
        # Two price objections: one on the open Fleet deal, one on the won Support contract.
        assert (price.count, price.open, price.won_deals, price.lost_deals) == (2, 1, 1, 0)
        assert price.win_rate == 1.0 and data.overall == 0.5  # 1 won, 1 lost on the desk
        assert [a.answer for a in data.best["price"]] == ["Split the licence over two budget years"]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))


async def test_d_is_done_too_and_an_empty_outcome_is_refused(app: RepdeskApp, home: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await queues(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert "Outcome is needed" in str(form.query_one("#error-outcome").render())
        assert db(home, "SELECT done_at FROM follow_up WHERE id = 1") == [(None,)]


async def test_brackets_jump_between_sections(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        listing = await queues(pilot)
        await pilot.press("right_square_bracket")
        assert listing.selected is not None and listing.selected.title == "40 seats renewal"
        await pilot.press("left_square_bracket")
        assert listing.selected is not None and listing.selected.title == "Fleet tracking rollout"


@pytest.mark.parametrize(("size", "note_cells"), [((80, 24), 14), ((120, 34), 20)])
async def test_a_row_keeps_the_company_the_last_touch_and_the_note(
    app: RepdeskApp, size: tuple[int, int], note_cells: int
) -> None:
    """At 80 columns the company, not the stage: rows of one title at several customers could
    not be told apart (a new-user trial); with room, both."""
    from repdesk.reports.figures import QueueRow

    async with app.run_test(size=size) as pilot:
        listing = await queues(pilot)
        rows = [line for line in listing.lines if isinstance(line, QueueRow) and line.note]
        row = max(rows, key=lambda r: len(r.note))
        drawn = "".join(s.text for s in listing.render_line(listing.lines.index(row)))
        assert row.company[:8] in drawn
        assert (row.stage in drawn) is (size[0] >= 120)
        assert any(touch in drawn for touch in ("ago", "today", "never"))
        note = drawn.rstrip().rsplit("  ", 1)[-1].strip()
        assert row.note.startswith(note.rstrip("…")) and len(note) >= min(note_cells, len(row.note))


@pytest.mark.parametrize("size", [(80, 24), (140, 40)])
async def test_rows_with_wide_characters_line_up_with_the_others(
    home: Path, size: tuple[int, int]
) -> None:
    """漢字 and most emoji take two cells: cut and padded by cells, the value, stage and
    note columns stay where the other rows have them (issue 18 item 29)."""
    import sqlite3
    from contextlib import closing

    from rich.cells import cell_len

    from repdesk.core.money import format_money
    from repdesk.reports.figures import QueueRow

    CJK, EMOJI = "漢字テスト漢字テスト漢字テスト長い案件", "👩🏽‍💻 rollout 🇫🇮🇫🇮"
    build_small_desk(home)
    with closing(sqlite3.connect(home / "desk.sqlite")) as conn, conn:
        rename = "UPDATE deal SET title = ?, company = ? WHERE title = ?"
        conn.execute(rename, (CJK, "株式会社テスト商事", "Fleet tracking rollout"))
        conn.execute(rename, (EMOJI, "🍣 Sushi 🍣", "Cold lead"))
        conn.execute("UPDATE stage SET name = '提案書' WHERE name = 'Proposal'")
    app = create_app(Home(home, home), settings())
    async with app.run_test(size=size) as pilot:
        listing = await queues(pilot)
        ends = {}
        for index, line in enumerate(listing.lines):
            if isinstance(line, QueueRow):
                drawn = listing.render_line(index).text
                assert cell_len(drawn) == listing.size.width
                money = format_money(line.value_cents, line.currency, compact=True)
                ends[line.title] = cell_len(drawn[: drawn.index(money) + len(money)])
        assert CJK in ends and EMOJI in ends
        assert len(set(ends.values())) == 1, ends


async def test_2_opens_on_the_first_rows_read_ahead(
    app: RepdeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the rep is on the board the app reads the queues' first rows ahead
    (FollowUpsScreen.read_ahead): 2 shows them as it mounts, with no first read of its own,
    and only the whole queues are read after."""
    import threading

    from repdesk.tui.screens import followups

    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.board.loaded and app.warmed.is_set())
        await until(pilot, lambda: app.desk.kept(followups.KEPT_AS) is not None)
        reads: list[str] = []
        report_now = app.desk.report_now

        def counted(fn: Any) -> Any:
            if threading.current_thread().name == "repdesk-read":  # read_early's thread
                reads.append("an early read")
            return report_now(fn)

        monkeypatch.setattr(app.desk, "report_now", counted)
        shown_at_mount: list[bool] = []
        on_mount = FollowUpsScreen.on_mount

        def mounted(screen: FollowUpsScreen) -> None:
            on_mount(screen)
            shown_at_mount.append(bool(screen.query_one(QueueList).lines))

        monkeypatch.setattr(FollowUpsScreen, "on_mount", mounted)
        await pilot.press("2")
        await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen) and app.screen.loaded)
        assert shown_at_mount == [True]
        assert reads == []  # no early read of the first rows (the whole queues come after)


def test_a_last_touch_years_ago_leaves_a_gap_before_the_note() -> None:
    """A new user's trial on an imported desk: "1075d agoCall CFO re terms": the touch filled
    its column and ran into the note."""
    from datetime import UTC, datetime, timedelta

    from repdesk.reports.figures import QueueRow
    from repdesk.tui.widgets.queue_list import row_layout, touched

    now = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    for days, short, long in (
        (3, "3d ago", "touched 3d ago"),
        (999, "999d ago", "touched 999d ago"),
        (1075, "2y ago", "touched 2y ago"),
    ):
        row = QueueRow(1, "T", "", 0, "EUR", "Demo", 40, now - timedelta(days=days), days,
                       1, None, None, "Call CFO", False)  # fmt: skip
        assert (touched(row, now, short=True), touched(row, now)) == (short, long)
        for width in (80, 99, 120, 160):
            cells = row_layout(width).touch
            shown = touched(row, now, short=cells < 17)
            assert not cells or len(shown) < cells, (width, shown)


@pytest.mark.parametrize(("now", "late"), [("2026-11-20T09:30:00+00:00", False),
                                           ("2026-11-20T11:00:00+00:00", True)])  # fmt: skip
async def test_a_step_of_today_whose_hour_has_passed_is_drawn_late(
    app: RepdeskApp, monkeypatch: pytest.MonkeyPatch, now: str, late: bool
) -> None:
    """A new user's trial: a 09:00 call still not done at 14:07 stayed green in Today."""
    monkeypatch.setenv("REPDESK_NOW", now)
    async with app.run_test(size=SIZE) as pilot:
        listing = await queues(pilot)

        def time_style(section: str) -> Any:
            index = next(
                i
                for i, line in enumerate(listing.lines)
                if not isinstance(line, Heading) and listing.sections[i] == section
            )
            segments = list(listing.render_line(index - round(listing.scroll_offset.y)))
            return next(s.style.color for s in segments if s.text.strip())

        assert (time_style("today") == time_style("overdue")) is late  # 10:00 today


def three_overdue(home: Path) -> None:
    """Two more overdue steps beside Fleet tracking rollout's (due 18 Nov): Cold lead's, four
    days late, comes first; Route planning's, one day late, last."""
    from datetime import date, timedelta

    from tests.pinned import NOW

    from repdesk.services import followups
    from repdesk.storage.store import make_engine, write_session

    ids = dict(db(home, "SELECT title, id FROM deal"))
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        for title, day in (("Cold lead", 16), ("Route planning", 19)):
            followups.add_follow_up(
                session=session, deal_id=ids[title], when=(date(2026, 11, day), None),
                note=f"{title} step", now=NOW - timedelta(days=10),
            )  # fmt: skip
    engine.dispose()


def at(listing: QueueList) -> tuple[str, str]:
    """The section and the title of the row under the cursor, as drawn: the highlighted line."""
    row = listing.selected
    assert row is not None
    y = listing.cursor - round(listing.scroll_offset.y)
    assert 0 <= y < listing.size.height  # in sight
    assert row.title in listing.render_line(y).text
    return listing.sections[listing.cursor], row.title


async def form_done(pilot: Pilot[Any], *keys: str) -> QueueList:
    """Keys in the form the last key opened, then the queues back with their new read."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.keys_ready)
    await pilot.press(*keys)
    await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen))
    return await reloaded(pilot)


async def test_a_snoozed_row_leaves_the_cursor_on_the_row_that_took_its_place(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: after `z 3 enter` on an overdue row the cursor went with it to
    Upcoming, and the next `r` rescheduled the same row again."""
    three_overdue(home)
    async with app.run_test(size=SIZE) as pilot:
        listing = await queues(pilot)
        assert at(listing) == ("overdue", "Cold lead")
        await pilot.press("j")
        assert at(listing) == ("overdue", "Fleet tracking rollout")
        await pilot.press("z")
        listing = await form_done(pilot, "3", "enter")  # to Mon 23 Nov: Upcoming
        await until(pilot, lambda: sections(listing)["overdue"] == 2)
        assert at(listing) == ("overdue", "Route planning")
        await pilot.press("r")  # the next row's step, not the one just snoozed
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.raw_values()["when"] == "2026-11-19"  # type: ignore[attr-defined]
        listing = await form_done(pilot, "escape")
        assert at(listing) == ("overdue", "Route planning")
        # u puts the snoozed step back in Overdue, and the cursor on it.
        await pilot.press("u")
        await until(pilot, lambda: sections(listing)["overdue"] == 3)
        await until(pilot, lambda: at(listing) == ("overdue", "Fleet tracking rollout"))


async def test_done_on_a_sections_last_row_goes_to_the_one_before_and_on_its_only_row_on(
    app: RepdeskApp, home: Path
) -> None:
    three_overdue(home)
    done = (*"co", "right", "enter")  # connected, the next step three working days out
    async with app.run_test(size=SIZE) as pilot:
        listing = await queues(pilot)
        await pilot.press("j", "j")
        assert at(listing) == ("overdue", "Route planning")
        await pilot.press("space")
        listing = await form_done(pilot, *done)
        await until(pilot, lambda: sections(listing)["overdue"] == 2)
        assert at(listing) == ("overdue", "Fleet tracking rollout")  # the one before it
        await pilot.press("space")
        listing = await form_done(pilot, *done)
        await until(pilot, lambda: sections(listing)["overdue"] == 1)
        assert at(listing) == ("overdue", "Cold lead")
        await pilot.press("space")
        listing = await form_done(pilot, *done)
        await until(pilot, lambda: sections(listing)["overdue"] == 0)
        assert at(listing) == ("today", "40 seats renewal")  # the next section's first
        await pilot.press("u")  # the last done undone: its step back, and the cursor with it
        await until(pilot, lambda: sections(listing)["overdue"] == 1)
        await until(pilot, lambda: at(listing) == ("overdue", "Cold lead"))


async def test_home_and_end_and_g_and_G_go_to_the_first_and_last_row(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: looking for a way back to the top, the rep pressed `[` three times
    (the board's `g` and `G` did nothing here)."""
    from repdesk.tui.screens.help import HelpScreen

    three_overdue(home)
    async with app.run_test(size=(100, 12)) as pilot:  # rows below the screen
        listing = await queues(pilot)
        for last, first in (("end", "home"), ("G", "g")):
            await pilot.press(last)
            assert at(listing) == ("going_cold", listing.lines[-1].title)  # type: ignore[union-attr]
            await pilot.press(first)
            assert at(listing) == ("overdue", "Cold lead")
            assert listing.render_line(0).text.strip().startswith("Overdue (3)")  # its heading
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = {entry.binding_id: entry.keys_text for entry in app.screen.screen_keys}  # type: ignore[attr-defined]
        assert keys["queues.first"] == "g home" and keys["queues.last"] == "G end"
