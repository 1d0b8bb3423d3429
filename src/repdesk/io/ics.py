"""Pending follow-ups as an iCalendar file (RFC 5545) a calendar app imports.

Every follow-up keeps the same UID across exports ("follow-up-<id>@repdesk"), so importing a
newer export updates the events instead of adding copies; done follow-ups are left out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from repdesk.core import formatting
from repdesk.core.text import printable
from repdesk.io.files import write_atomically
from repdesk.reports import queries

PRODID = "-//repdesk//follow-ups//EN"
_LAST_START = date(9999, 12, 30)


def uid_for(follow_up_id: int) -> str:
    return f"follow-up-{follow_up_id}@repdesk"


def build_calendar(conn: Any, *, now: datetime) -> Any:
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "repdesk follow-ups")
    for row in queries.fetch(conn, "pending_follow_ups", horizon=date.max):
        (fid, deal_id, due_on, due_time, note, recur, title, company, _value, _currency, stage,
         _probability, _status, _last_touch) = row  # fmt: skip
        day = queries.as_date(due_on)
        at = queries.as_time(due_time)
        assert day is not None
        event = Event()
        event.add("uid", uid_for(fid))
        event.add("dtstamp", now.astimezone(UTC))
        summary = f"Follow up: {printable(title)}" + (f" ({printable(company)})" if company else "")
        event.add("summary", summary)
        length = timedelta(days=1) if at is None else timedelta(minutes=30)
        # An all-day event on the local day; a time stays the rep's wall-clock time ("fri
        # 10:00" is 10:00 wherever the calendar is).
        start: date | datetime = day if at is None else datetime.combine(day, at)
        event.add("dtstart", start)
        if day <= _LAST_START:
            event.add("dtend", start + length)
        else:  # its end would fall after 9999-12-31: the same length, said another way
            event.add("duration", length)
        details = [f"Deal #{deal_id} · {stage}"]
        if note:
            details.append(note)
        if recur:
            details.append(f"Repeats {formatting.every(recur)} in repdesk")
        event.add("description", "\n".join(details))
        calendar.add_component(event)
    return calendar


def write_ics(conn: Any, path: Path, *, now: datetime) -> int:
    calendar = build_calendar(conn, now=now)
    write_atomically(path, calendar.to_ical())  # a calendar app never reads half a file
    return len(calendar.subcomponents)
