"""What a trial of the Pipedrive sync found, each kept found: a deal imported with an id
Pipedrive does not have, one refused request, the people of deals taken in, stages added or
removed, a win dated before the first contact, a token over plain http, and what the rep reads
at the prompt and in the summary."""

from __future__ import annotations

import io
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.pinned import NOW
from tests.pipedrive.helpers import Waits, add_deal, point_settings_at, remote_deal
from tests.pipedrive.server import TOKEN, Pipedrive
from tests.shell import ok, refused

from repdesk.services import activities, deals
from repdesk.storage.models import Deal, SyncLink
from repdesk.storage.store import read_session, write_session
from repdesk.sync import state
from repdesk.sync.connector import RateLimited
from repdesk.sync.pipedrive import PipedriveClient


@pytest.fixture
def shell(home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch) -> Pipedrive:
    """The shell's `repdesk sync ...` pointed at the stand-in."""
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    return api


def edit(desk: Engine, deal_id: int, **changes: object) -> None:
    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=deal_id, **changes)


def test_a_deal_imported_with_an_id_pipedrive_lacks_is_sent_as_new_not_claimed_linked(
    desk: Engine, shell: Pipedrive
) -> None:
    """A CSV `Deal - ID` of 9999 that Pipedrive never had: the first sync said "Linked 2
    deals", never sent it, said `sent 0 new` at every later sync while `sync status` said
    `1 waiting`, and sent its call as an activity on deal 9999."""
    api = shell
    there = api.add("deals", title="Fleet rollout", value=100)
    fleet = add_deal(desk, "Fleet rollout")
    ghost = add_deal(desk, "Pilot in Lyon", value_cents=300_000)
    with write_session(desk) as session:
        session.get(Deal, fleet).source_id = f"pipedrive:{there['id']}"  # type: ignore[union-attr]
        session.get(Deal, ghost).source_id = "pipedrive:9999"  # type: ignore[union-attr]
        activities.log_activity(session=session, deal_id=ghost, kind="call", text="Spoke to Li")

    said = ok("sync", "pipedrive")

    assert "Linked 1 deal imported" in said
    assert "deal #2 (Pilot in Lyon): Pipedrive has no deal 9999" in said
    assert "sent as new" in said
    lyon = remote_deal(api, "Pilot in Lyon")
    [call] = api.objects["activities"].values()
    assert call["deal_id"] == lyon["id"] != 9999
    with read_session(desk) as session:
        link = session.execute(
            select(SyncLink).where(SyncLink.kind == "deal", SyncLink.local_id == ghost)
        ).scalar_one()
    assert link.remote_id == lyon["id"]
    assert "waiting" not in ok("sync", "status")
    again = ok("sync", "pipedrive")
    assert "9999" not in again and api.count("deals", title="Pilot in Lyon") == 1


def test_one_refused_request_is_set_aside_named_and_the_rest_is_sent(
    desk: Engine, shell: Pipedrive
) -> None:
    """A 400 on PATCH /api/v2/deals/1015 (or a 404 on an activity's create) stopped the whole
    sync, and every later one at the same row: `3 waiting` for good, unrelated changes never
    sent. Now that row is set aside with Pipedrive's reason, the rest goes, the next sync
    tries it again, and `repdesk sync drop` stops it."""
    api = shell
    fleet = add_deal(desk, "Fleet rollout")
    pilot = add_deal(desk, "Pilot in Lyon")
    ok("sync", "pipedrive")
    there = remote_deal(api, "Fleet rollout")
    edit(desk, fleet, value_cents=500_000)
    edit(desk, pilot, value_cents=70_000)
    ok("log", "call", str(pilot), "--note", "Spoke to Li")
    refusing = f"/api/v2/deals/{there['id']}"
    api.fail(400, times=2, when=lambda method, path: method == "PATCH" and path == refusing)

    said = ok("sync", "pipedrive")

    assert f"deal #{fleet} set aside: Pipedrive refused PATCH {refusing}: 400 injected" in said
    assert "call" not in said  # the call went, its deal unaffected
    assert f"`repdesk sync drop deal {fleet}` stops it" in said
    assert remote_deal(api, "Pilot in Lyon")["value"] == 700
    [call] = api.objects["activities"].values()
    assert call["deal_id"] == remote_deal(api, "Pilot in Lyon")["id"]
    status = ok("sync", "status")
    assert "1 waiting · 1 refused by Pipedrive" in status
    assert f"deal #{fleet} set aside: Pipedrive refused" in status
    assert "failed" not in status

    again = ok("sync", "pipedrive")  # refused once more: still set aside, nothing else held
    assert "set aside" in again and remote_deal(api, "Fleet rollout")["value"] == 0
    ok("sync", "drop", "deal", str(fleet))
    assert "waiting" not in ok("sync", "status") and "refused" not in ok("sync", "status")
    edit(desk, fleet, value_cents=600_000)  # a later change goes
    assert "set aside" not in ok("sync", "pipedrive")
    assert remote_deal(api, "Fleet rollout")["value"] == 6000


def test_the_apps_toast_counts_one_change_as_one_and_names_what_was_set_aside() -> None:
    """The app's toast said `1 changes taken in`; a refused row went unmentioned there."""
    from repdesk.sync.engine import Report
    from repdesk.sync.state import Status
    from repdesk.tui.syncing import summary, sync_line

    said = summary(Report(taken_changed=1, refused=1))

    assert said.startswith("Synced with Pipedrive: 1 change taken in, 0 sent;")
    assert "1 refused by Pipedrive, set aside" in said
    assert "2 changes taken in" in summary(Report(taken_new=1, taken_changed=1))
    line = sync_line(Status(True, NOW, 1, 0, None, refused=1), NOW)
    assert line == "Pipedrive: synced just now · 1 waiting · 1 refused"


def test_a_deal_taken_in_brings_its_company_and_contact_as_records(
    desk: Engine, shell: Pipedrive
) -> None:
    """Org "Globex" and person "Hank Scorpio" came in as the deal's text only: `deal list`
    showed (Globex) but `company show Globex` found no company, the deal page said
    `Contacts (0)` and mail from Hank matched nothing."""
    api = shell
    globex = api.add("organizations", name="Globex")
    hank = api.add(
        "persons",
        name="Hank Scorpio",
        emails=[{"value": "hank@globex.example", "primary": True, "label": "work"}],
        org_id=globex["id"],
    )
    api.add("deals", title="Hammock District", value=9000, org_id=globex["id"],
            person_id=hank["id"])  # fmt: skip
    api.add("deals", title="Doomsday device", value=100, org_id=globex["id"])

    ok("sync", "pipedrive")

    company = ok("company", "show", "Globex")
    assert "Hammock District" in company and "Doomsday device" in company
    assert "Hank Scorpio" in company
    contact = ok("contact", "show", "hank@globex.example")  # the deal's main contact
    assert "Globex" in contact and "Hammock District" in contact
    assert "Doomsday device" not in contact
    assert ok("company", "list").count("Globex") == 1  # one company for both deals


def _stage_map(desk: Engine) -> dict[int, int]:
    with read_session(desk) as session:
        return {int(k): v for k, v in state.get_json(session, state.STAGE_MAP, {}).items()}


def test_a_desk_stage_added_later_never_shares_a_pipedrive_stage(
    desk: Engine, shell: Pipedrive
) -> None:
    """`stage add Trial --after Demo` was matched "by place" onto a Pipedrive stage mapped
    already (Negotiation -> 106 and Trial -> 106), so Pipedrive's deals in 106 came into
    Trial. A free stage is taken instead, and with none free the rep is told."""
    api = shell
    ok("deal", "add", "Fleet rollout")
    ok("sync", "pipedrive")
    before = _stage_map(desk)
    assert sorted(before.values()) == [101, 102, 103, 104, 105, 106]
    ok("stage", "add", "Trial", "--after", "Demo", "--probability", "45")
    api.stages.append({**api.stages[-1], "id": 107, "order_nr": 7, "name": "Pilot"})

    said = ok("sync", "pipedrive")

    assert "1 desk stage matched" in said
    after = _stage_map(desk)
    assert {k: v for k, v in after.items() if k in before} == before
    trial = next(k for k in after if k not in before)
    assert after[trial] == 107  # the free one, never 105 or 106 again
    listed = ok("sync", "stages")
    assert (
        "Trial -> Pilot (107)" in listed and "Negotiation -> Negotiations Started (106)" in listed
    )
    api.add("deals", title="In negotiation there", stage_id=106)
    ok("sync", "pipedrive")
    assert "Negotiation" in ok("deal", "list", "--stage", "Negotiation")
    assert "In negotiation there" in ok("deal", "list", "--stage", "Negotiation")

    ok("stage", "add", "Legal", "--after", "Trial", "--probability", "50")
    said = ok("sync", "pipedrive")
    assert "desk stage Legal has no Pipedrive stage left to map to" in said
    assert sorted(_stage_map(desk).values()) == [101, 102, 103, 104, 105, 106, 107]
    asked = len(api.log)
    assert "Legal" not in ok("sync", "pipedrive")  # said once a day, not asked again
    assert not [p for _, p in api.log[asked:] if p.endswith("/stages")]


def test_sync_stages_names_pipedrives_stages_and_says_when_one_is_gone(
    desk: Engine, shell: Pipedrive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sync stages` showed ids only, and a stage removed in Pipedrive went unnoticed: the
    first sync of a day now asks for the stages (one request) and says so."""
    api = shell
    ok("deal", "add", "Fleet rollout")
    ok("sync", "pipedrive")
    api.stages[3]["is_deleted"] = True  # 104, Demo's

    listed = ok("sync", "stages")
    assert "Prospect -> Lead In (101)" in listed
    assert "Demo -> 104: gone in Pipedrive; `--reset` maps it again" in listed
    assert "no longer has" not in ok("sync", "pipedrive")  # asked for once a day
    monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(days=1)).isoformat())
    said = ok("sync", "pipedrive")
    assert "desk stage Demo is mapped to Pipedrive stage 104, which Pipedrive no longer" in said


class _EndedTerminal(io.StringIO):
    """A terminal whose rep pressed ctrl+d: input() meets the end at once."""

    def isatty(self) -> bool:
        return True


def test_ctrl_d_at_the_stage_question_is_no_answer_not_a_crash(
    home: Path, desk: Engine, shell: Pipedrive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+D at the stage prompt gave `unexpected error: EOFError` and a crash log."""
    monkeypatch.setattr(sys, "stdin", _EndedTerminal(""))
    ok("deal", "add", "Fleet rollout")

    said = ok("sync", "pipedrive")

    assert "no answer (end of input): each stage left takes the one in [brackets]" in said
    assert said.count("Desk stage 'Prospect'") == 1 and "Desk stage 'Contacted'" not in said
    assert sorted(_stage_map(desk).values()) == [101, 102, 103, 104, 105, 106]
    assert not (home / "logs" / "crash.log").exists()
    assert remote_deal(shell, "Fleet rollout")["stage_id"] == 101


def test_a_win_in_pipedrive_before_the_first_contact_keeps_its_day(
    desk: Engine, shell: Pipedrive
) -> None:
    """A deal imported without a first contact (so: the import's day) and won in Pipedrive
    on an earlier day was booked today, the close clamped to the first contact: the win in
    the wrong month, and a close-date conflict at the next sync. The first contact moves
    back to the close day instead, as for a call logged before it."""
    api = shell
    fleet = add_deal(desk, "Fleet rollout")
    ok("sync", "pipedrive")
    there = remote_deal(api, "Fleet rollout")
    api.change("deals", there["id"], status="won", won_time="2026-10-15T12:00:00Z")
    api.add("deals", title="Won long ago", status="won", won_time="2026-09-01T12:00:00Z")

    ok("sync", "pipedrive")

    page = ok("deal", "show", str(fleet))
    assert "closed on:      2026-10-15" in page and "first contact:  2026-10-15" in page
    assert "Fleet rollout" in ok("deal", "list", "--status", "won")
    again = ok("sync", "pipedrive")
    assert "changed on both sides" not in again and "conflict" not in ok("sync", "status")
    assert api.objects["deals"][there["id"]]["won_time"] == "2026-10-15T12:00:00Z"
    with read_session(desk) as session:
        old = session.execute(select(Deal).where(Deal.title == "Won long ago")).scalar_one()
    assert (old.closed_on.isoformat(), old.status) == ("2026-09-01", "won")  # type: ignore[union-attr]
    assert old.first_contact.isoformat() == "2026-09-01"


@pytest.mark.parametrize("url", ["http://192.0.2.2:18800", "http://acme.pipedrive.com"])
def test_the_token_never_goes_over_plain_http_off_this_machine(
    home: Path, desk: Engine, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """`[pipedrive] url = "http://192.0.2.2:18800"` sent the API token in clear text. Refused
    in one line naming the fix, before any request; loopback (the stand-in's 127.0.0.1) is
    still allowed, as `repdesk serve` allows it."""
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    ok("deal", "add", "Fleet rollout")

    err = refused("sync", "pipedrive")

    assert "is plain http: the API token would cross the network readable; use https://" in err
    assert err.count("\n") == 1
    assert "plain http" in ok("sync", "status")
    PipedriveClient("http://[::1]:8000", TOKEN).close()  # loopback: allowed
    PipedriveClient("http://localhost:8000", TOKEN).close()


@pytest.mark.parametrize(
    ("retry_after", "said"),
    [("1e308", "try again in more than a day"), ("7200", "try again in 2 h"),
     ("600", "try again in 10 min")],
)  # fmt: skip
def test_a_long_rate_limit_wait_is_said_in_words_of_a_sane_size(
    crm: tuple[Pipedrive, str], retry_after: str, said: str
) -> None:
    """`Retry-After: 1e308` printed a number of minutes 300 digits long."""
    api, url = crm
    client = PipedriveClient(url, TOKEN, sleep=Waits())
    api.fail(429, times=1, headers={"Retry-After": retry_after})
    with pytest.raises(RateLimited) as raised:
        client.whoami()
    client.close()
    assert str(raised.value).endswith(said) and len(str(raised.value)) < 160


def test_a_dry_run_counts_only_what_pipedrive_changed_not_the_desks_own_writes(
    desk: Engine, shell: Pipedrive
) -> None:
    """A dry run on a quiet desk said `Dry run: 11 changes in Pipedrive to take in`: the
    desk's own writes, listed again in the pull's overlap window, were counted."""
    api = shell
    for title in ("Fleet rollout", "Pilot in Lyon", "Seats renewal"):
        ok("deal", "add", title)
    ok("log", "call", "1", "--note", "Spoke to Li")
    ok("follow-up", "add", "2", "fri", "--note", "Send the offer")
    ok("sync", "pipedrive")
    edit(desk, 3, value_cents=90_000)
    ok("sync", "pipedrive")  # sent: Pipedrive lists it as changed since the last pull

    quiet = ok("sync", "pipedrive", "--dry-run")
    assert quiet.startswith("Dry run: 0 changes in Pipedrive to take in, 0 desk rows")

    api.change("deals", remote_deal(api, "Pilot in Lyon")["id"], value=800)
    api.add("deals", title="New there")
    said = ok("sync", "pipedrive", "--dry-run")
    assert said.startswith("Dry run: 2 changes in Pipedrive to take in")
    assert ok("sync", "pipedrive").startswith("Took in 1 new and 1 changed from Pipedrive")


def test_a_call_whose_create_pipedrive_answers_404_is_set_aside_with_pipedrives_words(
    desk: Engine, shell: Pipedrive
) -> None:
    """A 404 on creating an activity (its deal gone there) stopped the sync for good."""
    api = shell
    ok("deal", "add", "Fleet rollout")
    ok("sync", "pipedrive")
    ok("log", "call", "1", "--note", "Spoke to Li")
    ok("deal", "add", "Pilot in Lyon")
    creates_activity = lambda method, path: method == "POST" and path == "/api/v2/activities"  # noqa: E731
    api.fail(404, times=1, when=creates_activity)

    said = ok("sync", "pipedrive")

    assert "activity #1 set aside: Pipedrive refused POST /api/v2/activities: 404" in said
    assert remote_deal(api, "Pilot in Lyon")
    assert "1 refused by Pipedrive" in ok("sync", "status")
    assert "set aside" not in ok("sync", "pipedrive")  # tried again, and it went
    assert "refused" not in ok("sync", "status") and api.count("activities") == 1


def test_a_desk_mapped_twice_onto_one_stage_before_is_told(
    desk: Engine, shell: Pipedrive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desk whose two stages were mapped to one Pipedrive stage before that was refused
    (Negotiation -> 106 and Trial -> 106) is told how to map them again."""
    ok("deal", "add", "Fleet rollout")
    ok("sync", "pipedrive")
    ok("stage", "add", "Trial", "--after", "Demo", "--probability", "45")
    trial = next(line for line in ok("stage", "list").splitlines() if "Trial" in line)
    trial_id = int(trial.split("(id ")[1].split(")")[0])
    with write_session(desk) as session:
        stored = state.get_json(session, state.STAGE_MAP, {})
        state.put(session, state.STAGE_MAP, json.dumps({**stored, str(trial_id): 106}))

    assert "Trial -> Negotiations Started (106) (as Negotiation" in ok("sync", "stages")
    monkeypatch.setenv("REPDESK_NOW", (NOW + timedelta(days=1)).isoformat())
    said = ok("sync", "pipedrive")
    assert "desk stages Negotiation and Trial are both mapped to Pipedrive stage 106" in said
