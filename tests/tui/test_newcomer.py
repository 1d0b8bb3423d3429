"""What a newcomer meets: `?` (every key, from the bindings), the welcome on an empty desk,
and the theme that is saved and comes back."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import reading, said, until
from tests.tui.test_board import current, form_open, ready
from textual.binding import Binding
from textual.pilot import Pilot

from repdesk import settings as settings_mod
from repdesk.storage.paths import Home
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.forms import FormScreen
from repdesk.tui.screens.board import BoardScreen
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.help import HelpScreen, KeyEntry
from repdesk.tui.screens.welcome import WelcomeScreen
from repdesk.tui.widgets.footer import RepdeskFooter

SIZE = (120, 34)


def rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(home / "desk.sqlite")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def open_help(pilot: Pilot[int]) -> HelpScreen:
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    return pilot.app.screen  # type: ignore[return-value]


def by_id(entries: list[KeyEntry]) -> dict[str, KeyEntry]:
    return {entry.binding_id: entry for entry in entries}


def drawn(help_screen: HelpScreen, selector: str) -> str:
    """The text of a key table as drawn at its width."""
    table = help_screen.query_one(selector)
    console = Console(width=table.size.width, record=True, file=io.StringIO())
    console.print(table.render())
    return console.export_text()


# ------------------------------------------------------------------ help


async def test_help_on_the_board_lists_its_keys_and_the_apps_and_closes(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        board = await ready(pilot)
        await pilot.press("l", "l")
        before = current(board)
        help_screen = await open_help(pilot)
        screen_keys, app_keys = by_id(help_screen.screen_keys), by_id(help_screen.app_keys)
        assert screen_keys["board.next_stage"].keys == ["L"]
        assert screen_keys["board.left"].keys == ["h", "←"]
        assert screen_keys["board.undo"].description == "Undo"  # hidden from the footer: here
        assert screen_keys["column.page_down"].keys == ["pgdn"]  # the focused column's own
        assert {"app.followups", "app.playbook", "app.help", "app.theme"} <= set(app_keys)
        assert "board.next_stage" not in app_keys
        lines = drawn(help_screen, "#help-screen-keys").splitlines()
        assert any(re.search(r"L +Next stage +board\.next_stage", line) for line in lines)
        await pilot.press("question_mark")
        await until(pilot, lambda: app.screen is board)
        assert current(board) == before
        await open_help(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is board)


async def test_help_on_the_deal_page_lists_the_deal_pages_keys(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("l", "l", "l", "l", "enter")
        await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
        help_screen = await open_help(pilot)
        assert help_screen.query_one("#help-title").render().plain == "Keys: Deal page"  # type: ignore[union-attr]
        screen_keys = by_id(help_screen.screen_keys)
        assert screen_keys["deal.answer"].keys == ["a"]
        assert screen_keys["deal.back"].keys == ["esc"]
        assert "board.next_stage" not in screen_keys
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DealScreen))


async def test_the_kpi_panes_help_names_its_scroll_keys_and_end_reaches_the_bottom(
    app: RepdeskApp,
) -> None:
    """At 80x24 the pane is taller than the terminal; its help named no way down (an audit)."""
    from textual.containers import VerticalScroll

    from repdesk.tui.screens.kpi import KpiScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, KpiScreen) and app.screen.pane)
        kpi = app.screen
        help_screen = await open_help(pilot)
        screen_keys = by_id(help_screen.screen_keys)
        assert sorted(screen_keys["pane.scroll_down"].keys) == ["j", "↓"]
        assert screen_keys["pane.page_down"].keys == ["pgdn"]
        assert screen_keys["pane.bottom"].keys == ["end"]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is kpi)
        body = kpi.query_one("#kpi-body", VerticalScroll)
        assert body.max_scroll_y > 0 and body.scroll_y == 0
        await pilot.press("end")
        await until(pilot, lambda: body.scroll_y == body.max_scroll_y)
        await pilot.press("home")
        await until(pilot, lambda: body.scroll_y == 0)


async def test_a_newly_added_binding_shows_in_help_without_editing_any_list(
    app: RepdeskApp,
) -> None:
    class BoardWithANewKey(BoardScreen):
        BINDINGS = [Binding("z", "wave", "Wave hello", id="board.brand_new")]

        def action_wave(self) -> None:
            self.notify("hello")

    app.board = BoardWithANewKey()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        help_screen = await open_help(pilot)
        entry = by_id(help_screen.screen_keys)["board.brand_new"]
        assert (entry.keys, entry.description) == (["z"], "Wave hello")


async def test_help_shows_the_keys_a_keymap_set(home: Path) -> None:
    keys = {"board.next_stage": "ctrl+n", "app.followups": "f2"}
    app = create_app(build_small_desk(home), settings().replace(keys=keys))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        help_screen = await open_help(pilot)
        assert by_id(help_screen.screen_keys)["board.next_stage"].keys == ["^n"]
        assert by_id(help_screen.app_keys)["app.followups"].keys == ["f2"]


def footer_line(app: RepdeskApp) -> str:
    """The footer as drawn: its bottom row of the screen."""
    strips = app.screen._compositor.render_strips()  # what a terminal would show
    return "".join(segment.text for segment in strips[-1])


async def test_the_footer_keeps_a_group_together_under_a_keymap(home: Path) -> None:
    keys = {"board.next_stage": "ctrl+l"}
    app = create_app(build_small_desk(home), settings().replace(keys=keys))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause()
        line = footer_line(app)
        assert "hl Navigate H^l Move ⏎ Open" in line, line
        assert "Previous stage" not in line


@pytest.mark.parametrize("width", [80, 120])
async def test_the_footer_cuts_no_key_in_the_middle(app: RepdeskApp, width: int) -> None:
    async with app.run_test(size=(width, 24)) as pilot:
        await ready(pilot)
        await pilot.pause()
        line = footer_line(app).rstrip()
        assert line.endswith("? Keys") or line.endswith("^p Palette"), line
        assert "HL Move ⏎ Open" in line


async def test_a_click_on_a_footer_key_runs_it_and_the_pointer_names_it(
    app: RepdeskApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        footer = app.screen.query_one(RepdeskFooter)
        await pilot.pause()
        start = next(x for x, _, item in footer._spans if item.description == "Log call")
        await pilot.hover(RepdeskFooter, offset=(start + 2, 0))
        assert footer.tooltip == "Log call"
        await pilot.click(RepdeskFooter, offset=(start + 2, 0))
        await form_open(pilot)  # the call form, as `c` opens it
        assert "Log a call" in str(app.screen.query_one("#form-title").render())


# ------------------------------------------------------------------ welcome


async def welcome(pilot: Pilot[int]) -> WelcomeScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, WelcomeScreen))
    await pilot.pause()
    return pilot.app.screen  # type: ignore[return-value]


async def test_an_empty_desk_opens_on_the_welcome_naming_the_import(empty_app: RepdeskApp) -> None:
    async with empty_app.run_test(size=SIZE) as pilot:
        screen = await welcome(pilot)
        text = str(screen.query_one("#welcome-import").render())
        assert "repdesk import deals.csv" in text and "--dry-run" in text
        choices = [str(c.render()) for c in screen.query(".choice")]
        assert [c.split()[0] for c in choices] == ["n", "Q", "t", "esc"]
        await pilot.press("escape")
        await until(pilot, lambda: empty_app.screen is empty_app.board)


async def test_the_screen_keys_leave_the_welcome_for_their_screen_as_bound(home: Path) -> None:
    """A forecast trial: on an empty desk `3` and `5` did nothing and said nothing (a modal
    screen hides the app's keys), though `1` is the board from anywhere."""
    from repdesk.tui.screens.kpi import KpiScreen
    from repdesk.tui.screens.review import ReviewScreen

    app = create_app(Home(home, home), settings().replace(keys={"app.review": "f5"}))
    async with app.run_test(size=SIZE) as pilot:
        await welcome(pilot)
        await pilot.press("3")
        await until(pilot, lambda: isinstance(app.screen, KpiScreen))
        await pilot.press("1")
        await until(pilot, lambda: app.screen is app.board)
    app = create_app(Home(home, home), settings().replace(keys={"app.review": "f5"}))
    async with app.run_test(size=SIZE) as pilot:
        await welcome(pilot)
        await pilot.press("5")  # bound to f5 instead: nothing
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
    # A screen's key the rep mapped onto one of the welcome's: the welcome's wins, as its
    # label says (a hostile test: `n` opened the KPIs under "n  Add your first deal").
    app = create_app(Home(home, home), settings().replace(keys={"app.kpis": "n"}))
    async with app.run_test(size=SIZE) as pilot:
        await welcome(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormScreen))


async def test_the_welcome_names_the_home_the_app_was_opened_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new user's trial: opened with `--home DIR`, the welcome said `repdesk import
    deals.csv`, which imports into another desk; and the demo's toast said `repdesk` opens
    the rep's own desk."""
    from tests.tui.desks import settings

    from repdesk.storage.paths import Home, resolve_home, shell_command
    from repdesk.tui.app import create_app

    elsewhere = tmp_path / "my desk"
    assert shell_command(resolve_home()) == "repdesk"
    assert shell_command(Home(elsewhere, elsewhere)) == f"repdesk --home '{elsewhere}'"
    app = create_app(Home(elsewhere, elsewhere), settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await welcome(pilot)
        text = str(screen.query_one("#welcome-import").render())
        assert f"repdesk --home '{elsewhere}' import deals.csv --dry-run" in text
        await pilot.press("t")  # the demo desk
        await until(pilot, lambda: said(app, f"`repdesk --home '{elsewhere}'` opens it"))


async def test_a_desk_with_deals_opens_on_the_board(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await until(pilot, lambda: not reading(app))  # the launch notice has looked at the desk
        await pilot.pause()
        assert app.screen is app.board


async def test_welcome_n_adds_the_first_deal(empty_app: RepdeskApp, home: Path) -> None:
    async with empty_app.run_test(size=SIZE) as pilot:
        await welcome(pilot)
        await pilot.press("n")
        form = await form_open(pilot)
        assert isinstance(form, FormScreen) and form.form_title == "New deal"
        await pilot.press(*"First deal", "tab", *"Acme", "ctrl+s")
        await until(pilot, lambda: empty_app.screen is empty_app.board)
        assert rows(home, "SELECT title, company FROM deal") == [("First deal", "Acme")]
        await until(pilot, lambda: current(empty_app.board) == ("Prospect", "First deal"))


async def test_welcome_shift_q_sets_this_months_quota(empty_app: RepdeskApp, home: Path) -> None:
    async with empty_app.run_test(size=SIZE) as pilot:
        screen = await welcome(pilot)
        await pilot.press("Q")
        await form_open(pilot)
        await pilot.press(*"60k", "enter")  # the amount first; the period is this month
        await until(pilot, lambda: empty_app.screen is screen)
        assert rows(home, "SELECT period, amount_cents FROM quota") == [("2026-11", 6_000_000)]
        assert "Quota for 2026-11: €60,000" in str(screen.query_one("#welcome-quota").render())


@pytest.mark.parametrize("quota_first", [False, True], ids=["at-once", "after-the-quota"])
async def test_deals_imported_from_the_shell_end_the_welcome(
    empty_app: RepdeskApp, home: Path, quota_first: bool
) -> None:
    """With a quota set from it first, the welcome stayed over a board of 35 imported deals
    (a new-user trial): it never looked at the desk again."""
    import subprocess
    import sys

    from tests.conftest import cli_env

    async with empty_app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await welcome(pilot)
        if quota_first:
            await pilot.press("Q")
            await form_open(pilot)
            await pilot.press(*"50k", "enter")
            await until(pilot, lambda: empty_app.screen is screen)
        subprocess.run([sys.executable, "-m", "repdesk", "deal", "add", "Imported", "--value", "5"],
                       env=cli_env(home), capture_output=True, check=True)  # fmt: skip
        await until(pilot, lambda: empty_app.screen is empty_app.board)
        await until(pilot, lambda: said(empty_app, "Deals arrived on the desk."))
        await until(pilot, lambda: current(empty_app.board) == ("Prospect", "Imported"))


async def test_welcome_d_opens_the_demo_desk_and_leaves_yours_empty(
    empty_app: RepdeskApp, home: Path
) -> None:
    async with empty_app.run_test(size=SIZE) as pilot:
        await welcome(pilot)
        await pilot.press("t")
        await until(pilot, lambda: empty_app.desk.home == Home(home, home).demo)
        await until(pilot, lambda: empty_app.board.loaded and empty_app.board.cards)
        assert empty_app.screen is empty_app.board
        assert sum(len(c) for c in empty_app.board.cards.values()) > 50
        assert rows(home, "SELECT count(*) FROM deal") == [(0,)]
        await until(pilot, lambda: "demo desk" in quota_line(empty_app))
        from_welcome = (quota_line(empty_app), headers(empty_app))
    # The same figures as `repdesk demo` shows: `t` kept the rep's settings, without the demo's
    # pound and dollar rates (a new user's trial: "105 deals (+5 in GBP, USD, no rate)").
    demo_home = Home(home, home).demo
    demo_app = create_app(demo_home, settings_mod.load(demo_home.settings))
    async with demo_app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await until(pilot, lambda: "demo desk" in quota_line(demo_app))
        assert (quota_line(demo_app), headers(demo_app)) == from_welcome
    assert "no rate" not in " ".join(from_welcome[1])


async def test_the_demo_desk_from_the_welcome_undoes_nothing_of_yours(
    empty_app: RepdeskApp, home: Path
) -> None:
    """The board stays the same screen when the demo desk comes in its place: the undo steps
    of the rep's own desk (a quota set from the welcome) do not come along."""
    async with empty_app.run_test(size=SIZE) as pilot:
        screen = await welcome(pilot)
        await pilot.press("Q")
        await form_open(pilot)
        await pilot.press(*"60k", "enter")
        await until(pilot, lambda: empty_app.screen is screen)
        await pilot.press("t")
        await until(pilot, lambda: empty_app.board.loaded and empty_app.board.cards)
        assert empty_app.screen_stack == [empty_app.board]
        await pilot.press("u")
        await until(pilot, lambda: said(empty_app, "Nothing to undo."))
    assert rows(home, "SELECT period, amount_cents FROM quota") == [("2026-11", 6_000_000)]


def headers(app: RepdeskApp) -> list[str]:
    return [column.header_text() for column in app.board.columns()]


def quota_line(app: RepdeskApp) -> str:
    from repdesk.tui.widgets.quota_strip import QuotaStrip

    strip = app.screen.query_one(QuotaStrip)
    return "".join(segment.text for segment in strip.render_line(0))


async def test_repdesk_demo_says_so_and_saves_the_theme_in_the_reps_own_settings(
    home: Path,
) -> None:
    from repdesk import demo
    from repdesk.core import clock

    own = Home(home, home)
    demo_home = own.demo
    demo.ensure_built(demo_home, today=clock.today(), now=clock.now())  # as `repdesk demo` does
    demo_settings = demo_home.settings.read_text()
    app = create_app(demo_home, settings_mod.load(demo_home.settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: "demo desk" in quota_line(app))
        # Whole at 80, the pace and the days said in short rather than cut mid-figure.
        line = quota_line(app).rstrip()
        assert line.endswith("demo desk   10d") and "▼ 12.8k" in line and "…" not in line
        app.theme = "textual-light"  # what ctrl+t's picker does
        await pilot.pause()
    assert settings_mod.load(own.settings).theme == "textual-light"
    assert demo_home.settings.read_text() == demo_settings  # rebuilt daily: not the place


# ------------------------------------------------------------------ themes


async def test_a_theme_chosen_in_the_picker_is_saved_and_comes_back(home: Path) -> None:
    from textual.command import CommandList, CommandPalette

    desk_home = build_small_desk(home)
    app = create_app(desk_home, settings_mod.load(desk_home.settings))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"textual-light")
        results = app.screen.query_one(CommandList)
        await until(
            pilot,
            lambda: (
                results.option_count
                and "textual-light" in str(results.get_option_at_index(0).prompt)
            ),
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.theme == "textual-light")
    saved = settings_mod.load(desk_home.settings)
    assert saved.theme == "textual-light"
    assert "# The app's theme" in desk_home.settings.read_text()  # the comments stay

    again = create_app(desk_home, saved)
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert again.theme == "textual-light"


async def test_a_theme_chosen_when_the_settings_start_with_rates_keeps_the_file_loading(
    home: Path,
) -> None:
    # Before, `theme = ...` went to the end of the file, inside [rates], and the next start
    # refused the settings ("rates.theme is not valid").
    desk_home = build_small_desk(home)
    desk_home.settings.write_text("[rates]\n# at the bank's rate\nUSD = 0.92\n", encoding="utf-8")
    app = create_app(desk_home, settings_mod.load(desk_home.settings))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.theme = "textual-light"  # what ctrl+t's picker does
        await pilot.pause()
    saved = settings_mod.load(desk_home.settings)
    assert (saved.theme, saved.rates) == ("textual-light", {"USD": 0.92})
    assert "# at the bank's rate" in desk_home.settings.read_text(encoding="utf-8")


async def test_j_sent_in_a_burst_scrolls_the_help_one_line_each(app: RepdeskApp) -> None:
    """A new user's trial at 80x24: twenty `j` sent at once scrolled the help about four lines
    (each scroll waited for the next repaint and started from the same place)."""
    from tests.tui.drive import burst

    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = app.screen.query_one("#help-keys")
        await until(pilot, lambda: keys.max_scroll_y >= 10)
        await burst(pilot, *["j"] * 10)
        await until(pilot, lambda: keys.scroll_y >= 10, timeout=5)
        assert keys.scroll_y == 10


async def test_t_pressed_twice_on_the_welcome_builds_the_demo_desk_once(
    empty_app: RepdeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double tap of `t`: in tmux the second `t` cancelled the first opening (whose build
    went on in its thread) and built the same demo desk again beside it; the app stopped with
    "the demo is built into an empty desk only" (found by a hostile test). The welcome opens
    it once."""
    openings: list[str] = []
    open_demo_desk = empty_app.open_demo_desk

    def counted() -> Any:
        openings.append("demo")
        return open_demo_desk()

    monkeypatch.setattr(empty_app, "open_demo_desk", counted)
    async with empty_app.run_test(size=SIZE) as pilot:
        screen = await welcome(pilot)
        screen.action_demo()
        screen.action_demo()  # the second tap, while the first builds the demo desk
        await until(pilot, lambda: empty_app.board.loaded and empty_app.board.cards)
        await pilot.pause(0.3)
        assert openings == ["demo"]
        assert empty_app.return_code is None and empty_app.on_demo
