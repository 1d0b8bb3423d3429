"""The desk goes away under the app (issue 18 item 15): its file moved away, its PostgreSQL
server stopped. The app says so in one line, keeps its screen, never leaves an empty desk
file behind, and carries on when the desk is back."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import db, until
from tests.tui.test_board import ready
from textual.pilot import Pilot

from repdesk.settings import Settings
from repdesk.storage import store
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.screens.followups import FollowUpsScreen

SIZE = (140, 40)


def _said(app: RepdeskApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _stage_of(desk: Path, title: str) -> str:
    """The deal's stage in the desk file at `desk` (wherever it was moved to)."""
    found = db(desk.parent, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id "
               "WHERE d.title = ?", title)  # fmt: skip
    return str(found[0][0])


async def _on_cold_lead(pilot: Pilot[int], app: RepdeskApp) -> None:
    board = await ready(pilot)
    await pilot.press("l")  # Contacted: Cold lead
    await until(pilot, lambda: (card := board.selected()) is not None and card.title == "Cold lead")


async def test_a_desk_file_moved_away_is_said_once_and_never_recreated_empty(
    home: Path, tmp_path: Path
) -> None:
    desk_home = build_small_desk(home)
    away = tmp_path / "elsewhere"
    away.mkdir()
    app = create_app(desk_home, settings())
    async with app.run_test(size=SIZE) as pilot:
        await _on_cold_lead(pilot, app)
        explained: list[str] = []
        explain = app.desk.explain

        def explain_and_note(exc: BaseException) -> str:
            explained.append(explain(exc))
            return explained[-1]

        app.desk.explain = explain_and_note  # type: ignore[method-assign]
        desk_home.desk.rename(away / "desk.sqlite")
        await pilot.press("L")  # a write while the desk is away
        gone = f"{desk_home.desk} is gone (moved or deleted?): put it back and repdesk goes on"
        await until(pilot, lambda: explained == [gone])  # the key's answer
        await until(pilot, lambda: gone in _said(app))
        await pilot.pause()
        # Said once, or twice when the change watch's tick (once a second) found the file gone
        # between the move and the key (seen under load): a key that writes always gets its
        # answer. What must not say it again is everything after: reads, the watch's ticks.
        said = _said(app).count(gone)
        assert said in (1, 2)
        await pilot.press("2")  # a screen that reads the desk
        await until(pilot, lambda: isinstance(app.screen, FollowUpsScreen))
        await pilot.pause(1.5)  # the change watch's tick, and the queue's read, went by
        assert app.is_running and app.return_code is None
        assert _said(app).count(gone) == said
        assert not desk_home.desk.exists()  # no empty desk.sqlite where the desk was
        assert _stage_of(away / "desk.sqlite", "Cold lead") == "Contacted"

        (away / "desk.sqlite").rename(desk_home.desk)
        await until(pilot, lambda: "The desk is back." in _said(app))
        await pilot.press("1")
        await until(pilot, lambda: app.screen is app.board)
        await pilot.press("L")  # now it lands
        await until(pilot, lambda: _stage_of(desk_home.desk, "Cold lead") == "Qualified")
    assert app.return_code in (None, 0)


async def test_a_desk_file_deleted_before_a_form_opens_keeps_the_app(home: Path) -> None:
    desk_home = build_small_desk(home)
    app = create_app(desk_home, settings())
    async with app.run_test(size=SIZE) as pilot:
        await _on_cold_lead(pilot, app)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{desk_home.desk}{suffix}").unlink(missing_ok=True)
        await pilot.press("e")  # the edit form reads the deal first, in the key's handler
        await until(pilot, lambda: any("is gone" in line for line in _said(app)))
        await pilot.pause(0.3)
        assert app.is_running and app.screen is app.board
        assert not desk_home.desk.exists()


class _Proxy:
    """A TCP relay in front of the test server: stopping it is the server going away (the
    shared test server itself keeps running for the other tests)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def _through_proxy(url: str) -> Iterator[tuple[str, _Proxy]]:
    parts = urlsplit(url)
    proxy = _Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    user = f"{parts.username}@" if parts.username else ""
    netloc = f"{user}127.0.0.1:{proxy.port}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc)), proxy
    finally:
        proxy.stop()


async def test_a_server_that_goes_away_is_said_once_and_the_app_carries_on(
    home: Path, server_url: str
) -> None:
    desk_home = build_small_desk(home)
    store.copy_desk_to_server(desk_home.desk, server_url)
    with _through_proxy(server_url) as (url, proxy):
        app = create_app(desk_home, Settings(database_url=url))
        async with app.run_test(size=SIZE) as pilot:
            await _on_cold_lead(pilot, app)
            proxy.stop()
            await pilot.press("2")  # the queues read the server
            await until(pilot, lambda: any("server" in line for line in _said(app)))
            await pilot.pause(1.5)  # more reads (the quota, the watch's ticks) went by
            away = [line for line in _said(app) if "server" in line]
            assert len(away) == 1 and "\n" not in away[0], away  # said once
            assert "repdesk goes on when it is back" in away[0]
            assert isinstance(app.screen, FollowUpsScreen)
            await pilot.press("1", "L")  # a write: the key gets its answer
            await until(pilot, lambda: _said(app).count(away[0]) == 2)
            assert app.is_running and app.return_code is None

            proxy.start()  # the same address again
            await until(pilot, lambda: "The desk is back." in _said(app))
            await until(pilot, lambda: app.screen is app.board)
            board = app.board
            await until(
                pilot, lambda: (card := board.selected()) is not None and card.title == "Cold lead"
            )
            await pilot.press("L")
            engine = store.make_server_engine(server_url)
            try:

                def stage_of_cold_lead() -> str:
                    with engine.connect() as conn:
                        return str(
                            conn.exec_driver_sql(
                                "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id "
                                "WHERE d.title = 'Cold lead'"
                            ).scalar_one()
                        )

                await until(pilot, lambda: stage_of_cold_lead() == "Qualified")
            finally:
                engine.dispose()


async def test_a_notice_heard_after_the_server_went_is_no_proof_it_is_back(
    home: Path, server_url: str
) -> None:
    """A write's notice can sit on the change watch's socket when the server goes away, and be
    read after the app said so. It was taken for the server's return: "The desk is back.",
    then the same "away" line again at the next read (seen under load). Only the watch finding
    the server again, or a read or write going through, says it is back."""
    desk_home = build_small_desk(home)
    store.copy_desk_to_server(desk_home.desk, server_url)
    app = create_app(desk_home, Settings(database_url=server_url))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await until(pilot, lambda: app.desk._watch is not None)
        away = "the desk's server stopped answering (test); repdesk goes on when it is back"
        app.desk_is_away(away)  # as a failed read leaves it
        engine = store.make_server_engine(server_url)
        try:
            with store.write_session(engine) as session:  # a notice now waits on the socket
                session.connection().exec_driver_sql("UPDATE deal SET notes = 'x' WHERE id = 1")
        finally:
            engine.dispose()
        for _ in range(3):  # the watch's ticks hear the notice and go by
            app.check_for_changes()
            await pilot.pause()
        assert "The desk is back." not in _said(app)
        assert app.desk.away == away
        app.desk._answered_since = True  # a read went through: that proves it
        app.check_for_changes()
        await until(pilot, lambda: "The desk is back." in _said(app))
        assert app.desk.away is None


async def test_a_desk_file_replaced_under_the_app_is_shown_and_never_damaged(
    home: Path, tmp_path: Path
) -> None:
    """A hostile test: another desk file renamed into place while the app held the old one
    (its write-ahead log not yet folded in): the first new connection replayed the old log into
    the new file, which was damaged for good within seconds, nothing pressed; the board went
    on showing the old desk."""
    import os
    import sqlite3

    from tests.shell import ok

    desk_home = build_small_desk(home)
    other = tmp_path / "other"
    other.mkdir()
    with (
        sqlite3.connect(home / "desk.sqlite") as source,
        sqlite3.connect(other / "desk.sqlite") as copy,
    ):
        source.backup(copy)
    ok("--home", other, "deal", "add", "Swapped in", "--value", "7k")
    app = create_app(desk_home, settings())
    async with app.run_test(size=SIZE) as pilot:
        await _on_cold_lead(pilot, app)
        board = app.board
        for _ in range(2):  # writes of the app's own: the old file's log is not empty
            await pilot.press("L")
            await pilot.pause()
        await until(pilot, lambda: _stage_of(home / "desk.sqlite", "Cold lead") != "Contacted")
        os.replace(other / "desk.sqlite", home / "desk.sqlite")
        await until(
            pilot, lambda: any("was replaced by another desk file" in s for s in _said(app))
        )
        await until(
            pilot,
            lambda: any(
                card.title == "Swapped in" for cards in board.cards.values() for card in cards
            ),
        )
        assert db(home, "PRAGMA integrity_check") == [("ok",)]
        assert _stage_of(home / "desk.sqlite", "Cold lead") == "Contacted"  # the new file's
        moves = db(home, "SELECT COUNT(*) FROM stage_change")[0][0]
        await pilot.press("L")  # the app writes to the new file
        await until(pilot, lambda: db(home, "SELECT COUNT(*) FROM stage_change")[0][0] > moves)
    assert db(home, "PRAGMA integrity_check") == [("ok",)]
    assert "Swapped in" in ok("deal", "list")


async def test_a_file_that_is_no_desk_put_in_its_place_keeps_the_app_and_its_form(
    home: Path, tmp_path: Path
) -> None:
    """A hostile test: a text file moved over the desk while a new deal's form was open: the
    app quit ("is not a repdesk desk") and the typed title was lost."""
    import os
    import sqlite3

    from repdesk.tui.forms import FormScreen

    desk_home = build_small_desk(home)
    kept = tmp_path / "kept.sqlite"
    with sqlite3.connect(home / "desk.sqlite") as source, sqlite3.connect(kept) as copy:
        source.backup(copy)
    junk = tmp_path / "junk.txt"
    junk.write_text("not a desk\n", encoding="utf-8")
    app = create_app(desk_home, settings())
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.keys_ready)
        await pilot.press(*"Typed title")
        os.replace(junk, home / "desk.sqlite")
        await until(pilot, lambda: any("is not a repdesk desk" in s for s in _said(app)))
        assert isinstance(app.screen, FormScreen)
        assert app.screen.query_one("#field-title").value == "Typed title"  # type: ignore[attr-defined]
        os.replace(kept, home / "desk.sqlite")  # the desk put back
        await until(pilot, lambda: any("The desk is back." in s for s in _said(app)))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: db(home, "SELECT COUNT(*) FROM deal WHERE title = 'Typed title'")
                    == [(1,)])  # fmt: skip
    assert db(home, "PRAGMA integrity_check") == [("ok",)]
