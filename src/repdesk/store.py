"""The SQLAlchemy side of the store: engine factory, pragmas, and short sessions.

Every write runs in its own short transaction begun with BEGIN IMMEDIATE: a deferred
transaction that reads and then writes fails at once with "database is locked" when another
process holds the write lock, whatever the busy timeout. Reads use a plain BEGIN, so they never
wait for a writer (WAL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from repdesk import desk_file

_IMMEDIATE = "repdesk_immediate"


def make_engine(path: Path) -> Engine:
    """Prepare the desk file (create or upgrade it) and build an engine over it."""
    desk_file.prepare(path, verify=True)  # the engine writes: check for damage first
    # NullPool: a connection per session, closed after; nothing holds the file between actions.
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module so the "begin" hook below decides its kind.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {desk_file.BUSY_TIMEOUT_MS}")
        desk_file.apply_pragmas(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One short write transaction: commits on success, rolls back on any error."""
    with Session(engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False) as session:
        with session.begin():
            yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
