"""Make screenshots/ from the demo desk with a fixed clock and size: an SVG of each screen and
a PNG of each (rsvg-convert, from Debian's librsvg2-bin).

    .venv/bin/python scripts/screenshots.py

`tests/tui/test_screenshots.py` runs `shoot` into a temporary folder and fails when a
committed SVG differs: after a UI change, run this script and look at the PNGs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
NOW = "2026-11-20T09:30:00+00:00"
SIZE = (140, 40)
LIGHT_THEME = "textual-light"


def _quota_shown(app: Any) -> bool:
    return all(str(strip.render()).strip() for strip in app.screen.query("QuotaStrip"))


async def _settle(pilot: Any, condition: Callable[[], object] | None = None) -> None:
    """Wait for `condition`, the app's workers and the quota figures, then make the picture
    still: no toast (cleared, and gone from every screen) and a steady text cursor (it blinks
    every 0.5 s). On a busy machine too, the picture must not depend on timing."""
    from textual.widgets import Input, TextArea
    from textual.widgets._toast import Toast

    app = pilot.app
    deadline = time.monotonic() + 60
    while not ((condition is None or condition()) and _quota_shown(app)):
        if time.monotonic() > deadline:
            raise RuntimeError("the app never showed the screen to take")
        await pilot.pause(0.01)
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.clear_notifications()
    while any(screen.query(Toast) for screen in app.screen_stack):
        if time.monotonic() > deadline:
            raise RuntimeError("a toast never went away")
        await pilot.pause(0.01)
    field = app.screen.focused
    if isinstance(field, Input | TextArea):
        field.cursor_blink = False
        field._cursor_visible = True  # shown, as at the start of a blink; no public setter
    await pilot.pause()


def _save(app: Any, out: Path, name: str, made: list[Path]) -> None:
    path = out / f"{name}.svg"
    path.write_text(app.export_screenshot(title=f"repdesk: {name}"), encoding="utf-8")
    made.append(path)


async def shoot(out: Path) -> list[Path]:
    """Every screen as `out/NAME.svg`, from a fresh demo desk (and an empty one)."""
    from repdesk.core import clock
    from repdesk.demo import build_demo, write_settings
    from repdesk.settings import Settings, load
    from repdesk.storage.paths import Home
    from repdesk.storage.store import make_engine
    from repdesk.tui.app import create_app
    from repdesk.tui.forms import FormScreen
    from repdesk.tui.screens.deal import DealScreen
    from repdesk.tui.screens.followups import FollowUpsScreen
    from repdesk.tui.screens.help import HelpScreen
    from repdesk.tui.screens.kpi import KpiScreen
    from repdesk.tui.screens.playbook import PlaybookScreen
    from repdesk.tui.screens.welcome import WelcomeScreen

    made: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="repdesk-shots-") as tmp:
        demo_dir, empty_dir = Path(tmp, "demo"), Path(tmp, "empty")
        engine = make_engine(demo_dir / "desk.sqlite")
        build_demo(engine, today=clock.today(), now=clock.now())
        engine.dispose()

        # The demo's own settings: a rate for pounds, none for dollars (the KPI pane says so).
        write_settings(demo_dir / "settings.toml")
        app = create_app(Home(demo_dir, demo_dir), load(demo_dir / "settings.toml"))
        async with app.run_test(size=SIZE) as pilot:
            await _settle(pilot, lambda: app.board.loaded)
            await pilot.press("l", "l", "l", "l")
            await _settle(pilot)
            _save(app, out, "board", made)
            await pilot.press("question_mark")
            await _settle(pilot, lambda: isinstance(app.screen, HelpScreen))
            _save(app, out, "help", made)
            await pilot.press("escape", "enter")
            await _settle(
                pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page is not None
            )
            _save(app, out, "deal", made)
            await pilot.press("c")
            await _settle(pilot, lambda: isinstance(app.screen, FormScreen))
            await pilot.press(*"co", "right", "tab", *"mon 10:00", "tab", *"send the revised quote")
            await _settle(pilot)
            _save(app, out, "call-form", made)
            await pilot.press("escape", "escape")
            await _settle(pilot)
            await pilot.press("2")
            await _settle(
                pilot, lambda: isinstance(app.screen, FollowUpsScreen) and app.screen.loaded
            )
            _save(app, out, "follow-ups", made)
            await pilot.press("1")
            await _settle(pilot, lambda: app.screen is app.board)
            await pilot.press("o")
            await _settle(pilot, lambda: isinstance(app.screen, FormScreen))
            _save(app, out, "objection-form", made)
            await pilot.press("escape")
            await _settle(pilot, lambda: app.screen is app.board)
            await pilot.press("4")
            await _settle(pilot, lambda: isinstance(app.screen, PlaybookScreen) and app.screen.data)
            _save(app, out, "playbook", made)
            await pilot.resize_terminal(SIZE[0], 50)  # tall enough for the slices too
            await pilot.press("3")
            await _settle(pilot, lambda: isinstance(app.screen, KpiScreen) and app.screen.pane)
            _save(app, out, "kpi", made)

        light = create_app(Home(demo_dir, demo_dir), replace(Settings(), theme=LIGHT_THEME))
        async with light.run_test(size=SIZE) as pilot:
            await _settle(pilot, lambda: light.board.loaded)
            await pilot.press("l", "l", "l", "l")
            await _settle(pilot)
            _save(light, out, "board-light", made)

        welcome = create_app(Home(empty_dir, empty_dir), Settings())
        async with welcome.run_test(size=SIZE) as pilot:
            await _settle(pilot, lambda: isinstance(welcome.screen, WelcomeScreen))
            _save(welcome, out, "welcome", made)
    return made


def to_png(svg: Path, converter: str) -> Path:
    """rsvg collapses the SVG's runs of spaces unless told to keep them: a copy is told."""
    png = svg.with_suffix(".png")
    text = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1)
    with tempfile.NamedTemporaryFile("w", suffix=".svg", encoding="utf-8") as copy:
        copy.write(text)
        copy.flush()
        subprocess.run([converter, copy.name, "-o", str(png)], check=True)
    return png


def main() -> None:
    os.environ["REPDESK_NOW"] = NOW
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(exist_ok=True)
    made = asyncio.run(shoot(OUT))
    converter = shutil.which("rsvg-convert")
    for svg in made:
        if converter:
            to_png(svg, converter)
        print(svg.relative_to(ROOT), "+ png" if converter else "(no rsvg-convert: no PNG)")
    if not converter:
        sys.exit("install librsvg2-bin for the PNGs")


if __name__ == "__main__":
    main()
