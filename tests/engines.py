"""The two engines a desk can live on, for tests: the SQLite file and a PostgreSQL server.

The server comes from REPDESK_TEST_DATABASE_URL, or the URL `scripts/pg-test-server` prints by
default. Each test gets a schema of its own on it (an empty "database" as far as repdesk can
tell, through the search path in the URL) and it is dropped after. Without a server a test is
skipped locally, with how to start one, and fails in CI (CI set): there it must run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import pytest

ENGINES = ("sqlite", "postgresql")
TEST_URL_ENV = "REPDESK_TEST_DATABASE_URL"
DEFAULT_TEST_URL = "postgresql+psycopg://repdesk@127.0.0.1:54329/repdesk"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def server_url() -> str:
    return os.environ.get(TEST_URL_ENV) or DEFAULT_TEST_URL


def _libpq(url: str) -> str:
    """psycopg's own form of a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@cache
def _unreachable_because(url: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        psycopg.connect(_libpq(url), connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def require_server() -> str:
    """The test server's URL; or skip the test (fail it in CI) saying how to start one."""
    url = server_url()
    problem = _unreachable_because(url)
    if problem is not None:
        message = (
            f"no PostgreSQL server for the tests at {url} ({problem}): start one with "
            f"`scripts/pg-test-server` (or set {TEST_URL_ENV} to a server's URL)"
        )
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


@contextmanager
def fresh_database() -> Iterator[str]:
    """A URL whose database is empty: a new schema on the test server, dropped afterwards."""
    import psycopg

    base = require_server()
    schema = f"repdesk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(base), autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            separator = "&" if "?" in base else "?"
            yield f"{base}{separator}options=-csearch_path%3D{schema}"
        finally:
            _drop(admin, schema)


def _drop(admin: Any, schema: str) -> None:
    """Drop the test's schema. A connection the test left behind (an app's thread still
    reading when the test ended) may hold a lock in it: the drop then waited on it, or was the
    victim of a deadlock with it, and a green run ended red in teardown (a `.ci/run` of
    3 December). Such connections are ended first, and a deadlock is tried again."""
    import time

    import psycopg

    for attempt in range(5):
        admin.execute(
            "SELECT pg_terminate_backend(l.pid) FROM pg_locks l"
            " JOIN pg_class c ON c.oid = l.relation"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND l.pid <> pg_backend_pid()",
            (schema,),
        )
        try:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
            return
        except psycopg.errors.DeadlockDetected:
            if attempt == 4:
                raise
            time.sleep(0.2)


def server_connection(url: str):  # type: ignore[no-untyped-def]
    """A plain psycopg connection to a test URL (its schema on the search path)."""
    import psycopg

    return psycopg.connect(_libpq(url), autocommit=True)


def every_row(engine: Any) -> dict[str, list[dict[str, Any]]]:
    """Every table through the models' types: aware UTC instants, dates and times as objects,
    whichever engine holds them."""
    from sqlalchemy import select

    from repdesk.storage.models import ALL_TABLES, SQLModel

    tables = [SQLModel.metadata.tables[name] for name in ALL_TABLES]
    with engine.connect() as conn:
        return {
            table.name: [
                dict(row)
                for row in conn.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).mappings()
            ]
            for table in tables
        }
