"""`repdesk serve` in a subprocess on a free loopback port, for the browser test (tests/e2e)
and the WebSocket client's (tests/reliability/test_serve_guard.py)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEADLINE = 30.0  # seconds for each wait; a healthy run needs a few


@dataclass(frozen=True)
class Served:
    url: str  # the address `repdesk serve` printed, its token included
    origin: str  # http://127.0.0.1:PORT
    token: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def serve(home: Path, log: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """The server and the app processes it starts, stopped as one at the end."""
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "repdesk", "--home", str(home), "serve", "--port", str(port),
             *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + DEADLINE
            while True:
                assert server.poll() is None, log.read_text(errors="replace")
                printed = re.search(r"https?://\S+\?token=(\S+)", log.read_text(errors="replace"))
                if printed is not None and _listening(port):
                    break
                assert time.monotonic() < deadline, "repdesk serve never listened"
                time.sleep(0.05)  # nothing to await on another process's socket
            url = printed.group(0)
            yield Served(url, url.split("/?", 1)[0], printed.group(1), log)
        finally:
            # A server that already exited (its log is the failure message) has no group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait()
