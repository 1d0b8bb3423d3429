"""A second hostile test of the merge sync, each finding a test that failed before its fix:
a note moved there taken for a deleted one by the daily sweep, a merge made there seen as a
deletion, a merge answered 404 with both deals there, rows Pipedrive deleted with a deal
coming back, conflicts left behind, a second organization, a dry run that saw no deletion.
What held up (runs killed at each new step) is kept too, and what a review of the diff
found after them (the last four)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.pinned import NOW
from tests.pipedrive.helpers import (
    TOKEN,
    Waits,
    add_deal,
    get,
    point_settings_at,
    remote_deal,
    sync,
)
from tests.pipedrive.server import Pipedrive
from tests.pipedrive.test_merge_races import _at, _live, _merge, _trash_labels
from tests.pipedrive.test_merges import _busy_deal, _on_deal, _on_desk, _synced_pair, _writes
from tests.pipedrive.test_pulls import notes_on
from tests.shell import ok

from repdesk.services import activities, deals
from repdesk.storage.models import Activity, Deal, SyncLink
from repdesk.storage.store import read_session, write_session
from repdesk.sync.engine import Sync, conflicts
from repdesk.sync.pipedrive import PipedriveClient


class Killed(BaseException):
    """The process dies here (SIGKILL, as a test can have it)."""


def _run_with(desk: Engine, client: PipedriveClient) -> None:
    try:
        Sync(desk, client).run()
    finally:
        client.close()


def _next_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(days=1)).isoformat())


def _orgs(api: Pipedrive) -> list[str]:
    return sorted(o["name"] for o in api.objects["organizations"].values())


def test_a_colleagues_note_moved_there_moves_and_is_no_deleted_note(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    fleet, pilot = add_deal(desk, "Fleet"), add_deal(desk, "Pilot")
    sync(desk, url)
    fleet_there, pilot_there = remote_deal(api, "Fleet")["id"], remote_deal(api, "Pilot")["id"]
    note = api.add("notes", deal_id=fleet_there, content="hers", user_id=99)
    sync(desk, url)
    _next_day(monkeypatch)  # the daily sweep for deleted notes runs
    api.change("notes", note["id"], deal_id=pilot_there)

    report = sync(desk, url)

    assert (notes_on(desk, fleet), notes_on(desk, pilot)) == ([], ["hers"])
    assert report.trashed == 0 and not _trash_labels(desk)
    assert len(api.objects["notes"]) == 1


def test_a_call_logged_since_follows_a_merge_made_there_on_the_first_sync_of_a_day(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merged-away deal's only synced row is a colleague's note."""
    api, url = crm
    keep, gone = add_deal(desk, "Fleet"), add_deal(desk, "Fleet copy")
    sync(desk, url)
    keep_there, gone_there = remote_deal(api, "Fleet")["id"], remote_deal(api, "Fleet copy")["id"]
    api.add("notes", deal_id=gone_there, content="hers", user_id=99)
    sync(desk, url)
    with write_session(desk) as session:
        activities.log_activity(
            session=session, deal_id=gone, kind="call", outcome="fresh call", minutes=4
        )
    _next_day(monkeypatch)
    api.merge(gone_there, keep_there)

    sync(desk, url)

    with read_session(desk) as session:
        on_keep = [
            a.outcome or a.text
            for a in session.execute(select(Activity).where(Activity.deal_id == keep)).scalars()
        ]
    assert sorted(on_keep) == ["fresh call", "hers"]
    assert [label for label in _trash_labels(desk) if "merged into" in label]
    assert sorted(_on_deal(api, keep_there)) == ["fresh call", "hers"]


def test_a_merge_answered_404_with_both_deals_there_is_asked_again(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    keep_there = remote_deal(api, "Fleet")["id"]
    _merge(desk, keep=keep, gone=gone)
    api.fail(404, times=1, when=lambda m, p: p.endswith("/merge"))  # a proxy's blip

    _at(monkeypatch, 10)
    report = sync(desk, url)
    _at(monkeypatch, 20)
    sync(desk, url)

    assert any("asked again" in note for note in report.notes)
    live = sorted(d["title"] for d in api.objects["deals"].values() if not d["is_deleted"])
    assert live == ["Fleet"]  # one deal there, as on the desk
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)


@pytest.mark.parametrize("listed", [False, True], ids=["left-out", "listed"])
def test_rows_pipedrive_deleted_with_a_deal_stay_deleted_when_one_was_moved_first(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch, listed: bool
) -> None:
    """A colleague moves one call of A to B, then deletes A with its other rows: the move
    reads like a merge made there, and the deleted rows came back on B, unlinked."""
    api, url = crm
    api.lists_deleted_activities = listed
    a, b = _busy_deal(desk, "A"), _busy_deal(desk, "B")
    sync(desk, url)
    a_there, b_there = remote_deal(api, "A")["id"], remote_deal(api, "B")["id"]
    _at(monkeypatch, 10)
    call = next(x for x in api.objects["activities"].values() if x["subject"] == "A call")
    api.change("activities", call["id"], deal_id=b_there)
    api.remove_deal(a_there)
    for item in list(api.objects["activities"].values()):
        if item["deal_id"] == a_there:
            api.remove_activity(item["id"])
    for item in list(api.objects["notes"].values()):
        if item["deal_id"] == a_there:
            api.change("notes", item["id"], active_flag=False)

    sync(desk, url)
    _at(monkeypatch, 20)
    sync(desk, url)

    assert _on_desk(desk, b) == _on_deal(api, b_there) == ["A call", "B call", "B next", "B note"]
    assert get(desk, Deal, a) is None


def test_a_conflict_on_a_deal_taken_over_goes_and_the_desks_value_reaches_pipedrive(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    keep, gone, keep_there, gone_there = _synced_pair(desk, api, url)
    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=keep, value_cents=100_00)
    api.change("deals", keep_there, value=200)
    _at(monkeypatch, 10)
    sync(desk, url)  # value: desk 100, Pipedrive 200 waits in the conflicts list
    _merge(desk, keep=keep, gone=gone)
    api.merge(keep_there, gone_there)  # each way on each side: the desk deal is gone_there's

    _at(monkeypatch, 20)
    sync(desk, url)
    _at(monkeypatch, 30)
    sync(desk, url)

    with read_session(desk) as session:
        assert conflicts(session) == []  # it was with a deal Pipedrive no longer has
    assert get(desk, Deal, keep).value_cents == 100_00
    assert api.objects["deals"][gone_there]["value"] == 100


def test_a_deal_deleted_there_leaves_no_conflict_behind_in_the_shell(
    home: Path, desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    fleet = _busy_deal(desk, "Fleet")
    ok("sync", "pipedrive")
    there = remote_deal(api, "Fleet")["id"]
    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=fleet, value_cents=100_00)
    api.change("deals", there, value=200)
    _at(monkeypatch, 10)
    ok("sync", "pipedrive")
    assert "desk" in ok("sync", "conflicts")
    api.remove_deal(there)
    _at(monkeypatch, 20)

    dry = ok("sync", "pipedrive", "--dry-run")
    out = ok("sync", "pipedrive")

    assert "Dry run: 1 changes in Pipedrive to take in (1 of them deletions)" in dry
    assert "1 deleted there" in out
    assert ok("sync", "conflicts").startswith("No conflicts")
    assert "conflict" not in ok("sync", "status")


@pytest.mark.parametrize("how", ["taken over", "company named again"])
def test_an_organization_known_from_an_earlier_sync_is_not_made_twice(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    api, url = crm
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    _at(monkeypatch, 10)
    sync(desk, url)  # quiet: the next pull brings no deal, so no organization either
    keep_there, gone_there = remote_deal(api, "Fleet")["id"], remote_deal(api, "Fleet copy")["id"]
    if how == "taken over":
        _merge(desk, keep=keep, gone=gone)
        api.merge(keep_there, gone_there)
    else:
        with write_session(desk) as session:
            deals.edit_deal(session=session, deal_id=gone, company="Fleet Ltd")

    _at(monkeypatch, 20)
    sync(desk, url)
    _at(monkeypatch, 30)
    sync(desk, url)

    assert _orgs(api) == ["Fleet Ltd", "Fleet copy Ltd"]


def test_killed_after_a_merge_reached_pipedrive_then_run_again(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    keep_there = remote_deal(api, "Fleet")["id"]
    _merge(desk, keep=keep, gone=gone)

    class DiesAfterTheMerge(PipedriveClient):
        def merge_deals(self, gone_id: int, into_id: int) -> None:
            super().merge_deals(gone_id, into_id)
            raise Killed

    with pytest.raises(Killed):
        _run_with(desk, DiesAfterTheMerge(url, TOKEN, sleep=Waits()))
    _at(monkeypatch, 10)
    sync(desk, url)

    assert len(api.merges) == 1
    assert len(api.objects["activities"]) == 4 and len(api.objects["notes"]) == 2
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)
    before = len(api.log)
    _at(monkeypatch, 20)
    sync(desk, url)
    assert _writes(api, before) == []


def test_killed_in_the_notes_sweep_then_run_again(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    fleet = _busy_deal(desk, "Fleet")
    sync(desk, url)
    fleet_there = remote_deal(api, "Fleet")["id"]
    api.add("notes", deal_id=fleet_there, content="hers", user_id=99)
    sync(desk, url)
    hers = next(n for n in api.objects["notes"].values() if n["content"] == "hers")
    del api.objects["notes"][hers["id"]]
    _next_day(monkeypatch)

    class DiesInTheSweep(PipedriveClient):
        def notes_of_deal(self, deal_id: int) -> list[dict[str, object]]:
            raise Killed

    with pytest.raises(Killed):
        _run_with(desk, DiesInTheSweep(url, TOKEN, sleep=Waits()))
    monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(days=1, minutes=10)).isoformat())
    sync(desk, url)

    assert _on_desk(desk, fleet) == _on_deal(api, fleet_there)
    assert any("hers" in label and "deleted in Pipedrive" in label for label in _trash_labels(desk))


def _call_id(api: Pipedrive, subject: str) -> int:
    (found,) = [a["id"] for a in api.objects["activities"].values() if a["subject"] == subject]
    return found


@pytest.mark.parametrize("listed", [True, False], ids=["listed", "left-out"])
def test_a_call_deleted_there_stays_deleted_when_the_desk_deal_takes_over(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch, listed: bool
) -> None:
    """Desk: Fleet copy into Fleet. Pipedrive: a colleague deletes Fleet's call, then merges
    Fleet into Fleet copy. The deleted call came back there, or stayed here unlinked."""
    api, url = crm
    api.lists_deleted_activities = listed
    keep, gone, keep_there, gone_there = _synced_pair(desk, api, url)
    _merge(desk, keep=keep, gone=gone)
    api.remove_activity(_call_id(api, "Fleet call"))
    api.merge(keep_there, gone_there)

    _at(monkeypatch, 10)
    sync(desk, url)
    _at(monkeypatch, 20)
    sync(desk, url)

    assert _live(api, gone_there)
    assert "Fleet call" not in _on_deal(api, gone_there)
    assert _on_desk(desk, keep) == _on_deal(api, gone_there)
    assert any("Fleet call" in label for label in _trash_labels(desk))  # restorable


def test_a_colleagues_move_is_not_undone_by_a_desk_edit_on_a_link_from_before(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """A link made before bases kept their deal (every link of an upgraded desk): a desk edit
    waiting to be sent was taken for a move of the desk's, and moved the call back."""
    api, url = crm
    fleet = _busy_deal(desk, "Fleet")
    pilot = add_deal(desk, "Pilot")
    sync(desk, url)
    pilot_there = remote_deal(api, "Pilot")["id"]
    call = _call_id(api, "Fleet call")
    with write_session(desk) as session:
        link = session.execute(select(SyncLink).where(SyncLink.remote_id == call)).scalar_one()
        base = json.loads(link.base)
        base.pop("deal")
        link.base = json.dumps(base)
        session.add(link)
        local = link.local_id
    api.change("activities", call, deal_id=pilot_there)  # a colleague moves it
    with write_session(desk) as session:
        activities.edit_activity(session=session, activity_id=local, outcome="Fleet call, edited")

    sync(desk, url)

    assert api.objects["activities"][call]["deal_id"] == pilot_there
    assert api.objects["activities"][call]["subject"] == "Fleet call, edited"
    assert "Fleet call, edited" in _on_desk(desk, pilot) and fleet


def test_a_call_moved_there_onto_a_merged_deal_reaches_the_kept_deal_when_the_merge_is_refused(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    _busy_deal(desk, "Pilot")
    sync(desk, url)
    keep_there, gone_there = remote_deal(api, "Fleet")["id"], remote_deal(api, "Fleet copy")["id"]
    _merge(desk, keep=keep, gone=gone)
    api.change("activities", _call_id(api, "Pilot call"), deal_id=gone_there)  # a colleague
    api.fail(403, times=10, when=lambda m, p: p.endswith("/merge"))  # no right to merge

    _at(monkeypatch, 10)
    sync(desk, url)
    _at(monkeypatch, 20)
    sync(desk, url)

    assert "Pilot call" in _on_desk(desk, keep)
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)  # "one by one", as said


def test_two_deals_merged_into_one_deleted_there_meanwhile_end_in_one_deal(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """B and C merged into A on the desk; A deleted there between the pull and the push:
    B's deal there becomes A's, and C is merged into it, not left there empty."""
    api, url = crm
    a, b, c = (_busy_deal(desk, t) for t in ("A", "B", "C"))
    sync(desk, url)
    b_there, c_there = remote_deal(api, "B")["id"], remote_deal(api, "C")["id"]
    _merge(desk, keep=a, gone=b)
    _merge(desk, keep=a, gone=c)

    class ColleagueDeletesA(PipedriveClient):
        def merge_deals(self, gone_id: int, into_id: int) -> None:
            if not api.objects["deals"][into_id]["is_deleted"] and into_id not in (b_there,):
                api.remove_deal(into_id)
            super().merge_deals(gone_id, into_id)

    _run_with(desk, ColleagueDeletesA(url, TOKEN, sleep=Waits()))
    _at(monkeypatch, 10)
    sync(desk, url)
    _at(monkeypatch, 20)
    sync(desk, url)

    live = sorted(d["title"] for d in api.objects["deals"].values() if not d["is_deleted"])
    assert live == ["A"] and not _live(api, c_there)
    assert _on_desk(desk, a) == _on_deal(api, b_there)
    assert len(_on_desk(desk, a)) == 9


def test_a_merge_made_there_that_changed_no_call_is_still_a_merge_here(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pipedrive's merge need not change the calls it moves (the stand-in's does): the calls
    of a deal deleted there are asked for by id, so the merge is seen and what the rep logged
    since follows it."""
    api, url = crm
    keep, gone, keep_there, gone_there = _synced_pair(desk, api, url)
    with write_session(desk) as session:
        activities.log_activity(
            session=session, deal_id=gone, kind="call", outcome="fresh call", minutes=4
        )
    api.merge(gone_there, keep_there)
    for collection in ("activities", "notes"):
        for item in api.objects[collection].values():
            item["update_time"] = "2026-01-05T09:00:00Z"  # unchanged since long ago
    _at(monkeypatch, 30)

    sync(desk, url)

    assert "fresh call" in _on_desk(desk, keep)
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)
    assert [label for label in _trash_labels(desk) if "merged into" in label]
