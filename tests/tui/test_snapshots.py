"""SVG snapshots of what the README's pictures do not show (tests/tui/test_screenshots.py has
those): the board and the help at 80x24, in both themes, and the forms and questions, on the
small desk at a fixed size and clock.

After a deliberate UI change: `pytest tests/tui --snapshot-update`, then review every diff
(CONTRIBUTING.md, "Snapshots and screenshots") before committing the new SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import settle, still, until
from textual.pilot import Pilot

from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.forms import ConfirmScreen, FormScreen
from repdesk.tui.screens.help import HelpScreen

SIZE = (120, 34)


def test_board_80x24(snap_compare: Any, app: RepdeskApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle())


def test_new_deal_form_with_a_refused_amount(snap_compare: Any, app: RepdeskApp) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await settle("n", ready=lambda a: isinstance(a.screen, FormScreen))(pilot)
        await pilot.press(*"Solar roofs", "tab", *"Sunny SA", "tab", "tab", "tab", *"lots")
        await pilot.press("ctrl+s")
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_lost_form_offers_earlier_reasons(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle("l", "l", "l", "l", "x", ready=lambda a: isinstance(a.screen, FormScreen))
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_won_question(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle(
        "l", "l", "l", "l", "l", "w", ready=lambda a: isinstance(a.screen, ConfirmScreen)
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_board_80x24_in_a_light_theme(snap_compare: Any, home: Path) -> None:
    light = create_app(build_small_desk(home), settings().replace(theme="textual-light"))
    assert snap_compare(light, terminal_size=(80, 24), run_before=settle())


def test_help_at_80x24(snap_compare: Any, app: RepdeskApp) -> None:
    ready = settle("question_mark", ready=lambda a: isinstance(a.screen, HelpScreen))
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


def test_done_form(snap_compare: Any, app: RepdeskApp) -> None:
    from repdesk.tui.screens.followups import FollowUpsScreen

    async def run(pilot: Pilot[Any]) -> None:
        await settle(
            "2", ready=lambda a: isinstance(a.screen, FollowUpsScreen) and a.screen.loaded
        )(pilot)
        await pilot.press("space")
        await until(pilot, lambda: isinstance(pilot.app.screen, FormScreen))
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)
