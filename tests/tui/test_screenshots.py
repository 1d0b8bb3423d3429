"""The pictures the README shows, as snapshot tests on the demo desk.

One set of golden images: these snapshots, in tests/tui/__snapshots__/test_screenshots/ beside
every other snapshot, are the README's pictures. `scripts/screenshots.py` turns each into the
PNG the README links (`test_call_form.svg` into `screenshots/call-form.png`) and records which
snapshot it was made from; the last test here fails when a PNG was not made from the snapshot
as it is now.

After a deliberate UI change: `.venv/bin/pytest tests/tui --snapshot-update`, review each
picture, then `.venv/bin/python scripts/screenshots.py` and look at the PNGs
(CONTRIBUTING.md, "Snapshots and screenshots").
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from scripts import screenshots
from tests.pinned import NOW, TODAY
from tests.tui.drive import settle, still
from textual.pilot import Pilot

from repdesk.demo import build_demo, write_settings
from repdesk.settings import load
from repdesk.storage.paths import Home
from repdesk.storage.store import make_engine
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.forms import FormScreen
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.followups import FollowUpsScreen
from repdesk.tui.screens.help import HelpScreen
from repdesk.tui.screens.kpi import KpiScreen
from repdesk.tui.screens.playbook import PlaybookScreen
from repdesk.tui.screens.welcome import WelcomeScreen

SIZE = (140, 40)


@pytest.fixture(scope="module")
def demo_desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo desk at the pinned clock, with the demo's own settings (a rate for pounds, none
    for dollars), built once for the module."""
    folder = tmp_path_factory.mktemp("demo")
    # Built before each test's own fixtures pin the clock and the zone: pinned here too.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REPDESK_NOW", NOW.isoformat())
        env.setenv("TZ", "UTC")
        time.tzset()
        engine = make_engine(folder / "desk.sqlite")
        build_demo(engine, today=TODAY, now=NOW)
        engine.dispose()
    time.tzset()
    write_settings(folder / "settings.toml")
    return folder


def on_demo(demo_desk: Path, home: Path, *, theme: str | None = None) -> RepdeskApp:
    """The app on the test's own copy of the demo desk."""
    home.mkdir(parents=True, exist_ok=True)
    for name in ("desk.sqlite", "settings.toml"):
        shutil.copy(demo_desk / name, home / name)
    settings = load(home / "settings.toml")
    return create_app(Home(home, home), settings.with_theme(theme) if theme else settings)


@pytest.fixture
def demo_app(demo_desk: Path, home: Path) -> RepdeskApp:
    return on_demo(demo_desk, home)


def is_screen(kind: type, loaded: str | None = None) -> Any:
    """`ready` for settle: a `kind` screen is on top (and its read, `loaded`, is in)."""
    return lambda app: (
        isinstance(app.screen, kind)
        and (loaded is None or getattr(app.screen, loaded) not in (None, False))
    )


RIGHT4 = ("l", "l", "l", "l")  # the cursor to the fifth column, Proposal


def test_board(snap_compare: Any, demo_app: RepdeskApp) -> None:
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=settle(*RIGHT4))


def test_board_light(snap_compare: Any, demo_desk: Path, home: Path) -> None:
    light = on_demo(demo_desk, home, theme="textual-light")
    assert snap_compare(light, terminal_size=SIZE, run_before=settle(*RIGHT4))


def test_help(snap_compare: Any, demo_app: RepdeskApp) -> None:
    ready = settle(*RIGHT4, "question_mark", ready=is_screen(HelpScreen))
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=ready)


def test_deal(snap_compare: Any, demo_app: RepdeskApp) -> None:
    ready = settle(*RIGHT4, "enter", ready=is_screen(DealScreen, "page"))
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=ready)


def test_call_form(snap_compare: Any, demo_app: RepdeskApp) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(*RIGHT4, "enter", ready=is_screen(DealScreen, "page"))(pilot)
        await settle("c", ready=is_screen(FormScreen))(pilot)
        await pilot.press(*"co", "right", "tab", *"mon 10:00", "tab", *"send the revised quote")
        await still(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run)


def test_follow_ups(snap_compare: Any, demo_app: RepdeskApp) -> None:
    ready = settle("2", ready=is_screen(FollowUpsScreen, "loaded"))
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=ready)


def test_objection_form(snap_compare: Any, demo_app: RepdeskApp) -> None:
    ready = settle(*RIGHT4, "o", ready=is_screen(FormScreen))
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=ready)


def test_playbook(snap_compare: Any, demo_app: RepdeskApp) -> None:
    ready = settle("4", ready=is_screen(PlaybookScreen, "data"))
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=ready)


def test_kpi(snap_compare: Any, demo_app: RepdeskApp) -> None:
    ready = settle("3", ready=is_screen(KpiScreen, "pane"))
    # Taller than the others: the slices and the activity show too.
    assert snap_compare(demo_app, terminal_size=(SIZE[0], 50), run_before=ready)


def test_welcome(snap_compare: Any, empty_app: RepdeskApp) -> None:
    ready = settle(ready=is_screen(WelcomeScreen))
    assert snap_compare(empty_app, terminal_size=SIZE, run_before=ready)


def test_every_screenshot_is_made_from_its_snapshot_as_it_is_now() -> None:
    snapshots = screenshots.sources()
    assert len(snapshots) >= 10, "a snapshot above has no golden SVG yet: --snapshot-update"
    stale = screenshots.stale()
    assert not stale, (
        f"screenshots/ out of date: {', '.join(stale)}; "
        "run `.venv/bin/python scripts/screenshots.py` and look at the PNGs"
    )


def test_the_readme_shows_only_screenshots_made_here() -> None:
    readme = (screenshots.ROOT / "README.md").read_text(encoding="utf-8")
    shown = set(screenshots.README_PICTURE.findall(readme))
    assert shown, "the README shows no screenshot"
    assert shown <= set(screenshots.sources()), shown - set(screenshots.sources())
