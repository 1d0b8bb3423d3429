"""Desk rows and Pipedrive objects side by side: each is turned into one flat "view" of the
same fields, so the sync compares three views (the desk's, Pipedrive's, and the one both had
at the last sync, kept in sync_link.base) field by field.

What maps to what:
- a deal: title, value and currency, stage (through the stage mapping; open deals only),
  status, expected close date, close date, lost reason; company is the deal's organization,
  contact/email/phone its person.
- a call, email or meeting: a done Pipedrive activity of that type (subject = the outcome,
  note = the text, due date and time = when it happened, duration = minutes).
- a note on the desk: a Pipedrive note (API v1) on the deal.
- a follow-up: an activity of type "task" with its due date (and time), done once done.

Free text (subjects, notes, lost reasons) that both sides changed keeps both texts; any other
field both sides changed becomes a conflict for the rep to settle (nothing silently lost).
"""

from __future__ import annotations

import html
import math
import re
from datetime import UTC, date, datetime, time
from typing import Any

from repdesk.core.dates import DAY_RANGE, in_range
from repdesk.core.domain import MAX_TEXT
from repdesk.core.errors import InvalidInput
from repdesk.storage.models import Activity, Deal, FollowUp

View = dict[str, Any]

FREE_TEXT = frozenset({"subject", "note", "content", "lost_reason"})
# What the rep reads in the conflicts list.
WORDS = {
    "title": "title",
    "value": "value",
    "currency": "currency",
    "stage": "stage",
    "status": "status",
    "expected_close_date": "expected close",
    "close_date": "close date",
    "company": "company",
    "contact": "contact",
    "email": "email",
    "phone": "phone",
    "type": "kind",
    "due_date": "date",
    "due_time": "time",
    "duration": "minutes",
    "done": "done",
}
# Pipedrive's activity types for the desk's kinds, and back (others read as a call).
ACTIVITY_TYPES = {"call": "call", "email": "email", "meeting": "meeting"}
FROM_TYPES = {"call": "call", "email": "email", "meeting": "meeting", "lunch": "meeting"}
FOLLOW_UP_TYPE = "task"


def remote_type_of(kind: str, row: Any) -> str:
    if kind == "deal":
        return "deal"
    if kind == "activity" and row.kind == "note":
        return "note"
    return "activity"


def _day(text: Any) -> str | None:
    return clean(text)[:10] if text else None


def _money(cents: int) -> float:
    return round(cents / 100, 2)


# ---------------------------------------------------------------- desk -> view


def deal_view(deal: Deal, remote_stage: int | None) -> View:
    return {
        "title": deal.title,
        "value": _money(deal.value_cents),
        "currency": deal.currency,
        "stage": remote_stage if deal.status == "open" else None,
        "status": deal.status,
        "expected_close_date": deal.expected_close.isoformat() if deal.expected_close else None,
        "close_date": deal.closed_on.isoformat() if deal.closed_on else None,
        "lost_reason": deal.lost_reason if deal.status == "lost" else "",
        "company": deal.company,
        "contact": deal.contact,
        "email": deal.email,
        "phone": deal.phone,
    }


def _duration(minutes: int | None) -> str | None:
    return f"{minutes // 60:02d}:{minutes % 60:02d}" if minutes else None


def activity_view(activity: Activity) -> View:
    if activity.kind == "note":
        return {"content": activity.text or activity.outcome}
    at = activity.at.astimezone(UTC)
    return {
        "type": ACTIVITY_TYPES.get(activity.kind, "call"),
        "subject": activity.outcome or activity.kind.capitalize(),
        "note": activity.text,
        "due_date": at.date().isoformat(),
        "due_time": at.strftime("%H:%M"),
        "duration": _duration(activity.minutes),
        "done": True,
    }


def follow_up_view(follow_up: FollowUp) -> View:
    return {
        "type": FOLLOW_UP_TYPE,
        "subject": follow_up.note or "Follow-up",
        "due_date": follow_up.due_on.isoformat(),
        "due_time": follow_up.due_time.strftime("%H:%M") if follow_up.due_time else None,
        "done": follow_up.done_at is not None,
    }


# ---------------------------------------------------------------- Pipedrive -> view

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(value: Any, limit: int = MAX_TEXT) -> str:
    """Text from Pipedrive as the desk can keep it on either engine: NUL dropped (PostgreSQL
    refuses it in text), a lone surrogate (JSON allows `\\ud800`, UTF-8 does not) as U+FFFD,
    cut at the desk's longest text (a JSON export refuses longer). Markup, escape sequences
    and bidi controls are kept as written: they are made harmless where text is shown
    (core/text.py printable), never by changing what the rep's CRM holds."""
    text = value if isinstance(value, str) else str(value if value is not None else "")
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))[:limit]


# A note's content is HTML (Pipedrive's documents: "in HTML format. Subject to sanitization").
_PARAGRAPHS = re.compile(r"</p\s*>\s*<p(\s[^>]*)?>", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>|</div\s*>\s*<div(\s[^>]*)?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def note_text(content: Any) -> str:
    """A Pipedrive note's HTML as the desk's plain text: paragraphs and breaks as lines, other
    tags dropped, entities read. What note_html wrote comes back exactly as it was."""
    text = clean(content)
    text = _PARAGRAPHS.sub("\n", text)
    text = _BREAK.sub("\n", text)
    text = _TAG.sub("", text).replace("&nbsp;", " ")
    return clean(html.unescape(text))


def note_html(text: str) -> str:
    """The desk's plain text as a note's HTML: what looks like a tag stays text, lines stay
    lines (sent raw, `a <b> c` would come back sanitised to `a  c`)."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def remote_id(value: Any) -> int | None:
    """An object's reference (`org_id`, `stage_id`) as the documents have it, a positive
    integer; None for none or for anything else (it then refers to nothing)."""
    return value if type(value) is int and 0 < value < 2**63 else None


def _amount(value: Any) -> float:
    """A deal's value: a number as the documents have it (null is 0); InvalidInput for text,
    a boolean or a number no desk keeps (JSON's `1e999` reads as infinity)."""
    if value is None:
        return 0.0
    if type(value) not in (int, float) or not math.isfinite(value) or abs(value) >= 1e15:
        raise InvalidInput("value", value, "a number")
    return round(float(value), 2)


def _currency(value: Any) -> str:
    """A deal's currency as Pipedrive has it, whole: a custom currency ("USDT") cut to three
    letters would be another one ("USD"). The sync refuses what is no ISO 4217 code."""
    return clean(value, 40).strip().upper()


def remote_deal_view(
    deal: dict[str, Any], org: dict[str, Any] | None, person: dict[str, Any] | None
) -> View:
    status = str(deal.get("status") or "open")
    close = deal.get("won_time") if status == "won" else deal.get("lost_time")
    return {
        "title": clean(deal.get("title")),
        "value": _amount(deal.get("value")),
        "currency": _currency(deal.get("currency")),
        "stage": remote_id(deal.get("stage_id")) if status == "open" else None,
        "status": status,
        "expected_close_date": _day(deal.get("expected_close_date")),
        "close_date": _day(close or deal.get("close_time")) if status != "open" else None,
        "lost_reason": clean(deal.get("lost_reason")) if status == "lost" else "",
        "company": clean((org or {}).get("name")),
        "contact": clean((person or {}).get("name")),
        "email": primary((person or {}).get("emails")),
        "phone": primary((person or {}).get("phones")),
    }


def instant(text: Any) -> datetime | None:
    """A time as Pipedrive writes it: API v2 `2026-11-20T10:00:00Z`, v1 `2026-11-20 10:00:00`
    (UTC, no zone written); None for none."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def primary(items: Any) -> str:
    """The primary value of a person's emails or phones (the first when none is marked)."""
    if not isinstance(items, list) or not items:
        return ""
    chosen = next((i for i in items if isinstance(i, dict) and i.get("primary")), items[0])
    return clean(chosen.get("value")) if isinstance(chosen, dict) else ""


def _hhmm(text: Any) -> str | None:
    return clean(text)[:5] if text else None


def remote_activity_view(item: dict[str, Any]) -> View:
    if not item.get("done"):
        return {
            "type": FOLLOW_UP_TYPE,
            "subject": clean(item.get("subject")),
            "due_date": _day(item.get("due_date")),
            "due_time": _hhmm(item.get("due_time")),
            "done": False,
        }
    return {
        "type": clean(item.get("type") or "call"),
        "subject": clean(item.get("subject")),
        "note": clean(item.get("note")),
        "due_date": _day(item.get("due_date")),
        "due_time": _hhmm(item.get("due_time")),
        "duration": _hhmm(item.get("duration")) if item.get("duration") else None,
        "done": True,
    }


def remote_follow_up_view(item: dict[str, Any]) -> View:
    view = remote_activity_view({**item, "done": False})
    view["done"] = bool(item.get("done"))
    return view


# ---------------------------------------------------------------- view -> Pipedrive payload


def activity_payload(view: View, deal_id: int) -> dict[str, Any]:
    """What POST/PATCH /v2/activities gets for a desk activity or follow-up view."""
    payload: dict[str, Any] = {"deal_id": deal_id}
    for name in ("type", "subject", "note", "due_date", "due_time", "duration", "done"):
        if name in view and view[name] is not None:
            payload[name] = view[name]
    return payload


def close_instant(day: str) -> str:
    """A close date as the instant Pipedrive stores (noon UTC keeps the day in any zone
    within ±11 hours)."""
    return f"{day}T12:00:00Z"


# ---------------------------------------------------------------- view -> desk values


def due_of(view: View) -> tuple[date, time | None]:
    """The day and time of an activity view; ValueError for a day or time that is none, or a
    day the desk does not keep (core/dates.py DAY_RANGE)."""
    day = date.fromisoformat(view["due_date"]) if view.get("due_date") else date.today()
    if not in_range(day):
        raise ValueError(f"date {view['due_date']!r} is not {DAY_RANGE}")
    at = time.fromisoformat(view["due_time"]) if view.get("due_time") else None
    return day, at


def minutes_of(duration: str | None) -> int | None:
    if not duration:
        return None
    try:
        hours, minutes = duration.split(":")[:2]
        total = int(hours) * 60 + int(minutes)
    except ValueError:
        return None
    return total if 0 < total <= 24 * 60 else None


def happened_at(view: View) -> datetime:
    day, at = due_of(view)
    return datetime.combine(day, at or time(12, 0), UTC)


def merged_text(desk: str, remote: str) -> str:
    """Both versions of a free text that both sides changed: nothing is lost."""
    if not desk.strip():
        return remote
    if not remote.strip() or remote.strip() in desk:
        return desk
    return f"{desk.rstrip()}\n\n--- from Pipedrive ---\n{remote.strip()}"
