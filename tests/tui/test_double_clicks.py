"""Clicks that come faster than a screen goes away: a double or triple click on a line that
closes its screen. Two clicks both reach the screen before its first dismissal is done (keys
come one at a time, clicks do not), and Textual's dismissal pops whatever screen is on top:
the second took the screen under it too, or stopped the app when the board was the last one
(found by a hostile test; see lifecycle.DismissedOnce and RepdeskApp.pop_screen)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.tui.drive import db, until
from tests.tui.test_board import palette_searched
from textual import events
from textual.pilot import Pilot, _get_mouse_message_arguments

from repdesk.tui.app import RepdeskApp
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.mend import PickScreen
from repdesk.tui.screens.welcome import WelcomeScreen

SIZE = (120, 34)


def clicks(pilot: Pilot[Any], selector: str, offset: tuple[int, int], times: int) -> None:
    """`times` clicks as a terminal delivers them: mouse events queued on the app in one read,
    no pause between them (Pilot.click waits after each)."""
    app = pilot.app
    widget = app.screen.query_one(selector)
    arguments = _get_mouse_message_arguments(widget, offset, button=1)
    for _ in range(times):
        for kind in (events.MouseDown, events.MouseUp):
            event = kind(**arguments)
            event.set_sender(app)
            app._driver.send_message(event)  # as the driver's reader thread hands them over


async def open_a_deal_page(pilot: Pilot[Any]) -> DealScreen:
    """The deal page of the fifth column's first card (one with a timeline)."""
    app = pilot.app
    await until(pilot, lambda: app.board.loaded)
    await pilot.press("l", "l", "l", "l", "enter")
    await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
    return app.screen  # type: ignore[return-value]


async def test_a_double_click_that_closes_the_welcome_leaves_the_board(
    empty_app: RepdeskApp,
) -> None:
    app = empty_app
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await pilot.pause(0.2)
        clicks(pilot, "#welcome-close", (2, 0), 2)
        await until(pilot, lambda: app.screen is app.board)
        await pilot.pause(0.3)
        assert app.return_code is None and app.screen_stack == [app.board]


async def test_a_double_click_on_a_palette_hit_opens_the_deal_over_the_board(
    app: RepdeskApp,
) -> None:
    """Textual's own palette is dismissed once per click: the app keeps its board."""
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded)
        await pilot.press("ctrl+p", *"Fleet")
        await palette_searched(pilot)
        await pilot.pause(0.2)
        clicks(pilot, "CommandList", (4, 1), 2)
        await until(pilot, lambda: isinstance(app.screen, DealScreen))
        await pilot.pause(0.3)
        assert app.return_code is None and app.screen_stack[0] is app.board


@pytest.mark.parametrize("times", [2, 3])
async def test_clicks_on_a_pick_list_delete_once_and_keep_the_deal_page(
    app: RepdeskApp, home: Any, times: int
) -> None:
    """The deal page's D (what to delete), and a double or triple click on a timeline item:
    that item goes to the trash, once, and the deal page stays."""
    async with app.run_test(size=SIZE) as pilot:
        deal_page = await open_a_deal_page(pilot)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.pause(0.2)
        trashed = db(home, "SELECT count(*) FROM trash")[0][0]
        clicks(pilot, "OptionList", (4, 2), times)  # the second option: not the deal itself
        await until(pilot, lambda: db(home, "SELECT count(*) FROM trash")[0][0] > trashed)
        await pilot.pause(0.5)
        assert app.return_code is None
        assert app.screen is deal_page
        assert db(home, "SELECT count(*) FROM trash")[0][0] == trashed + 1


@pytest.mark.parametrize("words", ["Reopen", "Keys"])
async def test_a_double_click_on_a_palette_hit_keeps_the_screen_under_the_palette(
    app: RepdeskApp, words: str
) -> None:
    """Over the deal page, a palette hit that opens nothing in its place (`Keys` opens the
    help over it): Textual's palette was dismissed twice and took the deal page with it
    (found by a review)."""
    from textual.command import CommandPalette

    async with app.run_test(size=SIZE) as pilot:
        deal_page = await open_a_deal_page(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*words)
        await palette_searched(pilot)
        await pilot.pause(0.2)
        clicks(pilot, "CommandList", (4, 1), 2)
        await until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause(0.5)
        assert deal_page in app.screen_stack
        assert app.return_code is None


@pytest.mark.parametrize("choice", ["#welcome-first-deal", "#welcome-set-quota"])
async def test_a_double_click_on_a_welcome_choice_opens_one_form(
    empty_app: RepdeskApp, choice: str
) -> None:
    """The second click of a double click reached the welcome after the first had opened a
    form over it, and opened a second form (found by a review)."""
    from repdesk.tui.forms import FormScreen

    app = empty_app
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await pilot.pause(0.2)
        clicks(pilot, choice, (2, 0), 2)
        await until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.pause(0.5)
        forms = [screen for screen in app.screen_stack if isinstance(screen, FormScreen)]
        assert len(forms) == 1 and app.return_code is None
