"""The Pipedrive stand-in (tests/pipedrive/server.py) and a desk on each engine for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from tests.pipedrive.server import Pipedrive, start


@pytest.fixture
def crm() -> Iterator[tuple[Pipedrive, str]]:
    server, api, url = start()
    yield api, url
    api.gate.set()
    api.release.set()
    server.shutdown()
    server.server_close()
    assert api.errors == [], "\n".join(api.errors)  # a drift from the published contract


@pytest.fixture
def desk(engine: Engine) -> Engine:
    """The desk on each engine: the SQLite file and a database on the PostgreSQL test server
    (tests/engines.py; the shell commands a test runs go to the same one)."""
    return engine
