"""`repdesk serve` lets in only the page it printed (issue 18 item 1): a real server on
127.0.0.1 and aiohttp's client playing the browser, the right one and hostile ones."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from tests.pinned import NOW
from tests.serving import DEADLINE, Served, serve
from tests.shell import refused
from tests.tui.desks import build_small_desk
from yarl import URL

from repdesk import serve_guard

EVIL = "http://evil.example"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module (each starts a Python process): a small desk of its own, set
    apart as conftest's isolated_home does (a module's fixture comes before it)."""
    root = tmp_path_factory.mktemp("served")
    home = root / "home"
    build_small_desk(home)
    env = {k: v for k, v in os.environ.items() if k != "REPDESK_DATABASE_URL"}
    env |= {"REPDESK_HOME": str(home), "REPDESK_NOW": NOW.isoformat(), "TZ": "UTC"}
    env |= {f"XDG_{kind}_HOME": str(root / kind) for kind in ("DATA", "CONFIG", "STATE")}
    with serve(home, root / "serve.log", env=env) as served:
        yield served


def _run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def _get(url: str | URL, **kwargs: object) -> tuple[int, str, aiohttp.ClientResponse]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, allow_redirects=False, **kwargs) as response,  # type: ignore[arg-type]
    ):
        return response.status, await response.text(), response


async def _websocket_status(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    ssl: ssl.SSLContext | bool = True,
) -> int:
    """The status of the handshake: 101 when the WebSocket opened."""
    async with aiohttp.ClientSession(cookies=cookies) as session:
        try:
            async with session.ws_connect(url, headers=headers, ssl=ssl):
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def test_the_printed_address_has_a_long_random_token(served: Served) -> None:
    assert served.url.startswith("http://127.0.0.1:")
    assert len(served.token) >= 40
    assert "Traceback" not in served.output()


def test_the_page_without_the_token_is_refused(served: Served) -> None:
    status, text, _ = _run(_get(served.origin + "/"))  # type: ignore[misc]
    assert status == 403
    assert text == "repdesk: no token: open the address `repdesk serve` printed\n"
    assert served.token not in text


def test_a_wrong_token_is_refused(served: Served) -> None:
    status, text, _ = _run(_get(served.origin + "/?token=" + "x" * 43))  # type: ignore[misc]
    assert status == 403 and "wrong token" in text
    status, _, _ = _run(_get(served.origin + "/?token="))  # type: ignore[misc]
    assert status == 403


def test_assets_and_downloads_need_the_token_too(served: Served) -> None:
    for path in ("/static/js/textual.js", "/static/", "/download/anything", "/nothing"):
        status, _, _ = _run(_get(served.origin + path))  # type: ignore[misc]
        assert status == 403, path


def test_the_token_is_traded_for_a_private_cookie_and_leaves_the_address(served: Served) -> None:
    status, _, response = _run(_get(served.url + "&fontsize=20"))  # type: ignore[misc]
    assert status == 302
    assert response.headers["Location"] == "/?fontsize=20"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie


async def _traded(served: Served, **kwargs: object) -> dict[str, str]:
    """The cookie the token is traded for on the first load."""
    _, _, response = await _get(served.url, **kwargs)
    name = f"repdesk-serve-{URL(served.origin).port}"
    return {name: response.cookies[name].value}


def _cookie(served: Served, **kwargs: object) -> dict[str, str]:
    return _run(_traded(served, **kwargs))  # type: ignore[no-any-return]


def test_the_cookie_holds_a_secret_of_its_own_and_no_log_line_the_token(served: Served) -> None:
    """A browser sends a host's cookies to every port of it, and the serve's output may be
    kept: neither may hold the key to the desk (found by a hostile test)."""
    cookie = _cookie(served)
    assert served.token not in cookie.values()
    token_as_cookie = {name: served.token for name in cookie}
    status, _, _ = _run(_get(served.origin + "/", cookies=token_as_cookie))  # type: ignore[misc]
    assert status == 403
    _run(_get(served.origin + "/?token=wrong-guess"))
    _run(_get(served.origin + "/" + served.token))  # in a path, as a paste may put it
    # A request line aiohttp cannot parse is logged whole, with its traceback (a hostile test).
    port = int(served.origin.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(f"GET /?token={served.token}&x=\xe9\x1b HTTP/1.1\r\n\r\n".encode("latin-1"))
        raw.recv(1024)
    status, _, _ = _run(_get(served.origin + "/", cookies=cookie))  # type: ignore[misc]
    assert status == 200
    deadline = time.monotonic() + 10
    while '"GET /" 200' not in served.output() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server's output, written when its process gets to it
    output = served.output()
    assert '"GET /" 302' in output and '"GET /" 200' in output  # the log still says what came
    after = output.split(served.url, 1)[1]
    assert served.token not in after and "wrong-guess" not in output
    assert cookie[next(iter(cookie))] not in after


def test_with_the_cookie_the_page_and_its_assets_load_and_cannot_be_framed(
    served: Served,
) -> None:
    status, text, response = _run(_get(served.origin + "/", cookies=_cookie(served)))  # type: ignore[misc]
    assert status == 200
    assert f"ws://{URL(served.origin).authority}/ws" in text
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    status, _, _ = _run(_get(served.origin + "/static/js/textual.js", cookies=_cookie(served)))  # type: ignore[misc]
    assert status == 200


def test_a_websocket_from_another_origin_is_refused_even_with_the_cookie(
    served: Served,
) -> None:
    ws = served.origin.replace("http", "ws", 1) + "/ws"
    for origin in (EVIL, "null", served.origin + ".evil.example", served.origin + "/"):
        status = _run(_websocket_status(ws, headers={"Origin": origin}, cookies=_cookie(served)))
        assert status == 403, origin
    assert _run(_websocket_status(ws, cookies=_cookie(served))) == 403  # no Origin at all


def test_a_websocket_from_the_served_origin_without_the_token_is_refused(
    served: Served,
) -> None:
    ws = served.origin.replace("http", "ws", 1) + "/ws"
    assert _run(_websocket_status(ws, headers={"Origin": served.origin})) == 403
    cookies = {f"repdesk-serve-{URL(served.origin).port}": "guess"}
    assert _run(_websocket_status(ws, headers={"Origin": served.origin}, cookies=cookies)) == 403


async def _board_through_websocket(served: Served, ssl: ssl.SSLContext | bool = True) -> bytes:
    """What the served app shows a client with the token and the served origin."""
    ws_url = served.origin.replace("http", "ws", 1) + "/ws?width=120&height=30"
    received = b""
    async with (
        aiohttp.ClientSession(cookies=await _traded(served, ssl=ssl)) as session,
        session.ws_connect(ws_url, headers={"Origin": served.origin}, ssl=ssl) as ws,
    ):
        deadline = time.monotonic() + DEADLINE
        while b"Negotiation" not in received or b"Cold lead" not in received:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no board: {received[-2000:]!r}"
            message = await ws.receive(timeout=remaining)
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                received += message.data.encode()
            else:
                raise AssertionError(f"the WebSocket ended: {message!r}; {served.output()}")
    return received


def test_the_right_token_and_origin_get_the_board(served: Served) -> None:
    assert b"Negotiation" in _run(_board_through_websocket(served))  # type: ignore[operator]


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../serve_guard.py",
        "/static/%2e%2e/%2e%2e/server.py",
        "/static/..%2f..%2fserver.py",
        "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd",
        "/static//etc/passwd",
        "/download/..%2f..%2fetc%2fpasswd",
    ],
)
def test_no_path_leaves_the_static_folder(served: Served, path: str) -> None:
    url = URL(served.origin + path, encoded=True)  # sent as written, not normalised
    status, text, _ = _run(_get(url, cookies=_cookie(served)))  # type: ignore[misc]
    assert status in (403, 404), (path, status)
    assert "root:" not in text and "import" not in text


def test_another_host_than_loopback_needs_tls() -> None:
    err = refused("serve", "--host", "0.0.0.0")
    assert "--host 0.0.0.0 needs --certfile and --keyfile" in err and err.count("\n") == 1


def test_a_certificate_needs_its_key_and_must_load(tmp_path: Path) -> None:
    assert "go together" in refused("serve", "--certfile", str(tmp_path / "c.pem"))
    err = refused("serve", "--certfile", str(tmp_path / "c.pem"), "--keyfile", "k.pem")
    assert f"--certfile {tmp_path / 'c.pem'}" in err and "cannot be used" in err


def test_a_short_token_of_the_reps_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(serve_guard.TOKEN_ENV, "secret")
    assert "at least 16" in refused("serve")


def test_the_reps_own_token_is_used_and_not_passed_to_the_tabs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(serve_guard.TOKEN_ENV, "correct-horse-battery-staple")
    guard = serve_guard.make_guard("127.0.0.1", 8123)
    assert guard.url == "http://127.0.0.1:8123/?token=correct-horse-battery-staple"
    assert serve_guard.TOKEN_ENV not in os.environ


def test_the_origin_of_an_ipv6_loopback_has_brackets() -> None:
    guard = serve_guard.Guard(host="::1", port=8000, token="t" * 20)
    assert guard.origin == "http://[::1]:8000"


def test_with_a_certificate_the_page_and_its_websocket_are_https_only(
    home: Path, tmp_path: Path
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    build_small_desk(home)
    with serve(home, tmp_path / "serve.log", "--certfile", str(cert), "--keyfile", str(key)) as s:
        assert s.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False  # a test certificate for an address, not a name
        status, _, response = _run(_get(s.url, ssl=context))  # type: ignore[misc]
        assert status == 302 and "Secure" in response.headers["Set-Cookie"]
        ws = s.origin.replace("https", "wss", 1) + "/ws"
        headers = {"Origin": EVIL}
        assert (
            _run(
                _websocket_status(ws, headers=headers, cookies=_cookie(s, ssl=context), ssl=context)
            )
            == 403
        )
        assert _run(_board_through_websocket(s, ssl=context))
