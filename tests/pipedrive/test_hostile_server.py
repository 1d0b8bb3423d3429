"""A broken or hostile server where Pipedrive should be (issue 20): odd Retry-After values,
answers of the wrong shape, pages that never end, a redirect to another host, and a token
that no API token can be. Each is one line for the rep (never "unexpected error"), the token
is never in it, and the sync ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from tests.pipedrive.helpers import Waits
from tests.pipedrive.server import ME, TOKEN, Pipedrive

from repdesk.sync.pipedrive import PipedriveClient


def _deals(method: str, path: str) -> bool:
    return method == "GET" and path == "/api/v2/deals"


@pytest.mark.parametrize("retry_after", ["inf", "1e309", "-inf", "nan"])
def test_a_retry_after_that_is_no_number_of_seconds_is_waited_as_a_backoff(
    crm: tuple[Pipedrive, str], retry_after: str
) -> None:
    api, url = crm
    waits = Waits()
    client = PipedriveClient(url, TOKEN, sleep=waits)
    api.fail(429, times=1, headers={"Retry-After": retry_after})
    assert client.whoami() == ME  # not "OverflowError: cannot convert float infinity"
    client.close()
    assert waits.seconds == [2.0]


def test_a_retry_after_given_as_a_date_is_waited_until_then(crm: tuple[Pipedrive, str]) -> None:
    api, url = crm
    waits = Waits()
    client = PipedriveClient(url, TOKEN, sleep=waits)
    past = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=40), usegmt=True)
    api.fail(429, times=1, headers={"Retry-After": past})
    api.fail(429, times=1, headers={"Retry-After": later})
    assert client.whoami() == ME
    client.close()
    assert waits.seconds[0] == 0.0  # the moment has passed: at once, not a guessed backoff
    assert 30 <= waits.seconds[1] <= 41
