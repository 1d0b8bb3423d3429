"""Two-way sync with Pipedrive (issue 20), against a stand-in server on 127.0.0.1 that checks
every exchange with Pipedrive's OpenAPI documents (tests/pipedrive/server.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from tests.engines import every_row
from tests.pipedrive.helpers import Waits, add_deal, get, point_settings_at, remote_deal, sync
from tests.pipedrive.server import ME, TOKEN, Pipedrive
from tests.shell import ok, refused

from repdesk.services import activities, deals, followups, trash
from repdesk.storage.models import Activity, Deal, FollowUp, SyncOutbox
from repdesk.storage.store import make_engine, read_session, write_session
from repdesk.sync.connector import SyncError
from repdesk.sync.engine import conflicts, settle
from repdesk.sync.pipedrive import PipedriveClient

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_first_sync_links_imported_deals_takes_in_new_ones_and_sends_the_rest(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    acme = api.add("organizations", name="Acme GmbH")
    ana = api.add(
        "persons",
        name="Ana Ruiz",
        emails=[{"value": "ana@acme.example", "primary": True, "label": "work"}],
    )
    imported = api.add(
        "deals", title="Fleet rollout v2", value=45000, org_id=acme["id"], stage_id=103
    )
    new_there = api.add(
        "deals", title="Seats renewal", value=1200, person_id=ana["id"], org_id=acme["id"]
    )
    api.add("deals", title="Someone else's deal", owner_id=99)
    local = add_deal(desk, "Fleet rollout", value_cents=4_000_000)
    with write_session(desk) as session:
        session.get(Deal, local).source_id = f"pipedrive:{imported['id']}"  # type: ignore[union-attr]
    only_here = add_deal(desk, "Pilot in Lyon", company="Lyon SA", value_cents=300_000)

    report = sync(desk, url)

    assert report.linked == 1
    fleet = get(desk, Deal, local)
    assert (fleet.title, fleet.value_cents) == ("Fleet rollout v2", 4_500_000)  # Pipedrive's
    assert fleet.company == "Acme GmbH" and fleet.stage_id == 3  # Qualified <- 103
    with read_session(desk) as session:
        renewal = session.execute(select(Deal).where(Deal.title == "Seats renewal")).scalar_one()
        titles = set(session.execute(select(Deal.title)).scalars())
    assert (renewal.contact, renewal.email, renewal.company) == (
        "Ana Ruiz",
        "ana@acme.example",
        "Acme GmbH",
    )
    assert renewal.source_id == f"pipedrive:{new_there['id']}"
    assert "Someone else's deal" not in titles  # only the rep's own deals by default
    lyon = remote_deal(api, "Pilot in Lyon")
    assert lyon["value"] == 3000 and lyon["owner_id"] == ME and lyon["stage_id"] == 101
    assert api.objects["organizations"][lyon["org_id"]]["name"] == "Lyon SA"
    assert get(desk, Deal, only_here) is not None
    ok("sync", "status")  # and a second sync sends nothing new
    before = api.creates
    sync(desk, url)
    assert api.creates == before


def linked_desk(desk: Engine, url: str) -> int:
    deal_id = add_deal(desk, "Fleet rollout", value_cents=4_000_000, company="Acme")
    sync(desk, url)
    return deal_id


def test_calls_moves_wins_losses_and_follow_ups_reach_pipedrive(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = linked_desk(desk, url)
    other = add_deal(desk, "Pilot")
    with write_session(desk) as session:
        activities.log_activity(
            session=session,
            deal_id=fleet,
            kind="call",
            outcome="connected",
            minutes=20,
            text="Wants a discount",
        )
        activities.log_activity(session=session, deal_id=fleet, kind="note", text="Met the CFO")
        deals.move_deal(session=session, deal_id=fleet, stage="Demo")
        followups.add_follow_up(
            session=session,
            deal_id=fleet,
            when=(date(2026, 11, 24), None),
            note="Send the contract",
        )
        deals.lose_deal(session=session, deal_id=other, reason="price")

    sync(desk, url)

    deal = remote_deal(api, "Fleet rollout")
    assert deal["stage_id"] == 104  # Demo -> Demo Scheduled
    calls = [a for a in api.objects["activities"].values() if a.get("type") == "call"]
    assert [(c["subject"], c["note"], c["duration"], c["done"], c["deal_id"]) for c in calls] == [
        ("connected", "Wants a discount", "00:20", True, deal["id"])
    ]
    tasks = [a for a in api.objects["activities"].values() if a.get("type") == "task"]
    assert [(t["subject"], t["due_date"], t["done"]) for t in tasks] == [
        ("Send the contract", "2026-11-24", False)
    ]
    assert [n["content"] for n in api.objects["notes"].values()] == ["Met the CFO"]
    pilot = remote_deal(api, "Pilot")
    assert (pilot["status"], pilot["lost_reason"]) == ("lost", "price")
    assert pilot["lost_time"].startswith("2026-11-20")

    with write_session(desk) as session:
        deals.win_deal(session=session, deal_id=fleet)
        task = session.execute(select(FollowUp)).scalar_one()
        followups.complete_follow_up(session=session, follow_up_id=task.id, outcome="sent")
    sync(desk, url)
    assert remote_deal(api, "Fleet rollout")["status"] == "won"
    assert [t["done"] for t in api.objects["activities"].values() if t["type"] == "task"] == [True]
    with read_session(desk) as session:
        assert session.execute(select(func.count()).select_from(SyncOutbox)).scalar_one() == 0


def test_changes_made_in_pipedrive_come_to_the_desk(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = linked_desk(desk, url)
    remote = remote_deal(api, "Fleet rollout")
    api.change("deals", remote["id"], value=52000, stage_id=105, expected_close_date="2026-12-20")
    api.add(
        "activities",
        type="meeting",
        subject="Demo to the board",
        done=True,
        deal_id=remote["id"],
        due_date="2026-11-19",
        due_time="10:00",
        duration="01:00",
    )

    report = sync(desk, url)

    deal = get(desk, Deal, fleet)
    assert (deal.value_cents, deal.stage_id, deal.expected_close) == (
        5_200_000,
        5,
        date(2026, 12, 20),
    )
    with read_session(desk) as session:
        history = deals.history(session=session, deal_id=fleet)
        meeting = session.execute(select(Activity).where(Activity.kind == "meeting")).scalar_one()
    assert history[-1].to_stage == "Proposal"  # the move is in the stage history
    assert (meeting.outcome, meeting.minutes) == ("Demo to the board", 60)
    assert report.taken_changed >= 1 and report.taken_new == 1
    before = len(api.log)
    sync(desk, url)  # nothing echoed back: what came from Pipedrive is not sent to it
    assert not [m for m, _ in api.log[before:] if m in ("POST", "PATCH", "PUT")]


def test_a_value_changed_on_both_sides_waits_for_the_rep(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = linked_desk(desk, url)
    remote = remote_deal(api, "Fleet rollout")
    api.change("deals", remote["id"], value=47000)
    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=fleet, value_cents=4_800_000, title="Fleet 2027")

    report = sync(desk, url)

    assert report.conflicts == 1
    assert get(desk, Deal, fleet).value_cents == 4_800_000  # nothing overwritten silently
    assert remote_deal(api, "Fleet 2027")["value"] == 47000  # the title went, the value waits
    with read_session(desk) as session:
        [conflict] = conflicts(session)
    assert (conflict.field, conflict.desk, conflict.remote) == ("value", 48000.0, 47000.0)
    assert "deal #1 Fleet 2027: value: desk 48,000 · Pipedrive 47,000" in ok("sync", "conflicts")

    settle(desk, conflict.id, "pipedrive")
    assert get(desk, Deal, fleet).value_cents == 4_700_000
    sync(desk, url)
    assert remote_deal(api, "Fleet 2027")["value"] == 47000
    assert "No conflicts" in ok("sync", "conflicts")


def test_desk_side_of_a_conflict_is_sent_when_the_rep_keeps_it(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = linked_desk(desk, url)
    api.change("deals", remote_deal(api, "Fleet rollout")["id"], value=47000)
    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=fleet, value_cents=4_800_000)
    sync(desk, url)
    with read_session(desk) as session:
        [conflict] = conflicts(session)
    out = ok("sync", "settle", str(conflict.id), "desk")
    assert "Kept the desk's 48,000 for deal #1 Fleet rollout: value (sent at the next sync)" in out
    sync(desk, url)
    assert remote_deal(api, "Fleet rollout")["value"] == 48000


def test_a_loss_on_the_desk_sends_no_reason_to_a_deal_pipedrive_has_won(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """The status waits as a conflict; its lost reason once went alone, onto the won deal in
    Pipedrive, and stayed there whichever side the rep kept (found by an audit)."""
    api, url = crm
    fleet = linked_desk(desk, url)
    api.change("deals", remote_deal(api, "Fleet rollout")["id"], status="won")
    with write_session(desk) as session:
        deals.lose_deal(session=session, deal_id=fleet, reason="budget")
    report = sync(desk, url)
    assert report.conflicts == 1
    remote = remote_deal(api, "Fleet rollout")
    assert remote["status"] == "won" and not remote.get("lost_reason")
    with read_session(desk) as session:
        [conflict] = conflicts(session)
    settle(desk, conflict.id, "desk")
    sync(desk, url)
    remote = remote_deal(api, "Fleet rollout")
    assert (remote["status"], remote["lost_reason"]) == ("lost", "budget")


def test_free_text_changed_on_both_sides_keeps_both(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = linked_desk(desk, url)
    with write_session(desk) as session:
        call, _ = activities.log_activity(
            session=session, deal_id=fleet, kind="call", outcome="connected", text="Budget in Q1"
        )
    sync(desk, url)
    [remote_call] = api.objects["activities"].values()
    api.change("activities", remote_call["id"], note="Budget in Q1, CFO signs")
    with write_session(desk) as session:
        activities.edit_activity(session=session, activity_id=call.id, text="Budget moved to Q2")

    report = sync(desk, url)

    text = get(desk, Activity, call.id).text
    assert "Budget moved to Q2" in text and "Budget in Q1, CFO signs" in text
    assert report.kept_both == 1 and report.conflicts == 0
    assert api.objects["activities"][remote_call["id"]]["note"] == text  # both, there too


def test_a_429_storm_is_waited_out_as_the_server_asks(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    add_deal(desk, "Fleet rollout")
    api.fail(429, times=3, headers={"Retry-After": "7"})
    waits = Waits()

    sync(desk, url, waits)

    assert waits.seconds[:3] == [7.0, 7.0, 7.0]
    remote_deal(api, "Fleet rollout")


def test_an_empty_rate_limit_window_slows_the_client_down(crm: tuple[Pipedrive, str]) -> None:
    api, url = crm
    waits = Waits()
    client = PipedriveClient(url, TOKEN, sleep=waits)
    api.fail(429, times=1, headers={"x-ratelimit-reset": "3"})
    assert client.whoami() == ME
    client.close()
    assert waits.seconds == [3.0]


def test_a_500_in_the_middle_of_the_pages_is_retried_and_all_1200_deals_arrive(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    for number in range(1200):
        api.add("deals", title=f"Deal {number:04d}", value=number)
    api.fail(
        500,
        times=1,
        when=lambda method, path: (
            method == "GET"
            and path.endswith("/deals")
            and len([p for m, p in api.log if p.endswith("/deals")]) > 2
        ),
    )
    waits = Waits()

    report = sync(desk, url, waits)

    assert report.taken_new == 1200
    with read_session(desk) as session:
        assert session.execute(select(func.count()).select_from(Deal)).scalar_one() == 1200
    pages = [p for m, p in api.log if m == "GET" and p.endswith("/api/v2/deals")]
    assert len(pages) >= 4  # three pages of 500 at most, one of them asked twice
    assert waits.seconds  # the 500 was waited out, then retried


def test_a_create_whose_answer_is_lost_is_found_not_made_twice(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """A 502 or a timeout after Pipedrive made the object: sent again as it was, it was made
    twice, and the copy came back to the desk as a second deal (found by an audit)."""
    api, url = crm
    deal_id = add_deal(desk, "Timeout deal", value_cents=12_300, company="Acme")
    api.bad_gateway_after_create = 2  # the organization and the deal are made; both 502
    report = sync(desk, url)
    assert api.count("deals", title="Timeout deal") == 1
    assert api.count("organizations", name="Acme") == 1
    assert any("did not answer its create but had made it" in n for n in report.notes)
    with write_session(desk) as session:
        activities.log_activity(session=session, deal_id=deal_id, kind="call", text="gateway")
    api.bad_gateway_after_create = 1
    sync(desk, url)
    assert len([a for a in api.objects["activities"].values() if "gateway" in str(a)]) == 1
    sync(desk, url)
    with read_session(desk) as session:
        assert session.execute(select(func.count()).select_from(Deal)).scalar_one() == 1
    assert len([a for a in api.objects["activities"].values() if "gateway" in str(a)]) == 1


def test_a_create_pipedrive_never_made_stops_the_sync_and_is_sent_once_by_the_next(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    add_deal(desk, "Never made")
    api.fail(503, times=1, when=lambda method, path: method == "POST")
    with pytest.raises(SyncError, match="did not answer the create"):
        sync(desk, url)
    assert api.count("deals", title="Never made") == 0
    sync(desk, url)
    assert api.count("deals", title="Never made") == 1


def test_a_forgotten_stage_mapping_is_made_again_and_a_new_stage_gets_one(
    home: Path, desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `sync stages --reset` on a linked desk the mapping was never made again: moves
    went nowhere and Pipedrive's came in as conflicts (found by an audit)."""
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    fleet = linked_desk(desk, url)
    assert "Qualified -> Qualified (103)" in ok("sync", "stages")
    assert "asks for it again" in ok("sync", "stages", "--reset")
    assert "1 desk stage" not in ok("sync", "pipedrive")  # all six, matched again
    assert "Qualified -> Qualified (103)" in ok("sync", "stages")
    ok("deal", "move", str(fleet), "Qualified")
    ok("sync", "pipedrive")
    assert remote_deal(api, "Fleet rollout")["stage_id"] == 103
    # A stage of Pipedrive's no desk stage stands for yet (two never share one).
    api.stages.append({**api.stages[-1], "id": 107, "order_nr": 7, "name": "Trial"})
    ok("stage", "add", "Trial", "--after", "Qualified", "--probability", "45")
    assert "1 desk stage matched" in ok("sync", "pipedrive")
    assert "Trial -> Trial (107)" in ok("sync", "stages")
    assert ok("sync", "conflicts").startswith("No conflicts")


def test_a_revoked_token_is_one_line_and_loses_nothing(
    home: Path, desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _api, url = crm
    point_settings_at(home, url)
    ok("deal", "add", "Fleet rollout")
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", "revoked-token")

    err = refused("sync", "pipedrive")

    assert err.count("\n") == 1 and "refused the API token" in err
    assert "revoked-token" not in err
    assert "last sync failed just now: Pipedrive refused the API token" in ok("sync", "status")
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    assert "sent 1 new" in ok("sync", "pipedrive")
    assert "synced just now" in ok("sync", "status")
    settings = (home / "settings.toml").read_text(encoding="utf-8")
    assert TOKEN not in settings and TOKEN not in repr(every_row(desk))


def test_a_missing_scope_is_one_line(desk: Engine, crm: tuple[Pipedrive, str]) -> None:
    api, url = crm
    add_deal(desk, "Fleet rollout")
    api.fail(403, times=1, when=lambda method, path: method == "POST")
    with pytest.raises(Exception, match="lacks the permission") as raised:
        sync(desk, url)
    assert "\n" not in str(raised.value)
    sync(desk, url)  # the next run sends it, once
    remote_deal(api, "Fleet rollout")


def test_a_deal_deleted_on_each_side(desk: Engine, crm: tuple[Pipedrive, str]) -> None:
    api, url = crm
    gone_there = add_deal(desk, "Deleted in Pipedrive")
    gone_here = add_deal(desk, "Deleted on the desk")
    sync(desk, url)
    api.remove_deal(remote_deal(api, "Deleted in Pipedrive")["id"])
    with write_session(desk) as session:
        trash.delete_item(session=session, kind="deal", item_id=gone_here)

    report = sync(desk, url)

    assert get(desk, Deal, gone_there) is None and report.trashed == 1
    with read_session(desk) as session:
        labels = [item.label for item in trash.list_trash(session=session)]
    assert any("deleted in Pipedrive" in label for label in labels)  # restorable 30 days
    assert api.count("deals", title="Deleted on the desk") == 0
    assert report.deleted == 1


def test_two_hundred_offline_writes_go_in_one_sync(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = linked_desk(desk, url)
    with write_session(desk) as session:
        for number in range(100):
            add = deals.create_deal(session=session, title=f"Lead {number}", currency="EUR")
            activities.log_activity(
                session=session,
                deal_id=add.id,
                kind="call",  # type: ignore[arg-type]
                outcome="no answer",
            )
    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=fleet, value_cents=9_900_000)

    report = sync(desk, url)

    assert report.created == 200 and report.updated == 1
    assert api.count("deals") == 101 and api.count("activities") == 100


def test_killed_in_the_middle_of_a_push_then_run_again_sends_nothing_twice(
    home: Path, desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    point_settings_at(home, url)
    env = {**os.environ, "REPDESK_PIPEDRIVE_TOKEN": TOKEN}
    for title in ("One", "Two", "Three"):
        ok("deal", "add", title)
    api.hang_on_create = 2  # "Two" is made in Pipedrive; the answer never comes back
    process = subprocess.Popen(
        [sys.executable, "-m", "repdesk", "sync", "pipedrive"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert api.hanging.wait(60), process.communicate(timeout=5)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    api.release.set()
    api.hang_on_create = None
    assert api.count("deals", title="Two") == 1
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)

    out = ok("sync", "pipedrive")

    assert "found in Pipedrive from an interrupted sync" in out
    for title in ("One", "Two", "Three"):
        assert api.count("deals", title=title) == 1, title
    assert "0 new" in ok("sync", "pipedrive")


def test_a_v3_desk_upgrades_and_syncs(home: Path, crm: tuple[Pipedrive, str]) -> None:
    api, url = crm
    home.mkdir(parents=True, exist_ok=True)
    desk_path = home / "desk.sqlite"
    shutil.copy(FIXTURES / "desk-v3.sqlite", desk_path)
    engine = make_engine(desk_path)  # upgrades v3 -> v4 (the sync's tables)
    try:
        with read_session(engine) as session:
            before = session.execute(select(func.count()).select_from(Deal)).scalar_one()
            assert session.execute(select(func.count()).select_from(SyncOutbox)).scalar_one() == 0
        report = sync(engine, url)
        assert report.created >= before  # every deal of the old desk, and its activities
        assert api.count("deals", title="[bold]Markup[/] in a title [") == 1
        with write_session(engine) as session:
            deals.move_deal(session=session, deal_id=1, stage="Negotiation")
        with read_session(engine) as session:  # linked now: the write left an outbox entry
            assert session.execute(select(func.count()).select_from(SyncOutbox)).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_desk_never_linked_keeps_no_outbox(desk: Engine) -> None:
    fleet = add_deal(desk, "Fleet rollout")
    with write_session(desk) as session:
        deals.move_deal(session=session, deal_id=fleet, stage="Demo")
    with read_session(desk) as session:
        assert session.execute(select(func.count()).select_from(SyncOutbox)).scalar_one() == 0


def test_a_change_the_desk_refuses_is_named_and_the_others_of_its_page_come_in(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = linked_desk(desk, url)
    pilot = add_deal(desk, "Pilot")
    sync(desk, url)
    # Expected to close before the deal's first contact (today): the desk refuses it.
    api.change("deals", remote_deal(api, "Fleet rollout")["id"], expected_close_date="2020-01-31")
    api.change("deals", remote_deal(api, "Pilot")["id"], value=900, stage_id=103)

    report = sync(desk, url)

    assert any(f"deal #{fleet}: Pipedrive's change not taken in" in n for n in report.notes)
    assert get(desk, Deal, fleet).expected_close is None
    assert (get(desk, Deal, pilot).value_cents, get(desk, Deal, pilot).stage_id) == (90_000, 3)
    assert report.taken_changed == 1
    again = sync(desk, url)  # named again; Pipedrive's value is not overwritten by the desk's
    assert any(f"deal #{fleet}: Pipedrive's change not taken in" in n for n in again.notes)
    assert remote_deal(api, "Fleet rollout")["expected_close_date"] == "2020-01-31"


def test_deals_of_one_company_share_its_organization_in_pipedrive(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    known = api.add("organizations", name="Lyon SA")
    api.add("deals", title="Earlier deal", org_id=known["id"])
    for title in ("Fleet rollout", "Fleet pilot", "Fleet support"):
        add_deal(desk, title, company="Acme GmbH", contact="Ana Ruiz", email="ana@acme.example")
    add_deal(desk, "Lyon expansion", company="Lyon SA")

    sync(desk, url)

    names = sorted(o["name"] for o in api.objects["organizations"].values())
    assert names == ["Acme GmbH", "Lyon SA"]  # not one Acme a deal, not a second Lyon
    assert [p["name"] for p in api.objects["persons"].values()] == ["Ana Ruiz"]
    assert remote_deal(api, "Lyon expansion")["org_id"] == known["id"]


def test_offline_is_one_line_at_once_not_a_minute_of_retries(desk: Engine) -> None:
    from tests.pipedrive.server import start

    server, _api, url = start()
    server.shutdown()
    server.server_close()  # nothing listens there: as with no network
    waits = Waits()
    with pytest.raises(Exception, match=r"cannot be reached at 127\.0\.0\.1 \(offline\?\)"):
        sync(desk, url, waits)
    assert waits.seconds == []  # said at once


def test_the_demo_desk_never_syncs_from_the_shell(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from repdesk import demo
    from repdesk.core import clock
    from repdesk.storage.paths import Home

    api, url = crm
    demo_home = Home(home, home).demo
    demo.ensure_built(demo_home, today=clock.today(), now=clock.now())
    point_settings_at(demo_home.data_dir, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    err = refused("--home", demo_home.data_dir, "sync", "pipedrive")
    assert "the demo desk does not sync" in err
    assert api.log == []


def test_a_deal_deleted_on_the_desk_lends_its_id_to_no_new_deal(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """SQLite once gave the next deal the id of a deleted newest one: the sync found the old
    deal's link on that id and sent the new deal over the deleted one in Pipedrive."""
    api, url = crm
    add_deal(desk, "Kept")
    gone = add_deal(desk, "Deleted on the desk")  # the newest: the largest id
    sync(desk, url)
    with write_session(desk) as session:
        trash.delete_item(session=session, kind="deal", item_id=gone)

    added = add_deal(desk, "Added after")
    sync(desk, url)

    assert added != gone
    assert api.count("deals", title="Deleted on the desk") == 0
    assert api.count("deals", title="Added after") == 1
    assert api.count("deals", title="Kept") == 1


def test_an_imported_pipedrive_id_that_is_no_number_is_sent_as_a_new_deal(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """A CSV's id column holding '²' made a source id `pipedrive:²`: '²'.isdigit() is true and
    int('²') ended the first sync with "unexpected error"."""
    api, url = crm
    deal_id = add_deal(desk, "Odd id")
    with write_session(desk) as session:
        deal = session.get(Deal, deal_id)
        assert deal is not None
        deal.source_id = "pipedrive:²"
        session.add(deal)

    sync(desk, url)

    assert remote_deal(api, "Odd id")["value"] == 0
