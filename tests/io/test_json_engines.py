"""The JSON export's values and the import's checks are the same on either engine (the `engine`
fixture runs each test on a desk file and on a server), and a file the first, SQLite-only
exporter wrote still imports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from tests.io.helpers import FIXTURES, rows
from tests.shell import ok, refused

from repdesk.storage import migrations
from repdesk.storage.models import SQLModel

FIRST_EXPORTER_FILE = FIXTURES / "desk_export_sqlite_v2.json"
_SQLITE_INSTANT = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{6})")
_SQLITE_TIME = re.compile(r"(\d\d:\d\d:\d\d)\.000000")


def first_exporters_document() -> dict[str, Any]:
    return json.loads(FIRST_EXPORTER_FILE.read_text(encoding="utf-8"))


def in_todays_form(value: Any) -> Any:
    """A value of the first exporter's file as the export writes it now."""
    if isinstance(value, str) and (instant := _SQLITE_INSTANT.fullmatch(value)):
        return f"{instant[1]}T{instant[2]}Z"
    if isinstance(value, str) and (moment := _SQLITE_TIME.fullmatch(value)):
        return moment[1]
    return value


def test_a_file_from_the_first_exporter_gives_back_its_desk_byte_for_byte(home: Path) -> None:
    ok("import", FIRST_EXPORTER_FILE)
    document = first_exporters_document()
    stored = rows(home / "desk.sqlite")
    for table, exported in document["tables"].items():
        # Columns of later schemas come last, with their defaults (deal.notes since v3).
        assert [r[: len(exported[0])] if exported else r for r in stored[table]] == [
            tuple(row.values()) for row in exported
        ], table


def test_the_export_writes_the_same_values_on_either_engine(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok("import", FIRST_EXPORTER_FILE)
    exported = tmp_path / "desk.json"
    ok("export", "json", exported)
    document = json.loads(exported.read_text(encoding="utf-8"))
    first = first_exporters_document()
    assert (document["schema"], first["schema"]) == (migrations.LATEST, 2)
    assert document["exported_at"] == "2026-11-20T09:30:00.000000Z"
    for table, rows_then in first["tables"].items():
        now = [{k: in_todays_form(v) for k, v in row.items()} for row in rows_then]
        later = [
            {k: row[k] for k in then}
            for row, then in zip(document["tables"][table], now, strict=False)
        ]
        assert later == now and len(document["tables"][table]) == len(now), table
    follow_ups = document["tables"]["follow_up"]
    assert follow_ups[0]["due_time"] == "10:00:00" and follow_ups[0]["due_on"] == "2026-11-20"
    assert document["tables"]["deal"][0]["created_at"] == "2026-10-01T08:15:00.250000Z"


def test_every_problem_is_named_alike_on_either_engine_and_nothing_is_written(
    engine,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    document = first_exporters_document()
    tables = document["tables"]
    tables["stage"][1]["name"] = "Prospect"
    tables["stage"][2]["position"] = 2**40
    tables["deal"][0]["value_cents"] = "lots"
    del tables["deal"][1]["title"]
    tables["deal"][1]["first_contact"] = "1/9/2026"
    tables["deal"][2]["id"] = 1
    tables["deal"][2]["colour"] = "red"
    tables["activity"][0]["deal_id"] = 99
    tables["activity"][1]["at"] = "yesterday"
    tables["follow_up"][0]["due_time"] = "25:00"
    tables["objection"][0]["said"] = "a\x00b"
    tables["quota"][1]["amount_cents"] = None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")

    err = refused("import", bad)
    assert err.splitlines() == [
        "repdesk: nothing was imported: 14 problems",
        f"{bad}: tables.stage[1].name 'Prospect': the same as tables.stage[0]; each stage "
        "needs its own",
        f"{bad}: tables.stage[2].position 1099511627776: expected int from -2147483648 to "
        "2147483647",
        f"{bad}: tables.deal[0].value_cents 'lots': expected int",
        f"{bad}: tables.deal[1].first_contact '1/9/2026': expected a date (YYYY-MM-DD)",
        f"{bad}: tables.deal[1].title: missing; expected text",
        f"{bad}: tables.deal[2].colour: not a column of deal",
        f"{bad}: tables.deal[2].id 1: another deal has this id",
        # deal 3 became a second deal 1: its history now points at no deal
        f"{bad}: tables.stage_change[4].deal_id 3: no deal of that id in the file",
        f"{bad}: tables.stage_change[6].deal_id 3: no deal of that id in the file",
        f"{bad}: tables.activity[0].deal_id 99: no deal of that id in the file",
        f"{bad}: tables.activity[1].at 'yesterday': expected a UTC instant "
        "(YYYY-MM-DDTHH:MM:SS.ffffffZ)",
        f"{bad}: tables.follow_up[0].due_time '25:00': expected a time (HH:MM:SS) or null",
        f"{bad}: tables.objection[0].said 'a\\x00b': expected text",
        f"{bad}: tables.quota[1].amount_cents null: expected int",
    ]
    assert json.loads(ok("deal", "list", "--status", "all", "--json")) == []
    with engine.connect() as conn:  # the default pipeline the import would replace is back
        stage = SQLModel.metadata.tables["stage"]
        names = conn.execute(select(stage.c.name).order_by(stage.c.id)).scalars().all()
    assert names == [row["name"] for row in first_exporters_document()["tables"]["stage"]]

    many = first_exporters_document()
    many["tables"]["activity"] = [
        {"id": n, "deal_id": 1, "kind": "call", "at": f"day {n}"} for n in range(1, 26)
    ]
    bad.write_text(json.dumps(many), encoding="utf-8")
    lines = refused("import", bad).splitlines()
    assert lines[0] == "repdesk: nothing was imported: 25 problems"
    assert len(lines) == 22 and lines[-1] == "… and 5 more"
    ok("import", FIRST_EXPORTER_FILE)  # and the desk takes a good file after all that


def test_an_import_into_a_desk_that_had_deals_continues_after_the_ids_it_gave(
    engine,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """A desk whose deals were all deleted and its trash emptied is empty and takes a whole
    desk; the ids it gave before stay given: the import must not take its sequences back to
    the file's largest ids (a server's once went back, and deal #2 was handed out again)."""
    exported = tmp_path / "one.json"
    ok("deal", "add", "Exported")
    ok("export", "json", exported)
    ok("deal", "add", "Second")
    ok("deal", "add", "Third")
    ok("deal", "delete", "1")
    ok("deal", "delete", "2")
    ok("deal", "delete", "3")
    ok("trash", "empty")
    ok("import", exported)
    assert ok("deal", "add", "After").startswith("Added #4 After")
