"""The one place repdesk asks what time it is.

`REPDESK_NOW` (an ISO instant such as 2026-11-20T10:00:00+00:00) pins the clock for tests,
screenshots and the benchmark, so their output only changes when the code does.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime


def now() -> datetime:
    """The current instant, aware, in UTC."""
    pinned = os.environ.get("REPDESK_NOW")
    if pinned:
        moment = datetime.fromisoformat(pinned)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def today() -> date:
    """The rep's calendar day, in local time: follow-ups and close dates are local days."""
    return now().astimezone().date()


def local_date(moment: datetime) -> date:
    return moment.astimezone().date()


def days_since(moment: datetime, today: date) -> int:
    """Calendar days from `moment`'s day to `today`, where the rep is: 0 for today, 1 for a
    call yesterday evening (in 24-hour days it was "today": an audit)."""
    return (today - local_date(moment)).days
