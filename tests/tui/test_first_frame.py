"""The app's start as `repdesk` runs it (open_app in src/repdesk/cli/app.py): the first
frame already holds the cards (each stage's first ones), their true counts and the quota
figures; the rest of the cards follow, and the collector paused for the start runs again."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.pinned import NOW
from tests.tui.desks import build_small_desk
from tests.tui.drive import until
from textual.pilot import Pilot

from repdesk import background
from repdesk.cli.app import open_app
from repdesk.cli.shell import Desk
from repdesk.services import board as board_service
from repdesk.services import deals
from repdesk.storage.paths import Home
from repdesk.storage.store import make_engine, write_session
from repdesk.tui.app import RepdeskApp

SIZE = (140, 40)


@pytest.fixture
def collector() -> Iterator[None]:
    """The start pauses and freezes the collector, and has it collect in the pauses: this
    process gets it back as it was (a later test would collect on the app's idle ticks)."""
    yield
    put_the_collector_back()


def put_the_collector_back() -> None:
    gc.enable()
    gc.unfreeze()
    background.stop_collecting_in_pauses()


def _more_prospects(home: Path, count: int) -> None:
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        for n in range(count):
            deals.create_deal(
                session=session,
                title=f"Prospect {n:02d}",
                value_cents=100_000 * (n + 1),
                currency="EUR",
                stage="Prospect",
                now=NOW,
            )
    engine.dispose()


def _start(
    home: Home, drive: Any, *, press_at_first_paint: bool = False, size: tuple[int, int] = SIZE
) -> dict[str, Any]:
    """Run `repdesk`'s own start with `drive(pilot)` in place of a terminal; return what the
    first frame showed."""
    first: dict[str, Any] = {}

    def run(app: RepdeskApp) -> None:
        after = app.after_first_paint

        def first_paint() -> None:
            first["collecting"] = gc.isenabled()
            first["loaded"] = app.board.loaded
            column = app.board.columns()[0]
            first["prospects"] = [card.title for card in column.cards]
            first["header"] = column.header_text()
            first["strip"] = app.screen.query_one("#quota-strip").render_line(0).text
            if press_at_first_paint:
                app.board.action_last()  # `G` before the rest of the cards is read
            after()

        app.after_first_paint = first_paint  # type: ignore[method-assign]

        async def main() -> None:
            async with app.run_test(size=size) as pilot:
                await drive(pilot)

        asyncio.run(main())

    open_app(Desk(home), auto_backup=False, run=run)
    return first


def test_the_first_frame_shows_cards_counts_and_quota_then_the_rest_follows(
    home: Path, monkeypatch: pytest.MonkeyPatch, collector: None
) -> None:
    monkeypatch.setattr(board_service, "WINDOW", 3)
    desk_home = build_small_desk(home)
    _more_prospects(home, 5)  # six prospects in all, three in the first read
    after: dict[str, Any] = {}

    async def drive(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await until(pilot, lambda: app.board.loaded)
        await pilot.press("G")
        column = app.board.columns()[0]
        after["prospects"] = [card.title for card in column.cards]
        after["selected"] = column.selected.title
        after["header"] = column.header_text()
        await until(pilot, app.warmed.is_set)  # the imports after the first frame are done
        after["collecting"] = gc.isenabled()

    first = _start(desk_home, drive)
    assert first["collecting"] is False and first["loaded"] is False
    # No next step on any: by value (€3k each: the older deal first).
    assert first["prospects"] == ["Prospect 04", "Prospect 03", "[bold]ACME[/] expansion ["]
    # The header counts every prospect, not the three read so far.
    assert "6 deals" in first["header"] and "€18k" in first["header"]
    assert "won €9,000 of €60,000" in first["strip"]
    assert len(after["prospects"]) == 6 and after["selected"] == "Prospect 00"
    assert "6 deals" in after["header"]
    assert after["collecting"] is True


def test_the_first_frame_of_a_narrow_terminal_has_the_quota_line_it_keeps(
    home: Path, collector: None
) -> None:
    # Its first frame read "▼ €31,000 behind…" and, a few frames on, the short form (a new
    # user's trial): the line was fitted to no width before the strip was laid out.
    after: dict[str, str] = {}

    async def drive(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: pilot.app.board.loaded)
        await pilot.pause()
        after["strip"] = pilot.app.screen.query_one("#quota-strip").render_line(0).text

    first = _start(build_small_desk(home), drive, size=(72, 24))
    assert "▼ 31k" in after["strip"] and "…" not in after["strip"]
    assert first["strip"] == after["strip"]


def test_the_first_frame_is_rendered_once_when_the_start_is_over(
    home: Path, monkeypatch: pytest.MonkeyPatch, collector: None
) -> None:
    """Textual drops every frame rendered while the app batches updates, and the app's start
    is one batch around the board's first layout: a frame rendered then was work thrown away
    (40 ms of the first frame in tmux, benchmarks/terminal.py). The first frame the app hands
    to the terminal is the board's whole screen, with its cards."""
    desk_home = build_small_desk(home)
    frames: list[tuple[int, str, str]] = []
    display = RepdeskApp._display

    def recording(app: RepdeskApp, screen: Any, renderable: Any) -> None:
        if renderable is not None:
            frames.append((app._batch_count, type(screen).__name__, type(renderable).__name__))
        display(app, screen, renderable)

    monkeypatch.setattr(RepdeskApp, "_display", recording)

    async def drive(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: pilot.app.board.loaded)

    first = _start(desk_home, drive)
    assert first["prospects"]  # the first frame held cards
    thrown_away = [frame for frame in frames if frame[0]]
    assert thrown_away == []
    assert frames[0] == (0, "BoardScreen", "LayoutUpdate")


def test_a_filter_typed_at_the_first_frame_lands_in_the_field_that_comes_after_it(
    home: Path, collector: None
) -> None:
    """The filter field is not in the first frame (BoardScreen.add_filter_field): `/` and a
    word typed as the cards appear wait with every key until it is in, then land in it, and
    none of the word's letters acts on the board (`n` would open the new-deal form)."""
    from textual import events
    from textual.widgets import Input

    desk_home = build_small_desk(home)
    seen: dict[str, Any] = {}

    def run(app: RepdeskApp) -> None:
        after = app.after_first_paint

        def first_paint() -> None:
            seen["field at first frame"] = bool(app.board.query("#filter"))
            for key, character in (("slash", "/"), ("n", "n"), ("e", "e")):
                event = events.Key(key, character)
                event._sender = None  # as the terminal's keys come (see HEAVY's test below)
                app.post_message(event)
            after()

        app.after_first_paint = first_paint  # type: ignore[method-assign]

        async def main() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await until(pilot, lambda: bool(app.board.query("#filter")))
                field = app.board.query_one("#filter", Input)
                await until(pilot, lambda: field.value == "ne")
                await pilot.pause()
                seen["value"] = field.value
                seen["screen"] = type(app.screen).__name__

        asyncio.run(main())

    open_app(Desk(desk_home), auto_backup=False, run=run)
    assert seen == {"field at first frame": False, "value": "ne", "screen": "BoardScreen"}


def test_a_write_between_the_first_read_and_the_app_shows_up(home: Path, collector: None) -> None:
    """`repdesk` reads the first frame before the app (and its change watch) exists: a deal won
    from another terminal in between shows up in the board and the quota strip."""
    desk_home = build_small_desk(home)
    after: dict[str, Any] = {}

    def won_elsewhere() -> None:
        engine = make_engine(home / "desk.sqlite")
        with write_session(engine) as session:
            deal = deals.find_deal(session=session, ref="40 seats renewal")
            deals.win_deal(session=session, deal_id=deal.id, now=NOW)  # type: ignore[arg-type]
        engine.dispose()

    def run(app: RepdeskApp) -> None:
        won_elsewhere()  # the first frame's read is done; the app is not made yet

        async def main() -> None:
            async with app.run_test(size=SIZE) as pilot:
                strip = app.screen.query_one("#quota-strip")
                await until(
                    pilot,
                    lambda: app.board.loaded and "won €21,000" in strip.render_line(0).text,
                )
                after["strip"] = strip.render_line(0).text
                after["titles"] = {c.title for b in app.board.columns() for c in b.cards}

        asyncio.run(main())

    open_app(Desk(desk_home), auto_backup=False, run=run)
    assert "won €21,000 of €60,000" in after["strip"]
    assert "40 seats renewal" not in after["titles"]


async def test_a_first_screenful_that_lands_after_every_card_is_ignored(home: Path) -> None:
    """On a slow first read the one-second check may load every card first: the first
    screenful that lands after must not replace them."""
    desk_home = build_small_desk(home)
    _more_prospects(home, 5)
    from tests.tui.desks import settings

    from repdesk.tui.app import create_app

    app = create_app(desk_home, settings())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded)
        board = app.board
        prospect = board.columns()[0].stage_id
        every = list(board.cards[prospect])
        board._show({prospect: every[:2]}, sizes={prospect: (len(every), 0)})
        await pilot.pause()
        assert board.columns()[0].cards == board_service.ordered(every, "due")


def test_g_before_every_card_is_read_still_lands_on_the_last_card(
    home: Path, monkeypatch: pytest.MonkeyPatch, collector: None
) -> None:
    monkeypatch.setattr(board_service, "WINDOW", 3)
    desk_home = build_small_desk(home)
    _more_prospects(home, 5)  # six prospects, three in the first read
    after: dict[str, Any] = {}

    async def drive(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: pilot.app.board.loaded)
        await pilot.pause()
        after["selected"] = pilot.app.board.columns()[0].selected.title

    _start(desk_home, drive, press_at_first_paint=True)
    assert after["selected"] == "Prospect 00"  # the sixth, lowest-value prospect


# `repdesk` as a rep starts it (the shell's entry point, its command line included), in a
# process of its own: which modules are in at the first frame, and once the start is over. A
# key pressed before the first frame waits for the imports after it, then lands.
_IMPORTED_AT_FIRST_FRAME = """
import json, sys, threading, time
from repdesk import cli
import repdesk.cli.app as cli_app
from textual import events
from repdesk.tui.screens.board import BoardScreen
HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "repdesk.storage.store", "httpx",
         "repdesk.core.kpi", "repdesk.reports.figures")
seen = {}
mounted = BoardScreen.on_mount
async def on_mount(self):
    # A key read before the first frame (typed as the app starts), its action run later.
    seen["keys held"] = self.app.keys_held()
    key = events.Key("2", "2")  # the queues: their screen is among the imports
    key._sender = None  # from no widget, as the terminal's keys come (so it bubbles up to the app)
    self.app.post_message(key)
    await mounted(self)
BoardScreen.on_mount = on_mount
def run(app):
    after = app.after_first_paint
    def first_paint():
        seen["first frame"] = [name for name in HEAVY if name in sys.modules]
        seen["cards"] = sum(len(column.cards) for column in app.board.columns())
        after()
        def when_warm():
            app.warmed.wait(60)
            seen["warm"] = [name for name in HEAVY if name in sys.modules]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(app.screen_stack) < 2:
                time.sleep(0.01)
            seen["screen"] = type(app.screen).__name__
            app.call_from_thread(app.exit)
        threading.Thread(target=when_warm, daemon=True).start()
    app.after_first_paint = first_paint
    app.run(headless=True, size=(120, 36))
opened = cli_app.open_app
cli_app.open_app = lambda desk, auto_backup: opened(desk, auto_backup=False, run=run)
code = cli.main([])
print(json.dumps(seen | {"exit": code}))
"""


def test_the_first_frame_waits_for_no_sqlalchemy(home: Path) -> None:
    """`repdesk` reads its first frame with sqlite3: SQLAlchemy and SQLModel (some 400 ms of
    imports, more than Textual's own) are imported after it, in the background, and neither
    the command line (whose other commands import SQLModel) nor the board waits for them.
    httpx (the CRM sync's client) only when a sync runs. Nor the full KPIs and the reports
    (their dataclasses alone cost some 9 ms to define): the quota strip reads its standing
    with reports/standing.py. A key pressed meanwhile is held until they are in (importing
    them from two threads at once can fail), then lands."""
    build_small_desk(home)
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTED_AT_FIRST_FRAME],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["cards"] == 6  # the board's first frame, with its cards
    assert seen["first frame"] == []
    assert seen["keys held"] is True
    assert seen["warm"] == [
        "sqlalchemy", "sqlmodel", "pydantic", "repdesk.storage.store", "repdesk.core.kpi",
        "repdesk.reports.figures",
    ]  # fmt: skip
    assert seen["screen"] == "FollowUpsScreen"
    assert seen["exit"] == 0
    assert not (home / "logs" / "crash.log").exists()


def test_a_big_desk_is_checked_beside_its_first_frame_and_stops_the_app_when_damaged(
    home: Path, monkeypatch: pytest.MonkeyPatch, collector: None
) -> None:
    """On a desk past CHECK_AFTER_FIRST_FRAME_BYTES the board shows before the damage check
    is done; no key goes through until it is (a check that takes a while says so), and a
    damaged desk then stops the app with its one line (a key pressed at once never wrote)."""
    import threading

    from tests.tui.drive import db

    from repdesk.cli import app as cli_app
    from repdesk.core.errors import DeskError
    from repdesk.storage import desk_file
    from repdesk.tui.app import RepdeskStopped

    desk_home = build_small_desk(home)
    monkeypatch.setattr(cli_app, "CHECK_AFTER_FIRST_FRAME_BYTES", 0)
    from repdesk.tui import app as tui_app

    monkeypatch.setattr(tui_app, "CHECK_NOTICE_SECONDS", 0.05)
    verdict = threading.Event()
    prepare = desk_file.prepare

    def slow_check(path: Path, *, verify: bool = False, full: bool = False) -> int:
        if verify:
            verdict.wait(30)
            raise DeskError(f"{path} is damaged (a test's): restore a backup")
        return prepare(path, verify=verify, full=full)

    monkeypatch.setattr(desk_file, "prepare", slow_check)
    before = db(home, "SELECT id, stage_id FROM deal ORDER BY id")
    seen: dict[str, Any] = {}

    async def drive(pilot: Pilot[Any]) -> None:
        app = pilot.app
        seen["cards"] = sum(len(column.cards) for column in app.board.columns())
        await pilot.press("L")  # moves the deal under the cursor, once the check is done
        seen["held"] = app.keys_held()
        # A check that takes a while is said, not left to look like a stuck keyboard.
        await until(
            pilot, lambda: any("Checking the desk" in n.message for n in app._notifications)
        )
        verdict.set()
        for _ in range(3000):
            if app._exception is not None:
                break
            await pilot.pause(0.01)

    with pytest.raises(RepdeskStopped) as stopped:
        _start(desk_home, drive)
    assert seen == {"cards": 6, "held": True}
    assert stopped.value.__rich__().plain.startswith(f"repdesk: {home / 'desk.sqlite'} is damaged")
    assert db(home, "SELECT id, stage_id FROM deal ORDER BY id") == before  # nothing moved


def test_a_start_in_this_process_leaves_its_collector_as_it_was(home: Path) -> None:
    """After a test that started the app here, the next test's app collects on Python's own
    schedule, not on its idle ticks (20-45 ms passes in a later test's timing; found by a
    review)."""
    threshold = gc.get_threshold()

    async def warm(pilot: Pilot[Any]) -> None:
        await until(pilot, pilot.app.warmed.is_set)

    try:
        _start(build_small_desk(home), warm)
    finally:
        put_the_collector_back()
    keep = [[[] for _ in range(800)] for _ in range(3)]
    gc.collect(1)  # a young object lives through a middle pass, as any app test's do
    assert gc.get_threshold() == threshold
    assert background.collect_if_due() is False
    del keep
