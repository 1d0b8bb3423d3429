"""A broken or hostile server where Pipedrive should be (issue 20): odd Retry-After values,
answers of the wrong shape, pages that never end, a redirect to another host, and a token
that no API token can be. Each is one line for the rep (never "unexpected error"), the token
is never in it, and the sync ends."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.pipedrive.helpers import Waits, add_deal, point_settings_at, sync
from tests.pipedrive.server import ME, TOKEN, Pipedrive, QuietServer
from tests.shell import ok, refused

from repdesk.sync.connector import SyncError
from repdesk.sync.pipedrive import PipedriveClient


def _deals(method: str, path: str) -> bool:
    return method == "GET" and path == "/api/v2/deals"


@pytest.mark.parametrize("retry_after", ["inf", "1e309", "-inf", "nan"])
def test_a_retry_after_that_is_no_number_of_seconds_is_waited_as_a_backoff(
    crm: tuple[Pipedrive, str], retry_after: str
) -> None:
    api, url = crm
    waits = Waits()
    client = PipedriveClient(url, TOKEN, sleep=waits)
    api.fail(429, times=1, headers={"Retry-After": retry_after})
    assert client.whoami() == ME  # not "OverflowError: cannot convert float infinity"
    client.close()
    assert waits.seconds == [2.0]


def test_a_retry_after_given_as_a_date_is_waited_until_then(crm: tuple[Pipedrive, str]) -> None:
    api, url = crm
    waits = Waits()
    client = PipedriveClient(url, TOKEN, sleep=waits)
    past = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=40), usegmt=True)
    api.fail(429, times=1, headers={"Retry-After": past})
    api.fail(429, times=1, headers={"Retry-After": later})
    assert client.whoami() == ME
    client.close()
    assert waits.seconds[0] == 0.0  # the moment has passed: at once, not a guessed backoff
    assert 30 <= waits.seconds[1] <= 41


@pytest.mark.parametrize(
    "answer",
    [
        [1, 2, 3],
        {"success": True, "data": {"id": 1}},
        {"success": True, "data": [1, 2]},
        {"success": True, "data": [{"id": "abc", "title": "x"}]},
        {"success": True, "data": [{"id": None, "title": "x"}]},
        {"success": True, "data": [{"id": 2**70, "title": "x"}]},
        {"success": True, "data": [{"id": True, "title": "x"}]},
    ],
)
def test_an_answer_of_the_wrong_shape_is_one_line(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str], answer: object
) -> None:
    api, url = crm
    api.send_raw(json.dumps(answer).encode(), when=_deals)
    with pytest.raises(SyncError, match=r"^Pipedrive sent .* /api/v2/deals") as raised:
        sync(sqlite_engine, url)
    assert "\n" not in str(raised.value)
    sync(sqlite_engine, url)  # the next run, with a sane answer, goes through


def test_a_broken_answer_about_the_rep_is_one_line_in_the_shell(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    ok("deal", "add", "Fleet rollout")
    api.send_raw(b'{"success": true, "data": null}', when=lambda m, p: p.endswith("/users/me"))
    err = refused("sync", "pipedrive")
    assert "unexpected error" not in err and "/api/v1/users/me" in err
    assert "sent 1 new" in ok("sync", "pipedrive")


def test_pages_that_repeat_a_cursor_stop_the_sync_instead_of_going_round(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    api.add("deals", title="Fleet rollout")
    page = {"success": True, "data": [], "additional_data": {"next_cursor": "c2FtZQ=="}}
    api.send_raw(json.dumps(page).encode(), times=200, when=_deals)
    with pytest.raises(SyncError, match="the same page again") as raised:
        sync(sqlite_engine, url)
    assert "\n" not in str(raised.value)
    assert len([p for m, p in api.log if _deals(m, p)]) <= 3


def test_note_pages_that_do_not_move_on_stop_the_sync(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    page = {
        "success": True,
        "data": [],
        "additional_data": {
            "pagination": {"start": 0, "limit": 500, "more_items_in_collection": True},
        },
    }
    stuck = {**page, "additional_data": {"pagination": {**page["additional_data"]["pagination"]}}}
    stuck["additional_data"]["pagination"]["next_start"] = 0  # type: ignore[index]
    api.send_raw(json.dumps(stuck).encode(), times=200, when=lambda m, p: p == "/api/v1/notes")
    with pytest.raises(SyncError, match="the same page again"):
        sync(sqlite_engine, url)
    assert len([p for m, p in api.log if p == "/api/v1/notes"]) <= 3


def test_a_redirect_is_not_followed_and_is_one_line(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    add_deal(sqlite_engine, "Fleet rollout")
    api.send_raw(
        b'{"success": true, "data": {"id": 7}}',
        status=302,
        headers={"Location": "http://evil.example/collect"},
        when=lambda m, p: p.endswith("/users/me"),
    )
    with pytest.raises(SyncError, match=r"redirect.*evil\.example.*\[pipedrive\] url") as raised:
        sync(sqlite_engine, url)
    assert TOKEN not in str(raised.value) and "\n" not in str(raised.value)
    assert api.count("deals") == 0  # nothing was taken for an answer


def test_empty_pages_that_promise_more_stop_the_sync(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    for number in range(200):
        page = {"success": True, "data": [], "additional_data": {"next_cursor": f"c{number}"}}
        api.send_raw(json.dumps(page).encode(), when=_deals)
    with pytest.raises(SyncError, match="the same page again"):
        sync(sqlite_engine, url)
    assert len([p for m, p in api.log if _deals(m, p)]) == 1


@pytest.mark.parametrize("bad", ["secret-part\nsecond-line", "sécret-part", "secret part\x01"])
def test_a_token_no_api_token_can_be_is_refused_without_showing_it(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    api, url = crm
    point_settings_at(home, url)
    ok("deal", "add", "Fleet rollout")
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", bad)
    err = refused("sync", "pipedrive")
    assert "secret" not in err and "cret-part" not in err
    assert err.count("\n") == 1 and "API token" in err
    assert api.log == []  # it never went on the wire


class _Trickle(BaseHTTPRequestHandler):
    """An answer of 100 bytes, one every 0.1 s: each read finds a byte, so no read times out."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "100")
        self.end_headers()
        for _ in range(100):
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(0.1)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_answer_that_trickles_in_is_given_up_on_in_time() -> None:
    server = QuietServer(("127.0.0.1", 0), _Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = PipedriveClient(
        f"http://127.0.0.1:{server.server_address[1]}",
        TOKEN,
        sleep=Waits(),
        timeout=1.0,
        answer_within=2.0,
    )
    started = time.monotonic()
    try:
        with pytest.raises(SyncError, match=r"too slowly .* in 2 s\)"):
            client.whoami()
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    assert time.monotonic() - started < 6  # not the 10 s it takes, nor hours on a real link


def test_an_answer_larger_than_any_page_is_refused_before_it_fills_the_memory(
    crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from repdesk.sync import pipedrive

    api, url = crm
    monkeypatch.setattr(pipedrive, "MAX_ANSWER", 64 * 1024)
    api.send_raw(b'{"success": true, "data": [' + b" " * 200_000 + b"]}", when=_deals)
    client = PipedriveClient(url, TOKEN, sleep=Waits())
    try:
        with pytest.raises(SyncError, match=r"larger than 0\.0625 MB"):
            list(client.changed("deal", since=None, owner_id=None))
    finally:
        client.close()


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (200, "sent something that is not JSON for /api/v2/deals"),
        (400, "refused GET /api/v2/deals"),
    ],
)
def test_json_nested_too_deep_to_read_is_a_broken_answer_recorded_as_the_last_failure(
    home: Path,
    crm: tuple[Pipedrive, str],
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    said: str,
) -> None:
    """10 KB of brackets made json.loads raise RecursionError: "unexpected error", a crash
    log, and `sync status` said nothing had failed (a hostile test)."""
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    api.send_raw(b"[" * 5000 + b"]" * 5000, status=status, when=_deals)
    err = refused("sync", "pipedrive")
    assert "unexpected error" not in err and err.count("\n") == 1
    assert said in err
    assert not (home / "logs" / "crash.log").exists()
    assert f"last sync failed just now: Pipedrive {said.split(' /')[0]}" in ok("sync", "status")
