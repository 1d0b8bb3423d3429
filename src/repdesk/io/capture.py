"""`repdesk capture`, first half: mail and calendar files read into plain items, without
touching the desk.

Mail through the standard library (`email` with the compat32 policy, whose headers are plain
strings that never fail later when read; `mailbox` for mbox files and Maildir folders), each
message read at most HEAD_BYTES deep: the headers and the text come first, an attachment after
them is never needed, so a 50 MB message costs what a small one does. Calendars through
icalendar, repeating events expanded with recurring-ical-events into their occurrences in a
window around now. The second half (matching items to deals, writing) is
`repdesk.services.capture`.

Every problem is one line naming the file (and the message or event in it), and the rest of
the file is still read: a bad message never hides the good ones beside it.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import hashlib
import html
import mailbox
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import Message
from pathlib import Path
from threading import Event
from time import monotonic
from typing import Any

from repdesk.core.dates import DAY_RANGE, in_range
from repdesk.core.text import printable

# How much of one message is read: headers and the text part (attachments come after them).
HEAD_BYTES = 1_000_000
# How much of a calendar file is read at most.
CALENDAR_BYTES = 20_000_000
# A repeating event's occurrences are taken this far back and ahead of now.
PAST_WINDOW = timedelta(days=90)
FUTURE_WINDOW = timedelta(days=30)
# Days no mail or meeting of a rep's is on, though a desk takes them: before 1990 (a clock
# never set: 1970-01-01 is a computer clock's zero, 1980-01-01 an old PC's), or a meeting
# that happens once more than five years ahead. Captured, such a mail moved its deal's first
# contact back decades.
EARLIEST = date(1990, 1, 1)
FURTHEST_AHEAD = timedelta(days=5 * 365)
# What of a message's body becomes the activity's note.
NOTE_LINES = 3
NOTE_CHARS = 400

EMAIL, MEETING = "email", "meeting"


@dataclass(frozen=True)
class Item:
    """One message or one calendar occurrence, as read."""

    # "mail:<Message-ID>", "ics:<UID>/<RECURRENCE-ID>" (a repeating meeting's occurrence) or
    # "ics:<UID>/<start>" (a meeting that happens once): the same item read again
    key: str
    kind: str  # email | meeting
    where: str  # "FILE", "FILE#3" (the 3rd message or event in it)
    start: datetime  # aware UTC: the message's Date, the event's start
    subject: str
    sender: str = ""  # the From address (mail) or the organizer (meetings)
    recipients: tuple[str, ...] = ()  # To and Cc (mail) or the attendees (meetings)
    first_lines: str = ""  # the body's first lines, quoted text and signature left out
    end: datetime | None = None
    all_day: bool = False
    series: str = ""  # a repeating event's UID: only its next occurrence becomes a follow-up
    cancelled: bool = False  # a meeting called off (STATUS:CANCELLED): its next step goes

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(a for a in (self.sender, *self.recipients) if a)

    @property
    def minutes(self) -> int | None:
        """A meeting's length; none for an all-day event, one without an end, or one longer
        than a day (an offsite over a month is no meeting of 1440 minutes: a hostile test)."""
        if self.end is None or self.all_day or self.end - self.start > timedelta(days=1):
            return None
        return max(0, round((self.end - self.start).total_seconds() / 60))

    @property
    def days(self) -> int | None:
        """How many days an event over more than one day spans (its minutes are none)."""
        if self.end is None or self.end - self.start <= timedelta(days=1):
            return None
        return math.ceil((self.end - self.start) / timedelta(days=1))


@dataclass
class Reading:
    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each


def read_paths(paths: list[Path], *, now: datetime, stop: Event | None = None) -> Reading:
    """Read every path: an .eml file, an mbox file, a Maildir folder, an .ics file, or one of
    them followed by `#N` (the Nth message or event in it, as a listing numbered it).

    `stop`, once set (the app's capture screen closed, the app quitting), ends the read at
    the next message or event: a thread cannot be cancelled, and its read went on after."""
    reading = Reading()
    for given in paths:
        if stop is not None and stop.is_set():
            break
        path, pick = _split_pick(given)
        before, noted = len(reading.items), len(reading.problems)
        try:
            _read_one(path, now, reading, stop)
        except OSError as exc:
            reading.problems.append(f"{path}: cannot be read ({exc.strerror or exc})")
            continue
        if pick is not None:
            mine = reading.items[before:]
            # A file of one message is listed without a number: its #1 is that message (it
            # "had no item #1": a hostile test).
            names = {f"{path}#{pick}"} | ({str(path)} if pick == 1 else set())
            chosen = [item for item in mine if item.where in names]
            del reading.items[before:]
            said = any(line.startswith(f"{path}:") for line in reading.problems[noted:])
            if not chosen and path.is_dir():
                reading.problems.append(
                    f"{given}: {path} is a Maildir folder: give the message's own file, as "
                    "listed, instead of a number"
                )
            elif not chosen and not said:
                # A line about the file itself ("not a mail message") says why already: one
                # line is enough (it said both: a hostile test).
                reading.problems.append(f"{given}: {path} has no item #{pick}")
            reading.items.extend(chosen)
            # A line about another item of the file is not about the one picked (an audit).
            others = re.compile(re.escape(f"{path}#") + r"(\d+):")
            reading.problems[noted:] = [
                line
                for line in reading.problems[noted:]
                if (found := others.match(line)) is None or found[1] == str(pick)
            ]
    # A path given twice is read twice: its lines are said once (a hostile test).
    reading.problems = list(dict.fromkeys(reading.problems))
    # One message in two places (an .eml saved from the mbox beside it, a Maildir copy) is one
    # message: listed twice, settling one settled both and the screen said "2 captured before"
    # (a hostile test). The first place it was read from stands for it.
    seen: set[str] = set()
    meetings: dict[str, Item] = {}  # a meeting that happens once, by its UID
    unique = []
    for item in reading.items:
        uid = item.key.rpartition("/")[0] if item.kind == MEETING and not item.series else ""
        if uid and uid in meetings and meetings[uid].key != item.key:
            # One meeting at two times in two files (an old export beside a new one): each
            # capture moved or cancelled its step and put it back (a hostile test).
            first = meetings[uid]
            reading.problems.append(
                f"{item.where}: the same meeting (UID {printable(uid[len('ics:') :])[:80]}) as "
                f"{first.where}, at another time; the one in {first.where} is read"
            )
            continue
        if item.key not in seen:
            seen.add(item.key)
            unique.append(item)
            if uid:
                meetings[uid] = item
    reading.items = unique
    return reading


def _split_pick(path: Path) -> tuple[Path, int | None]:
    text = str(path)
    head, sep, tail = text.rpartition("#")
    if sep and tail.isascii() and tail.isdigit() and not path.exists():
        return Path(head), int(tail)
    return path, None


def _read_one(path: Path, now: datetime, reading: Reading, stop: Event | None) -> None:
    if not path.exists():
        reading.problems.append(f"{path}: no such file or folder")
        return
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new")):
            _read_maildir(path, reading, stop)
        else:
            reading.problems.append(
                f"{path}: a folder that is not a Maildir (no cur/ and new/ in it)"
            )
        return
    if not path.is_file():
        reading.problems.append(f"{path}: {_NOT_REGULAR}")
        return
    with path.open("rb") as handle:
        start = handle.read(4096)
    stripped = start.lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.suffix.lower() in (".ics", ".ical", ".ifb") or stripped[:15].upper() == (
        b"BEGIN:VCALENDAR"
    ):
        _read_calendar(path, now, reading, stop)
    elif start.startswith(b"From "):
        _read_mbox(path, reading, stop)
    elif b"\x00" in start and not _looks_like_headers(start):
        reading.problems.append(f"{path}: not a mail message or a calendar (binary data)")
    else:
        size = path.stat().st_size
        with path.open("rb") as handle:
            data = handle.read(HEAD_BYTES)
        _add_message(data, size, str(path), reading)


_NOT_REGULAR = "not a file (a pipe, a device or a dangling link), left out"

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:", re.MULTILINE)


def _looks_like_headers(data: bytes) -> bool:
    head = data.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    names = {m.group().lower().rstrip(b":") for m in _HEADER_LINE.finditer(head)}
    return bool(names & {b"from", b"date", b"message-id", b"subject", b"to"})


# ---------------------------------------------------------------- mail


def _read_mbox(path: Path, reading: Reading, stop: Event | None) -> None:
    box = mailbox.mbox(path, create=False)
    try:
        keys = box.keys()  # reads the table of contents: each message's place in the file
        # Its size from that table (private to mailbox, not declared in its types): the
        # public API would read a message whole to measure it (a 50 MB attachment).
        places: dict[str, tuple[int, int]] = vars(box)["_toc"]
        for number, key in enumerate(keys, start=1):
            if stop is not None and stop.is_set():
                return
            start, end = places[key]
            handle = box.get_file(key)
            try:
                data = handle.read(HEAD_BYTES)
            finally:
                handle.close()
            _add_message(data, end - start, f"{path}#{number}", reading)
    finally:
        box.close()


def _read_maildir(path: Path, reading: Reading, stop: Event | None) -> None:
    box = mailbox.Maildir(path, create=False)
    keys = box.keys()  # reads the table of contents: the file of each message
    # Each message's own file ("cur/<name>", private to mailbox, not declared in its types): a
    # path for --deal, and by name the order they were delivered in.
    files: dict[str, str] = vars(box)["_toc"]
    for key in sorted(keys, key=files.__getitem__):
        if stop is not None and stop.is_set():
            return
        where = path / files[key]
        # One message that cannot be read (a dangling link, a pipe that would block the read
        # for ever) is a line of its own: the folder's other messages are still read.
        try:
            if not where.exists() and not where.is_symlink():
                # Moved or deleted between the folder's listing and its read (a mail client
                # filing it): not "a pipe, a device or a dangling link" (a hostile test).
                reading.problems.append(f"{where}: gone while the folder was read, left out")
                continue
            if not where.is_file():
                reading.problems.append(f"{where}: {_NOT_REGULAR}")
                continue
            size = where.stat().st_size
            with where.open("rb") as handle:
                data = handle.read(HEAD_BYTES)
        except OSError as exc:
            reading.problems.append(f"{where}: cannot be read ({exc.strerror or exc})")
            continue
        _add_message(data, size, str(where), reading)


def _add_message(data: bytes, size: int, where: str, reading: Reading) -> None:
    if not data.strip():
        reading.problems.append(f"{where}: empty, not a mail message")
        return
    if not _looks_like_headers(data):
        reading.problems.append(f"{where}: not a mail message (no From, Date or Subject header)")
        return
    # Only a read that stopped at HEAD_BYTES left something out (an mbox's size counts its
    # "From " line, which the message's text does not hold).
    if size > len(data) >= HEAD_BYTES:
        reading.problems.append(
            f"{where}: {size / 1_000_000:.0f} MB; its headers and text were read, the rest "
            "(attachments) left out"
        )
    try:
        message = email.message_from_bytes(data)  # compat32: headers stay plain text
    except Exception as exc:  # the parser is lenient; this is a message it could not take
        reading.problems.append(f"{where}: broken MIME, left out ({type(exc).__name__})")
        return
    sent = _date(message)
    if sent is None:
        reading.problems.append(f"{where}: no readable Date header, left out")
        return
    if not in_range(sent.date()) or _written_year_before_1900(message):
        reading.problems.append(
            f"{where}: its Date is out of range: repdesk takes {DAY_RANGE}, left out"
        )
        return
    if sent.date() < EARLIEST:
        reading.problems.append(f"{where}: {_bogus(sent)}, left out")
        return
    raw_subject = _decoded(message.get("Subject", ""))
    cleaned = clean(raw_subject)
    subject = _capped(cleaned)
    if cleaned != raw_subject:
        reading.problems.append(
            f"{where}: its Subject held control characters (a terminal escape, a NUL); "
            "they were left out"
        )
    sender = _addresses(message, "From")
    recipients = _addresses(message, "To", "Cc")
    message_id = clean(_header_text(message.get("Message-ID", ""))).strip().strip("<>").strip()
    if not message_id:
        # No id: the same message read again still has the same date, sender and subject.
        digest = hashlib.sha256(
            f"{sent.isoformat()}|{','.join(sender)}|{subject}".encode()
        ).hexdigest()[:24]
        message_id = f"sha256:{digest}"
    reading.items.append(
        Item(
            key=f"mail:{message_id[:500]}",
            kind=EMAIL,
            where=where,
            start=sent,
            subject=subject,
            sender=sender[0] if sender else "",
            recipients=tuple(recipients),
            first_lines=first_lines(_body_text(message, where, reading)),
        )
    )


SUBJECT_CHARS = 500


def _capped(text: str) -> str:
    """A subject as a note holds it: a header of a megabyte is not a subject."""
    return text if len(text) <= SUBJECT_CHARS else text[: SUBJECT_CHARS - 1] + "…"


def clean(text: str) -> str:
    """Text from a file as the desk keeps it: no NUL (PostgreSQL cannot hold one) and no other
    control character but line breaks and tabs (an encoded header can carry `ESC ] 2 ;`)."""
    return "".join(
        ch for ch in text if ch in "\n\t" or not (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0)
    )


def _header_text(raw: Any) -> str:
    """A header as text. Raw UTF-8 in a header (RFC 6532, as many mailers send it now) comes
    out of compat32 as a Header of "unknown-8bit" whose str() has a U+FFFD for every byte: a
    subject "Angebot für Sie" was kept as "Angebot f��r Sie" (a hostile test). Its bytes are
    read as UTF-8, or as Windows-1252 when they are not UTF-8."""
    if not isinstance(raw, email.header.Header):
        return str(raw)
    out = []
    try:
        parts = email.header.decode_header(raw)
    except Exception:
        return str(raw)
    for value, charset in parts:
        if not isinstance(value, bytes):
            out.append(value)
            continue
        try:
            out.append(value.decode(charset if charset not in (None, "unknown-8bit") else "utf-8"))
        except (LookupError, UnicodeDecodeError):
            out.append(value.decode("cp1252", errors="replace"))
    return "".join(out)


def _decoded(raw: Any) -> str:
    """A header's text with its encoded words (=?utf-8?q?...?=) decoded; the raw text when
    they cannot be (an unknown charset, a broken word)."""
    text = _header_text(raw)
    # Beside encoded words, decode_header hands back the plain parts as bytes in
    # raw-unicode-escape: raw UTF-8 there ("=?utf-8?q?Gr=C3=BC=C3=9Fe?= für 日本") came out
    # "f\ufffdr \\u65e5" read as ASCII (a hostile test). An ASCII header's are ASCII.
    plain = "ascii" if text.isascii() else "raw-unicode-escape"
    try:
        parts = email.header.decode_header(text)
        out = []
        for value, charset in parts:
            if isinstance(value, bytes):
                try:
                    out.append(value.decode(charset or plain, errors="replace"))
                except LookupError:  # a charset no codec knows
                    out.append(value.decode("utf-8", errors="replace"))
            else:
                out.append(value)
        text = "".join(out)
    except Exception:  # decode_header raises on some broken words: keep them as written
        pass
    return " ".join(text.split())


def _addresses(message: Message, *names: str) -> list[str]:
    raw = [_header_text(v) for name in names for v in (message.get_all(name) or [])]
    try:
        pairs = email.utils.getaddresses(raw)
    except Exception:
        return []
    found = []
    for _name, address in pairs:
        address = clean(address).strip().strip("<>").lower()
        if "@" in address and " " not in address and address not in found:
            found.append(address)
    return found


def _date(message: Message) -> datetime | None:
    raw = message.get("Date")
    if raw is None:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(clean(str(raw)))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": the time is UTC, its place unknown
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


_WRITTEN_YEAR = re.compile(r"\b[0-9]{1,2}\s+[A-Za-z]{3,}\s+([0-9]{3,})\b")


def _written_year_before_1900(message: Message) -> bool:
    """`30 Nov 0001`: the mail parser reads a year under 100 as 19xx or 20xx (RFC 5322's
    obsolete two-digit years), so year 1 would land in 2001; a year written with three or
    more digits means what it says."""
    written = _WRITTEN_YEAR.search(clean(str(message.get("Date", ""))))
    return written is not None and int(written[1]) < 1900


def _body_text(message: Message, where: str, reading: Reading) -> str:
    """The message's text: its first text/plain part (not an attachment), else its first
    text/html part without the tags."""
    plain = html_text = None
    try:
        parts = list(message.walk())
    except Exception:
        parts = [message]
    for part in parts:
        if part.is_multipart():
            continue
        disposition = str(part.get("Content-Disposition", "")).lower()
        if disposition.startswith("attachment"):
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = _payload(part)
        elif kind == "text/html" and html_text is None:
            html_text = _payload(part)
    if plain is not None:
        return plain
    if html_text is not None:
        return _without_tags(html_text)
    return ""


def _payload(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


_TAG = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_BREAK_TAG = re.compile(r"<\s*(br|/p|/div|/li|/tr)\b[^>]*>", re.IGNORECASE)


def _without_tags(text: str) -> str:
    return html.unescape(_TAG.sub("", _BREAK_TAG.sub("\n", text)))


# Where the quoted message of a reply starts: the body stops there.
_QUOTE_START = re.compile(
    r"^(On .{4,200} wrote:|Am .{4,200} schrieb .{1,100}:|Le .{4,200} a écrit ?:|"
    r"-{2,}\s*Original Message\s*-{2,}|-{2,}\s*Forwarded message\s*-{2,}|"
    r"_{10,}|From: .+|Von: .+|De ?: .+)$",
    re.IGNORECASE,
)


def first_lines(body: str) -> str:
    """The body's first lines of its own: quoted text, the quote's heading and the signature
    left out, at most NOTE_LINES lines and NOTE_CHARS characters."""
    kept: list[str] = []
    for raw in clean(body).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if raw.rstrip() in ("--", "-- ") or raw == "-- ":
            break  # the signature's separator
        if _QUOTE_START.match(line):
            break
        if line.startswith(">"):
            continue
        if line:
            kept.append(" ".join(line.split()))
        if len(kept) >= NOTE_LINES:
            break
    text = " ".join(kept)
    return text if len(text) <= NOTE_CHARS else text[: NOTE_CHARS - 1].rstrip() + "…"


# ---------------------------------------------------------------- calendars


def _read_calendar(path: Path, now: datetime, reading: Reading, stop: Event | None) -> None:
    import icalendar

    size = path.stat().st_size
    if size > CALENDAR_BYTES:
        reading.problems.append(
            f"{path}: {size / 1_000_000:.0f} MB, more than a calendar file holds "
            f"({CALENDAR_BYTES // 1_000_000} MB at most): export a shorter range"
        )
        return
    raw = path.read_bytes()
    try:
        calendars = icalendar.Calendar.from_ical(raw, multiple=True)
    except Exception as exc:
        reason = printable(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        reading.problems.append(f"{path}: not a readable calendar ({reason[:120]})")
        return
    number = 0
    if not any(True for calendar in calendars for _ in calendar.walk("VEVENT")):
        reading.problems.append(f"{path}: not a readable calendar (it holds no events)")
        return
    zones_said: set[str] = set()
    budget = [MAX_FILE_OCCURRENCES]  # the occurrences the file's repeating events may still take
    deadline = monotonic() + CALENDAR_SECONDS
    for calendar in calendars:
        left_out: set[int] = set()
        for event in calendar.walk("VEVENT"):
            if stop is not None and stop.is_set():
                return
            uid = printable(clean(str(event.get("UID", "")))[:80]) or "without a UID"
            start = _instant(event.get("DTSTART"))
            if start is None:
                problem = "has no readable start (DTSTART)"
            elif not in_range(start[0].date()):
                problem = f"starts {start[0].date().isoformat()}: out of range: repdesk takes "
                problem += DAY_RANGE
            elif problem := _rule_problem(event, now + FUTURE_WINDOW, budget, deadline):
                pass
            elif _ends_before_it_starts(event, start[0]):
                # Read as an event without an end (no length), said: it was listed as 60
                # minutes, the length recurring-ical-events gives one (a hostile test).
                del event["DTEND"]
                reading.problems.append(
                    f"{path}: an event {_named(event, uid)} ends before it starts: read "
                    "without an end (no length)"
                )
                continue
            elif not _repeats(event) and start[0].date() < EARLIEST:
                problem = _bogus(start[0])
            elif not _repeats(event) and start[0] > now + FURTHEST_AHEAD:
                problem = (
                    f"starts {start[0].date().isoformat()}, more than five years ahead: "
                    "not a meeting to plan for"
                )
            else:
                zone = _unknown_zone(event.get("DTSTART"))
                if zone and zone not in zones_said:  # once a zone: an export repeats it
                    zones_said.add(zone)
                    # Read as the rep's own time, as a floating time is; said, not silent (an
                    # audit: an hour or a day off without a word).
                    reading.problems.append(
                        f"{path}: an event ({uid}) names a time zone the calendar does not "
                        f"define ({printable(clean(zone))[:60]}): its times are read as yours"
                        " (so are those of its other events in that zone)"
                    )
                continue
            reading.problems.append(f"{path}: an event {_named(event, uid)} {problem}, left out")
            left_out.add(id(event))
        # Out of the calendar before it is expanded: an unreadable start would fail the whole
        # calendar, and a rule repeating every second never ends expanding.
        if left_out:
            _remove(calendar, left_out)
        events = _expand(calendar, now, path, reading)
        singles = _far_single_events(calendar, now)
        repeating, shared = _uids(calendar)
        singles_seen: set[str] = set()
        # Two events with one UID break the standard, and recurring-ical-events reads one of
        # them only: the other was dropped without a word (a hostile test).
        for uid, count in shared.items():
            reading.problems.append(
                f"{path}: {count} events share the UID {printable(uid)[:80]}; one of them is "
                "read: a calendar gives each event a UID of its own"
            )
        seen: set[str] = set()
        for event in [*events, *singles]:
            number += 1
            where = f"{path}#{number}"
            item = _event_item(event, where, reading, repeating)
            if item is None:
                continue
            uid_key = item.key.rpartition("/")[0]
            if item.key in seen or (not item.series and uid_key in singles_seen):
                continue  # several events of one UID: said above, one of them read
            seen.add(item.key)
            if not item.series:
                singles_seen.add(uid_key)
            reading.items.append(item)


def _expand(calendar: Any, now: datetime, path: Path, reading: Reading) -> list[Any]:
    """The calendar's occurrences in the window. When the expansion fails, each event (with
    its moved occurrences: one UID) is expanded alone and the one that fails is one line: a
    bad series made the whole calendar "cannot be read", the good events beside it lost, and
    skipping bad series skipped them without a word (a hostile test)."""
    import recurring_ical_events

    low, high = now - PAST_WINDOW, now + FUTURE_WINDOW
    try:
        return list(recurring_ical_events.of(calendar).between(low, high))
    except Exception:
        pass
    import icalendar

    others = [c for c in calendar.subcomponents if c.name != "VEVENT"]
    groups: dict[str, list[Any]] = {}
    for event in calendar.walk("VEVENT"):
        uid = clean(str(event.get("UID", ""))).strip()
        groups.setdefault(uid or f"#{id(event)}", []).append(event)
    found = []
    for events in groups.values():
        alone = icalendar.Calendar()
        for name, value in calendar.items():
            alone[name] = value
        alone.subcomponents = [*others, *events]
        try:
            found += recurring_ical_events.of(alone).between(low, high)
        except Exception as exc:
            event = events[0]
            uid = printable(clean(str(event.get("UID", "")))[:80]) or "without a UID"
            text = str(exc).strip()
            reason = printable(text.splitlines()[0] if text else type(exc).__name__)
            reading.problems.append(
                f"{path}: an event {_named(event, uid)} cannot be read ({reason[:120]}), left out"
            )
            _remove(calendar, {id(e) for e in events})
    return found


def _uids(calendar: Any) -> tuple[set[str], dict[str, int]]:
    """The UIDs of the calendar's repeating events (a rule, extra dates, or a moved
    occurrence): each of their occurrences is an item of its own. Any other event is one item
    whatever its time, so a meeting moved in the calendar is the same meeting. And the UIDs
    several such events share, with how many share each."""
    repeating: set[str] = set()
    counts: dict[str, int] = {}
    for event in calendar.walk("VEVENT"):
        uid = clean(str(event.get("UID", ""))).strip()
        if not uid:
            continue  # events without a UID are keyed by their start and summary
        if _repeats(event):
            repeating.add(uid)
        counts[uid] = counts.get(uid, 0) + 1
    shared = {uid: n for uid, n in counts.items() if n > 1 and uid not in repeating}
    return repeating, shared


def _unknown_zone(prop: Any) -> str:
    """The TZID a start names when icalendar could not resolve it (no VTIMEZONE, no such IANA
    zone), else ""."""
    params = getattr(prop, "params", None) or {}
    zone = str(params.get("TZID", "") or "")
    value = getattr(prop, "dt", None)
    if zone and isinstance(value, datetime) and value.tzinfo is None:
        return zone
    return ""


def _remove(calendar: Any, events: set[int]) -> None:
    """Take these events (by identity: comparing components is slow) out of the calendar."""
    for component in calendar.walk():
        component.subcomponents[:] = [c for c in component.subcomponents if id(c) not in events]


# ---------------------------------------------------------------- repeat rules

# A repeating event's occurrences looked at, from its start to the end of the window, at most:
# a rule that needs more is no meeting (hourly for two years and more), and expanding it is
# where a capture ran for ever (`INTERVAL=0` repeats one instant endlessly: a hostile test).
MAX_OCCURRENCES = 20_000
# And in one calendar file, all its repeating events together.
MAX_FILE_OCCURRENCES = 200_000
# A rule that never happens (BYMONTH=2;BYMONTHDAY=30) looks at no occurrence: the rule library
# searches day by day up to year 9999 (some seconds) to know it. A file's repeating events are
# looked at this long at most; those after it are left out, said in one line.
CALENDAR_SECONDS = 20.0

_FREQUENCIES = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_WEEKDAY = re.compile(r"([+-]?)([0-9]{0,2})(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = re.compile(r"[0-9]{8}(T[0-9]{6}Z?)?")
# Each numbered part's values (RFC 5545 3.3.10); a minus counts from the end.
_NUMBERS = {
    "BYSECOND": (0, 60, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}


class _BadRule(Exception):
    """What is wrong with a repeat rule, in a rep's words."""


def _ends_before_it_starts(event: Any, start: datetime) -> bool:
    end = _instant(event.get("DTEND"))
    return end is not None and end[0] < start


def _bogus(moment: datetime) -> str:
    return (
        f"dated {moment.date().isoformat()}, before {EARLIEST.year}: a clock that was not set "
        "(1970-01-01 is a computer clock's zero), not the day it was written"
    )


def _repeats(event: Any) -> bool:
    """An event of a series (a rule, extra dates, a moved occurrence): its start may be long
    ago (a birthday since 1970) while its occurrences read are near now."""
    return any(event.get(name) is not None for name in ("RRULE", "RDATE", "RECURRENCE-ID"))


def _named(event: Any, uid: str) -> str:
    """An event as a line names it: its summary cut short, and its UID."""
    summary = " ".join(clean(str(event.get("SUMMARY", ""))).split())
    if not summary:
        return f"({uid})"
    shown = summary if len(summary) <= 40 else summary[:39].rstrip() + "…"
    return f'"{printable(shown)}" ({uid})'


def _rule_text(rule: Any) -> str:
    """An RRULE as written: icalendar keeps one it could not parse as its text (vBroken),
    whose `to_ical` escapes it (the stray backslash of "invalid 'FREQ': WEEKLY\\")."""
    return str(rule) if isinstance(rule, str) else bytes(rule.to_ical()).decode()


def _rule_parts(text: str) -> dict[str, str]:
    """The rule's parts, each checked; raises _BadRule naming the part that is wrong."""
    parts: dict[str, str] = {}
    written: dict[str, str] = {}  # as the file has them, for the line
    for piece in text.strip().split(";"):
        name, sep, value = piece.partition("=")
        name, shown = name.strip().upper(), printable(piece.strip())[:60]
        if not sep or not value.strip():
            raise _BadRule(f"{shown}: not NAME=VALUE")
        if name in parts:
            raise _BadRule(f"{name} given twice")
        parts[name], written[name] = value.strip().upper(), value.strip()
    if "FREQ" not in parts:
        raise _BadRule("no FREQ")
    for name, value in parts.items():
        shown = f"{name}={printable(written[name])[:40]}"
        if name == "FREQ" and value not in _FREQUENCIES:
            raise _BadRule(f"{shown}: not a frequency (DAILY, WEEKLY, MONTHLY, ...)")
        elif name == "INTERVAL" and not (value.isdigit() and int(value) >= 1):
            raise _BadRule(f"{shown}: the interval is a whole number from 1 up")
        elif name == "COUNT" and not value.lstrip("-").isdigit():
            raise _BadRule(f"{shown}: not a whole number")
        elif name == "UNTIL" and _UNTIL.fullmatch(value) is None:
            raise _BadRule(f"{shown}: not a date or a time")
        elif name == "WKST" and value not in ("MO", "TU", "WE", "TH", "FR", "SA", "SU"):
            raise _BadRule(f"{shown}: not a weekday (MO to SU)")
        elif name == "BYDAY":
            for day in value.split(","):
                found = _WEEKDAY.fullmatch(day)
                if found is None or (found[2] and not 1 <= int(found[2]) <= 53):
                    raise _BadRule(f"{shown}: not weekdays (MO to SU, 1MO, -1FR, ...)")
        elif name in _NUMBERS:
            low, high, signed = _NUMBERS[name]
            for number in value.split(","):
                bare = number[1:] if signed and number[:1] in "+-" else number
                if not (bare.isdigit() and low <= int(bare) <= high):
                    back = f" or -{high} to -{low} from the end" if signed else ""
                    raise _BadRule(f"{shown}: each a whole number from {low} to {high}{back}")
        elif name not in ("FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY", *_NUMBERS):
            raise _BadRule(f"{printable(name)[:40]}: not a part of a repeat rule")
    return parts


def _rule_problem(event: Any, end: datetime, budget: list[int], deadline: float) -> str:
    """What keeps a repeating event from being expanded ("" when nothing does): a rule that
    cannot be read (the part named), one repeating more often than hourly, or one that needs
    more than MAX_OCCURRENCES occurrences from its start to `end` (or more than the file's
    `budget` left). The occurrences are counted here, each looked at, so the expansion after
    is bounded by the same count."""
    from dateutil.rrule import rrulestr

    # Dates listed one by one (RDATE) count against the same bounds: 25,000 of them a minute
    # apart came in as 25,000 meetings without a word (a hostile test).
    listed = event.get("RDATE")
    listed = listed if isinstance(listed, list) else [] if listed is None else [listed]
    dates = sum(len(getattr(entry, "dts", ()) or ()) for entry in listed)
    if dates > min(MAX_OCCURRENCES, budget[0]):
        budget[0] -= dates
        return f"repeats on more than {MAX_OCCURRENCES:,} listed dates (RDATE; no meeting does)"
    budget[0] -= dates
    rules = event.get("RRULE")
    rules = rules if isinstance(rules, list) else [] if rules is None else [rules]
    if not rules:
        return ""
    if monotonic() > deadline:
        return (
            f"was not expanded: the file's repeating events took more than "
            f"{CALENDAR_SECONDS:.0f} s to read"
        )
    start = getattr(event.get("DTSTART"), "dt", None)
    if not isinstance(start, datetime):
        start = datetime.combine(start, time()) if isinstance(start, date) else None
    if start is None:
        return "has no readable start (DTSTART)"
    stop = end if start.tzinfo is not None else end.astimezone().replace(tzinfo=None)
    for rule in rules:
        text = _rule_text(rule)
        try:
            parts = _rule_parts(text)
        except _BadRule as bad:
            return f"repeats by a rule that cannot be read ({bad})"
        by_minute = parts.get("BYMINUTE", "").split(",")
        by_second = parts.get("BYSECOND", "").split(",")
        if parts["FREQ"] in ("SECONDLY", "MINUTELY") or len(by_minute) > 1 or len(by_second) > 1:
            return "repeats more often than hourly (no meeting does)"
        # Its occurrences from its start to the window's end, counted one by one (COUNT and
        # UNTIL only end it sooner; left out here, they cannot make it fail).
        unbounded = ";".join(f"{k}={v}" for k, v in parts.items() if k not in ("COUNT", "UNTIL"))
        try:
            occurrences = iter(rrulestr(f"RRULE:{unbounded}", dtstart=start, cache=False))
            looked, ends = 0, True
            limit = min(MAX_OCCURRENCES, budget[0])
            for at in occurrences:
                if at > stop:
                    ends = False
                    break
                looked += 1
                if looked > limit:
                    budget[0] -= looked
                    if limit < MAX_OCCURRENCES:
                        return (
                            "was not expanded: the file's repeating events ran past "
                            f"{MAX_FILE_OCCURRENCES:,} occurrences"
                        )
                    return (
                        f"repeats more than {MAX_OCCURRENCES:,} times between its start "
                        f"({start.date().isoformat()}) and {stop.date().isoformat()} "
                        "(no meeting does)"
                    )
            budget[0] -= looked
            if ends and not looked:
                return f"repeats by a rule that matches no day ({printable(text)[:60]})"
        except (ValueError, TypeError, OverflowError, IndexError) as exc:
            reason = printable(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            return f"repeats by a rule that cannot be read ({printable(text)[:60]}: {reason[:80]})"
    return ""


def _far_single_events(calendar: Any, now: datetime) -> list[Any]:
    """Events that happen once, outside the window: a past meeting is one whenever it was."""
    found = []
    low, high = now - PAST_WINDOW, now + FUTURE_WINDOW
    for event in calendar.walk("VEVENT"):
        if event.get("RRULE") is not None or event.get("RDATE") is not None:
            continue
        if event.get("RECURRENCE-ID") is not None:
            continue
        start = _instant(event.get("DTSTART"))
        if start is not None and not low <= start[0] < high:
            found.append(event)
    return found


def _instant(prop: Any) -> tuple[datetime, bool] | None:
    """A DTSTART/DTEND/RECURRENCE-ID as (aware UTC, all day)."""
    if prop is None:
        return None
    try:
        value = getattr(prop, "dt", None)
        if isinstance(value, datetime):
            if value.tzinfo is None:  # a floating time: where the rep is
                value = value.astimezone()
            return value.astimezone(UTC), False
        if isinstance(value, date):
            return datetime.combine(value, time()).astimezone().astimezone(UTC), True
    # A value icalendar could not parse (30 February) raises when read; year 1 in a time
    # zone west of UTC falls before the calendar's first day.
    except (ValueError, OverflowError):
        return None
    return None


def _event_item(event: Any, where: str, reading: Reading, repeating: set[str]) -> Item | None:
    cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
    start = _instant(event.get("DTSTART"))
    if start is None:
        reading.problems.append(f"{where}: an event without a start, left out")
        return None
    end = _instant(event.get("DTEND"))
    if end is None and event.get("DURATION") is not None:
        duration = getattr(event.get("DURATION"), "dt", None)
        if isinstance(duration, timedelta):
            end = (start[0] + duration, start[1])
    uid = clean(str(event.get("UID", ""))).strip()
    # An occurrence of a repeating meeting is keyed by its RECURRENCE-ID (where the series
    # put it, the same when it is moved); a meeting that happens once by its start.
    # recurring-ical-events gives a single event a RECURRENCE-ID inside its window and none
    # outside it: keyed by that, one read again once past the window was captured twice.
    recurring = uid in repeating
    recurrence = _instant(event.get("RECURRENCE-ID")) if recurring else start
    if not uid:
        digest = hashlib.sha256(
            f"{start[0].isoformat()}|{event.get('SUMMARY', '')}".encode()
        ).hexdigest()[:24]
        uid = f"sha256:{digest}"
    rid = recurrence[0].strftime("%Y%m%dT%H%M%SZ") if recurrence else ""
    organizer = _calendar_address(event.get("ORGANIZER"))
    attendees = event.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    invited = [a for a in (_calendar_address(x) for x in attendees) if a and a != organizer]
    series = uid if recurring else ""
    return Item(
        key=f"ics:{uid[:400]}/{rid}",
        kind=MEETING,
        where=where,
        start=start[0],
        end=end[0] if end else None,
        all_day=start[1],
        subject=_capped(" ".join(clean(str(event.get("SUMMARY", ""))).split())),
        sender=organizer,
        recipients=tuple(dict.fromkeys(invited)),
        first_lines=first_lines(str(event.get("DESCRIPTION", ""))),
        series=series,
        cancelled=cancelled,
    )


def _calendar_address(value: Any) -> str:
    if value is None:
        return ""
    text = clean(str(value)).strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.strip().lower()
    return text if "@" in text and " " not in text else ""


def walk(items: list[Item]) -> Iterator[Item]:
    """Items in time order (the order they are written in)."""
    yield from sorted(items, key=lambda item: (item.start, item.where))
