"""The sync in the app (issue 20): I (or the palette) syncs with Pipedrive in the background,
the top line says where the sync stands or why it could not run, and B lists the conflicts,
each settled with a key (< the desk's value, > Pipedrive's). Against the Pipedrive stand-in
of tests/pipedrive/server.py."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.pinned import NOW
from tests.pipedrive.helpers import remote_deal, sync
from tests.pipedrive.server import TOKEN, Pipedrive, start
from tests.shell import ok
from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import db, on_board, said, until
from textual.pilot import Pilot
from textual.widgets import OptionList

from repdesk.services import deals
from repdesk.storage.store import make_engine, write_session
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.screens.followups import FollowUpsScreen
from repdesk.tui.screens.sync import ConflictsScreen
from repdesk.tui.widgets.quota_strip import QuotaStrip

SIZE = (140, 40)
DEALS = "SELECT count(*) FROM deal"
EVERYTHING = (
    "SELECT (SELECT count(*) FROM deal) + (SELECT count(*) FROM activity)"
    " + (SELECT count(*) FROM follow_up)"
)
HOSTILE = "[b]Big[/b] \x1b]2;pwned\x07 \u202eevil [@click=app.quit]x[/]"
# What must never reach the terminal raw: C0 controls, DEL, C1 controls, bidi overrides.
RAW = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def crm() -> Iterator[tuple[Pipedrive, str]]:
    server, api, url = start()
    yield api, url
    api.gate.set()
    api.release.set()
    server.shutdown()
    server.server_close()
    assert api.errors == [], "\n".join(api.errors)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)


def app_for(home: Path, url: str) -> RepdeskApp:
    return create_app(build_small_desk(home), settings().replace(pipedrive_url=url))


def top_line(app: RepdeskApp) -> str:
    """The screen's top line as the rep reads it (as drawn: the strip's first line)."""
    drawn = app.screen.query_one(QuotaStrip).render_line(0)
    return "".join(segment.text for segment in drawn)


async def synced(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: not app.sync.running and "synced just now" in top_line(app))  # type: ignore[attr-defined]


async def test_p_syncs_in_the_background_and_the_top_line_follows(
    home: Path, crm: tuple[Pipedrive, str], token: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    app = app_for(home, url)
    (deals_here,) = db(home, DEALS)[0]
    (rows_here,) = db(home, EVERYTHING)[0]
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        assert "Pipedrive" not in top_line(app)  # a desk that does not sync says nothing
        api.gate.clear()  # Pipedrive answers nothing for now
        await pilot.press("I")
        await until(pilot, lambda: "Pipedrive: syncing…" in top_line(app))
        await pilot.press("2")  # the app goes on while the sync waits
        await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen) and app.screen.loaded)
        assert "Pipedrive: syncing…" in top_line(app)  # on every screen's top line
        api.gate.set()
        await synced(pilot)
        await until(
            pilot, lambda: said(app, f"Synced with Pipedrive: 0 changes taken in, {rows_here} sent")
        )  # said once the line is: under load, a turn later
        assert api.count("deals") == deals_here

        # Four minutes on, three writes from the shell: waiting to be sent.
        monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(minutes=4)).isoformat())
        for title in ("One", "Two", "Three"):
            ok("deal", "add", title)
        await until(pilot, lambda: "Pipedrive: synced 4 min ago · 3 waiting" in top_line(app))
        # With less room the figures go short before what waits goes (an audit: it went).
        await pilot.resize_terminal(100, 36)
        await until(pilot, lambda: "Pipedrive: synced 4 min ago · 3 waiting" in top_line(app))
        assert "won €9,000 of €60,000" in top_line(app) and "…" not in top_line(app)
        await pilot.resize_terminal(*SIZE)
        await pilot.press("I")
        await synced(pilot)
        assert api.count("deals") == deals_here + 3


async def test_the_palette_syncs_too_and_hostile_titles_come_in_harmless(
    home: Path, crm: tuple[Pipedrive, str], token: None
) -> None:
    api, url = crm
    api.add("deals", title=HOSTILE, value=5000, stage_id=102)
    app = app_for(home, url)
    async with app.run_test(size=SIZE) as pilot:
        board = await on_board(pilot)
        await pilot.press("ctrl+p", *"Sync with")
        await until(pilot, lambda: "Sync with Pipedrive now" in palette_first(app))
        await pilot.press("enter")
        await synced(pilot)
        # On the board (its change watch saw the sync's writes), drawn as plain text.
        await until(pilot, lambda: HOSTILE in [c.title for cs in board.cards.values() for c in cs])
        await pilot.pause()
        drawn = app.export_screenshot().replace("&#160;", " ")
        assert "[b]Big[/b] ␛]2;pwned…" in drawn  # the card: as text, cut to its width
        assert "\x1b" not in drawn and "\x07" not in drawn and "\u202e" not in drawn
        assert app.is_running  # [@click=app.quit] stayed text
    assert api.count("deals") == db(home, DEALS)[0][0]


def palette_first(app: RepdeskApp) -> str:
    found = app.screen.query("CommandList")
    if not found or not found.first().option_count:  # type: ignore[attr-defined]
        return ""
    return str(found.first().get_option_at_index(0).prompt)  # type: ignore[attr-defined]


async def test_no_token_is_said_on_the_top_line_and_in_a_toast(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    monkeypatch.delenv("REPDESK_PIPEDRIVE_TOKEN", raising=False)
    app = app_for(home, url)
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await pilot.press("I")
        await until(pilot, lambda: "Pipedrive: not synced: no API token" in top_line(app))
        await until(
            pilot, lambda: said(app, "no Pipedrive API token: set REPDESK_PIPEDRIVE_TOKEN")
        )  # said once the line is: under load, a turn later
    assert api.log == []  # nothing was asked of Pipedrive


async def test_on_a_narrow_terminal_the_sync_says_less_before_the_quota_does(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 80 columns "Pipedrive: not synced: no API token" cut the quota to "of €4…" on every
    screen until the app was restarted."""
    _, url = crm
    monkeypatch.delenv("REPDESK_PIPEDRIVE_TOKEN", raising=False)
    app = app_for(home, url)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_board(pilot)
        await until(pilot, lambda: "of €60,000" in top_line(app))
        whole = top_line(app)
        assert "pace" in whole and "…" not in whole
        await pilot.press("I")
        # Past "syncing…": the failed sync is now kept on the desk first, a write that takes
        # a moment (src/repdesk/tui/syncing.py, _sync).
        await until(pilot, lambda: "Pipedrive: not synced" in top_line(app))
        line = top_line(app)
        # The quota's words whole, the pace in short, the sync in short, the days left.
        assert line.split("  ·  ")[0] == whole.split("  ·  ")[0]
        assert "Pipedrive: not synced  10d" in line and "…" not in line
        await pilot.resize_terminal(130, 24)
        await until(pilot, lambda: "Pipedrive: not synced: no API token" in top_line(app))
        assert "pace" in top_line(app)
        await pilot.resize_terminal(40, 24)
        await until(pilot, lambda: "Pipedrive" not in top_line(app))
        # The sync gone, the days stay in short: the room goes to the quota's figures, said
        # as `quota --short` says them rather than cut.
        assert top_line(app).split() == ["€9k/€60k", "15%", "▼31k", "10d"]


async def test_offline_is_said_at_once(
    home: Path, token: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _api, url = start()
    server.shutdown()
    server.server_close()  # nothing listens there any more: as with no network
    app = app_for(home, url)
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await pilot.press("I")
        await until(pilot, lambda: "Pipedrive: not synced: offline" in top_line(app), 20)
        await until(
            pilot, lambda: said(app, "Pipedrive cannot be reached at 127.0.0.1 (offline?)")
        )  # said once the line is: under load, a turn later


async def test_conflicts_are_listed_and_each_settled_with_a_key(
    home: Path, crm: tuple[Pipedrive, str], token: None
) -> None:
    api, url = crm
    app = app_for(home, url)
    engine = make_engine(home / "desk.sqlite")
    try:
        sync(engine, url)
        # Both sides change two deals' values; Pipedrive renames one with hostile text.
        fleet, route = (remote_deal(api, t) for t in ("Fleet tracking rollout", "Route planning"))
        api.change("deals", fleet["id"], value=111_111, title=HOSTILE)
        api.change("deals", route["id"], value=222_222)
        with write_session(engine) as session:
            for title, cents in (("Fleet tracking rollout", 9_900_000), ("Route planning", 77_700)):
                deal = deals.find_deal(session=session, ref=title)
                deals.edit_deal(session=session, deal_id=deal.id, value_cents=cents)  # type: ignore[arg-type]
        assert sync(engine, url).conflicts == 2
    finally:
        engine.dispose()
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await until(pilot, lambda: "2 conflicts (B)" in top_line(app))
        await pilot.press("B")
        await until(pilot, lambda: isinstance(app.screen, ConflictsScreen) and app.screen.loaded)
        listing = app.screen.query_one(OptionList)
        lines = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert len(lines) == 2 and not any(RAW.search(line) for line in lines)
        assert "[b]Big[/b] ␛]2;pwned␇ �evil [@click=app.quit]x[/]: value" in lines[0]
        assert "desk: 99,000  ·  Pipedrive: 111,111" in lines[0]
        await pilot.press("less_than_sign")  # the desk's 99,000 for the hostile one
        await until(pilot, lambda: db(home, "SELECT count(*) FROM sync_conflict") == [(1,)])
        await until(
            pilot, lambda: said(app, "Kept the desk's 99,000 for deal #1")
        )  # said once the line is: under load, a turn later
        await until(pilot, lambda: listing.option_count == 1)
        await pilot.press("greater_than_sign")  # Pipedrive's 222,222 for Route planning
        await until(pilot, lambda: db(home, "SELECT count(*) FROM sync_conflict") == [(0,)])
        await until(
            pilot, lambda: "No conflicts" in str(app.screen.query_one("#conflicts-title").render())
        )
        assert db(home, "SELECT value_cents FROM deal WHERE title = 'Route planning'") == [
            (22_222_200,)
        ]
        await until(pilot, lambda: "conflict" not in top_line(app))
        await pilot.press("I")
        await synced(pilot)
    assert remote_deal(api, HOSTILE)["value"] == 99_000  # the desk's value, sent
    assert remote_deal(api, "Route planning")["value"] == 222_222


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
async def test_quitting_in_the_middle_of_a_sync_quits_and_the_next_sync_finishes_it(
    home: Path, crm: tuple[Pipedrive, str], token: None
) -> None:
    api, url = crm
    app = app_for(home, url)
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        api.gate.clear()
        await pilot.press("I")
        await until(pilot, lambda: "Pipedrive: syncing…" in top_line(app))
        await pilot.press("q")
        await until(pilot, lambda: app._exit)
    api.gate.set()  # the sync's thread goes on where it was, and ends
    for thread in [t for t in threading.enumerate() if t.name == "repdesk-sync"]:
        thread.join(60)
    engine = make_engine(home / "desk.sqlite")
    try:
        sync(engine, url)
    finally:
        engine.dispose()
    assert api.count("deals") == db(home, DEALS)[0][0]  # each once


async def test_the_demo_desk_never_syncs(
    home: Path, crm: tuple[Pipedrive, str], token: None
) -> None:
    from repdesk import demo
    from repdesk.core import clock
    from repdesk.settings import load
    from repdesk.storage.paths import Home

    api, url = crm
    demo_home = Home(home, home).demo
    demo.ensure_built(demo_home, today=clock.today(), now=clock.now())  # as `repdesk demo` does
    app = create_app(demo_home, load(demo_home.settings).replace(pipedrive_url=url))
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await pilot.press("I")
        await until(pilot, lambda: said(app, "The demo desk does not sync with Pipedrive"))
    assert api.log == []  # not one made-up deal reached the company's CRM


async def test_sync_line_refreshes_that_cancel_each_other_leave_nothing_unawaited(
    home: Path, crm: tuple[Pipedrive, str], token: None
) -> None:
    """Each write asks for the sync line again, and the newest ask cancels the one before it.
    A cancelled ask that had not started must leave no coroutine behind: under load one did,
    and Python warned "coroutine 'AppSync._refresh' was never awaited" (issue 22)."""
    import gc
    import warnings

    _api, url = crm
    app = app_for(home, url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with app.run_test(size=SIZE) as pilot:
            await on_board(pilot)
            await until(pilot, lambda: app.sync.watching)
            for _ in range(5):  # in one go: each cancels the one before it started
                app.sync.refresh()
            await pilot.pause()
            await until(pilot, lambda: not app.workers._workers)
        gc.collect()
    unawaited = [str(w.message) for w in caught if "never awaited" in str(w.message)]
    assert unawaited == []


async def test_a_strip_that_had_its_figures_before_it_was_mounted_shows_the_sync_line(
    home: Path, crm: tuple[Pipedrive, str], token: None
) -> None:
    """A quota read can finish while a new screen's widgets are being mounted: its strip gets
    the figures before its own mount has read the sync line. The screen then asks for the
    same figures again (a quiet desk answers at once): the sync line must be on it by then,
    not only at the sync line's next change (an hour later for "synced 2 h ago")."""
    _api, url = crm
    app = app_for(home, url)
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        await pilot.press("I")
        await synced(pilot)
        await until(pilot, lambda: app.desk.known_quota_figures() is not None)
        figures = app.desk.known_quota_figures()
        assert figures is not None
        strip = QuotaStrip(id="late-strip")
        strip.show_figures(figures, app.desk.settings.currency)  # the read, before the mount
        await app.screen.mount(strip)
        app.refresh_quota()  # the screen's own ask once mounted
        await pilot.pause()
        drawn = "".join(segment.text for segment in strip.render_line(0))
        assert "won €9,000 of €60,000" in drawn
        assert "Pipedrive: synced just now" in drawn


@pytest.mark.parametrize("ends_while_away", [False, True])
async def test_the_kpi_panes_top_line_says_where_the_sync_stands_when_shown_again(
    home: Path, crm: tuple[Pipedrive, str], token: None, ends_while_away: bool
) -> None:
    """(Found by a hostile test.) The app keeps the KPI pane between openings, and tells the
    screens on its stack of the sync: shown again, the pane said "syncing…" long after the
    sync ended, or nothing of a sync begun while it was away."""
    from repdesk.tui.screens.kpi import KpiScreen

    api, url = crm
    app = app_for(home, url)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.board.loaded and app.warmed.is_set())
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, KpiScreen))
        if not ends_while_away:
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.board)
        api.gate.clear()  # Pipedrive answers nothing for now
        await pilot.press("I")
        await until(pilot, lambda: "Pipedrive: syncing…" in top_line(app))
        if ends_while_away:
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.board)
            api.gate.set()
            await synced(pilot)
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, KpiScreen))
        await pilot.pause(0.2)
        want = "synced just now" if ends_while_away else "Pipedrive: syncing…"
        line = top_line(app)
        api.gate.set()
        assert want in line, line


async def test_at_80_columns_the_top_line_keeps_what_waits_and_the_conflicts(
    home: Path, crm: tuple[Pipedrive, str], token: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 80x24 the top line kept "synced 4 min ago" and dropped "3 waiting" and the
    conflicts: the counts the rep acts on go last now, when it synced first."""
    _, url = crm
    app = app_for(home, url)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_board(pilot)
        await pilot.press("I")
        await until(pilot, lambda: not app.sync.running and "Pipedrive" in top_line(app))
        monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(minutes=4)).isoformat())
        for title in ("One", "Two", "Three"):
            ok("deal", "add", title)
        await until(pilot, lambda: "Pipedrive: 3 waiting" in top_line(app))
        assert "…" not in top_line(app)


async def test_the_top_line_forgets_another_sync_once_it_ended(
    home: Path, crm: tuple[Pipedrive, str], token: None
) -> None:
    """I while a shell synced said "another sync is under way" on the top line, and it stayed
    so after that sync ended, until the app's own next sync."""
    api, url = crm
    app = app_for(home, url)
    engine = make_engine(home / "desk.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await on_board(pilot)
        api.gate.clear()
        api.arrived.clear()
        other = threading.Thread(target=sync, args=(engine, url))
        other.start()
        try:
            assert await asyncio.to_thread(api.arrived.wait, 60)
            await pilot.press("I")
            await until(pilot, lambda: "another sync is under way" in top_line(app))
        finally:
            api.gate.set()
            await asyncio.to_thread(other.join, 60)
        await until(pilot, lambda: "Pipedrive: synced just now" in top_line(app))
