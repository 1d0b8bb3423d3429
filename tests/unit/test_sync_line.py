"""The words the app's top line gives the CRM sync (src/repdesk/tui/syncing.py), without the
app: what the rep reads after each kind of sync, or nothing for a desk that never syncs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.pinned import NOW

from repdesk.sync.connector import (
    AuthRefused,
    NoToken,
    RateLimited,
    SyncError,
    Unreachable,
    short_reason,
)
from repdesk.sync.state import Status
from repdesk.tui.syncing import sync_line


def status(**values: object) -> Status:
    found = {"linked": True, "last_sync": NOW, "waiting": 0, "conflicts": 0, "last_error": None}
    return Status(**{**found, **values})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("found", "running", "problem", "words"),
    [
        (status(linked=False, last_sync=None), False, None, None),
        (status(last_sync=NOW - timedelta(minutes=4), waiting=3), False, None,
         "Pipedrive: synced 4 min ago · 3 waiting"),
        (status(waiting=1200, conflicts=2), False, None,
         "Pipedrive: synced just now · 1,200 waiting · 2 conflicts (B)"),
        (status(conflicts=1), True, None, "Pipedrive: syncing…"),
        (status(linked=False, last_sync=None), False, "no API token",
         "Pipedrive: not synced: no API token"),
        (status(waiting=2), False, "offline", "Pipedrive: not synced: offline · 2 waiting"),
        (status(last_error="Pipedrive refused the API token"), False, None,
         "Pipedrive: last sync failed"),
        (status(last_error="Pipedrive answered 500", failed_at=NOW - timedelta(minutes=4),
                waiting=2), False, None, "Pipedrive: last sync failed 4 min ago · 2 waiting"),
        (status(last_sync=None), False, None, "Pipedrive: never synced"),
    ],
)  # fmt: skip
def test_the_top_line(found: Status, running: bool, problem: str | None, words: str | None) -> None:
    assert sync_line(found, NOW, running=running, problem=problem) == words


def test_why_a_sync_could_not_run_in_a_few_words() -> None:
    assert [
        short_reason(exc)
        for exc in (
            NoToken("x"),
            Unreachable("x"),
            AuthRefused("x"),
            RateLimited("x"),
            SyncError("x"),
        )
    ] == ["no API token", "offline", "token refused", "rate limit reached", "failed"]
