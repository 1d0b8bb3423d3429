"""SVG snapshots of the board, the deal page and the forms, at a fixed size, clock and desk.

After a deliberate UI change: `pytest tests/tui --snapshot-update`, then review every diff
(the HTML report pytest prints) before committing the new SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import reading, still
from tests.tui.drive import until as wait_until
from textual.pilot import Pilot

from repdesk.storage.paths import Home
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.forms import ConfirmScreen, FormScreen
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.help import HelpScreen
from repdesk.tui.screens.welcome import WelcomeScreen

SIZE = (120, 34)


@pytest.fixture
def app(home: Path) -> RepdeskApp:
    return create_app(build_small_desk(home), settings())


def settle(
    *keys: str, until: Callable[[Any], bool] | None = None
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Wait for the board's cards, press `keys`, then wait for `until(app)`."""

    async def run(pilot: Pilot[Any]) -> None:
        app = pilot.app
        # Every card in, and the launch notice's read done: its toast is cleared below, and a
        # toast that came after the clear would make the picture depend on timing.
        await wait_until(pilot, lambda: app.board.loaded and not reading(app))
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        if until is not None:
            await wait_until(pilot, lambda: until(app))
        # A form draws its focused first field once mounted: the picture waits for that.
        await wait_until(pilot, lambda: getattr(app.screen, "keys_ready", True))
        await still(pilot)  # no toast (the launch notice's is timed), a steady cursor

    return run


def test_board(snap_compare: Any, app: RepdeskApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=settle("l", "l", "l", "l"))


def test_board_80x24(snap_compare: Any, app: RepdeskApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle())


def test_deal_page(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle("l", "l", "l", "l", "enter", until=lambda a: isinstance(a.screen, DealScreen)
                   and a.screen.page is not None)  # fmt: skip
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_call_form(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle("l", "l", "l", "l", "c", until=lambda a: isinstance(a.screen, FormScreen))
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_new_deal_form_with_a_refused_amount(snap_compare: Any, app: RepdeskApp) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await settle("n", until=lambda a: isinstance(a.screen, FormScreen))(pilot)
        await pilot.press(*"Solar roofs", "tab", *"Sunny SA", "tab", "tab", "tab", *"lots")
        await pilot.press("ctrl+s")
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_lost_form_offers_earlier_reasons(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle("l", "l", "l", "l", "x", until=lambda a: isinstance(a.screen, FormScreen))
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_won_question(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle(
        "l", "l", "l", "l", "l", "w", until=lambda a: isinstance(a.screen, ConfirmScreen)
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_board_in_a_light_theme(snap_compare: Any, home: Path) -> None:
    light = create_app(build_small_desk(home), replace(settings(), theme="textual-light"))
    assert snap_compare(light, terminal_size=SIZE, run_before=settle("l", "l", "l", "l"))


def test_board_80x24_in_a_light_theme(snap_compare: Any, home: Path) -> None:
    light = create_app(build_small_desk(home), replace(settings(), theme="textual-light"))
    assert snap_compare(light, terminal_size=(80, 24), run_before=settle())


def test_help_lists_the_keys(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle("question_mark", until=lambda a: isinstance(a.screen, HelpScreen))
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_help_at_80x24(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle("question_mark", until=lambda a: isinstance(a.screen, HelpScreen))
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_welcome_on_an_empty_desk(snap_compare: Any, home: Path) -> None:
    empty = create_app(Home(home, home), settings())
    ready = settle(until=lambda a: isinstance(a.screen, WelcomeScreen))
    assert snap_compare(empty, terminal_size=SIZE, run_before=ready)


def test_follow_up_queues(snap_compare: Any, app: RepdeskApp) -> None:
    from repdesk.tui.screens.followups import FollowUpsScreen

    ready = settle("2", until=lambda a: isinstance(a.screen, FollowUpsScreen) and a.screen.loaded)
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_done_form(snap_compare: Any, app: RepdeskApp) -> None:
    from repdesk.tui.screens.followups import FollowUpsScreen

    async def run(pilot: Pilot[Any]) -> None:
        await settle(
            "2", until=lambda a: isinstance(a.screen, FollowUpsScreen) and a.screen.loaded
        )(pilot)
        await pilot.press("space")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FormScreen))
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_objection_form_with_the_playbook(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle("l", "l", "l", "l", "o", until=lambda a: isinstance(a.screen, FormScreen))
    assert snap_compare(app, terminal_size=(140, 36), run_before=ready)


def test_playbook_screen(snap_compare: Any, app: RepdeskApp) -> None:
    from repdesk.tui.screens.playbook import PlaybookScreen

    ready = settle("4", until=lambda a: isinstance(a.screen, PlaybookScreen) and a.screen.data)
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)
