"""A desk moves between a SQLite file and a PostgreSQL server through `repdesk export json` and
`repdesk import`, and comes back identical; `export csv` writes the same file from either;
`backup` and `restore` refuse a server desk and point at pg_dump / pg_restore. These need the
test server (`scripts/pg-test-server`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.engines import every_row
from tests.io.helpers import FIXTURES, rows
from tests.pinned import NOW, TODAY
from tests.shell import ok, refused

from repdesk import demo
from repdesk.storage import store
from repdesk.storage.models import ALL_TABLES

FIRST_EXPORTER_FILE = FIXTURES / "desk_export_sqlite_v2.json"


def assert_same_desk(server: str, desk_file: Path) -> None:
    file_engine = store.make_engine(desk_file)
    server_engine = store.make_server_engine(server)
    try:
        on_file, on_server = every_row(file_engine), every_row(server_engine)
    finally:
        file_engine.dispose()
        server_engine.dispose()
    for name in ALL_TABLES:
        assert on_server[name] == on_file[name], f"table {name} differs"


def a_full_desk(home: Path) -> None:
    """The demo pipeline, a quota, imported deals with source ids, a timed and a repeating
    follow-up, an answered and resolved objection."""
    engine = store.make_engine(home / "desk.sqlite")
    demo.build_demo(engine, today=TODAY, now=NOW)
    engine.dispose()
    ok("quota", "set", "2026-11", "60000")
    ok("import", FIXTURES / "pipedrive_deals.csv")
    # Open deals: a lost one takes no follow-ups (it would show nowhere).
    first, second = (str(d["id"]) for d in json.loads(ok("deal", "list", "--json"))[:2])
    ok("log", "call", first, "--outcome", "connected", "--next", "fri 10:00")
    ok("follow-up", "add", second, "+30d", "--every", "30d", "--note", "check-in")
    ok("objection", "add", first, "--category", "price", "--said", "Too dear", "--answer", "ROI")


def test_json_takes_a_desk_file_to_a_server_and_back_unchanged(
    home: Path, tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_full_desk(home)
    original = rows(home / "desk.sqlite")
    from_file = tmp_path / "from-file.json"
    ok("export", "json", from_file)
    kpi_on_file = ok("kpi", "--period", "2026-11", "--json")

    monkeypatch.setenv("REPDESK_DATABASE_URL", server_url)
    assert "Imported the desk" in ok("import", from_file)
    assert_same_desk(server_url, home / "desk.sqlite")
    assert ok("kpi", "--period", "2026-11", "--json") == kpi_on_file
    from_server = tmp_path / "from-server.json"
    ok("export", "json", from_server)
    # Engine-neutral values: the server writes the very file the desk file wrote.
    assert from_server.read_bytes() == from_file.read_bytes()

    monkeypatch.delenv("REPDESK_DATABASE_URL")
    back = tmp_path / "back"
    ok("--home", back, "import", from_server)
    assert rows(back / "desk.sqlite") == original  # every table, as SQLite stores it

    # On the server new rows continue after the ids the import brought.
    monkeypatch.setenv("REPDESK_DATABASE_URL", server_url)
    next_deal = max(row[0] for row in original["deal"]) + 1
    assert f"Added #{next_deal} " in ok("deal", "add", "After the move")
    next_quota = max(row[0] for row in original["quota"]) + 1
    ok("quota", "set", "2026-12", "50000")
    quotas = every_row_of(server_url, "quota")
    assert [q["id"] for q in quotas if q["period"] == "2026-12"] == [next_quota]


def every_row_of(url: str, table: str) -> list[dict[str, Any]]:
    engine = store.make_server_engine(url)
    try:
        return every_row(engine)[table]
    finally:
        engine.dispose()


def test_the_first_exporters_file_gives_the_same_desk_on_a_server_as_on_a_file(
    home: Path, tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("import", FIRST_EXPORTER_FILE)
    monkeypatch.setenv("REPDESK_DATABASE_URL", server_url)
    dry = ok("import", FIRST_EXPORTER_FILE, "--dry-run")
    assert "Would import the desk" in dry and "Nothing was written" in dry
    assert every_row_of(server_url, "deal") == []
    assert len(every_row_of(server_url, "stage")) == 8  # the default pipeline, back in place
    ok("import", FIRST_EXPORTER_FILE)
    assert_same_desk(server_url, home / "desk.sqlite")
    err = refused("import", FIRST_EXPORTER_FILE)
    assert "this desk is not empty (3 deals, 2 quotas)" in err and "empty database" in err


def test_export_csv_on_a_server_desk_through_the_real_command(
    home: Path, tmp_path: Path, server_url: str
) -> None:
    ok("import", FIRST_EXPORTER_FILE)  # formula-looking titles, won, lost and open deals
    on_file = tmp_path / "file.csv"
    ok("export", "csv", on_file)
    ok("migrate-to", server_url)
    on_server = tmp_path / "server.csv"
    env = {**os.environ, "REPDESK_HOME": str(home), "REPDESK_DATABASE_URL": server_url}
    done = subprocess.run(
        [sys.executable, "-m", "repdesk", "export", "csv", str(on_server)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Wrote 3 deals to {on_server}\n"
    assert on_server.read_bytes() == on_file.read_bytes()
    assert "'=HYPERLINK" in on_server.read_text(encoding="utf-8")


def test_backup_and_restore_refuse_a_server_desk_naming_pg_dump_and_pg_restore(
    home: Path, tmp_path: Path, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok("deal", "add", "On the file", "--value", "10")
    a_backup = tmp_path / "a-backup.sqlite"
    ok("backup", a_backup)
    monkeypatch.setenv("REPDESK_DATABASE_URL", server_url)
    ok("deal", "add", "On the server", "--value", "20")
    before = json.loads(ok("deal", "list", "--json"))

    for args, tool in (((), "pg_dump"), ((tmp_path / "new.sqlite",), "pg_dump"),
                       ((a_backup,), "pg_restore")):  # fmt: skip
        command = "restore" if tool == "pg_restore" else "backup"
        err = refused(command, *args)
        assert err.count("\n") == 1, err  # one line
        assert err.startswith(f"repdesk: {command}: this desk is on a PostgreSQL server")
        assert f"{tool} " in err and "postgresql://repdesk@127.0.0.1" in err
    assert not (tmp_path / "new.sqlite").exists() and not (home / "backups").exists()
    assert json.loads(ok("deal", "list", "--json")) == before

    # A password in the URL never reaches the message; the refusal needs no server.
    monkeypatch.setenv("REPDESK_DATABASE_URL", "postgresql://rep:s3cret@db.invalid/repdesk")
    err = refused("backup")
    assert "s3cret" not in err and "'postgresql://rep:***@db.invalid/repdesk'" in err
