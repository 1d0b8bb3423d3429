"""What a trial of the Pipedrive sync found, each kept found: a deal imported with an id
Pipedrive does not have, one refused request, the people of deals taken in, stages added or
removed, a win dated before the first contact, a token over plain http, and what the rep reads
at the prompt and in the summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.pipedrive.helpers import add_deal, point_settings_at, remote_deal
from tests.pipedrive.server import TOKEN, Pipedrive
from tests.shell import ok

from repdesk.services import activities
from repdesk.storage.models import Deal, SyncLink
from repdesk.storage.store import read_session, write_session


@pytest.fixture
def shell(home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch) -> Pipedrive:
    """The shell's `repdesk sync ...` pointed at the stand-in."""
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    return api


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
