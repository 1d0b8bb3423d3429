"""Driving the app in tests: wait for a state, read the desk file behind it."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot


def db(home: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(home / "desk.sqlite")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def reading(node: Any) -> bool:
    """Whether a worker of `node` (a read for the screen) is still pending or running."""
    return any(worker.node is node and not worker.is_finished for worker in node.app.workers)


async def until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 30.0) -> None:
    """Pause until `condition()` holds (reads run in threads), or fail the test.

    A deadline in seconds, not a number of tries: on a busy machine a pause takes longer, and
    a state that comes late still comes (scripts/under-load runs the suite that way)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the app never reached the expected state in {timeout:.0f} s")
        await pilot.pause(0.01)


async def still(pilot: Pilot[Any]) -> None:
    """Make the screen a still picture for a snapshot: the notifications cleared and no toast
    drawn on any screen (a timed toast comes and goes), and every text cursor shown steadily
    (it blinks every 0.5 s, and a busy machine takes longer than that to take the picture)."""
    from textual.widgets import Input, TextArea
    from textual.widgets._toast import Toast

    app = pilot.app

    def no_toast() -> bool:
        # Cleared at every look: a notice that comes after a clear would stay a minute (every
        # toast does in the tests: tests/conftest.py) and be in the picture.
        # Textual clears the toasts of the screen on top only: a form's picture shows the
        # board's through it, so those go too.
        app.clear_notifications()
        toasts = [toast for screen in app.screen_stack for toast in screen.query(Toast)]
        for toast in toasts:
            toast.remove()
        return not toasts

    await until(pilot, no_toast)
    field = app.screen.focused
    if isinstance(field, Input | TextArea):
        field.cursor_blink = False
        field._cursor_visible = True  # shown, as at the start of a blink; no public setter
    await pilot.pause()


def said(app: Any, words: str) -> bool:
    """A notice (toast) of the app's holds `words`."""
    return any(words in str(n.message) for n in app._notifications)


def quota_shown(app: Any) -> bool:
    """Every quota strip on the screen on top shows its figures (they come from a read of their
    own, after the screen is up)."""
    # By what the strip was given, not by str(render()), which names the renderable and was
    # never empty: every strip counted as shown, an empty one too.
    return all(strip._shown is not None for strip in app.screen.query("QuotaStrip"))


def settle(
    *keys: str, ready: Callable[[Any], object] | None = None
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """A snapshot's `run_before`: wait for every card and the app's own reads, press `keys`,
    wait for `ready(app)`, the screen's reads, its quota strip and a form's first field, then
    make the picture still."""

    async def run(pilot: Pilot[Any]) -> None:
        app = pilot.app
        # Every card in, and the launch notice's read done: its toast is cleared by `still`,
        # and a toast that came after the clear would make the picture depend on timing.
        await until(pilot, lambda: app.board.loaded and not reading(app))  # type: ignore[attr-defined]
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        if ready is not None:
            await until(pilot, lambda: ready(app))
        # A form draws its focused first field once mounted: the picture waits for that.
        await until(
            pilot,
            lambda: (
                getattr(app.screen, "keys_ready", True)
                and not reading(app.screen)
                and quota_shown(app)
            ),
        )
        await still(pilot)  # no toast (the launch notice's is timed), a steady cursor

    return run


async def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Send keys as a paste or a fast typist does: all queued at once, with no pause between
    them for the app to catch up (`pilot.press` waits for the app to idle after each key)."""
    import unicodedata

    from textual import events
    from textual.app import REPLACED_KEYS
    from textual.keys import _character_to_key, _get_unicode_name_from_key

    app = pilot.app
    driver = app._driver
    assert driver is not None
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        original = REPLACED_KEYS.get(key, key)
        try:
            char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)


async def on_board(pilot: Pilot[Any]) -> Any:
    """The board on screen with every card read (a form or the welcome closed first)."""
    app = pilot.app
    await until(pilot, lambda: app.board.loaded and app.screen is app.board)  # type: ignore[attr-defined]
    await pilot.pause()
    return app.board  # type: ignore[attr-defined]


def screen_lines(app: Any) -> list[str]:
    """The rows of the terminal as the screen on top draws them now, as text."""
    strips = app.screen._compositor.render_strips()  # what a terminal would be sent
    return ["".join(segment.text for segment in strip) for strip in strips]
