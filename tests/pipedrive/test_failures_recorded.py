"""Every sync that fails is kept for `repdesk sync status`: that it failed, when, and its one
line. Only some were (a refused token, a 5xx answered five times); an answer httpx could not
read, a broken stage list, a missing token and anything the sync did not foresee left the
status saying nothing had failed, and two of them said "unexpected error" with a crash log."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.pinned import NOW
from tests.pipedrive.helpers import Waits, point_settings_at
from tests.pipedrive.server import TOKEN, Pipedrive
from tests.shell import ok, refused

from repdesk.sync.connector import RemoteStage, Unreachable
from repdesk.sync.engine import Sync
from repdesk.sync.pipedrive import PipedriveClient


def _deals(method: str, path: str) -> bool:
    return method == "GET" and path == "/api/v2/deals"


def _stages(method: str, path: str) -> bool:
    return path == "/api/v2/stages"


def _server_errors(api: Pipedrive) -> None:
    # Retry-After 0: the five tries at once, not a minute of backoff.
    api.fail(500, times=10, when=_deals, headers={"Retry-After": "0"})


def _not_gzip(api: Pipedrive) -> None:
    api.send_raw(b"no gzip at all", headers={"content-encoding": "gzip"}, when=_deals)


def _broken_stages(api: Pipedrive) -> None:
    page = b'{"success": true, "data": [{"id": 1, "name": "Lead", "order_nr": "first"}]}'
    api.send_raw(page, when=_stages)


FAILURES: dict[str, tuple[Callable[[Pipedrive], None], str]] = {
    "server-errors": (_server_errors, "Pipedrive answered 500 Internal Server Error 5 times"),
    "answer-not-readable": (_not_gzip, "Pipedrive sent an answer that cannot be read"),
    "broken-stage-list": (_broken_stages, "Pipedrive sent a stage whose order_nr is 'first'"),
}


def _at(monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(minutes=minutes)).isoformat())


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failed_sync_says_so_when_and_why_in_the_status(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    ok("deal", "add", "Fleet rollout")
    make, said = FAILURES[failure]
    make(api)

    err = refused("sync", "pipedrive")

    assert said in err and err.count("\n") == 1 and "unexpected error" not in err
    assert not (home / "logs" / "crash.log").exists()
    _at(monkeypatch, 4)
    assert f"last sync failed 4 min ago: {said}" in ok("sync", "status")
    ok("sync", "pipedrive")  # Pipedrive sane again: the failure is forgotten
    assert "failed" not in ok("sync", "status")


def test_a_refused_connection_and_a_timeout_are_kept_on_a_linked_desk(
    desk: Engine, home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    ok("deal", "add", "Fleet rollout")
    ok("sync", "pipedrive")
    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    point_settings_at(home, nowhere)
    _at(monkeypatch, 10)

    assert "cannot be reached" in refused("sync", "pipedrive")

    _at(monkeypatch, 12)
    said = ok("sync", "status")
    assert "synced 12 min ago · last sync failed 2 min ago: Pipedrive cannot be reached" in said
    point_settings_at(home, url)
    api.gate.clear()  # Pipedrive takes each request and never answers
    client = PipedriveClient(url, TOKEN, sleep=Waits(), timeout=0.2)
    with pytest.raises(Unreachable, match=r"cannot be reached .* timed out"):
        Sync(desk, client).run()
    client.close()
    api.gate.set()
    _at(monkeypatch, 15)
    said = ok("sync", "status")
    assert "last sync failed 3 min ago: Pipedrive cannot be reached at 127.0.0.1" in said
    assert said.endswith("(offline?): timed out\n")


def test_no_token_is_a_failed_sync_in_the_status(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.delenv("REPDESK_PIPEDRIVE_TOKEN", raising=False)
    monkeypatch.setitem(sys.modules, "keyring", None)  # no keyring: none kept
    ok("deal", "add", "Fleet rollout")

    err = refused("sync", "pipedrive")

    assert "no Pipedrive API token" in err
    assert "not synced yet · last sync failed just now: no Pipedrive API token" in ok(
        "sync", "status"
    )
    assert api.log == []


class _Broken(PipedriveClient):
    """A fault no server can cause: a bug in the sync itself, as the rep meets one."""

    def stages(self) -> list[RemoteStage]:
        raise KeyError("order_nr")


def test_a_failure_the_sync_did_not_foresee_is_kept_as_one_line(
    desk: Engine, home: Path, crm: tuple[Pipedrive, str]
) -> None:
    _api, url = crm
    point_settings_at(home, url)
    ok("deal", "add", "Fleet rollout")
    client = _Broken(url, TOKEN, sleep=Waits())
    with pytest.raises(KeyError):
        Sync(desk, client).run()
    client.close()

    said = ok("sync", "status")

    assert "last sync failed just now: unexpected error: KeyError: 'order_nr'" in said
    assert said.count("\n") == 1 and "Traceback" not in said


class _Stopped(PipedriveClient):
    """The rep's ctrl+c, as the sync meets it: in the middle of a request."""

    def stages(self) -> list[RemoteStage]:
        raise KeyboardInterrupt


def test_a_sync_stopped_by_ctrl_c_says_so_in_the_status(
    desk: Engine, home: Path, crm: tuple[Pipedrive, str]
) -> None:
    """A hostile test: a sync stopped by ctrl+c left the status as if nothing had failed."""
    _api, url = crm
    point_settings_at(home, url)
    ok("deal", "add", "Fleet rollout")
    client = _Stopped(url, TOKEN, sleep=Waits())
    with pytest.raises(KeyboardInterrupt):
        Sync(desk, client).run()
    client.close()

    assert "last sync failed just now: stopped (ctrl+c) before it finished" in ok("sync", "status")
