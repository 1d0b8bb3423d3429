"""The app makes the collector's full passes while nobody types (background.collect_in_pauses):
a pass landing in a screen's opening made the KPI pane take 106 ms instead of 80."""

from __future__ import annotations

import time

import pytest
from tests.tui.drive import until

from repdesk import background
from repdesk.tui.app import RepdeskApp


async def test_the_app_collects_only_after_a_second_without_keys(
    app: RepdeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []
    monkeypatch.setattr(background, "collect_if_due", lambda: calls.append(1.0) or False)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.warmed.is_set() and not app.keys_held())
        await pilot.press("j")  # a key: the next tick does not collect
        calls.clear()
        app.check_for_changes()
        assert calls == []
        monkeypatch.setattr(app, "_last_input", time.monotonic() - 2)
        app.check_for_changes()
        assert calls == [1.0]


async def test_a_closed_screen_is_collected_at_the_first_pause_after_it(
    app: RepdeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rep going from screen to screen with less than a second between keys never gave the
    1-second tick its pause: the closes piled up into one full pass of 170 ms in the middle of
    a later opening. Now a close is collected once its short pause comes."""
    from repdesk.tui import app as tui_app

    calls: list[float] = []
    monkeypatch.setattr(background, "collect_if_due", lambda: calls.append(1.0) or False)
    monkeypatch.setattr(tui_app, "QUIET_SECONDS", 1000.0)  # the tick's own pass never comes
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.warmed.is_set() and not app.keys_held())
        await pilot.press("2")
        await until(pilot, lambda: app.screen is not app.board)
        calls.clear()
        # The pause held long: a busy machine may take longer than the real one to get here.
        monkeypatch.setattr(tui_app, "CLOSED_SCREEN_PAUSE_SECONDS", 1000.0)
        await pilot.press("1")  # back to the board: the follow-ups screen is garbage now
        await until(pilot, lambda: app.screen is app.board)
        assert app._collect_timer is not None and calls == []  # the pass waits for a pause
        monkeypatch.setattr(tui_app, "CLOSED_SCREEN_PAUSE_SECONDS", 0.25)
        # A key came a moment ago (a rep still typing): no pass, and it waits again. Asked
        # directly, not by typing in time: a busy machine stretches any typing rhythm.
        monkeypatch.setattr(app, "_last_input", time.monotonic())
        app._collect_timer.stop()
        app._collect_in_the_pause()
        assert calls == [] and app._collect_timer is not None
        # Then the keys stop: the pass comes, without the 1-second tick's help.
        monkeypatch.setattr(app, "_last_input", time.monotonic() - 1)
        await until(pilot, lambda: calls == [1.0], timeout=10)
        assert app._collect_timer is None


async def test_closed_screens_leave_nothing_behind(app: RepdeskApp) -> None:
    """Every screen's widgets go with it: Textual kept a text box's watch of the app's theme,
    a chart's subscription to theme changes and, in an lru_cache, the style caches of removed
    widgets with the lines they drew, until the theme next changed. Each deal page, KPI pane
    and form opened stayed in memory all day, and every full pass of the collector walked
    them (lifecycle.release_from_app, forget_removed_widgets). The KPI pane alone stays, one
    for the day: the app keeps it between openings (RepdeskApp.action_kpis)."""
    import gc

    from textual._styles_cache import StylesCache
    from textual.widget import Widget

    from repdesk.tui.app import KPI_SCREEN_NAME
    from repdesk.tui.forms import FormScreen
    from repdesk.tui.screens.deal import DealScreen
    from repdesk.tui.screens.kpi import KpiScreen

    def style_caches() -> int:
        app.collect_garbage()
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, StylesCache))

    def gone_widgets() -> list[str]:
        return [
            type(o).__name__
            for o in gc.get_objects()
            if isinstance(o, Widget) and o.is_attached is False and getattr(o, "_app", 1) is app
        ]

    def kept_pane_widgets() -> int:
        pane = app.get_screen(KPI_SCREEN_NAME)
        return sum(
            1
            for o in gc.get_objects()
            if isinstance(o, Widget) and o.is_attached and o is not pane and o.screen is pane
        )

    async def open_and_close_each() -> None:
        for key, shown, back in (
            ("enter", DealScreen, "escape"),  # the notes box
            ("3", KpiScreen, "1"),  # the two charts
            ("c", FormScreen, "escape"),  # the call form's note box
        ):
            await pilot.press(key)
            await until(pilot, lambda shown=shown: isinstance(app.screen, shown))
            await pilot.pause(0.2)
            await pilot.press(back)
            await until(pilot, lambda: app.screen is app.board)
        await pilot.pause(0.5)

    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.warmed.is_set() and not app.keys_held() and app.board.loaded)
        await pilot.pause(0.3)
        before = style_caches()
        await open_and_close_each()
        after_one = style_caches()
        assert after_one <= before + kept_pane_widgets() + 1 + 3  # the pane's widgets, itself
        for _ in range(2):
            await open_and_close_each()
        assert style_caches() <= after_one + 3
        assert gone_widgets() == []
