"""Values in Pipedrive's deals that the desk cannot keep as they are (issue 20): a currency that
is no ISO 4217 code (Pipedrive lets a company add its own), a value that is no number. Such a
deal is named in the report and left as it is on both sides: never taken in under another
currency, never sent back over Pipedrive's, never an "unexpected error" for the whole sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.pipedrive.helpers import add_deal, point_settings_at, remote_deal, sync
from tests.pipedrive.server import TOKEN, Pipedrive
from tests.shell import ok

from repdesk.services import deals
from repdesk.storage.models import Deal
from repdesk.storage.store import make_engine, read_session, write_session
from repdesk.sync.connector import SyncError


def _titles(engine: Engine) -> set[str]:
    with read_session(engine) as session:
        return set(session.execute(select(Deal.title)).scalars())


@pytest.mark.parametrize("code", ["BTC", "USDT", "ZZZ"])
def test_a_deal_in_a_currency_the_desk_does_not_know_is_named_not_taken_as_euros(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str], code: str
) -> None:
    api, url = crm
    odd = api.add("deals", title="Token sale", value=700, currency=code)
    api.add("deals", title="Fleet rollout", value=900, currency="USD")

    report = sync(sqlite_engine, url)

    assert _titles(sqlite_engine) == {"Fleet rollout"}  # not "Token sale · €700"
    [note] = [n for n in report.notes if "Token sale" in n or str(odd["id"]) in n]
    assert f"Pipedrive deal {odd['id']} not taken in" in note and repr(code) in note


def test_a_currency_changed_in_pipedrive_to_one_the_desk_does_not_know_is_never_sent_back(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = add_deal(sqlite_engine, "Fleet rollout", value_cents=90_000)
    sync(sqlite_engine, url)
    remote_id = remote_deal(api, "Fleet rollout")["id"]
    api.change("deals", remote_id, currency="BTC")

    report = sync(sqlite_engine, url)

    assert any(f"deal #{fleet}" in n and "'BTC'" in n for n in report.notes)
    with write_session(sqlite_engine) as session:  # a later move on the desk is sent...
        deals.move_deal(session=session, deal_id=fleet, stage="Qualified")
    sync(sqlite_engine, url)
    assert remote_deal(api, "Fleet rollout")["currency"] == "BTC"  # ...without the desk's EUR


@pytest.mark.parametrize(
    "odd",
    [
        {"value": "12,5"},
        {"value": float("inf")},
        {"value": True},
        {"stage_id": "abc"},
        {"org_id": "abc"},
        {"person_id": -4},
    ],
    ids=["value-text", "value-inf", "value-bool", "stage-text", "org-text", "person-negative"],
)
def test_a_deal_with_a_field_of_the_wrong_kind_is_named_and_the_others_come_in(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str], odd: dict[str, object]
) -> None:
    api, url = crm
    broken = api.add("deals", title="Broken one")
    api.add("deals", title="Fleet rollout", value=900)
    api.objects["deals"][broken["id"]].update(odd)  # what no document allows: no contract check
    api.check = lambda *args: None  # type: ignore[method-assign]

    report = sync(sqlite_engine, url)

    assert "Fleet rollout" in _titles(sqlite_engine)
    named = [n for n in report.notes if f"Pipedrive deal {broken['id']}" in n]
    assert named or "Broken one" in _titles(sqlite_engine)  # refused with a name, or harmless


def test_days_a_desk_does_not_keep_are_named_and_the_desk_still_moves_by_json(
    home: Path, sqlite_engine: Engine, crm: tuple[Pipedrive, str], tmp_path: Path
) -> None:
    """A day before 1900 or after 9990 (a typo in the company's CRM) came in as it was, and
    the desk's JSON export, the way a desk moves, was then refused by its import."""
    api, url = crm
    odd = [
        api.add("deals", title="Old add", add_time="0001-01-01T00:00:00Z"),
        api.add("deals", title="Far close", expected_close_date="9999-12-31"),
        api.add("deals", title="Old win", status="won", won_time="1850-01-01T00:00:00Z"),
    ]
    fleet = api.add("deals", title="Fleet rollout", value=900)
    api.add(
        "activities",
        deal_id=fleet["id"],
        type="call",
        subject="Old",
        done=True,
        due_date="0001-01-01",
    )
    api.add(
        "activities",
        deal_id=fleet["id"],
        type="call",
        subject="Fine",
        done=True,
        due_date="2026-11-02",
    )
    api.add("notes", deal_id=fleet["id"], content="Old note", add_time="0001-01-01 00:00:00")

    report = sync(sqlite_engine, url)

    assert _titles(sqlite_engine) == {"Fleet rollout"}
    for deal in odd:
        assert any(f"Pipedrive deal {deal['id']} not taken in" in n for n in report.notes)
    assert any("activity" in n and "'0001-01-01'" in n for n in report.notes)
    shown = ok("deal", "show", "Fleet rollout")
    assert "Fine" in shown and "Old note" in shown and "0001" not in shown
    ok("export", "json", tmp_path / "desk.json")
    assert "Imported the desk" in ok("--home", tmp_path / "moved", "import", tmp_path / "desk.json")


def test_an_activity_on_a_deal_id_that_is_no_id_is_left_out(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = api.add("deals", title="Fleet rollout")
    api.add(
        "activities",
        deal_id=fleet["id"],
        type="call",
        subject="Kept",
        done=True,
        due_date="2026-11-02",
    )
    api.add("activities", deal_id="abc", type="call", subject="Nowhere", done=True)
    api.add("notes", deal_id="abc", content="Nowhere either")
    api.check = lambda *args: None  # type: ignore[method-assign]  # what no document allows

    sync(sqlite_engine, url)  # not "unexpected error: ValueError: invalid literal for int()"

    shown = ok("deal", "show", "Fleet rollout")
    assert "Kept" in shown and "Nowhere" not in shown


def test_a_pipeline_pipedrive_does_not_have_stops_the_first_sync(
    sqlite_engine: Engine, crm: tuple[Pipedrive, str]
) -> None:
    # It was ignored: the desk was linked to the first pipeline, and its deals sent there.
    api, url = crm
    add_deal(sqlite_engine, "Fleet rollout")
    refusal = r"pipeline = 999 is none of Pipedrive's pipelines \(ids 1\)"
    with pytest.raises(SyncError, match=refusal):
        sync(sqlite_engine, url, pipeline_id=999)
    assert api.count("deals") == 0
    sync(sqlite_engine, url, pipeline_id=1)
    assert remote_deal(api, "Fleet rollout")["pipeline_id"] == 1


def test_a_deal_with_no_currency_comes_in_in_the_desks_currency(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It came in as EUR on a USD desk, and was then left out of every figure (a hostile
    test): a deal with no currency is in the desk's, as a CSV import takes it."""
    api, url = crm
    point_settings_at(home, url)
    (home / "settings.toml").write_text(
        f'currency = "USD"\n[pipedrive]\nurl = "{url}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    api.add("deals", title="No currency", value=5000, currency=None)
    api.add("deals", title="Empty currency", value=5000, currency="")
    api.add("deals", title="In dollars", value=5000, currency="USD")
    api.check = lambda *args: None  # type: ignore[method-assign]  # null: what no document allows

    ok("sync", "pipedrive")

    engine = make_engine(home / "desk.sqlite")
    with read_session(engine) as session:
        found = dict(session.execute(select(Deal.title, Deal.currency)).all())
    engine.dispose()
    assert found == {"No currency": "USD", "Empty currency": "USD", "In dollars": "USD"}
    assert "Left out" not in ok("kpi")
    before = len(api.log)
    ok("deal", "set", "No currency", "--probability", "50")  # a change on the desk...
    ok("sync", "pipedrive")
    sent = [m for m, _ in api.log[before:] if m in ("POST", "PATCH", "PUT")]
    assert sent == []  # ...sends no currency over Pipedrive's none
