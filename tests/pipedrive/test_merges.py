"""Merged deals and moved activities kept in step with Pipedrive: a desk merge is a merge
there (PUT /v1/deals/{id}/merge), a restore that undoes it splits the deal there again, and a
merge or a move made in Pipedrive moves the calls, follow-ups and notes on the desk."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Engine, select, update
from tests.pipedrive.helpers import add_deal, get, remote_deal, sync
from tests.pipedrive.server import Pipedrive

from repdesk.services import activities, deals, followups, merge, trash
from repdesk.storage.models import Activity, Deal, FollowUp, SyncLink
from repdesk.storage.store import read_session, write_session


def _busy_deal(engine: Engine, title: str) -> int:
    """A deal with a call, a note and a follow-up on it."""
    deal_id = add_deal(engine, title, company=f"{title} Ltd")
    with write_session(engine) as session:
        activities.log_activity(
            session=session, deal_id=deal_id, kind="call", outcome=f"{title} call", minutes=10
        )
        activities.log_activity(session=session, deal_id=deal_id, kind="note", text=f"{title} note")
        followups.add_follow_up(
            session=session, deal_id=deal_id, when=(date(2026, 12, 10), None), note=f"{title} next"
        )
    return deal_id


def _synced_pair(desk: Engine, api: Pipedrive, url: str) -> tuple[int, int, int, int]:
    """Fleet and its duplicate Fleet copy, each with a call, a note and a follow-up, synced:
    their desk ids, then their ids in Pipedrive."""
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    return keep, gone, remote_deal(api, "Fleet")["id"], remote_deal(api, "Fleet copy")["id"]


def _on_deal(api: Pipedrive, deal_remote: int) -> list[str]:
    """What Pipedrive holds on a deal: its activities' subjects and its notes, sorted."""
    subjects = [
        a["subject"]
        for a in api.objects["activities"].values()
        if a.get("deal_id") == deal_remote and not a.get("is_deleted")
    ]
    notes = [n["content"] for n in api.objects["notes"].values() if n.get("deal_id") == deal_remote]
    return sorted(subjects + notes)


def _writes(api: Pipedrive, since: int) -> list[tuple[str, str]]:
    return [(m, p) for m, p in api.log[since:] if m != "GET"]


def _on_desk(engine: Engine, deal_id: int) -> list[str]:
    with read_session(engine) as session:
        done = session.execute(select(Activity).where(Activity.deal_id == deal_id)).scalars()
        due = session.execute(select(FollowUp).where(FollowUp.deal_id == deal_id)).scalars()
        return sorted([a.outcome or a.text for a in done] + [f.note for f in due])


def test_a_desk_merge_is_a_merge_in_pipedrive_and_nothing_is_sent_twice(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    keep, gone, keep_there, gone_there = _synced_pair(desk, api, url)
    with write_session(desk) as session:
        merge.merge_deals(session=session, keep_id=keep, gone_id=gone)
    before = len(api.log)

    report = sync(desk, url)

    assert api.merges == [(gone_there, keep_there)]
    assert report.merged == 1 and "1 merge." in report.lines()[0]
    assert _on_deal(api, keep_there) == [
        "Fleet call", "Fleet copy call", "Fleet copy next", "Fleet copy note", "Fleet next",
        "Fleet note",
    ]  # fmt: skip
    assert api.objects["deals"][gone_there]["is_deleted"]
    # Pipedrive moved them: no activity or note is sent again, none deleted, none made.
    assert _writes(api, before) == [("PUT", f"/api/v1/deals/{gone_there}/merge")]
    before = len(api.log)
    sync(desk, url)
    assert _writes(api, before) == []
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)


def test_restoring_a_merged_away_deal_splits_it_in_pipedrive_again(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    keep_there = remote_deal(api, "Fleet")["id"]
    with write_session(desk) as session:
        trash_id = merge.merge_deals(session=session, keep_id=keep, gone_id=gone).trash_id
    sync(desk, url)
    with write_session(desk) as session:
        back = trash.restore(session=session, trash_id=trash_id).item_id

    sync(desk, url)

    # A new deal there: the old one was merged away.
    (again,) = [
        d
        for d in api.objects["deals"].values()
        if d["title"] == "Fleet copy" and not d["is_deleted"]
    ]
    assert _on_deal(api, again["id"]) == ["Fleet copy call", "Fleet copy next", "Fleet copy note"]
    assert _on_deal(api, keep_there) == ["Fleet call", "Fleet next", "Fleet note"]
    assert len(api.objects["activities"]) == 4 and len(api.objects["notes"]) == 2  # none twice
    assert _on_desk(desk, back) == _on_deal(api, again["id"])


def test_a_merge_whose_answer_is_lost_is_not_made_twice_and_loses_nothing(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """Pipedrive merged, then its answer was lost (a 502): the retry finds no deal to merge,
    and the rows the merge moved are sent to the kept deal one by one (a run killed after the
    merge reached Pipedrive takes the same way at its next sync)."""
    api, url = crm
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    keep_there = remote_deal(api, "Fleet")["id"]
    with write_session(desk) as session:
        merge.merge_deals(session=session, keep_id=keep, gone_id=gone)
    api.bad_gateway_after_merge = 1

    report = sync(desk, url)

    assert len(api.merges) == 1
    assert any("to merge" in note for note in report.notes)
    assert len(_on_deal(api, keep_there)) == 6
    assert len(api.objects["activities"]) == 4 and len(api.objects["notes"]) == 2
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)
    before = len(api.log)
    sync(desk, url)
    assert _writes(api, before) == []


def test_a_merge_that_waits_for_its_deal_is_sent_after_that_deal_is_made(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    gone = _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    gone_there = remote_deal(api, "Fleet copy")["id"]
    keep = add_deal(desk, "Fleet")  # new since the last sync: not in Pipedrive yet
    with write_session(desk) as session:
        merge.merge_deals(session=session, keep_id=keep, gone_id=gone)

    sync(desk, url)

    keep_there = remote_deal(api, "Fleet")["id"]
    assert api.merges == [(gone_there, keep_there)]
    assert _on_deal(api, keep_there) == ["Fleet copy call", "Fleet copy next", "Fleet copy note"]


def test_a_merge_made_in_pipedrive_moves_the_calls_on_the_desk(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    keep, gone, keep_there, gone_there = _synced_pair(desk, api, url)
    api.merge(gone_there, keep_there)
    before = len(api.log)

    report = sync(desk, url)

    assert get(desk, Deal, gone) is None  # merged here too, in the trash 30 days
    assert any("merged into" in note for note in report.notes)
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)  # its calls, note and next step
    assert len(_on_desk(desk, keep)) == 6
    assert _writes(api, before) == []  # nothing echoed back


def test_a_merge_made_in_pipedrive_moves_rows_linked_before_the_desk_kept_their_deal(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """Links made by an earlier version hold no deal in their base: read as where the desk
    has them."""
    api, url = crm
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    _forget_deals_in_bases(desk)
    keep_there, gone_there = remote_deal(api, "Fleet")["id"], remote_deal(api, "Fleet copy")["id"]
    api.merge(gone_there, keep_there)

    sync(desk, url)

    assert len(_on_desk(desk, keep)) == 6 and get(desk, Deal, gone) is None


def test_a_desk_merge_of_rows_linked_before_reaches_pipedrive(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    keep, gone = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Fleet copy")
    sync(desk, url)
    _forget_deals_in_bases(desk)
    keep_there = remote_deal(api, "Fleet")["id"]
    with write_session(desk) as session:
        merge.merge_deals(session=session, keep_id=keep, gone_id=gone)

    sync(desk, url)

    assert len(_on_deal(api, keep_there)) == 6
    assert _on_desk(desk, keep) == _on_deal(api, keep_there)


def test_an_activity_moved_in_pipedrive_follows_or_leaves_the_desk(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet, pilot = _busy_deal(desk, "Fleet"), _busy_deal(desk, "Pilot")
    sync(desk, url)
    pilot_there = remote_deal(api, "Pilot")["id"]
    elsewhere = api.add("deals", title="A colleague's deal", owner_id=99)
    call = _remote_activity(api, "Fleet call")
    step = _remote_activity(api, "Fleet next")
    api.change("activities", call["id"], deal_id=pilot_there)
    api.change("activities", step["id"], deal_id=elsewhere["id"])

    report = sync(desk, url)

    assert _on_desk(desk, pilot) == ["Fleet call", "Pilot call", "Pilot next", "Pilot note"]
    assert _on_desk(desk, fleet) == ["Fleet note"]
    assert report.trashed == 1  # the follow-up, on a deal the desk does not keep: restorable
    with read_session(desk) as session:
        labels = [item.label for item in trash.list_trash(session=session)]
    assert any("Fleet next" in label for label in labels)
    before = len(api.log)
    sync(desk, url)
    assert _writes(api, before) == []  # the move is not sent back, the trashed one not deleted


def test_a_row_touched_with_nothing_to_send_keeps_its_own_organization(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """A deal sent with a new company and a deal touched with nothing to send, in one push:
    the second's link once took the first's organization, and a rename of that one in
    Pipedrive then renamed the second's company on the desk."""
    api, url = crm
    first, second = (
        add_deal(desk, "First", company="Alpha"),
        add_deal(desk, "Second", company="Beta"),
    )
    sync(desk, url)
    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=first, company="Gamma")
    with write_session(desk) as session:  # after it in the outbox
        row = session.get(Deal, second)
        assert row is not None
        row.notes = "Only the desk keeps these"  # not sent: nothing to send
        session.add(row)
    sync(desk, url)
    for item in api.objects["deals"].values():
        item["update_time"] = "2026-01-05T09:00:00Z"  # long unchanged: the next pull skips them
    gamma = next(o for o in api.objects["organizations"].values() if o["name"] == "Gamma")
    api.change("organizations", gamma["id"], name="Gamma Group")

    sync(desk, url)

    assert get(desk, Deal, first).company == "Gamma Group"
    assert get(desk, Deal, second).company == "Beta"


def _remote_activity(api: Pipedrive, subject: str) -> dict[str, Any]:
    return next(a for a in api.objects["activities"].values() if a["subject"] == subject)


def _forget_deals_in_bases(engine: Engine) -> None:
    with write_session(engine) as session:
        for link in session.execute(select(SyncLink).where(SyncLink.kind != "deal")).scalars():
            base = json.loads(link.base)
            base.pop("deal", None)
            session.execute(
                update(SyncLink).where(SyncLink.id == link.id).values(base=json.dumps(base))
            )
