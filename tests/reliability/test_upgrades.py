"""Every earlier schema upgrades to the latest with every row (issue 7, item 4).

tests/fixtures/ keeps a desk of every schema version (make_desk_vN.py builds each once). The
unit test in tests/unit/test_store.py follows v1 column by column; here every version is
upgraded and then used the way a rep would: the shell lists it and the app's board reads it.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from tests.reliability.helpers import TABLES, health, rows

from repdesk.cli import main
from repdesk.services.board import load_board
from repdesk.storage import migrations
from repdesk.storage.store import make_engine, read_session

FIXTURES = Path(__file__).parent.parent / "fixtures"
VERSIONS = range(1, migrations.LATEST + 1)


def test_every_schema_version_has_a_fixture_desk_and_a_script_that_made_it() -> None:
    for version in VERSIONS:
        fixture = FIXTURES / f"desk-v{version}.sqlite"
        assert fixture.exists(), (
            f"release step {version}: run tests/fixtures/make_desk_v{version}.py"
        )
        assert (FIXTURES / f"make_desk_v{version}.py").exists()
        assert rows(fixture, "PRAGMA user_version") == [(version,)]
        assert rows(fixture, "PRAGMA application_id") == [(migrations.APPLICATION_ID,)]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_desk_of_every_version_opens_at_the_latest_with_every_row(
    home: Path, version: int, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture = FIXTURES / f"desk-v{version}.sqlite"
    home.mkdir(parents=True)
    desk = home / "desk.sqlite"
    shutil.copy(fixture, desk)
    before = {t: rows(fixture, f"SELECT * FROM {t} ORDER BY id") for t in TABLES}
    assert before["deal"] and before["activity"] and before["follow_up"]

    make_engine(desk).dispose()

    assert rows(desk, "PRAGMA user_version") == [(migrations.LATEST,)]
    assert health(desk) == ("ok", [])
    for table, old_rows in before.items():
        after = rows(desk, f"SELECT * FROM {table} ORDER BY id")
        width = len(old_rows[0]) if old_rows else 0
        assert [row[:width] for row in after] == old_rows, table  # new columns come last
    copies = list(home.glob("desk.sqlite.pre-v*.bak"))
    if version < migrations.LATEST:
        assert len(copies) == 1 and f".pre-v{migrations.LATEST}-" in copies[0].name
        assert rows(copies[0], "PRAGMA user_version") == [(version,)]
    else:
        assert copies == []  # nothing to upgrade, nothing copied

    # Used as a rep would: the shell lists every deal, the board reads the open ones.
    assert main(["deal", "list", "--status", "all", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["title"] for d in sorted(listed, key=lambda d: d["id"])] == [
        row[1] for row in before["deal"]
    ]
    engine = make_engine(desk)
    with read_session(engine) as session:
        _, cards = load_board(session)
    engine.dispose()
    open_titles = {row[1] for row in before["deal"] if row[9] == "open"}
    assert {card.title for column in cards.values() for card in column} == open_titles


@pytest.mark.parametrize("version", VERSIONS)
def test_an_upgraded_desk_deletes_and_restores_through_its_trash(home: Path, version: int) -> None:
    from tests.shell import ok

    home.mkdir(parents=True)
    shutil.copy(FIXTURES / f"desk-v{version}.sqlite", home / "desk.sqlite")
    shown = ok("deal", "show", "1")
    deleted = ok("deal", "delete", "1")
    assert "Deleted deal #1 Fleet tracking rollout (Acme Logistics)" in deleted
    assert "Fleet tracking rollout" in ok("trash")
    trash_id = deleted.split("in the trash as ")[1].split()[0]
    ok("trash", "restore", trash_id)
    assert ok("deal", "show", "1") == shown
    if version >= 3:  # the v3 fixture's trash holds an activity deleted from deal 1
        assert "[1] activity: call 2026-11-11 on #1 Fleet tracking rollout" in ok("trash")
        ok("trash", "restore", "1")
        assert "logged twice" in ok("deal", "show", "1")


@pytest.mark.parametrize("version", [v for v in VERSIONS if v < 6])
def test_an_upgraded_desk_keeps_every_deals_people_as_records(home: Path, version: int) -> None:
    """Schema 6 moved each deal's company, contact, email and phone text into company and
    contact records: none is lost, and the deal page lists them."""
    from tests.shell import ok

    home.mkdir(parents=True)
    desk = home / "desk.sqlite"
    shutil.copy(FIXTURES / f"desk-v{version}.sqlite", desk)
    before = rows(desk, "SELECT id, company, contact, email, phone FROM deal ORDER BY id")
    make_engine(desk).dispose()
    for deal_id, company, contact, email, phone in before:
        shown = json.loads(ok("deal", "show", str(deal_id), "--json"))
        assert (shown["company"], shown["contact"], shown["email"], shown["phone"]) == (
            company, contact, email, phone,
        )  # fmt: skip
        people = shown["contacts"]
        if contact or email or phone:
            main = people[0]
            assert main["name"] == (contact or email or phone)
            assert (email in main["emails"]) if email else True
            assert (phone in main["phones"]) if phone else True
        else:
            assert people == []
        if company:
            record = (
                "SELECT c.name FROM company c JOIN deal d ON d.company_id = c.id "
                f"WHERE d.id = {deal_id}"
            )
            assert rows(desk, record) == [(company,)]
    assert "Ana Ruiz" in ok("contact", "list")
    assert "Acme Logistics" in ok("company", "list")


def test_an_older_desk_upgrades_to_forecasts_from_its_stages(home: Path) -> None:
    """Schema 5 (issue 21): every deal of an older desk starts with no call of the rep's, no
    probability of its own, no competitor, no score, and empty histories; its forecast is its
    stage's default, and the new columns take writes at once."""
    from repdesk.core.dates import parse_period
    from repdesk.core.money import Conversion
    from repdesk.reports import figures
    from repdesk.services import forecast
    from repdesk.storage.store import write_session

    home.mkdir(parents=True)
    desk = home / "desk.sqlite"
    shutil.copy(FIXTURES / "desk-v4.sqlite", desk)  # the version before schema 5
    engine = make_engine(desk)
    try:
        assert (
            rows(desk, "SELECT forecast, probability, competitor, nps FROM deal")
            == [(None, None, "", None)] * 4
        )
        for table in ("close_date_change", "forecast_change", "commitment", "weekly_review"):
            assert rows(desk, f"SELECT count(*) FROM {table}") == [(0,)], table
        with read_session(engine) as session:
            december = figures.kpi_report(
                session, period=parse_period("2026-12"), as_of=date(2026, 11, 20),
                conversion=Conversion("EUR"),
            )  # fmt: skip
        # Deal 1, in Proposal (55%), expected 2026-12-15: best case; deal 4 (USD) has no rate.
        assert december.categories.best_case == 4_500_000
        assert december.categories.commit == 0 and december.left_out_deals == 1
        with write_session(engine) as session:
            forecast.set_forecast(session=session, deal_id=1, category="commit")
        assert rows(desk, "SELECT from_category, to_category FROM forecast_change") == [
            ("best_case", "commit")
        ]
    finally:
        engine.dispose()


def test_an_upgrade_hands_out_no_id_a_deleted_or_linked_deal_had(home: Path) -> None:
    """A v6 desk whose newest deals were deleted (one waits in the trash, one only in its CRM
    link, its deletion not sent yet): once upgraded, the next deal, call and follow-up take
    ids none of them ever had (the sync would otherwise take the new deal for the old one)."""
    import sqlite3

    from tests.shell import ok

    home.mkdir(parents=True)
    desk = home / "desk.sqlite"
    shutil.copy(FIXTURES / "desk-v6.sqlite", desk)
    with sqlite3.connect(desk) as conn:
        (largest,) = conn.execute("SELECT MAX(id) FROM deal").fetchone()
        conn.execute(
            "INSERT INTO trash (kind, item_id, deal_id, label, payload, deleted_at) "
            "VALUES ('deal', ?, ?, 'gone', '{}', '2026-11-20 09:00:00.000000')",
            (largest + 7, largest + 7),
        )
        conn.execute(
            "INSERT INTO sync_link (kind, local_id, remote_type, remote_id, base, synced_at) "
            "VALUES ('deal', ?, 'deal', 991, '{}', '2026-11-20 09:00:00.000000'), "
            "('activity', 50, 'activity', 992, '{}', '2026-11-20 09:00:00.000000')",
            (largest + 9,),
        )
    conn.close()

    added = ok("deal", "add", "After the upgrade")
    assert added.startswith(f"Added #{largest + 10} After the upgrade"), added
    ok("log", "call", str(largest + 10), "--note", "first call")
    assert rows(desk, "SELECT MAX(id) FROM activity") == [(51,)]
    # and from now on a deleted newest deal lends its id to no one
    ok("deal", "delete", str(largest + 10))
    assert ok("deal", "add", "Next").startswith(f"Added #{largest + 11} Next")


def test_an_upgrade_hands_out_no_id_a_deleted_deals_calls_and_follow_ups_had(home: Path) -> None:
    """A v6 desk whose newest call and follow-up went to the trash with their deal (held in the
    deal's entry, not as entries of their own): once upgraded, the next call and follow-up take
    ids they never had (a restore gave the deleted ones new ids, and a calendar the follow-up's
    UID). A payload edited into something else (not JSON, not rows, an id that is no whole
    number) is passed over, not a failed upgrade."""
    import sqlite3

    from tests.shell import ok

    home.mkdir(parents=True)
    desk = home / "desk.sqlite"
    shutil.copy(FIXTURES / "desk-v6.sqlite", desk)
    with sqlite3.connect(desk) as conn:
        (largest,) = conn.execute("SELECT MAX(id) FROM deal").fetchone()
        gone = largest + 1
        held = {
            "_deal": {"id": gone, "created_at": "2026-09-01T08:00:00.000000Z"},
            "deal": [{"id": gone}],
            "activity": [{"id": 70}, 5, "x", {"id": "99"}, {"id": 1e300}],
            "follow_up": [{"id": 80}],
        }
        conn.executemany(
            "INSERT INTO trash (kind, item_id, deal_id, label, payload, deleted_at) "
            "VALUES ('deal', ?, ?, 'gone', ?, '2026-11-20 09:00:00.000000')",
            [(gone, gone, json.dumps(held)), (gone + 1, gone + 1, "{not json")],
        )
    conn.close()

    assert ok("deal", "add", "After").startswith(f"Added #{gone + 2} After")
    ok("log", "call", str(gone + 2), "--note", "first call")
    assert rows(desk, "SELECT MAX(id) FROM activity") == [(71,)]
    assert ok("follow-up", "add", str(gone + 2), "tomorrow").startswith("Follow-up 81 ")
