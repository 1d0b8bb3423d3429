"""The app on a server desk: the board reads the server, a key writes there, and a call logged
from another terminal shows up through LISTEN/NOTIFY. Needs the test server."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select
from tests.tui.desks import build_small_desk
from tests.tui.drive import until

from repdesk.settings import Settings
from repdesk.storage import store
from repdesk.storage.models import Deal
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.screens.board import BoardScreen


async def test_the_app_works_on_a_server_desk(
    home: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk_home = build_small_desk(home)
    store.copy_desk_to_server(desk_home.desk, server_url)
    file_before = hashlib.sha256(desk_home.desk.read_bytes()).hexdigest()
    app = create_app(desk_home, Settings(database_url=server_url))
    assert isinstance(app, RepdeskApp)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.board.loaded)
        board: BoardScreen = app.board
        await pilot.press("l")  # Contacted: Cold lead, no next step
        await until(pilot, lambda: (card := board.selected()) and card.title == "Cold lead")
        await pilot.press("L")  # on to Qualified, written on the server
        engine = store.make_server_engine(server_url)
        try:

            def stage_of_cold_lead() -> int:
                with store.read_session(engine) as session:
                    found = session.exec(select(Deal).where(Deal.title == "Cold lead"))
                    return found.one().stage_id

            await until(pilot, lambda: stage_of_cold_lead() == 3)
        finally:
            engine.dispose()

        monkeypatch.setenv("REPDESK_DATABASE_URL", server_url)
        result = subprocess.run(
            [sys.executable, "-m", "repdesk", "log", "call", "Cold lead", "--next", "tomorrow"],
            capture_output=True,
            text=True,
            env=dict(os.environ),
        )
        assert result.returncode == 0, result.stderr

        def refreshed() -> bool:
            card = board.selected()
            return card is not None and card.title == "Cold lead" and card.next_due is not None

        await until(pilot, refreshed)
        card = board.selected()
        assert card is not None and str(card.next_due) == "2026-11-21"
    # The file the desk came from was never read or written while the app ran on the server.
    assert hashlib.sha256(desk_home.desk.read_bytes()).hexdigest() == file_before
