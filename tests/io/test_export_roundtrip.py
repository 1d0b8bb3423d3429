"""Export then import: CSV gives back the deals' text exactly (formula cells escaped on the way
out and unescaped on the way in); JSON gives back an identical desk, every table and id."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from tests.io.helpers import digest, rows
from tests.pinned import NOW, TODAY
from tests.shell import ok, refused

from repdesk.io.csv_export import escape_cell, unescape_cell

TRICKY = ['=HYPERLINK("http://x")', "+49 30 1234", "-5% discount", "@SUM(A1)", "'=quoted", "'plain"]


@given(st.text())
def test_unescape_undoes_escape_for_any_text(text: str) -> None:
    assert unescape_cell(escape_cell(text)) == text
    assert not escape_cell(text).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_export_csv_escapes_formulas_and_round_trips(home: Path, tmp_path: Path) -> None:
    for text in TRICKY:
        ok("deal", "add", text, "--company", f"{text} Co", "--contact", text, "--value", "1250.5",
           "--first-contact", "2026-10-01")  # fmt: skip
    ok("deal", "won", "2", "--on", "2026-11-02")
    ok("deal", "lost", "3", "--reason", "=cmd|' /C calc'!A0", "--on", "2026-11-03")
    exported = tmp_path / "deals.csv"
    assert f"Wrote {len(TRICKY)} deals" in ok("export", "csv", exported)
    with exported.open(encoding="utf-8", newline="") as handle:
        cells = [c for row in csv.reader(handle) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert '\'=HYPERLINK("http://x")' in cells and "''=quoted" in cells and "'plain" in cells
    before = json.loads(ok("deal", "list", "--status", "all", "--json"))

    other = tmp_path / "other-home"
    out = ok("--home", other, "import", exported)
    assert f"Imported {len(TRICKY)} deals" in out
    after = json.loads(ok("--home", other, "deal", "list", "--status", "all", "--json"))
    assert after == before


def test_export_json_then_import_gives_an_identical_desk(home: Path, tmp_path: Path) -> None:
    from repdesk import demo
    from repdesk.storage import store

    engine = store.make_engine(home / "desk.sqlite")
    demo.build_demo(engine, today=TODAY, now=NOW)
    engine.dispose()
    ok("quota", "set", "2026-11", "60000")
    ok("import", Path(__file__).parent / "fixtures" / "pipedrive_deals.csv")
    exported = tmp_path / "desk.json"
    assert "Wrote the whole desk" in ok("export", "json", exported)
    original = rows(home / "desk.sqlite")
    assert all(original[t] for t in ("deal", "stage_change", "activity", "follow_up", "objection"))

    fresh = tmp_path / "fresh"
    dry = ok("--home", fresh, "import", exported, "--dry-run")
    assert "Would import the desk" in dry and "Nothing was written" in dry
    assert rows(fresh / "desk.sqlite")["deal"] == []
    ok("--home", fresh, "import", exported)
    assert rows(fresh / "desk.sqlite") == original


def test_an_imported_desk_hands_out_no_id_its_trash_or_sync_links_hold(
    home: Path, tmp_path: Path
) -> None:
    """The newest deal, with the newest call and follow-up, deleted before the export: after
    the import the next deal, call and follow-up take new ids (schema step 7), as on the desk
    exported. The deal's id once went to the next new deal: the restore said "as #3", and a
    sync link left for it would have sent the new deal over the deleted one."""
    ok("deal", "add", "Kept")
    ok("deal", "add", "Deleted")
    ok("log", "call", "2", "--outcome", "connected")
    ok("follow-up", "add", "2", "tomorrow")
    ok("deal", "delete", "2")
    exported = tmp_path / "desk.json"
    ok("export", "json", exported)
    fresh = tmp_path / "fresh"
    ok("--home", fresh, "import", exported)

    assert ok("--home", fresh, "deal", "add", "New").startswith("Added #3 New")
    ok("--home", fresh, "log", "call", "3", "--outcome", "connected")
    assert ok("--home", fresh, "follow-up", "add", "3", "tomorrow").startswith("Follow-up 2 ")
    assert [row[0] for row in rows(fresh / "desk.sqlite")["activity"]] == [2]
    assert ok("--home", fresh, "trash", "restore", "1") == "Restored deal #2 Deleted\n"


def test_json_refused_on_a_desk_with_deals_and_when_malformed(home: Path, tmp_path: Path) -> None:
    ok("deal", "add", "Kept", "--value", "10")
    exported = tmp_path / "desk.json"
    ok("export", "json", exported)
    before = digest(home / "desk.sqlite")
    assert "this desk is not empty (1 deal, 0 quotas)" in refused("import", exported)
    fresh = tmp_path / "fresh"
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "repdesk-desk", "schema": 2,', encoding="utf-8")
    assert "broken.json:1: not valid JSON" in refused("--home", fresh, "import", broken)
    other = tmp_path / "other.json"
    other.write_text('{"deals": []}', encoding="utf-8")
    assert "not a repdesk JSON export" in refused("--home", fresh, "import", other)
    newer = tmp_path / "newer.json"
    newer.write_text('{"format": "repdesk-desk", "schema": 99, "tables": {}}', encoding="utf-8")
    assert "written by a newer repdesk" in refused("--home", fresh, "import", newer)
    document = json.loads(exported.read_text(encoding="utf-8"))
    document["tables"]["deal"][0]["value_cents"] = "lots"
    document["tables"]["activity"] = [{"id": 1, "deal_id": 99, "kind": "call", "at": "x"}]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    err = refused("--home", fresh, "import", bad)
    assert "tables.deal[0].value_cents 'lots': expected int\n" in err
    assert rows(fresh / "desk.sqlite")["deal"] == []
    assert "JSON export goes in as it is" in refused("import", exported, "--map", "title=x")
    assert digest(home / "desk.sqlite") == before


def _deal_count() -> int:
    return len(json.loads(ok("deal", "list", "--status", "all", "--json")))


def test_a_native_file_without_ids_is_matched_on_title_and_company(
    home: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "mydeals.csv"
    mine.write_text(
        "title,company,value,stage\n"
        "Fleet rollout,Acme,1000,Qualified\n"
        "Fleet rollout,Globex,2000,Qualified\n"
        "Pilot,,300,Demo\n"
        "Renewal,Initech,400,Proposal\n",
        encoding="utf-8",
    )
    assert "4 created, 0 updated, 0 unchanged" in ok("import", mine)
    # A second import, with the case changed and one value edited: matched, not duplicated.
    mine.write_text(
        "source_id,title,company,value,stage\n"
        ",FLEET ROLLOUT,acme,1500,Qualified\n"
        ",Fleet rollout,Globex,2000,Qualified\n"
        ",Pilot,,300,Demo\n"
        ",Renewal,Initech,400,Proposal\n",
        encoding="utf-8",
    )
    assert "0 created, 1 updated, 3 unchanged" in ok("import", mine)
    assert _deal_count() == 4
    # Title and company are the key: the same pair twice in a file without ids is refused.
    mine.write_text("title,company\nPilot,\npilot,\n", encoding="utf-8")
    err = refused("import", mine)
    assert "the deal 'pilot' at '' appears again" in err
    assert _deal_count() == 4


def test_export_csv_then_import_into_the_same_desk_keeps_every_deal(
    home: Path, tmp_path: Path
) -> None:
    ok(
        "deal",
        "add",
        "Twin",
        "--company",
        "Acme",
        "--value",
        "100",
        "--first-contact",
        "2026-10-01",
    )
    ok(
        "deal",
        "add",
        "Twin",
        "--company",
        "Acme",
        "--value",
        "200",
        "--first-contact",
        "2026-10-01",
    )
    ok("deal", "add", "Solo", "--value", "300", "--first-contact", "2026-10-01")
    ok("deal", "won", "3", "--on", "2026-11-02")
    ok("import", Path(__file__).parent / "fixtures" / "pipedrive_deals.csv")
    total = _deal_count()
    exported = tmp_path / "deals.csv"
    ok("export", "csv", exported)
    with exported.open(encoding="utf-8", newline="") as handle:
        ids = [row["source_id"] for row in csv.DictReader(handle)]
    assert ids[:3] == ["repdesk:1", "repdesk:2", "repdesk:3"]
    assert all(i.startswith("pipedrive:") for i in ids[3:])
    assert f"0 to create, 0 to update, {total} unchanged" in ok("import", exported, "--dry-run")
    text = exported.read_text(encoding="utf-8").replace("Twin,Acme,,,,200", "Twin,Acme,,,,250")
    exported.write_text(text, encoding="utf-8")
    assert f"0 created, 1 updated, {total - 1} unchanged" in ok("import", exported)
    listed = json.loads(ok("deal", "list", "--status", "all", "--json"))
    values = {d["id"]: d["value"] for d in listed}
    assert len(listed) == total and [values[1], values[2], values[3]] == [100, 250, 300]
    # Into another desk, `repdesk:N` creates the deals (never another desk's deal N) and keeps
    # the id, so importing the same file there again changes nothing.
    other = tmp_path / "other"
    ok("--home", other, "deal", "add", "Unrelated", "--company", "Acme")
    assert f"{total} created" in ok("--home", other, "import", exported)
    assert f"0 created, 0 updated, {total} unchanged" in ok("--home", other, "import", exported)


def test_what_a_killed_export_left_beside_its_file_goes_with_the_next_one(
    home: Path, tmp_path: Path
) -> None:
    """A hostile test: an export killed mid-write left `.desk.json.x1y2.partial` (4 MB) beside
    its file for good; only the desk's own folder was swept."""
    import os
    import time

    ok("deal", "add", "Fleet")
    folder = tmp_path / "exports"
    folder.mkdir()
    killed = folder / ".desk.json.abc123.partial"
    young = folder / ".desk.json.def456.partial"  # another repdesk may be writing it now
    other = folder / ".notes.txt.abc123.partial"  # not this file's
    for leftover in (killed, young, other):
        leftover.write_bytes(b"x" * 1024)
    hour_ago = time.time() - 3600
    for leftover in (killed, other):
        os.utime(leftover, (hour_ago, hour_ago))
    ok("export", "json", folder / "desk.json")
    assert not killed.exists() and young.exists() and other.exists()
