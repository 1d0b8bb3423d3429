"""`repdesk serve` with a lock on the door (issue 18): textual-serve alone answers any web page
open in the rep's browser, which can then read the board and press keys.

As Jupyter does it: a secret token in the address `repdesk serve` prints, checked on every
request (the first page load trades it for a cookie, so the page's own scripts and its
WebSocket need not carry it; the cookie holds a secret of its own, not the token, as a
browser sends a host's cookies to every port of it); no log line holds either; the WebSocket
must also come from the served origin; an address other than loopback is served over TLS
only.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import socket
import ssl
import sys
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler, Middleware
from textual_serve.server import Server

from repdesk.core.errors import RepdeskError

TOKEN_ENV = "REPDESK_SERVE_TOKEN"
MIN_TOKEN_LENGTH = 16  # a rep's own token: long enough that a page cannot guess it
WILDCARDS = ("0.0.0.0", "::", "")


class ServeRefused(RepdeskError):
    """A serve that would expose the desk: exit 2 with the reason."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Guard:
    host: str
    port: int
    token: str
    ssl_context: ssl.SSLContext | None = None
    # What the cookie holds: this serve's own secret, traded for the token on the first load.
    session: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def origin(self) -> str:
        """What the browser's address bar shows: the page's Origin, and its WebSocket's."""
        scheme = "https" if self.ssl_context else "http"
        name = socket.getfqdn() if self.host in WILDCARDS else self.host
        if ":" in name:  # an IPv6 address
            name = f"[{name}]"
        default = 443 if self.ssl_context else 80
        return f"{scheme}://{name}" + ("" if self.port == default else f":{self.port}")

    @property
    def url(self) -> str:
        return f"{self.origin}/?{urlencode({'token': self.token})}"

    @property
    def cookie(self) -> str:
        # Cookies are per host, not per port: two serves on one machine keep their own.
        return f"repdesk-serve-{self.port}"

    def token_matches(self, given: str | None) -> bool:
        return _same(given, self.token)

    def session_matches(self, given: str | None) -> bool:
        return _same(given, self.session)


def _same(given: str | None, secret: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), secret.encode())


def make_guard(
    host: str, port: int, *, certfile: str | None = None, keyfile: str | None = None
) -> Guard:
    """The guard for `repdesk serve`, or ServeRefused saying why it cannot be served so."""
    if (certfile is None) != (keyfile is None):
        raise ServeRefused("serve: --certfile and --keyfile go together: give both or neither")
    context = None
    if certfile is not None and keyfile is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
            raise ServeRefused(
                f"serve: --certfile {certfile} / --keyfile {keyfile} cannot be used: {reason}"
            ) from None
    elif not is_loopback(host):
        raise ServeRefused(
            f"serve: --host {host} needs --certfile and --keyfile: over plain http the token "
            "and every key press cross the network readable. Keep 127.0.0.1 and tunnel "
            "(ssh -L 8000:127.0.0.1:8000 you@this-machine), or give a TLS certificate"
        )
    token = os.environ.pop(TOKEN_ENV, None)  # not handed down to the tabs' processes
    if token is None:
        token = secrets.token_urlsafe(32)
    elif len(token) < MIN_TOKEN_LENGTH or not token.isprintable() or token.strip() != token:
        raise ServeRefused(
            f"serve: {TOKEN_ENV} must be at least {MIN_TOKEN_LENGTH} printable characters "
            "without surrounding spaces (unset it for a random one)"
        )
    return Guard(host=host, port=port, token=token, ssl_context=context)


def _refuse(status: type[web.HTTPException], why: str) -> web.HTTPException:
    return status(text=f"repdesk: {why}\n", content_type="text/plain")


def guard_middleware(guard: Guard) -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        # A page elsewhere may open a WebSocket to 127.0.0.1 (the browser sends the cookie
        # along if it has one): only the served page's own origin is let in.
        if request.path == "/ws" and request.headers.get("Origin") != guard.origin:
            raise _refuse(web.HTTPForbidden, "this page is not the one repdesk serve serves")
        given = request.query.get("token")
        if given is not None:
            if not guard.token_matches(given):
                raise _refuse(
                    web.HTTPForbidden, "wrong token: open the address `repdesk serve` printed"
                )
            if request.method == "GET" and request.path == "/":
                # The token leaves the address bar (and the history) for a cookie only this
                # origin's requests carry and no script can read.
                query = {k: v for k, v in request.query.items() if k != "token"}
                target = "/" + (f"?{urlencode(query)}" if query else "")
                redirect = web.HTTPFound(target)
                redirect.set_cookie(
                    guard.cookie,
                    guard.session,
                    httponly=True,
                    samesite="Strict",
                    secure=guard.ssl_context is not None,
                    path="/",
                )
                raise redirect
        elif not guard.session_matches(request.cookies.get(guard.cookie)):
            raise _refuse(web.HTTPForbidden, "no token: open the address `repdesk serve` printed")
        response = await handler(request)
        if not response.prepared:  # a WebSocket's headers went out when it opened
            # The page never inside another site's frame, and its address never sent onwards.
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return check


class _Scrubbed(logging.Filter):
    """Every line the serve logs with its secrets (the token, the cookie's) taken out: a
    request line aiohttp cannot parse is logged whole with its traceback (whose locals Rich
    prints), and a path may hold the token too (found by a hostile test)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if any(self._held(text, secret) for secret in self.secrets):
            for secret in self.secrets:
                for form in (secret, quote(secret, safe=""), quote(secret)):
                    text = text.replace(form, "[secret]")
            record.msg, record.args = text, None
            record.exc_info, record.exc_text = None, None
        return True

    @staticmethod
    def _held(text: str, secret: str) -> bool:
        return secret in text or quote(secret, safe="") in text


class TokenlessAccessLog(AbstractAccessLogger):
    """aiohttp's access log line holds the request line, the token in its query included, and
    the serve's output may be kept (a redirected log, the journal): the path alone here."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s', request.remote, request.method, request.path, response.status
        )


class GuardedServer(Server):
    """textual-serve's server, every request through the guard."""

    def __init__(self, command: str, *, guard: Guard, title: str) -> None:
        super().__init__(command, host=guard.host, port=guard.port, title=title)
        self.guard = guard
        # The page builds its script and WebSocket addresses from this.
        self.public_url = guard.origin

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(guard_middleware(self.guard))
        return app

    async def on_startup(self, app: web.Application) -> None:
        sys.stdout.write(
            f"repdesk serves this desk at\n\n    {self.guard.url}\n\n"
            "Open that address (the token in it is the key to your desk). Ctrl+C stops.\n"
        )
        sys.stdout.flush()

    def serve(self, debug: bool = False) -> None:
        # textual-serve's own serve() has no TLS: the same, with the certificate.
        import asyncio
        import signal

        self.debug = debug
        self.initialize_logging()
        scrubbed = _Scrubbed(self.guard.token, self.guard.session)
        for handler in logging.getLogger().handlers:
            handler.addFilter(scrubbed)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.add_signal_handler(signal.SIGINT, self.request_exit)
        loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            ssl_context=self.guard.ssl_context,
            handle_signals=False,
            access_log_class=TokenlessAccessLog,
            loop=loop,
            print=lambda *args: None,
        )
