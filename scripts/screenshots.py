"""Make screenshots/ from the demo desk with a fixed clock: an SVG of each screen and a PNG
of each (rsvg-convert, from Debian's librsvg2-bin).

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
NOW = "2026-11-20T09:30:00+00:00"
SIZE = (140, 40)


async def shoot() -> list[Path]:
    from repdesk import clock
    from repdesk.demo import build_demo
    from repdesk.paths import Home
    from repdesk.settings import Settings
    from repdesk.store import make_engine
    from repdesk.tui.app import create_app
    from repdesk.tui.forms import FormScreen
    from repdesk.tui.screens.deal import DealScreen
    from repdesk.tui.screens.followups import FollowUpsScreen
    from repdesk.tui.screens.playbook import PlaybookScreen

    home_dir = Path(tempfile.mkdtemp(prefix="repdesk-shots-"))
    engine = make_engine(home_dir / "desk.sqlite")
    build_demo(engine, today=clock.today(), now=clock.now())
    engine.dispose()
    app = create_app(Home(home_dir, home_dir), Settings())
    made: list[Path] = []
    async with app.run_test(size=SIZE) as pilot:

        async def settle(condition: object = None) -> None:
            for _ in range(300):
                await pilot.pause(0.01)
                if condition is None or condition():  # type: ignore[operator]
                    break
            for _ in range(5):
                await pilot.pause()

        def save(name: str) -> None:
            path = OUT / f"{name}.svg"
            path.write_text(app.export_screenshot(title=f"repdesk: {name}"), encoding="utf-8")
            made.append(path)

        await settle(lambda: app.board.loaded)
        await pilot.press("l", "l", "l", "l")
        await settle()
        save("board")
        await pilot.press("enter")
        await settle(lambda: isinstance(app.screen, DealScreen) and app.screen.page is not None)
        save("deal")
        await pilot.press("c")
        await settle(lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"co", "right", "tab", *"mon 10:00", "tab", *"send the revised quote")
        await settle()
        save("call-form")
        await pilot.press("escape", "escape")
        await settle()
        await pilot.press("2")
        await settle(lambda: isinstance(app.screen, FollowUpsScreen) and app.screen.loaded)
        save("follow-ups")
        await pilot.press("1")
        await settle(lambda: app.screen is app.board)
        await pilot.press("o")
        await settle(lambda: isinstance(app.screen, FormScreen))
        save("objection-form")
        await pilot.press("escape")
        await settle(lambda: app.screen is app.board)
        await pilot.press("4")
        await settle(lambda: isinstance(app.screen, PlaybookScreen) and app.screen.data)
        save("playbook")
    return made


def main() -> None:
    os.environ["REPDESK_NOW"] = NOW
    os.environ["TZ"] = "UTC"
    OUT.mkdir(exist_ok=True)
    made = asyncio.run(shoot())
    converter = shutil.which("rsvg-convert")
    for svg in made:
        if converter:
            subprocess.run([converter, str(svg), "-o", str(svg.with_suffix(".png"))], check=True)
        print(svg.relative_to(ROOT), "+ png" if converter else "(no rsvg-convert: no PNG)")
    if not converter:
        sys.exit("install librsvg2-bin for the PNGs")


if __name__ == "__main__":
    main()
