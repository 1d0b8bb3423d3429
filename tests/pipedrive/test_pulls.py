"""What the sync takes in beyond deals (issue 20): notes written in Pipedrive, activities
deleted there, and the activities a bulk CSV import brings to a linked desk."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.pinned import NOW
from tests.pipedrive.helpers import add_deal, get, remote_deal, sync
from tests.pipedrive.server import ME, Pipedrive
from tests.shell import ok

from repdesk.services import activities, followups, merge, trash
from repdesk.storage.models import Activity, Deal, FollowUp, SyncLink
from repdesk.storage.store import read_session, write_session

SALESFORCE = (
    Path(__file__).parent.parent / "io" / "fixtures" / "real" / "salesforce_data_cloud_workshop"
)


def notes_on(desk: Engine, deal_id: int) -> list[str]:
    with read_session(desk) as session:
        return list(
            session.execute(
                select(Activity.text)
                .where(Activity.deal_id == deal_id, Activity.kind == "note")
                .order_by(Activity.id)
            ).scalars()
        )


def trashed(desk: Engine) -> list[str]:
    with read_session(desk) as session:
        return [item.label for item in trash.list_trash(session=session)]


def test_notes_written_in_pipedrive_come_to_the_deal_as_plain_text(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    fleet = add_deal(desk, "Fleet rollout")
    with write_session(desk) as session:
        activities.log_activity(
            session=session, deal_id=fleet, kind="note", text="Budget < 50k & CFO\nsigns"
        )
    sync(desk, url)
    remote = remote_deal(api, "Fleet rollout")
    [sent] = api.objects["notes"].values()
    # The desk's text as HTML, which is what a note's content is: nothing in it read as a tag.
    assert sent["content"] == "Budget &lt; 50k &amp; CFO<br>signs"
    api.add(
        "notes",
        deal_id=remote["id"],
        content="<p>Demo went well</p><p>Next: pricing &amp; terms</p>",
        user_id=99,  # a colleague's note on the rep's deal
    )

    report = sync(desk, url)

    assert notes_on(desk, fleet) == [
        "Budget < 50k & CFO\nsigns",  # the desk's own, not taken in again
        "Demo went well\nNext: pricing & terms",
    ]
    assert report.taken_new == 1
    colleague = next(n for n in api.objects["notes"].values() if n["user_id"] == 99)
    api.change("notes", colleague["id"], content="Demo went well, pricing agreed")
    sync(desk, url)
    assert notes_on(desk, fleet)[1] == "Demo went well, pricing agreed"
    api.change("notes", colleague["id"], active_flag=False)  # "active or deleted"
    sync(desk, url)
    assert notes_on(desk, fleet) == ["Budget < 50k & CFO\nsigns"]
    assert any("deleted in Pipedrive" in label for label in trashed(desk))
    assert [n["content"] for n in api.objects["notes"].values() if n["user_id"] == ME] == [
        "Budget &lt; 50k &amp; CFO<br>signs"  # nothing echoed back or sent twice
    ]


def test_a_note_deleted_in_pipedrive_leaves_the_desk_at_the_first_sync_of_a_day(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleted there (DELETE /v1/notes/{id}), a note never comes back in the list of changed
    notes: the desk's copy stayed for good (found by an audit). The rep's own and a
    colleague's alike; the rep's own notes are listed at once, the deals asked one by one only
    for notes not among them."""
    api, url = crm
    fleet = add_deal(desk, "Fleet rollout")
    others = [add_deal(desk, f"Deal {n}") for n in range(30)]
    with write_session(desk) as session:
        activities.log_activity(session=session, deal_id=fleet, kind="note", text="a desk note")
        activities.log_activity(session=session, deal_id=fleet, kind="note", text="stays")
        for deal_id in others:
            activities.log_activity(session=session, deal_id=deal_id, kind="note", text="mine")
    sync(desk, url)
    api.add("notes", deal_id=remote_deal(api, "Fleet rollout")["id"], content="hers", user_id=99)
    sync(desk, url)
    assert notes_on(desk, fleet) == ["a desk note", "stays", "hers"]
    for content in ("a desk note", "hers"):
        gone = next(n for n in api.objects["notes"].values() if content in n["content"])
        del api.objects["notes"][gone["id"]]
    monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(days=1)).isoformat())
    before = len(api.log)

    sync(desk, url)

    assert notes_on(desk, fleet) == ["stays"]
    assert sum("deleted in Pipedrive" in label for label in trashed(desk)) == 2
    # The changed ones, the rep's own, Fleet's: not one request for each of the 31 deals.
    assert [p for m, p in api.log[before:] if p == "/api/v1/notes"] == ["/api/v1/notes"] * 3
    before = len(api.log)
    sync(desk, url)
    assert len(api.objects["notes"]) == 31
    assert not [m for m, _ in api.log[before:] if m != "GET"]  # nothing sent back


def test_a_note_a_desk_merge_moved_is_no_deleted_note_before_the_merge_is_sent(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep for deleted notes runs before the push: the note is on the deal kept on the
    desk and still on the merged-away deal in Pipedrive (found by a review of an earlier
    sweep, which trashed it)."""
    api, url = crm
    keep, gone = add_deal(desk, "Fleet"), add_deal(desk, "Fleet copy")
    sync(desk, url)
    # A colleague's: the rep's own notes are found by one list whatever their deal.
    api.add("notes", deal_id=remote_deal(api, "Fleet copy")["id"], content="moved", user_id=99)
    sync(desk, url)
    with write_session(desk) as session:
        merge.merge_deals(session=session, keep_id=keep, gone_id=gone)
    monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(days=1)).isoformat())

    sync(desk, url)

    assert notes_on(desk, keep) == ["moved"]
    assert [n["deal_id"] for n in api.objects["notes"].values()] == [
        remote_deal(api, "Fleet")["id"]
    ]
    assert not [label for label in trashed(desk) if "deleted in Pipedrive" in label]


def test_the_first_sync_brings_the_reps_own_notes(desk: Engine, crm: tuple[Pipedrive, str]) -> None:
    api, url = crm
    deal = api.add("deals", title="Seats renewal")
    api.add("notes", deal_id=deal["id"], content="Renewal due in March")
    api.add("notes", deal_id=deal["id"], content="Old note by a colleague", user_id=99)
    api.add("notes", content="On no deal")

    sync(desk, url)

    with read_session(desk) as session:
        renewal = session.execute(select(Deal).where(Deal.title == "Seats renewal")).scalar_one()
    assert notes_on(desk, renewal.id) == ["Renewal due in March"]  # type: ignore[arg-type]


@pytest.mark.parametrize("listed", [False, True], ids=["left-out", "listed-as-deleted"])
def test_activities_deleted_in_pipedrive_go_to_the_desks_trash(
    desk: Engine, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch, listed: bool
) -> None:
    api, url = crm
    api.lists_deleted_activities = listed
    fleet = add_deal(desk, "Fleet rollout")
    with write_session(desk) as session:
        call, _ = activities.log_activity(
            session=session, deal_id=fleet, kind="call", outcome="connected"
        )
        step = followups.add_follow_up(
            session=session, deal_id=fleet, when=(date(2026, 11, 24), None), note="Send quote"
        )
    sync(desk, url)
    by_type = {a["type"]: a["id"] for a in api.objects["activities"].values()}
    api.remove_activity(by_type["task"])
    api.remove_activity(by_type["call"])

    report = sync(desk, url)

    # The open follow-up (the rep's queue) is looked for at every sync.
    assert get(desk, FollowUp, step.id) is None  # type: ignore[arg-type]
    assert report.trashed == (2 if listed else 1)
    # Every other activity at the first sync of a day, when the list leaves deleted ones out.
    assert (get(desk, Activity, call.id) is None) is listed  # type: ignore[arg-type]
    monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(days=1)).isoformat())
    sync(desk, url)
    assert get(desk, Activity, call.id) is None  # type: ignore[arg-type]
    labels = trashed(desk)
    assert sum("deleted in Pipedrive" in label for label in labels) == 2
    with read_session(desk) as session:
        kinds = set(session.execute(select(SyncLink.kind)).scalars())
    assert kinds == {"deal"}  # the links of what was deleted are gone
    sync(desk, url)
    assert api.count("activities") == 0  # nothing sent back to Pipedrive


def test_activities_of_a_bulk_csv_import_are_sent_too(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    sync(desk, url)  # linked, with nothing on either side yet
    files = [SALESFORCE / name for name in ("Opportunity.csv", "Account.csv", "Task.csv")]
    out = ok("import", *files, "--stage-map", "Discovery=Qualified")
    # Every task of the file is still to do: next steps, sent as activities still to do.
    assert "open tasks as next steps, not as things done: 35 added" in out

    report = sync(desk, url)

    assert api.count("deals") == 50
    assert api.count("activities") == 35
    assert not any(a.get("done") for a in api.objects["activities"].values())
    assert report.created == 85
