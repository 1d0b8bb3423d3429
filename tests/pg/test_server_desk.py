"""A desk on a PostgreSQL server: the URL's dispatch, migrate-to, refusals, upgrades, writers
taking turns. The store and service suites also run on a server (the `engine` fixture); these
are what only a server has. They need the test server (`scripts/pg-test-server`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import select as orm_select
from tests import engines
from tests.shell import ok, run

from repdesk.storage import migrations, store


def a_day_on_the_desk() -> None:
    """Rows in every table: won, lost and open deals, timed, all-day and repeating follow-ups,
    an objection with its answer, a quota; text that looks like markup."""
    ok("deal", "add", "Fleet rollout", "--company", "Acme Logistics", "--value", "45,000",
       "--stage", "Proposal", "--expected-close", "2026-11-28",
       "--first-contact", "2026-10-01")  # fmt: skip
    ok("deal", "add", "Seats renewal", "--company", "Nordwind Bank", "--value", "12k",
       "--first-contact", "2026-09-01")  # fmt: skip
    ok(
        "deal",
        "add",
        "Pilot",
        "--company",
        "Kite & Co",
        "--value",
        "3k",
        "--first-contact",
        "2026-11-02",
    )
    ok("deal", "won", "nordwind", "--on", "2026-11-10")
    ok("deal", "lost", "kite", "--reason", "no budget", "--on", "2026-11-12")
    ok("log", "call", "acme", "--outcome", "connected", "--minutes", "15",
       "--next", "fri 10:00", "--next-note", "send [bold]revised[/] quote")  # fmt: skip
    # Scheduled before it fell due (a next step dated in the past is refused when made).
    pinned, os.environ["REPDESK_NOW"] = os.environ["REPDESK_NOW"], "2026-11-17T09:00:00Z"
    try:
        ok("follow-up", "add", "acme", "2026-11-19", "--note", "overdue all-day")
    finally:
        os.environ["REPDESK_NOW"] = pinned
    ok("follow-up", "add", "nordwind", "+30d", "--every", "30d", "--note", "check-in")
    ok("objection", "add", "acme", "--category", "price", "--said", "Too expensive",
       "--answer", "Fuel savings pay for it")  # fmt: skip
    ok("quota", "set", "2026-11", "60000")


def reports_as_json() -> list[object]:
    return [
        json.loads(ok("deal", "list", "--status", "all", "--json")),
        json.loads(ok("today", "--json")),
        json.loads(ok("kpi", "--period", "2026-11", "--json")),
        json.loads(ok("quota", "--json")),
        json.loads(ok("playbook", "price", "--json")),
    ]


def test_migrate_to_copies_every_row_and_the_desk_reads_the_same(
    home: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_day_on_the_desk()
    on_file = reports_as_json()
    ok("export", "ics", str(home / "file.ics"))

    out = ok("migrate-to", server_url)
    assert "Every table's row count matches" in out
    assert f"export REPDESK_DATABASE_URL='{server_url}'" in out
    assert "  deal " in out and "3 rows (the desk has 3)" in out

    file_engine = store.make_engine(home / "desk.sqlite")
    server_engine = store.make_server_engine(server_url)
    try:
        assert engines.every_row(server_engine) == engines.every_row(file_engine)
    finally:
        file_engine.dispose()
        server_engine.dispose()

    monkeypatch.setenv("REPDESK_DATABASE_URL", server_url)
    assert reports_as_json() == on_file
    ok("export", "ics", str(home / "server.ics"))
    assert (home / "server.ics").read_bytes() == (home / "file.ics").read_bytes()
    # The sequences go on after the copied ids: the next deal is #4, the next follow-up 4.
    assert "Added #4 " in ok("deal", "add", "After the move")
    assert "Follow-up 4 " in ok("follow-up", "add", "after the move", "tomorrow")


def test_migrate_to_hands_out_no_id_the_desk_file_had_given(
    home: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest deal, call and follow-up deleted on the file (the deal in the trash, the
    call and follow-up gone with `trash empty`): on the server the next ones take new ids, as
    on the file. The sequences once started after the largest row left, and the next deal
    took the deleted deal's id (issue 20: the sync sends the new deal over the deleted one)."""
    ok("deal", "add", "Kept")
    ok("deal", "add", "Deleted")
    ok("log", "call", "2", "--outcome", "connected")
    ok("follow-up", "add", "2", "tomorrow")
    ok("deal", "add", "Emptied")
    ok("log", "call", "3", "--outcome", "connected")
    ok("follow-up", "add", "3", "tomorrow")
    ok("deal", "delete", "3")
    ok("trash", "empty")
    trashed = ok("deal", "delete", "2").split("in the trash as ")[1].split()[0]
    ok("migrate-to", server_url)

    monkeypatch.setenv("REPDESK_DATABASE_URL", server_url)
    assert ok("deal", "add", "New").startswith("Added #4 New")
    assert ok("follow-up", "add", "4", "tomorrow").startswith("Follow-up 3 ")
    assert ok("trash", "restore", trashed) == "Restored deal #2 Deleted\n"


def test_migrate_to_refuses_a_database_that_is_not_empty(home: Path, server_url: str) -> None:
    ok("deal", "add", "Fleet rollout")
    with engines.server_connection(server_url) as conn:
        conn.execute("CREATE TABLE invoices (id serial PRIMARY KEY)")
    code, out, err = run("migrate-to", server_url)
    assert code == 1 and out == ""
    assert "is not empty: it already has tables (invoices, invoices_id_seq)" in err
    assert "createdb" in err
    with engines.server_connection(server_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    assert tables == [("invoices",)]  # nothing of repdesk's was left behind

    code, _, err = run("migrate-to", "mysql://rep:secret@db/desk")
    assert code == 2 and "URL: 'mysql://rep:***@db/desk' is not valid" in err


def test_migrate_to_a_database_that_already_holds_a_desk_says_so(
    home: Path, server_url: str
) -> None:
    ok("deal", "add", "Fleet rollout")
    ok("migrate-to", server_url)
    code, _, err = run("migrate-to", server_url)
    assert code == 1 and "it already has a repdesk desk" in err


def test_another_programs_database_is_refused_and_left_alone(
    home: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engines.server_connection(server_url) as conn:
        conn.execute("CREATE TABLE customers (id serial PRIMARY KEY, name text)")
    monkeypatch.setenv("REPDESK_DATABASE_URL", server_url)
    code, _, err = run("deal", "list")
    assert code == 1
    assert "is not a repdesk database: it already has customers" in err
    assert "Traceback" not in err
    with engines.server_connection(server_url) as conn:
        assert conn.execute("SELECT to_regclass('deal')").fetchone() == (None,)
    assert not (home / "desk.sqlite").exists()  # and the file was not used instead


def test_a_server_desk_from_a_newer_repdesk_is_refused(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.make_server_engine(server_url).dispose()
    with engines.server_connection(server_url) as conn:
        conn.execute(f"UPDATE repdesk_schema SET version = {migrations.LATEST + 1}")
    monkeypatch.setenv("REPDESK_DATABASE_URL", server_url)
    code, _, err = run("quota")
    assert code == 1 and "newer repdesk" in err and "***" not in err


def test_a_server_desk_at_schema_1_is_upgraded_in_place(server_url: str) -> None:
    with engines.server_connection(server_url) as conn, conn.transaction():
        for statement in migrations.step_sql(1, "postgresql"):
            conn.execute(statement)
        conn.execute(f"CREATE TABLE repdesk_schema AS SELECT {migrations.APPLICATION_ID}::bigint"
                     " AS application_id, 1 AS version")  # fmt: skip
        conn.execute(
            "INSERT INTO deal (title, stage_id, first_contact, stage_entered_at, created_at,"
            " updated_at) VALUES ('Old deal', 1, '2026-01-05', now(), now(), now())"
        )
        conn.execute(
            "INSERT INTO follow_up (deal_id, due_on, created_at) VALUES (1, '2026-12-01', now())"
        )
    engine = store.make_server_engine(server_url)
    engine.dispose()
    with engines.server_connection(server_url) as conn:
        assert conn.execute("SELECT version FROM repdesk_schema").fetchone() == (migrations.LATEST,)
        assert conn.execute("SELECT title, source_id FROM deal").fetchall() == [("Old deal", None)]
        assert conn.execute("SELECT recur_days FROM follow_up").fetchall() == [(None,)]
        columns = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_follow_up_deal'"
        ).fetchone()
        assert columns is not None and "(deal_id, done_at, due_on)" in columns[0]
        weekly = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_activity_at_kind'"
        ).fetchone()
        assert weekly is not None and "(at, kind)" in weekly[0]


def test_a_write_waits_for_another_writer_instead_of_failing(server_url: str) -> None:
    """The advisory lock: a read-then-write transaction waits its turn, as on SQLite."""
    from repdesk.storage.models import Quota

    engine = store.make_server_engine(server_url)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from sqlalchemy import text\n"
            "from repdesk.storage import store\n"
            f"engine = store.make_server_engine({server_url!r})\n"
            "with store.write_session(engine) as s:\n"
            "    s.execute(text(\"INSERT INTO quota (period, amount_cents) VALUES ('2026', 1)\"))\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(1.0)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with store.write_session(engine) as session:
            count = len(list(session.exec(orm_select(Quota))))  # read first: sees the holder's row
            session.add(Quota(period="2026-11", amount_cents=100 + count))
        waited = time.monotonic() - started
        assert holder.wait(timeout=10) == 0
        with store.read_session(engine) as session:
            quotas = {q.period: q.amount_cents for q in session.exec(orm_select(Quota))}
        assert quotas == {"2026": 1, "2026-11": 101}
        assert waited > 0.3  # it queued behind the holder rather than reading before it
    finally:
        holder.kill()
        engine.dispose()


def test_a_rolled_back_write_is_not_announced(server_url: str) -> None:
    engine = store.make_server_engine(server_url)
    watch = store.watch_changes(engine)
    try:
        assert watch.changed() is False  # the baseline
        with pytest.raises(RuntimeError), store.write_session(engine) as session:
            session.execute(select(1))
            raise RuntimeError("refused")
        with store.write_session(engine):
            pass
        assert wait_for_change(watch) is True
        assert watch.changed() is False  # heard once
    finally:
        watch.close()
        engine.dispose()


def wait_for_change(watch: store.ChangeWatch, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if watch.changed():
            return True
        time.sleep(0.02)
    return False


def test_an_unreachable_server_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPDESK_DATABASE_URL", "postgresql+psycopg://rep:secret@127.0.0.1:9/desk")
    for command in (["quota"], ["deal", "list"]):
        code, out, err = run(*command)
        assert code == 1 and out == ""
        assert err.startswith("repdesk: cannot reach the desk's server ")
        assert "rep:***@127.0.0.1:9/desk" in err and "secret" not in err
        assert err.count("\n") == 1


def test_the_demo_never_uses_the_server(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPDESK_DATABASE_URL", "postgresql+psycopg://rep@127.0.0.1:9/desk")
    assert "Demo desk ready" in ok("demo", "--no-open")
    assert (home / "demo" / "desk.sqlite").exists()


def test_a_sync_holds_its_own_desk_not_the_whole_database(server_url: str) -> None:
    """Two desks in one database (two schemas) sync independently; a second sync of the same
    desk is still refused. One database-wide key made the other desk's sync say "another sync
    is under way" (and the suite's server sync tests fail beside each other)."""
    one = store.make_server_engine(server_url)
    with engines.fresh_database() as other_url:
        other = store.make_server_engine(other_url)
        try:
            with store.sync_turn(one) as first:
                assert first
                with store.sync_turn(other) as beside:
                    assert beside  # another desk: its own turn
                with store.sync_turn(one) as again:
                    assert not again  # the same desk: refused while the first holds it
            with store.sync_turn(one) as after:
                assert after  # let go at the end of the block
        finally:
            other.dispose()
            one.dispose()


def test_a_write_on_one_desk_never_waits_for_another_desk_in_the_same_database(
    server_url: str,
) -> None:
    """Writers take turns per desk: a long write on another desk (another schema of the same
    database) holds nothing here. With one turn for the whole database, this write waited the
    busy timeout and failed with "the desk stayed busy"."""
    from repdesk.storage.models import Quota

    with engines.fresh_database() as other_url:
        store.make_server_engine(other_url).dispose()  # the other desk, made
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import time\n"
                "from sqlalchemy import text\n"
                "from repdesk.storage import store\n"
                f"engine = store.make_server_engine({other_url!r})\n"
                "with store.write_session(engine) as s:\n"
                '    s.execute(text("INSERT INTO quota (period, amount_cents) '
                "VALUES ('2026', 1)\"))\n"
                "    print('locked', flush=True)\n"
                "    time.sleep(60)\n",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        engine = store.make_server_engine(server_url)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            with store.write_session(engine) as session:
                session.add(Quota(period="2026-11", amount_cents=100))
            assert holder.poll() is None  # the other desk's writer still holds its turn
            with store.read_session(engine) as session:
                assert [q.period for q in session.exec(orm_select(Quota))] == ["2026-11"]
        finally:
            holder.kill()
            holder.wait()
            engine.dispose()
