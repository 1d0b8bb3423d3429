"""`repdesk serve` end to end: the real server in a subprocess, Debian's Chromium (headless,
driven by Playwright, never a downloaded browser), keys typed into the page, and the move
checked in the desk file.

The browser only ever talks to 127.0.0.1: every other request (textual-serve's page asks a
web font service for its font) is refused before it leaves.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from tests.serving import DEADLINE, Served, serve
from tests.tui.desks import build_small_desk

from repdesk.cli import build_parser

CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    """Debian's chromium, installed from the package registry if it is missing."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"] if shutil.which("sudo") else None
    if apt and sudo is not None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [*sudo, apt, "install", "-y", "-qq", "--no-install-recommends", "chromium"]
        for step in ([*sudo, apt, "update", "-qq"], install):
            subprocess.run(step, env=env, capture_output=True, timeout=900, check=False)
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "Debian's chromium is not installed and could not be installed here "
            "(`apt-get install chromium` needs root or passwordless sudo)"
        )
    return CHROMIUM


def _stage_of(home: Path, title: str) -> str:
    conn = sqlite3.connect(home / "desk.sqlite")
    try:
        row = conn.execute(
            "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.title = ?",
            (title,),
        ).fetchone()
    finally:
        conn.close()
    return str(row[0])


@pytest.fixture
def served(home: Path, tmp_path: Path) -> Iterator[Served]:
    """`repdesk serve` on a free loopback port over a small desk; stopped with its apps."""
    build_small_desk(home)
    with serve(home, tmp_path / "serve.log") as served:
        yield served


def test_serve_listens_on_loopback_unless_told_otherwise() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)


def test_a_deal_moved_in_the_browser_lands_in_the_desk(
    served: Served, home: Path, tmp_path: Path
) -> None:
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    url, log = served.url, served.log  # the address with its token, as the rep opens it
    title = "[bold]ACME[/] expansion ["  # the first card of the first column (Prospect)
    assert _stage_of(home, title) == "Prospect"

    received: list[bytes] = []

    def on_socket(ws: object) -> None:
        ws.on(  # type: ignore[attr-defined]
            "framereceived",
            lambda frame: received.append(frame if isinstance(frame, bytes) else frame.encode()),
        )

    def shown(text: str) -> bool:
        return text.encode() in b"".join(received)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if urlsplit(route.request.url).hostname == "127.0.0.1"
                    else route.abort()
                ),
            )
            page.on("websocket", on_socket)
            page.goto(url)
            deadline = time.monotonic() + DEADLINE
            # The board is there when the app has sent its columns and a card.
            while not (shown("Negotiation") and shown("Cold lead")):
                assert time.monotonic() < deadline, f"no board in the page; {log.read_text()}"
                page.wait_for_timeout(50)  # lets Playwright deliver the next frames
            page.locator("textarea").first.focus()  # xterm's keyboard input
            page.keyboard.press("L")
            deadline = time.monotonic() + DEADLINE
            while _stage_of(home, title) != "Contacted":
                assert time.monotonic() < deadline, "the move never reached the desk"
                page.wait_for_timeout(50)
            page.wait_for_timeout(300)  # the redraw after the move, for the picture
            picture = page.screenshot(path=str(tmp_path / "serve.png"))
        finally:
            browser.close()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n"
