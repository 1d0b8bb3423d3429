"""Merges against the odds, each found by a hostile test of the merge sync (the commit
before this file's failed every one): chains of merges, merges made on both sides, a merge
Pipedrive refuses, deals deleted there meanwhile, calls moved there meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from tests.pinned import NOW
from tests.pipedrive.helpers import TOKEN, Waits, get, remote_deal, sync
from tests.pipedrive.server import Pipedrive
from tests.pipedrive.test_merges import _busy_deal, _on_deal, _on_desk, _synced_pair, _writes

from repdesk.services import activities, merge, trash
from repdesk.storage.models import Deal
from repdesk.storage.store import read_session, write_session
from repdesk.sync.engine import Sync
from repdesk.sync.pipedrive import PipedriveClient


def _at(monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    """The clock `minutes` after the pinned NOW (the stand-in stamps with it too)."""
    monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(minutes=minutes)).isoformat())


def _merge(desk: Engine, keep: int, gone: int) -> int:
    with write_session(desk) as session:
        return merge.merge_deals(session=session, keep_id=keep, gone_id=gone).trash_id


def _live(api: Pipedrive, remote: int) -> bool:
    return not api.objects["deals"][remote].get("is_deleted")


def _trash_labels(desk: Engine) -> list[str]:
    with read_session(desk) as session:
        return [item.label for item in trash.list_trash(session=session)]


def test_a_chain_of_merges_ends_every_call_on_the_last_deal_there_too(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    a, b, c = _busy_deal(desk, "A"), _busy_deal(desk, "B"), _busy_deal(desk, "C")
    sync(desk, url)
    c_there = remote_deal(api, "C")["id"]
    _merge(desk, keep=b, gone=a)
    _merge(desk, keep=c, gone=b)
    _at(monkeypatch, 30)
    sync(desk, url)  # DELETE A, then merge B into C
    _at(monkeypatch, 60)
    sync(desk, url)
    assert len(_on_desk(desk, c)) == 9
    assert _on_desk(desk, c) == _on_deal(api, c_there)  # A's 3 rows are on deleted A there


def test_a_chain_of_merges_synced_twice_in_a_row_trashes_nothing(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    _api, url = crm
    a, b, c = _busy_deal(desk, "A"), _busy_deal(desk, "B"), _busy_deal(desk, "C")
    sync(desk, url)
    _merge(desk, keep=b, gone=a)
    _merge(desk, keep=c, gone=b)
    sync(desk, url)
    sync(desk, url)  # within 5 minutes (pinned clock)
    assert len(_on_desk(desk, c)) == 9
    assert not any("moved in Pipedrive" in label for label in _trash_labels(desk))


def test_merged_each_way_on_each_side_one_deal_keeps_everything_on_both(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """Desk: Fleet copy into Fleet. A colleague in Pipedrive, meanwhile: Fleet into Fleet copy."""
    api, url = crm
    keep, gone, keep_there, gone_there = _synced_pair(desk, api, url)
    _merge(desk, keep=keep, gone=gone)
    api.merge(keep_there, gone_there)
    before = len(api.log)
    sync(desk, url)
    assert not [w for w in _writes(api, before) if w[0] == "DELETE"]
    assert _live(api, gone_there)  # the deal Pipedrive kept, with all 6 calls and notes
    assert len(_on_deal(api, gone_there)) == 6
    assert _on_desk(desk, keep) == _on_deal(api, gone_there)  # the desk's deal is that one
    (only,) = _trash_labels(desk)  # the desk's own merge, nothing taken for deleted
    assert "merged into" in only
    before = len(api.log)
    sync(desk, url)
    assert _writes(api, before) == []


def test_a_merge_into_a_deal_deleted_there_meanwhile_deletes_nothing_more(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    gone_there = remote_deal(api, "Fleet copy")["id"]
    _merge(desk, keep=keep, gone=gone)

    class ColleagueDeletesKeep(PipedriveClient):
        def merge_deals(self, gone_id: int, into_id: int) -> None:
            api.remove_deal(into_id)  # between the pull and the push
            super().merge_deals(gone_id, into_id)

    client = ColleagueDeletesKeep(url, TOKEN, sleep=Waits())
    try:
        report = Sync(desk, client).run()
    finally:
        client.close()
    assert report.deleted == 0 and _live(api, gone_there)  # nothing deleted for it
    assert any("that deal now" in note for note in report.notes)
    sync(desk, url)
    # One deal on each side, with everything: the desk's deal kept is Pipedrive's merged one.
    assert get(desk, Deal, keep) is not None and _live(api, gone_there)
    assert _on_desk(desk, keep) == _on_deal(api, gone_there)
    assert len(_on_deal(api, gone_there)) == 6
    assert api.objects["deals"][gone_there]["title"] == "Fleet"  # the desk's fields, as merged
    before = len(api.log)
    sync(desk, url)
    assert _writes(api, before) == []


def test_a_call_moved_there_and_merged_here_goes_where_the_desk_has_it(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    keep, gone, _pilot = (
        _busy_deal(desk, "Fleet"),
        _busy_deal(desk, "Fleet copy"),
        _busy_deal(desk, "Pilot"),
    )
    sync(desk, url)
    keep_there, pilot_there = remote_deal(api, "Fleet")["id"], remote_deal(api, "Pilot")["id"]
    call = next(a for a in api.objects["activities"].values() if a["subject"] == "Fleet copy call")
    api.change("activities", call["id"], deal_id=pilot_there)  # a colleague's move
    _merge(desk, keep=keep, gone=gone)
    _at(monkeypatch, 30)
    report = sync(desk, url)
    assert any("the desk's move is sent" in note for note in report.notes)
    _at(monkeypatch, 60)
    sync(desk, url)
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)  # desk: on Fleet; Pipedrive: Pilot


def test_a_call_moved_there_onto_a_deal_merged_away_here_follows_the_merge(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    keep, gone, _pilot = (
        _busy_deal(desk, "Fleet"),
        _busy_deal(desk, "Fleet copy"),
        _busy_deal(desk, "Pilot"),
    )
    sync(desk, url)
    gone_there = remote_deal(api, "Fleet copy")["id"]
    call = next(a for a in api.objects["activities"].values() if a["subject"] == "Pilot call")
    api.change("activities", call["id"], deal_id=gone_there)
    _merge(desk, keep=keep, gone=gone)
    sync(desk, url)
    sync(desk, url)
    assert not any("Pilot call" in label for label in _trash_labels(desk))  # a stale copy
    keep_there = remote_deal(api, "Fleet")["id"]
    assert "Pilot call" in _on_desk(desk, keep)
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)


def test_a_refused_merge_holds_back_nothing_else_and_is_asked_again(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    keep, gone, other = (
        _busy_deal(desk, "Fleet"),
        _busy_deal(desk, "Fleet copy"),
        _busy_deal(desk, "Other"),
    )
    sync(desk, url)
    other_there = remote_deal(api, "Other")["id"]
    _merge(desk, keep=keep, gone=gone)
    with write_session(desk) as session:
        activities.log_activity(
            session=session, deal_id=other, kind="call", outcome="unrelated", minutes=3
        )
    api.fail(403, times=10, when=lambda m, p: p.endswith("/merge"))  # no "merge deals" right
    report = sync(desk, url)
    assert any("not merged in Pipedrive yet" in note for note in report.notes)
    assert "unrelated" in _on_deal(api, other_there)
    keep_there = remote_deal(api, "Fleet")["id"]
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)  # sent one by one meanwhile
    sync(desk, url)
    assert api.merges == []  # asked again, refused again; nothing lost


def test_a_deal_deleted_there_while_merged_here_its_calls_go_to_the_trash(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    keep, gone, keep_there, gone_there = _synced_pair(desk, api, url)
    _merge(desk, keep=keep, gone=gone)
    api.remove_deal(gone_there)  # a colleague deletes the duplicate, its calls and note with it
    for item in list(api.objects["activities"].values()):
        if item["deal_id"] == gone_there:
            api.remove_activity(item["id"])
    for item in list(api.objects["notes"].values()):
        if item["deal_id"] == gone_there:
            api.change("notes", item["id"], active_flag=False)
    report = sync(desk, url)
    assert report.updated == 0  # "sent 1 changes" though the only PATCH was a 404
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)  # the call stayed, linked to nothing
    assert sum("deleted in Pipedrive" in label for label in _trash_labels(desk)) == 3


def test_a_call_logged_since_follows_a_merge_made_there(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    keep, gone, keep_there, gone_there = _synced_pair(desk, api, url)
    with write_session(desk) as session:  # not sent yet
        activities.log_activity(
            session=session, deal_id=gone, kind="call", outcome="fresh call", minutes=4
        )
    api.merge(gone_there, keep_there)  # a colleague merges the duplicate in Pipedrive
    sync(desk, url)
    assert "fresh call" in _on_desk(desk, keep)
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)
