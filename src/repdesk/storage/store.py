"""The SQLAlchemy side of the store: engine factory, sessions and change watching, for the
desk's two homes: the SQLite file (the default) and a PostgreSQL server (a database URL).

Writers take turns. On SQLite every write runs in its own short transaction begun with BEGIN
IMMEDIATE: a deferred transaction that reads and then writes fails at once with "database is
locked" when another process holds the write lock, whatever the busy timeout. On PostgreSQL
every write transaction first takes one transaction-scoped advisory lock (one per desk: see
_DESK_TURN), the same turn-taking in the server's own terms: a service reads, checks and
writes as if alone, a second writer waits (up to the same 10 seconds) instead of failing, and
the lock goes with the commit or rollback. Retrying on serialization failures would need
every caller to hand over a function to replay; the shell's `with desk.write() as session:`
blocks print as they go and cannot be replayed. Reads never wait for a writer on either
engine (WAL; MVCC with REPEATABLE READ, so a report's several queries see one snapshot, as in
SQLite's read transaction).
"""

from __future__ import annotations

import os
import select as io_select
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, text
from sqlalchemy import select as sql_select
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from repdesk import settings
from repdesk.core.errors import DeskError
from repdesk.storage import desk_file, migrations

# Every write through a session leaves a sync outbox entry on a linked desk (see outbox.py).
# Registered where every session is made, not in repdesk.services: the app's first frame reads
# through repdesk.services.board with sqlite3 and must not import SQLAlchemy for it.
from repdesk.storage import outbox as _outbox  # noqa: F401
from repdesk.storage.watch import ChangeWatch, FileWatch  # the file's: standard library only

if TYPE_CHECKING:
    import psycopg

_IMMEDIATE = "repdesk_immediate"

# Any connection that commits a write notifies this channel (PostgreSQL); the app listens.
CHANGES_CHANNEL = "repdesk_changes"
# The key of the advisory lock every PostgreSQL write transaction holds: the desk's identity,
# and (the lock's second half) the desk itself, i.e. its schema (a desk on a server is the
# first schema on its search path). One key for the whole database made a write on one desk
# wait for every other desk's writes in that database, and fail after the busy timeout ("the
# desk stayed busy") behind a long one. Schema 8 changed the key: a repdesk that knows only up
# to 7 refuses the desk, so no older writer takes turns by the old key beside a newer one.
_WRITE_TURN = migrations.APPLICATION_ID
_DESK_TURN = "hashtext('repdesk-write:' || COALESCE(current_schema(), ''))"
_LOCK_TIMEOUT = f"{desk_file.BUSY_TIMEOUT_MS}ms"
# With the desk's key, the advisory lock a sync holds for its whole run (sync_turn): one per
# desk, i.e. per schema (a desk on a server is the first schema on its search path). One key
# for the whole database made two desks in one database refuse each other's syncs ("another
# sync is under way"), and the suite's PostgreSQL sync tests, each in a schema of its own,
# fail at random beside each other.
_SYNC_TURN = "hashtext('repdesk-sync:' || COALESCE(current_schema(), ''))"


def make_engine(path: Path, *, verify: bool = True) -> Engine:
    """Prepare the desk file (create or upgrade it) and build an engine over it.

    `verify` checks the file for damage first (the engine writes). The app passes False and
    checks in the thread of its first read instead, so the first paint does not wait for it.
    """
    desk_file.prepare(path, verify=verify)
    _quiet_sqlalchemy()
    # NullPool: a connection per session, closed after; nothing holds the file between actions.
    # URL.create, not "sqlite:///" + path: a folder named "desk%20two" or holding a "?" would
    # be decoded and parsed as a URL, and the writes would go to another file.
    engine = create_engine(URL.create("sqlite", database=str(path)), poolclass=NullPool)

    @event.listens_for(engine, "do_connect")
    def _open_existing(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> Any:
        # The file exists now (prepare made it): later connections open it as it is and never
        # create it, so a desk moved away under the app does not come back as an empty file.
        uri = f"{path.resolve().as_uri()}?mode=rw"
        return sqlite3.connect(uri, uri=True, **params)

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


def make_server_engine(url: str) -> Engine:
    """Check the server's database (create the desk in an empty one, upgrade an older one)
    and build an engine over it. Raises DeskError for a server that is not a usable desk."""
    engine = _server_engine(url)
    try:
        with _server_connection(engine) as conn, conn.begin():
            _take_turn(conn)
            version = _server_version(conn)
            if version is None:
                _refuse_foreign_tables(conn)
                _create_server_schema(conn)
            elif version > migrations.LATEST:
                raise DeskError(
                    f"{label(engine)} was written by a newer repdesk (schema {version}; this "
                    f"version knows up to {migrations.LATEST}): upgrade repdesk to open it"
                )
            elif version < migrations.LATEST:
                # PostgreSQL changes tables in place and inside the transaction: every step
                # commits together or not at all, foreign keys checked all along.
                migrations.apply(conn.exec_driver_sql, from_version=version, dialect="postgresql")
                conn.execute(
                    text(f"UPDATE {migrations.SERVER_SCHEMA_TABLE} SET version = :v"),
                    {"v": migrations.LATEST},
                )
    except BaseException:
        engine.dispose()
        raise
    return engine


def desk_engine(path: Path, database_url: str | None, *, verify: bool = True) -> Engine:
    """The engine for wherever the desk lives: the server when a URL is set, else the file."""
    return make_server_engine(database_url) if database_url else make_engine(path, verify=verify)


def label(engine: Engine) -> str:
    """The desk's name in messages: the file's path, or the server URL without its password."""
    if engine.dialect.name == "sqlite":
        return str(engine.url.database)
    return settings.display_url(engine.url.render_as_string(hide_password=False))


def _quiet_sqlalchemy() -> None:
    """Nothing but repdesk's own one line reaches stderr: SQLAlchemy logs a traceback when a
    dropped server connection cannot be reset, which Python's last-resort handler would print.
    Set where the engines are made, so the shell's fast path (which makes none) never imports
    logging; repeated calls change nothing."""
    import logging

    library = logging.getLogger("sqlalchemy")
    if not any(isinstance(h, logging.NullHandler) for h in library.handlers):
        library.addHandler(logging.NullHandler())
    library.propagate = False


def _server_engine(url: str) -> Engine:
    _quiet_sqlalchemy()
    # A small pool: a server connection costs a round trip or a TLS handshake to open, unlike
    # a file. pre_ping replaces connections a sleeping laptop or a restarted server dropped.
    return create_engine(
        url,
        pool_size=2,
        max_overflow=4,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10, "application_name": "repdesk"},
    )


class ServerUnreachable(DeskError):
    """The desk's server did not answer: the app waits for it to come back."""


@contextmanager
def _server_connection(engine: Engine) -> Iterator[Connection]:
    try:
        conn = engine.connect()
    except OperationalError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ServerUnreachable(
            f"cannot reach the desk's server {label(engine)}: {reason}"
        ) from None
    with conn:
        yield conn


def _take_turn(conn: Connection) -> None:
    """Wait (at most the busy timeout) for this transaction's turn to write."""
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
    try:
        conn.execute(
            text(f"SELECT pg_advisory_xact_lock(:key, {_DESK_TURN})"), {"key": _WRITE_TURN}
        )
    except OperationalError as exc:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) != "55P03":  # lock_not_available
            raise
        raise DeskError(
            f"{label(conn.engine)}: the desk stayed busy for 10 seconds (another repdesk is "
            "writing: an import or a restore holds it to its end): nothing was changed; try "
            "again"
        ) from None


def _server_version(conn: Connection) -> int | None:
    table = migrations.SERVER_SCHEMA_TABLE
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
        return None
    row = conn.execute(text(f"SELECT application_id, version FROM {table}")).first()
    if row is None or row[0] != migrations.APPLICATION_ID:
        raise DeskError(
            f"{label(conn.engine)} has a damaged {table} table: restore the database from a backup"
        )
    return int(row[1])


def _tables_here(conn: Connection) -> list[str]:
    """Tables, views and sequences already in the schema repdesk would use (its search path)."""
    return list(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'S', 'p', 'f')"
                " ORDER BY c.relkind = 'S', c.relname"
            )
        ).scalars()
    )


def _refuse_foreign_tables(conn: Connection) -> None:
    found = _tables_here(conn)
    if found:
        shown = ", ".join(found[:5]) + (", …" if len(found) > 5 else "")
        raise DeskError(
            f"{label(conn.engine)} is not a repdesk database: it already has {shown}. Give "
            "repdesk an empty database of its own (createdb NAME)"
        )


def _create_server_schema(conn: Connection) -> None:
    migrations.apply(conn.exec_driver_sql, from_version=0, dialect="postgresql")
    for statement in migrations.server_identity_sql():
        conn.exec_driver_sql(statement)


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One short write transaction: commits on success, rolls back on any error."""
    server = engine.dialect.name == "postgresql"
    with Session(engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False) as session:
        with session.begin():
            if server:
                _take_turn(session.connection())
            yield session
            if server:
                # Delivered to listeners at commit, and only if it commits (see ServerWatch).
                notify = text("SELECT pg_notify(:channel, '')")
                session.execute(notify, {"channel": CHANGES_CHANNEL})


@contextmanager
def held_open(engine: Engine) -> Iterator[None]:
    """For a run of many short sessions on a desk file (a sync): one more connection, outside
    any transaction, held open for the run. SQLite checkpoints the WAL and deletes it when the
    last connection to a file closes, and each session here closes its own (NullPool): some
    8 ms a session on a busy 2-core machine, most of a long sync's time. While one stays open
    a close costs nothing, and the WAL is still checkpointed as it grows. A server: nothing."""
    if engine.dialect.name != "sqlite":
        yield
        return
    conn = desk_file.connect(Path(str(engine.url.database)), create=False)
    try:
        yield
    finally:
        conn.close()


@contextmanager
def sync_turn(engine: Engine) -> Iterator[bool]:
    """Whether this process may sync the desk now: False while another sync (the app's, a
    shell's) runs on it. Two at once would both send the same new deals to the CRM. Held
    until the block ends, and let go by the system when a process dies (kill -9 included):
    a lock on the desk's folder (SQLite), a session advisory lock (a server)."""
    if engine.dialect.name == "sqlite":
        try:
            import fcntl
        except ImportError:  # no flock on this system: as before, nothing held
            yield True
            return
        try:
            fd = os.open(Path(str(engine.url.database)).parent, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # a folder that cannot be read (mode 300): as before, nothing held
            yield True
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # lets the lock go
        return
    with _server_connection(engine) as conn:
        key = {"key": _WRITE_TURN}
        got = bool(
            conn.execute(text(f"SELECT pg_try_advisory_lock(:key, {_SYNC_TURN})"), key).scalar()
        )
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text(f"SELECT pg_advisory_unlock(:key, {_SYNC_TURN})"), key)
                conn.commit()


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


# ---------------------------------------------------------------- did anyone write?


def watch_changes(engine: Engine) -> ChangeWatch:
    if engine.dialect.name == "sqlite":
        return FileWatch(Path(str(engine.url.database)))
    return ServerWatch(engine)


class ServerWatch:
    """LISTEN on the channel every write transaction notifies at commit.

    Checking costs no round trip: the notifications wait on the connection's socket, and a
    zero-timeout select() tells whether any arrived, so the UI thread never waits on the
    network. A dropped connection (server restart, laptop asleep) is opened again on the next
    check, which then reports a change, since writes in between went unheard.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: psycopg.Connection[Any] | None = None
        self._lost = False  # True after a dropped connection: what happened since is unknown
        # The last change reported was the server found again, not a write heard: only that
        # proves a server that went away is back. A notice read from the socket after the
        # server went may have been sent before it went (seen under load: a false "back").
        self.reconnected = False

    def changed(self) -> bool:
        self.reconnected = False
        if self._conn is None:
            try:
                self._listen()
            except Exception:  # the server is away: try again on the next tick
                self._lost = True
                return False
            self.reconnected, self._lost = self._lost, False
            return self.reconnected
        try:
            ready, _, _ = io_select.select([self._conn.fileno()], [], [], 0)
            if not ready:
                return False
            return any(True for _ in self._conn.notifies(timeout=0))
        except Exception:  # the connection is gone: listen again on the next tick
            self.close()
            self._lost = True
            return False

    def _listen(self) -> None:
        raw = self._engine.raw_connection()
        conn: psycopg.Connection[Any] | None = raw.driver_connection
        if conn is None:  # the pool's connection was invalidated on the way out
            raise ConnectionError("the pool gave no driver connection")
        raw.detach()  # an autocommit connection of its own, never handed back to the pool
        conn.rollback()
        conn.autocommit = True
        conn.execute(f"LISTEN {CHANGES_CHANNEL}")
        self._conn = conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


# ---------------------------------------------------------------- rows brought with their ids


# The tables whose ids are never handed out twice (schema step 7 in storage/migrations.py):
# the CRM sync links their rows by id, and an id of a row that is gone lives on in the trash
# and in a link whose deletion the sync has not sent yet.
NEVER_REUSED = ("deal", "activity", "follow_up")
_LARGEST_HELD = """SELECT MAX(id) FROM (
    SELECT MAX(id) AS id FROM {table}
    UNION ALL SELECT MAX(item_id) FROM trash WHERE kind = :kind
    UNION ALL SELECT MAX(local_id) FROM sync_link WHERE kind = :kind
) AS held"""


def _largest_in_trashed_deals(conn: Connection) -> dict[str, int]:
    """The largest id of each table among the rows a deal in the trash holds (its calls and
    follow-ups: {table: [row, ...]} in its payload). Read here, not in SQL: a desk imported
    from an edited JSON file may hold anything there (services/trash.py _held)."""
    import json

    from repdesk.core.domain import MAX_ROW_ID

    largest: dict[str, int] = {}
    for (payload,) in conn.execute(text("SELECT payload FROM trash WHERE kind = 'deal'")):
        try:
            held = json.loads(payload)
        except ValueError:
            continue
        for table, found in held.items() if isinstance(held, dict) else ():
            for row in found if isinstance(found, list) else ():
                number = row.get("id") if isinstance(row, dict) else None
                if type(number) is int and 0 < number <= MAX_ROW_ID:
                    largest[table] = max(largest.get(table, 0), number)
    return largest


def continue_ids(
    conn: Connection, table_names: Iterable[str], *, handed_out: Mapping[str, int] | None = None
) -> None:
    """After inserting rows that brought their own ids (migrate-to, a JSON import): new rows
    must continue after every id the desk ever gave, never be handed one of them again.

    That is past the largest row's id, and for the tables the sync links by id past every id
    in the trash (a deleted deal's calls and follow-ups with it) or in a link too: a deleted
    newest deal's id, lent to the next new deal, made the sync send the new deal over the
    deleted one (issue 20). `handed_out` is what the desk copied from had given (its
    sqlite_sequence). A PostgreSQL SERIAL column's sequence knows nothing of ids given
    explicitly and is moved on; SQLite's AUTOINCREMENT takes the largest id inserted, and is
    moved past the trash and the links. Neither ever goes back.
    """
    from sqlmodel import SQLModel

    sqlite = conn.dialect.name == "sqlite"
    given = dict(handed_out or {})
    in_the_trash = _largest_in_trashed_deals(conn)
    for name in table_names:
        if "id" not in SQLModel.metadata.tables[name].c:
            continue  # keyed by something else (sync_state): no sequence
        if name in NEVER_REUSED:
            found = conn.execute(text(_LARGEST_HELD.format(table=name)), {"kind": name})
        elif sqlite:
            continue  # INTEGER PRIMARY KEY: the largest id + 1 by itself
        else:
            found = conn.execute(text(f"SELECT MAX(id) FROM {name}"))
        largest = max(int(found.scalar() or 0), given.get(name, 0), in_the_trash.get(name, 0))
        if sqlite:
            before = conn.execute(
                text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": name}
            ).scalar()
            conn.execute(text("DELETE FROM sqlite_sequence WHERE name = :name"), {"name": name})
            conn.execute(
                text("INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)"),
                {"name": name, "seq": max(largest, int(before or 0))},
            )
        else:
            # Never back: a desk emptied of its deals had given its ids (nextval is the next
            # one the sequence would give).
            conn.execute(
                text(
                    "SELECT setval(seq, GREATEST(:next, nextval(seq)), false) FROM "
                    f"(SELECT pg_get_serial_sequence('{name}', 'id')::regclass AS seq) AS serial"
                ),
                {"next": largest + 1},
            )


def handed_out_ids(conn: Connection) -> dict[str, int]:
    """The largest id each AUTOINCREMENT table of a desk file ever gave (sqlite_sequence)."""
    if conn.dialect.name != "sqlite":
        return {}
    found = conn.execute(text("SELECT name, seq FROM sqlite_sequence")).all()
    return {str(name): int(seq) for name, seq in found}


# ---------------------------------------------------------------- migrate-to


def copy_desk_to_server(path: Path, url: str) -> dict[str, tuple[int, int]]:
    """Copy the SQLite desk at `path` into the empty database at `url`, in one transaction.

    Returns {table: (rows in the desk, rows on the server)}; the commit happens only when
    every pair matches. Ids are kept, and each table's sequence continues after the largest.
    """
    from sqlmodel import SQLModel

    from repdesk.storage.models import ALL_TABLES

    tables = [SQLModel.metadata.tables[name] for name in ALL_TABLES]
    # An older desk is upgraded (with its backup) first; the full integrity check, whatever
    # the day's mark says: a server copy must not start from indexes that disagree with rows.
    desk_file.prepare(path, verify=True, full=True)
    source = make_engine(path, verify=False)
    target = _server_engine(url)
    counts: dict[str, tuple[int, int]] = {}
    try:
        with _server_connection(target) as out, out.begin():
            _take_turn(out)
            found = _tables_here(out)
            if found:
                what = (
                    "a repdesk desk"
                    if migrations.SERVER_SCHEMA_TABLE in found
                    else (
                        "tables (" + ", ".join(found[:5]) + (", …" if len(found) > 5 else "") + ")"
                    )
                )
                raise DeskError(
                    f"{label(target)} is not empty: it already has {what}. migrate-to copies "
                    "into an empty database only; create one with `createdb NAME`"
                )
            _create_server_schema(out)
            out.execute(tables[0].delete())  # the default pipeline gives way to the desk's own
            # One read transaction: a consistent snapshot even while the app writes the file.
            with source.connect() as src, src.begin():
                for table in tables:
                    rows = src.execution_options(yield_per=5_000).execute(
                        sql_select(table).order_by(*table.primary_key.columns)
                    )
                    for chunk in rows.mappings().partitions():
                        out.execute(insert(table), [dict(row) for row in chunk])
                    expected = src.execute(sql_select(func.count()).select_from(table)).scalar()
                    copied = out.execute(sql_select(func.count()).select_from(table)).scalar()
                    counts[table.name] = (int(expected or 0), int(copied or 0))
                handed_out = handed_out_ids(src)
            continue_ids(out, [table.name for table in tables], handed_out=handed_out)
            wrong = {name: pair for name, pair in counts.items() if pair[0] != pair[1]}
            if wrong:
                raise DeskError(
                    f"copying to {label(target)} lost rows ({wrong}); nothing was committed"
                )
    finally:
        source.dispose()
        target.dispose()
    return counts
