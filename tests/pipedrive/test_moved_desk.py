"""A linked desk that moves (`repdesk export json` then `import` into a new desk, or
`repdesk migrate-to` a server) stays linked: its links, outbox, marks and conflicts go with it,
so the next sync sends nothing twice to Pipedrive (issue 20)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.pipedrive.helpers import add_deal, remote_deal, sync
from tests.pipedrive.server import Pipedrive
from tests.shell import ok

from repdesk.services import activities, deals, followups
from repdesk.storage.store import make_engine, make_server_engine, read_session, write_session
from repdesk.sync.engine import conflicts


def a_linked_desk_with_work_waiting(desk: Engine, api: Pipedrive, url: str) -> None:
    """Two deals with a call and a follow-up in Pipedrive; then a value changed on both sides
    (a conflict to settle) and a move made on the desk that has not been sent yet."""
    fleet = add_deal(desk, "Fleet rollout", value_cents=4_000_000, company="Acme")
    pilot = add_deal(desk, "Pilot in Lyon")
    with write_session(desk) as session:
        activities.log_activity(session=session, deal_id=fleet, kind="call", outcome="connected")
        followups.add_follow_up(
            session=session, deal_id=fleet, when=(date(2026, 11, 27), None), note="Quote"
        )
    sync(desk, url)
    api.change("deals", remote_deal(api, "Fleet rollout")["id"], value=47000)
    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=fleet, value_cents=4_800_000)
        deals.move_deal(session=session, deal_id=pilot, stage="Demo")
    sync(desk, url)  # the value waits for the rep
    with write_session(desk) as session:
        deals.move_deal(session=session, deal_id=pilot, stage="Proposal")  # waits in the outbox


def assert_moved_desk_syncs_without_duplicates(moved: Engine, api: Pipedrive, url: str) -> None:
    made = api.creates
    with read_session(moved) as session:
        assert [c.field for c in conflicts(session)] == ["value"]  # still the rep's to settle
    report = sync(moved, url)
    assert api.creates == made and report.created == 0  # nothing made again
    for title in ("Fleet rollout", "Pilot in Lyon"):
        assert api.count("deals", title=title) == 1
    assert api.count("activities") == 2  # the call and the follow-up, once each
    assert remote_deal(api, "Pilot in Lyon")["stage_id"] == 105  # the waiting move went
    assert remote_deal(api, "Fleet rollout")["value"] == 47000  # the conflict still waits


def test_a_desk_exported_to_json_and_imported_elsewhere_stays_linked(
    desk: Engine,
    crm: tuple[Pipedrive, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api, url = crm
    a_linked_desk_with_work_waiting(desk, api, url)
    exported = tmp_path / "desk.json"
    assert "links to the CRM" in ok("export", "json", exported)
    monkeypatch.delenv("REPDESK_DATABASE_URL", raising=False)  # into a new desk file
    new_home = tmp_path / "new-home"
    out = ok("--home", new_home, "import", exported)
    assert "1 change waiting to sync, 1 sync conflict" in out

    moved = make_engine(new_home / "desk.sqlite")
    try:
        assert_moved_desk_syncs_without_duplicates(moved, api, url)
    finally:
        moved.dispose()


def test_a_desk_moved_to_a_server_with_migrate_to_stays_linked(
    home: Path, crm: tuple[Pipedrive, str], server_url: str
) -> None:
    api, url = crm
    desk = make_engine(home / "desk.sqlite")
    try:
        a_linked_desk_with_work_waiting(desk, api, url)
    finally:
        desk.dispose()
    out = ok("migrate-to", server_url)
    assert "sync_link" in out and "Every table's row count matches" in out

    moved = make_server_engine(server_url)
    try:
        assert_moved_desk_syncs_without_duplicates(moved, api, url)
        with write_session(moved) as session:  # new rows on the server continue the ids
            deals.create_deal(session=session, title="After the move", currency="EUR")
        sync(moved, url)
        assert api.count("deals", title="After the move") == 1
    finally:
        moved.dispose()
