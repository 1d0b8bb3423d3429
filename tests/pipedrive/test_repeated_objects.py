"""The same object twice in Pipedrive's pages (a hostile test): cursor pages ordered by
update_time bring a deal again when a colleague edits it while a big first sync pages through,
and a broken server can repeat one within a page. The sync takes the later version once and
goes on; it once stopped saying the desk was damaged and should be restored from a backup."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from tests.pipedrive.helpers import add_deal, point_settings_at, remote_deal, sync
from tests.pipedrive.server import ME, TOKEN, Pipedrive
from tests.shell import ok

from repdesk.storage import problems
from repdesk.storage.models import Activity, Deal, SyncLink
from repdesk.storage.store import read_session, write_session

EARLY, LATE = "2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z"


def _deal(title: str, changed: str, **values: Any) -> dict[str, Any]:
    return {
        "id": 5,
        "title": title,
        "value": 100,
        "currency": "EUR",
        "status": "open",
        "stage_id": 101,
        "pipeline_id": 1,
        "owner_id": ME,
        "add_time": EARLY,
        "update_time": changed,
        "is_deleted": False,
        **values,
    }


def _page(*items: dict[str, Any], more: bool = False) -> bytes:
    answer: dict[str, Any] = {"success": True, "data": list(items)}
    if more:
        answer["additional_data"] = {"next_cursor": "bmV4dA=="}
    return json.dumps(answer).encode()


def _deals(method: str, path: str) -> bool:
    return method == "GET" and path == "/api/v2/deals"


def _desk_deals(engine: Engine) -> list[tuple[str, int]]:
    with read_session(engine) as session:
        return [(d.title, d.value_cents) for d in session.execute(select(Deal)).scalars()]


@pytest.mark.parametrize(
    "pages",
    [
        [_page(_deal("Before", EARLY), more=True), _page(_deal("After", LATE, value=900))],
        [_page(_deal("Before", EARLY), _deal("After", LATE, value=900))],
        [_page(_deal("After", LATE, value=900), _deal("Before", EARLY))],
    ],
    ids=["on-two-pages", "twice-in-a-page", "later-one-first"],
)
def test_a_deal_pipedrive_lists_twice_is_taken_in_once_as_it_was_last_changed(
    desk: Engine, crm: tuple[Pipedrive, str], pages: list[bytes]
) -> None:
    api, url = crm
    for page in pages:
        api.send_raw(page, when=_deals)

    report = sync(desk, url)  # not "UNIQUE constraint failed: sync_link..."

    assert _desk_deals(desk) == [("After", 90_000)]
    assert report.taken_new == 1
    with read_session(desk) as session:
        [link] = session.execute(select(SyncLink).where(SyncLink.kind == "deal")).scalars()
    assert link.remote_id == 5


def test_an_activity_pipedrive_lists_twice_is_taken_in_once(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    api, url = crm
    add_deal(desk, "Fleet rollout")
    sync(desk, url)
    deal_id = remote_deal(api, "Fleet rollout")["id"]
    call = {"id": 77, "deal_id": deal_id, "type": "call", "done": True, "due_date": "2026-11-19"}
    api.send_raw(
        _page(
            {**call, "subject": "Voicemail", "update_time": EARLY},
            {**call, "subject": "Reached the CFO", "update_time": LATE},
        ),
        when=lambda m, p: m == "GET" and p == "/api/v2/activities",
    )

    sync(desk, url)

    with read_session(desk) as session:
        calls = session.execute(select(Activity.outcome).where(Activity.kind == "call")).all()
    assert calls == [("Reached the CFO",)]


def test_the_shell_says_nothing_of_a_damaged_desk_for_a_deal_listed_twice(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    api.send_raw(_page(_deal("Before", EARLY), more=True), when=_deals)
    api.send_raw(_page(_deal("After", LATE)), when=_deals)

    assert "Took in 1 new" in ok("sync", "pipedrive")
    assert "After" in ok("deal", "list")


def test_a_write_the_desk_refuses_as_a_duplicate_is_no_damaged_desk(home: Path) -> None:
    """The line a rep reads for a UNIQUE (or FOREIGN KEY) failure: the write was rolled back
    and the desk is as it was. "Damaged: restore a backup" would throw away their work since."""
    ok("deal", "add", "Fleet rollout")
    from repdesk.storage.store import make_engine

    engine = make_engine(home / "desk.sqlite")
    link = {"kind": "deal", "remote_type": "deal", "remote_id": 5, "base": "{}"}
    try:
        with pytest.raises(IntegrityError) as raised:
            with write_session(engine) as session:
                session.add(SyncLink(local_id=1, **link))
                session.flush()
                session.add(SyncLink(local_id=2, **link))
                session.flush()
    finally:
        engine.dispose()
    assert isinstance(raised.value.orig, sqlite3.IntegrityError)

    message, code = problems.describe(raised.value, str(home / "desk.sqlite"))

    assert "damaged" not in message and "restore" not in message
    assert "nothing of it was written" in message and code == 1
    assert "details in" in message  # a bug: its traceback is kept
    assert "Fleet rollout" in ok("deal", "list")
