"""The desk file: identity, pragmas, refusal of what is not ours, upgrades, BEGIN IMMEDIATE."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import select

from repdesk.storage import desk_file, migrations
from repdesk.storage.models import KEPT_BY_THE_DATABASE, SQLModel
from repdesk.storage.store import make_engine, read_session, write_session

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_new_desk_has_identity_wal_and_default_pipeline(home: Path) -> None:
    path = home / "desk.sqlite"
    make_engine(path).dispose()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == migrations.APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    stages = conn.execute("SELECT name, probability, kind FROM stage ORDER BY position").fetchall()
    assert stages == [
        ("Prospect", 10, "open"),
        ("Contacted", 15, "open"),
        ("Qualified", 25, "open"),
        ("Demo", 40, "open"),
        ("Proposal", 55, "open"),
        ("Negotiation", 70, "open"),
        ("Won", 100, "won"),
        ("Lost", 0, "lost"),
    ]


def test_every_session_has_the_pragmas(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    with read_session(sqlite_engine) as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == desk_file.BUSY_TIMEOUT_MS


def test_models_match_the_migrated_schema(engine) -> None:  # type: ignore[no-untyped-def]
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        migrated = {c["name"] for c in inspector.get_columns(table.name)}
        kept = KEPT_BY_THE_DATABASE.get(table.name, frozenset())
        assert migrated == {c.name for c in table.columns} | kept, table.name
        migrated_indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert {i.name for i in table.indexes} <= migrated_indexes, table.name


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"name,value\nacme,12\n" * 20, "not a SQLite database"),
        (b"", None),  # an empty file is a new desk, not a refusal
    ],
)
def test_text_file_is_refused_untouched(home: Path, content: bytes, problem: str | None) -> None:
    home.mkdir(parents=True)
    path = home / "desk.sqlite"
    path.write_bytes(content)
    if problem is None:
        desk_file.prepare(path)
        return
    before = _digest(path)
    with pytest.raises(desk_file.DeskError, match=problem) as info:
        desk_file.prepare(path)
    assert str(path) in str(info.value)
    assert _digest(path) == before
    assert _siblings(path) == ["desk.sqlite"]


def test_another_programs_sqlite_file_is_refused_untouched(home: Path) -> None:
    home.mkdir(parents=True)
    path = home / "desk.sqlite"
    other = sqlite3.connect(path)
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    other.execute("INSERT INTO moz_places (url) VALUES ('https://example.org')")
    other.commit()
    other.close()
    before = _digest(path)
    with pytest.raises(desk_file.DeskError, match="another program") as info:
        desk_file.prepare(path)
    assert str(path) in str(info.value)
    assert _digest(path) == before
    assert _siblings(path) == ["desk.sqlite"]


def test_desk_from_a_newer_repdesk_is_refused_untouched(home: Path) -> None:
    path = home / "desk.sqlite"
    make_engine(path).dispose()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.close()
    before = _digest(path)
    with pytest.raises(desk_file.DeskError, match="newer repdesk"):
        desk_file.prepare(path)
    assert _digest(path) == before
    assert _siblings(path) == ["desk.sqlite"]


def test_damaged_desk_gives_a_clear_message_and_is_left_as_it_was(home: Path) -> None:
    path = home / "desk.sqlite"
    make_engine(path).dispose()
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 97):  # flip bytes on every page after the header
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises((desk_file.DeskError, sqlite3.DatabaseError)):
        conn = desk_file.connect(path)
        conn.execute("SELECT * FROM stage").fetchall()
    result = subprocess.run(
        [sys.executable, "-m", "repdesk", "--home", str(home), "deal", "list"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "damaged" in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(path) == before


def test_upgrade_from_the_first_schema_keeps_every_row(home: Path) -> None:
    home.mkdir(parents=True)
    path = home / "desk.sqlite"
    shutil.copy(FIXTURES / "desk-v1.sqlite", path)
    old = sqlite3.connect(FIXTURES / "desk-v1.sqlite")
    tables = ("stage", "deal", "stage_change", "activity", "follow_up", "objection", "quota")
    before = {t: old.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}
    old.close()

    engine = make_engine(path)
    engine.dispose()

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for table, rows in before.items():
        after = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        width = len(rows[0]) if rows else 0
        assert [row[:width] for row in after] == rows, table  # new columns are appended
    assert conn.execute("SELECT source_id FROM deal WHERE id = 1").fetchone() == (None,)
    backups = [p for p in path.parent.iterdir() if ".pre-v" in p.name]
    assert len(backups) == 1
    copy = sqlite3.connect(backups[0])
    assert copy.execute("PRAGMA user_version").fetchone()[0] == 1
    assert copy.execute("SELECT count(*) FROM activity").fetchone()[0] == 3


def test_a_write_waits_for_another_writer_instead_of_failing(sqlite_engine, home: Path) -> None:  # type: ignore[no-untyped-def]
    """BEGIN IMMEDIATE: a read-then-write transaction waits for the lock instead of failing
    at once with "database is locked" (what a deferred transaction does)."""
    from repdesk.storage.models import Quota

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(home / 'desk.sqlite')!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "c.execute(\"INSERT INTO quota (period, amount_cents) VALUES ('2026', 1)\")\n"
            "print('locked', flush=True)\n"
            "time.sleep(1.0)\n"
            "c.execute('COMMIT')\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with write_session(sqlite_engine) as session:
        count = len(list(session.exec(select(Quota))))  # read first ...
        session.add(Quota(period="2026-11", amount_cents=100 + count))  # ... then write
    holder.wait(timeout=10)
    with read_session(sqlite_engine) as session:
        assert {q.period for q in session.exec(select(Quota))} == {"2026", "2026-11"}


def test_instants_bound_to_raw_sql_compare_equal_to_stored_ones(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    """A whole-second instant is stored as '…:00.000000'; the raw-SQL parameter must match."""
    from datetime import UTC, datetime

    from repdesk.reports import queries
    from repdesk.services import deals
    from repdesk.storage.models import Activity

    moment = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    with write_session(sqlite_engine) as session:
        deal = deals.create_deal(session=session, title="X", currency="EUR", now=moment)
        session.add(Activity(deal_id=deal.id, kind="call", at=moment))  # type: ignore[arg-type]
    conn = sqlite3.connect(sqlite_engine.url.database)
    stored = conn.execute("SELECT at FROM activity").fetchone()[0]
    assert stored == queries._sqlite_param(moment) == "2026-11-20 09:30:00.000000"


def test_instants_read_back_from_either_engine_as_aware_utc() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from repdesk.reports.queries import as_instant

    moment = datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
    assert as_instant("2026-11-10 09:30:00.000000") == moment  # SQLite's naive UTC text
    assert as_instant("2026-11-10 09:30:00") == moment
    assert as_instant("2026-11-10T11:30:00+02:00") == moment  # text with its own offset
    assert as_instant(moment.astimezone(timezone(timedelta(hours=-5)))) == moment  # PostgreSQL
    assert as_instant(datetime(2026, 11, 10, 9, 30)) == moment
    assert as_instant("2026-11-10 09:30:00").tzinfo is UTC
    assert as_instant(None) is None


def test_the_app_notices_a_write_by_another_process(engine, home: Path) -> None:  # type: ignore[no-untyped-def]
    """The live refresh's question, on either engine: did anyone write since I last asked?"""
    import os
    import time

    from repdesk.settings import Settings
    from repdesk.storage.models import Deal
    from repdesk.storage.paths import resolve_home
    from repdesk.tui.gateway import DeskGateway

    desk = DeskGateway(
        resolve_home(), Settings(database_url=os.environ.get("REPDESK_DATABASE_URL"))
    )
    try:
        assert desk.changed_elsewhere() is False  # the baseline
        assert desk.changed_elsewhere() is False  # nobody wrote
        subprocess.run(
            [sys.executable, "-m", "repdesk", "deal", "add", "From the shell"],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 5  # a server's notification may still be on its way
        while not desk.changed_elsewhere():
            assert time.monotonic() < deadline, "the write was not noticed"
            time.sleep(0.02)
        assert desk.changed_elsewhere() is False
        with read_session(desk.engine) as session:
            assert [d.title for d in session.exec(select(Deal))] == ["From the shell"]
    finally:
        desk.close()


def test_the_file_watch_survives_its_shared_memory_deleted_under_it(home: Path) -> None:
    """A connection closing as the last one deletes the -wal and -shm files; a watch left on
    the deleted -shm would never see another commit (the app then missed shell writes)."""
    from repdesk.storage.store import FileWatch

    make_engine(home / "desk.sqlite").dispose()
    watch = FileWatch(home / "desk.sqlite")
    try:
        assert watch.changed() is False  # the baseline
        for companion in ("desk.sqlite-wal", "desk.sqlite-shm"):
            (home / companion).unlink(missing_ok=True)
        added = subprocess.run(
            [sys.executable, "-m", "repdesk", "--home", str(home), "deal", "add", "Later"],
            capture_output=True,
            text=True,
        )
        assert added.returncode == 0, added.stderr
        assert watch.changed() is True
        assert watch.changed() is False  # and it keeps watching
        subprocess.run(
            [sys.executable, "-m", "repdesk", "--home", str(home), "deal", "add", "Again"],
            check=True,
            capture_output=True,
        )
        assert watch.changed() is True
    finally:
        watch.close()


def test_a_second_look_at_the_desk_keeps_the_locks_of_its_open_connections(home: Path) -> None:
    """Closing any descriptor of a file drops all the process's POSIX locks on it, SQLite's
    too. The app looks at the desk again while its connections are open (its engine, its
    watch): another process closing last must still see them, and leave the -wal and -shm."""
    from repdesk.storage.store import FileWatch

    desk = home / "desk.sqlite"
    make_engine(desk).dispose()
    watch = FileWatch(desk)  # an open connection, as the app keeps one
    add = [sys.executable, "-m", "repdesk", "--home", str(home), "deal", "add"]
    try:
        desk_file.prepare(desk)  # a second look, as the app's engine takes
        subprocess.run([*add, "X"], check=True, capture_output=True)
        assert Path(f"{desk}-shm").exists() and Path(f"{desk}-wal").exists()
        assert watch.changed() is True
        # Once SQLite has written the file itself (a checkpoint), a look again keeps them too.
        with closing(desk_file.connect(desk)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        desk_file.prepare(desk)
        subprocess.run([*add, "Y"], check=True, capture_output=True)
        assert Path(f"{desk}-shm").exists() and Path(f"{desk}-wal").exists()
        assert watch.changed() is True
    finally:
        watch.close()


def test_the_file_watch_never_makes_an_empty_desk_where_one_was_moved_away(home: Path) -> None:
    from repdesk.storage.store import FileWatch

    desk = home / "desk.sqlite"
    make_engine(desk).dispose()
    watch = FileWatch(desk)
    try:
        desk.rename(home / "old.sqlite")  # a rep moving the desk aside to put a copy in
        assert watch.changed() is False
        assert not desk.exists()  # not brought back as an empty file
        shutil.copy(home / "old.sqlite", desk)  # a desk is back: a change, seen on the new file
        assert watch.changed() is True
        assert watch.changed() is False
    finally:
        watch.close()


def _upgraded_or_new(home: Path, fixture: str | None) -> Path:
    """A desk opened by repdesk: the fixture desk upgraded, or (None) a new one."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "desk.sqlite"
    if fixture is not None:
        shutil.copy(FIXTURES / fixture, path)
    make_engine(path).dispose()
    return path


@pytest.mark.parametrize("fixture", ["desk-v7.sqlite", None])
def test_the_weekly_activity_counts_read_the_index_alone(home: Path, fixture: str | None) -> None:
    """The KPI pane's week-so-far counts, on an upgraded desk and on a new one: with the kind
    in the date index the rows themselves are never read (issue 17)."""
    from repdesk.reports import queries

    path = _upgraded_or_new(home, fixture)
    with closing(sqlite3.connect(path)) as conn:
        when = "2026-11-16 00:00:00.000000"
        plan = conn.execute(
            "EXPLAIN QUERY PLAN " + queries.sql_for("activity_weeks", "sqlite"),
            {"this_start": when, "this_end": when, "last_start": when, "last_end": when},
        ).fetchall()
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    details = " ".join(str(row[-1]) for row in plan)
    assert "COVERING INDEX ix_activity_at_kind" in details
    assert "ix_activity_at" not in names and "ix_activity_at_kind" in names


@pytest.mark.parametrize("fixture", ["desk-v8.sqlite", None])
def test_the_boards_column_totals_read_the_index_alone(home: Path, fixture: str | None) -> None:
    """Each stage's open deals per currency, read before the board's first frame, on an
    upgraded desk and on a new one: from the index in its order, no rows, no temporary
    B-tree for the grouping (schema step 9, issue 17)."""
    from repdesk.reports import queries

    path = _upgraded_or_new(home, fixture)
    with closing(sqlite3.connect(path)) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN " + queries.sql_for("board_sizes", "sqlite")
        ).fetchall()
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    details = " ".join(str(row[-1]) for row in plan)
    assert "COVERING INDEX ix_deal_open_money" in details
    assert "TEMP B-TREE" not in details
    assert "ix_deal_status_stage" not in names


@pytest.mark.parametrize("fixture", ["desk-v10.sqlite", None])
def test_the_queues_rank_the_open_deals_from_the_index_alone(
    home: Path, fixture: str | None
) -> None:
    """ "No next step" and "going cold" rank every open deal by last touch, value and chance:
    on an upgraded desk and on a new one, from the index of schema step 11, no table row
    read (issue 17: half of `repdesk today`'s read)."""
    from repdesk.reports import queries

    path = _upgraded_or_new(home, fixture)
    with closing(sqlite3.connect(path)) as conn:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN " + queries.sql_for("open_deal_touches", "sqlite"),
            {"touch_cutoff": "2026-11-06 00:00:00.000000"},
        ).fetchall()
    details = " ".join(str(row[-1]) for row in plan)
    assert "SEARCH d USING COVERING INDEX ix_deal_open_touch" in details


@pytest.mark.parametrize(
    "name",
    ["closed_in_period", "won_by_day", "lost_by_reason", "lost_by_competitor", "nps_scores",
     "closed_by_source", "review_closed"],
)  # fmt: skip
def test_a_periods_closed_deals_are_found_by_their_close_date(home: Path, name: str) -> None:
    """The quota strip, the KPI pane and the review read a period's closed deals through the
    close date's index, not every won or lost deal through the status's (47 ms to 7 for the
    strip on the ten-times desk; issue 17)."""
    from repdesk.reports import queries

    path = _upgraded_or_new(home, None)
    day = "2026-11-01"
    params = dict.fromkeys(("start", "end", "as_of", "start_day"), day)
    with closing(sqlite3.connect(path)) as conn:
        plan = conn.execute("EXPLAIN QUERY PLAN " + queries.sql_for(name, "sqlite"), params)
        details = " ".join(str(row[-1]) for row in plan.fetchall())
    assert "ix_deal_closed_on (closed_on>? AND closed_on<?)" in details, details


def test_a_read_only_desk_file_is_named_not_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile test: `chmod 444 desk.sqlite` in a writable folder said "check the
    permissions of its folder"."""
    import os
    import sqlite3

    from repdesk.storage import problems

    desk = tmp_path / "desk.sqlite"
    desk.write_bytes(b"")
    refused = sqlite3.OperationalError("attempt to write a readonly database")
    # As a rep, not root (whom every permission lets write).
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != desk)
    assert problems.explain_sqlite(refused, desk).endswith(
        "the file is read-only; check its permissions"
    )
    assert problems.explain_sqlite(refused).endswith("check the permissions of its folder")
