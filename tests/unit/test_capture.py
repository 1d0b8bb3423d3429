"""`repdesk capture` (issue 19): mail and meetings onto the deals they are about, never
guessed, never twice; hostile files get one line each and hide nothing beside them."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from sqlmodel import col, select, update
from tests.pinned import NOW
from tests.shell import ok, refused, run

from repdesk.io.capture import HEAD_BYTES, first_lines, read_paths
from repdesk.services import capture, deals, people
from repdesk.storage.models import Activity, Captured, FollowUp
from repdesk.storage.store import read_session, write_session


def _mail(
    *,
    sender: str = "Ana Ruiz <ana@acme.example>",
    to: str = "Me <me@mycorp.example>",
    subject: str = "Re: proposal",
    date: str = "Thu, 19 Nov 2026 15:04:00 +0100",
    message_id: str = "<m1@acme.example>",
    body: str = "Looks good, send the contract.\nThanks\n\n-- \nAna\n",
) -> bytes:
    head = f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: {date}\n"
    if message_id:
        head += f"Message-ID: {message_id}\n"
    return (head + "\n" + body).encode()


def _calendar(*events: str) -> str:
    return "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\n" + "".join(events) + "END:VCALENDAR\n"


def _event(uid: str, start: str, end: str, summary: str, *attendees: str, extra: str = "") -> str:
    people_lines = "".join(f"ATTENDEE:mailto:{a}\n" for a in attendees)
    return (
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTART{start}\nDTEND{end}\nSUMMARY:{summary}\n"
        f"{people_lines}{extra}END:VEVENT\n"
    )


def _weekly(uid: str = "weekly@x", summary: str = "Weekly sync", extra: str = "") -> str:
    """A meeting with Ana every Thursday at 09:00 UTC from 5 November, ten times."""
    return _event(uid, ":20261105T090000Z", ":20261105T093000Z", summary, "ana@acme.example",
                  extra="RRULE:FREQ=WEEKLY;COUNT=10\n" + extra)  # fmt: skip


def _folder(tmp_path: Path) -> Path:
    """A folder of its own for the files (the test's desk home is in tmp_path too)."""
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


def _desk(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Acme with two deals (Ana on the open one), Nordwind with one (nobody's address known)."""
    with write_session(engine) as session:
        acme = {"company": "Acme", "currency": "EUR", "contact": "Ana Ruiz", "now": NOW}
        fleet = deals.create_deal(session=session, title="Fleet", email="ana@acme.example", **acme)
        lost = deals.create_deal(session=session, title="Old pilot", **acme)
        deals.lose_deal(session=session, deal_id=lost.id, reason="price", now=NOW)
        bank = deals.create_deal(session=session, title="Seats", company="Nordwind",
                                 currency="EUR", now=NOW)  # fmt: skip
        people.edit_company(session=session, company_id=bank.company_id, domain="nordwind.example")
        return {"fleet": fleet.id, "lost": lost.id, "bank": bank.id}  # type: ignore[dict-item]


def test_mail_and_meetings_land_on_the_deal_their_people_are_on(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = _desk(engine)
    tmp_path = _folder(tmp_path)
    (tmp_path / "reply.eml").write_bytes(_mail())
    (tmp_path / "sent.eml").write_bytes(
        _mail(
            sender="Me <me@mycorp.example>",
            to="ops@nordwind.example",
            message_id="<s1@my>",
            subject="Seats renewal",
            body="Hi,\nhere is the quote.\n> quoted\n",
        )
    )
    (tmp_path / "cal.ics").write_text(
        _calendar(
            _event("past@x", ":20261118T130000Z", ":20261118T134500Z", "Demo", "ana@acme.example"),
            _event(
                "next@x",
                ";TZID=America/New_York:20261124T100000",
                ";TZID=America/New_York:20261124T110000",
                "Contract review",
                "someone@nordwind.example",
            ),
        )
    )
    reading = read_paths(sorted(tmp_path.iterdir()), now=NOW)
    assert reading.problems == []
    with write_session(engine) as session:
        report = capture.capture(session=session, items=reading.items, me=["ME@mycorp.example"],
                                 now=NOW)  # fmt: skip
    assert report.unmatched == [] and report.ambiguous == []
    with read_session(engine) as session:
        acts = session.exec(select(Activity).order_by(Activity.at)).all()
        steps = session.exec(select(FollowUp)).all()
    got = [(a.deal_id, a.kind, a.outcome, a.minutes, a.text) for a in acts]
    assert got == [
        (ids["fleet"], "meeting", "", 45, "Demo"),
        # the open deal, not the lost one Ana was also on; the quote, not the signature
        (ids["fleet"], "email", "received", None,
         "Re: proposal — Looks good, send the contract. Thanks"),
        # nobody's address is known at Nordwind: its mail domain is
        (ids["bank"], "email", "sent", None, "Seats renewal — Hi, here is the quote."),
    ]  # fmt: skip
    # A meeting to come is a next step at its own time: 10:00 in New York is 15:00 UTC.
    assert [(s.deal_id, s.due_on.isoformat(), str(s.due_time), s.note) for s in steps] == [
        (ids["bank"], "2026-11-24", "15:00:00", "Meeting: Contract review")
    ]
    # Reading the same files again adds nothing.
    with write_session(engine) as session:
        again = capture.capture(session=session, items=reading.items, now=NOW)
    assert (again.added, again.already) == ([], 4)


def test_unknown_and_shared_addresses_are_listed_never_guessed_and_deal_settles_them(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ids = _desk(engine)
    tmp_path = _folder(tmp_path)
    with write_session(engine) as session:
        other = deals.create_deal(session=session, title="Second", company="Acme",
                                  contact="Ana Ruiz", currency="EUR", now=NOW)  # fmt: skip
    (tmp_path / "both.eml").write_bytes(_mail())  # Ana is on two open deals now
    (tmp_path / "free.eml").write_bytes(
        _mail(sender="x@gmail.com", message_id="<f1@gmail.com>", subject="hello")
    )
    items = read_paths(sorted(tmp_path.iterdir()), now=NOW).items
    with write_session(engine) as session:
        report = capture.capture(session=session, items=items, now=NOW)
    assert report.added == []
    assert [{d.id for d in u.candidates} for u in report.ambiguous] == [{ids["fleet"], other.id}]
    assert [u.item.subject for u in report.unmatched] == ["hello"]  # gmail names no company
    with write_session(engine) as session:
        settled = capture.capture(session=session, items=items, deal_id=ids["fleet"], now=NOW)
    assert {p.deal.id for p in settled.added} == {ids["fleet"]} and len(settled.added) == 2


def test_the_shell_captures_an_mbox_and_a_maildir_and_says_what_it_did(tmp_path: Path) -> None:
    tmp_path = _folder(tmp_path)
    ok("deal", "add", "Fleet", "--company", "Acme", "--contact", "Ana Ruiz",
       "--email", "ana@acme.example")  # fmt: skip
    box = mailbox.mbox(tmp_path / "inbox.mbox")
    box.add(_mail(message_id="<a@x>"))
    box.add(_mail(sender="who@elsewhere.example", message_id="<b@x>", subject="Newsletter"))
    box.close()
    maildir = mailbox.Maildir(tmp_path / "Mail")
    maildir.add(_mail(message_id="<c@x>", subject="From the Maildir"))
    maildir.close()
    dry = ok("capture", tmp_path / "inbox.mbox", tmp_path / "Mail", "--dry-run")
    assert "Would add email 2026-11-19 (received) on #1 Fleet (Acme): Re: proposal" in dry
    assert f'{tmp_path / "inbox.mbox"}#2 2026-11-19 email "Newsletter"' in dry
    assert "2 items would be added, 1 to settle (dry run: nothing written)" in dry
    assert json.loads(ok("deal", "show", "1", "--json"))["recent_activities"] == []
    done = ok("capture", tmp_path / "inbox.mbox", tmp_path / "Mail")
    assert "2 items added, 1 to settle" in done
    # The listed one, settled alone by its number.
    assert "1 item added" in ok("capture", f"{tmp_path / 'inbox.mbox'}#2", "--deal", "1")
    assert "0 items added, 3 captured before" in ok("capture", tmp_path / "inbox.mbox",
                                                     tmp_path / "Mail")  # fmt: skip
    # Deleted on purpose, a captured mail stays deleted when the files are read again.
    shown = json.loads(ok("deal", "show", "1", "--json"))["recent_activities"]
    ok("activity", "delete", str(shown[0]["id"]))
    assert "0 items added" in ok("capture", tmp_path / "inbox.mbox", tmp_path / "Mail")


def test_hostile_files_get_one_line_each_and_hide_nothing_beside_them(tmp_path: Path) -> None:
    tmp_path = _folder(tmp_path)
    ok("deal", "add", "Fleet", "--company", "Acme", "--contact", "Ana Ruiz",
       "--email", "ana@acme.example")  # fmt: skip
    files = {
        # an encoded word carrying a terminal escape, and a NUL in the subject
        "escape.eml": _mail(subject="=?utf-8?q?Hi_=1B]2;owned=07_there?=\x00", message_id="<e@x>"),
        "huge.eml": _mail(
            message_id="<h@x>", body="Text first.\n-- \n" + "A" * (HEAD_BYTES + 500_000)
        ),
        "notmail.eml": b"\x89PNG\r\n\x1a\n\x00\x00binary",
        "nodate.eml": _mail(date="the day after tomorrow", message_id="<d@x>"),
        "broken.eml": (
            b"From: ana@acme.example\nDate: Thu, 19 Nov 2026 10:00:00 +0000\nMessage-ID: <b@x>\n"
            b'Subject: broken\nContent-Type: multipart/mixed; boundary="zz"\n\n--zz\n'
            b"Content-Type: text/plain; charset=klingon\n\nStill readable\n--zz"
        ),
        "cal.ics": b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:garbage\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    code_out = ok("capture", *sorted(tmp_path.iterdir()), tmp_path / "missing.eml")
    lines = code_out.splitlines()
    assert not any("\x1b" in line or "\x00" in line for line in lines)
    skipped = [line for line in lines if line.startswith("Note:")]
    assert len(skipped) == 6, skipped
    assert any("escape.eml: its Subject held control characters" in s for s in skipped)
    assert any("huge.eml: 2 MB; its headers and text were read" in s for s in skipped)
    assert any("notmail.eml: not a mail message" in s for s in skipped)
    assert any("nodate.eml: no readable Date header" in s for s in skipped)
    assert any("cal.ics: not a readable calendar" in s for s in skipped)
    assert any("missing.eml: no such file" in s for s in skipped)
    notes = [a["text"] for a in json.loads(ok("deal", "show", "1", "--json"))["recent_activities"]]
    assert sorted(notes) == [
        "Hi ]2;owned there — Looks good, send the contract. Thanks",
        "Re: proposal — Text first.",
        "broken — Still readable",
    ]
    assert "nothing to capture" in refused("capture", tmp_path / "missing.eml")


def test_a_repeating_meeting_is_each_past_occurrence_once_and_its_next_one_a_step(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ids = _desk(engine)
    weekly = _event(
        "weekly@x", ";TZID=Europe/Berlin:20261029T100000", ";TZID=Europe/Berlin:20261029T103000",
        "Weekly sync", "ana@acme.example", extra="RRULE:FREQ=WEEKLY;COUNT=8\n",
    )  # fmt: skip
    moved = _event(  # the 12 Nov occurrence moved an hour later
        "weekly@x", ";TZID=Europe/Berlin:20261112T110000", ";TZID=Europe/Berlin:20261112T113000",
        "Weekly sync (moved)", "ana@acme.example",
        extra="RECURRENCE-ID;TZID=Europe/Berlin:20261112T100000\n",
    )  # fmt: skip
    (tmp_path / "cal.ics").write_text(_calendar(weekly, moved))
    items = read_paths([tmp_path / "cal.ics"], now=NOW).items
    with write_session(engine) as session:
        report = capture.capture(session=session, items=items, now=NOW)
    meetings = [(p.item.start, p.item.subject) for p in report.added if p.kind == "activity"]
    assert [start.astimezone(UTC).strftime("%m-%d %H:%M") for start, _ in meetings] == [
        "10-29 09:00", "11-05 09:00", "11-12 10:00", "11-19 09:00",
    ]  # fmt: skip
    assert meetings[2][1] == "Weekly sync (moved)"
    steps = [p for p in report.added if p.kind == "follow_up"]
    assert [(p.deal.id, p.item.start.strftime("%m-%d")) for p in steps] == [(ids["fleet"], "11-26")]
    # A week on, the step's meeting has happened: read again, it is a meeting and the step done.
    later = NOW + timedelta(days=7)
    items = read_paths([tmp_path / "cal.ics"], now=later).items
    with write_session(engine) as session:
        report = capture.capture(session=session, items=items, now=later)
        step = session.get(FollowUp, steps[0].item_id)
        assert step is not None and step.done_at is not None
    assert [(p.kind, p.item.start.strftime("%m-%d")) for p in report.added] == [
        ("activity", "11-26"), ("follow_up", "12-03"),
    ]  # fmt: skip


def test_a_repeating_meeting_captured_again_adds_no_second_next_step(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Found by a hostile test: each capture of the same calendar added the occurrence after
    the step captured before, one more follow-up a run."""
    ids = _desk(engine)
    weekly = _event(
        "weekly@x", ":20261105T090000Z", ":20261105T093000Z", "Weekly sync", "ana@acme.example",
        extra="RRULE:FREQ=WEEKLY;COUNT=10\n",
    )  # fmt: skip
    (tmp_path / "cal.ics").write_text(_calendar(weekly))
    for _run in range(3):
        items = read_paths([tmp_path / "cal.ics"], now=NOW).items
        with write_session(engine) as session:
            capture.capture(session=session, items=items, now=NOW)
    # Picked alone (`FILE#N`), a later occurrence is no second next step either.
    later = [i for i in read_paths([tmp_path / "cal.ics"], now=NOW).items if i.start > NOW][2]
    with write_session(engine) as session:
        capture.capture(session=session, items=[later], now=NOW)
    with read_session(engine) as session:
        steps = session.exec(select(FollowUp).where(FollowUp.deal_id == ids["fleet"])).all()
    assert [step.due_on.isoformat() for step in steps] == ["2026-11-26"]


def test_first_lines_leave_quotes_and_signatures_out() -> None:
    body = "Yes, Tuesday works.\n\nOn Mon, 16 Nov 2026, Me <me@x> wrote:\n> Does Tuesday work?\n"
    assert first_lines(body) == "Yes, Tuesday works."
    assert first_lines("> quoted only\n-- \nsig") == ""
    assert first_lines("Hallo\nVon: someone\nold") == "Hallo"


@pytest.mark.parametrize("when", ["Thu, 19 Nov 2099 10:00:00 +0000"])
def test_a_message_dated_in_the_future_is_left_out_with_a_line(
    engine, tmp_path: Path, when: str
) -> None:  # type: ignore[no-untyped-def]
    _desk(engine)
    tmp_path = _folder(tmp_path)
    (tmp_path / "future.eml").write_bytes(_mail(date=when))
    items = read_paths([tmp_path / "future.eml"], now=NOW).items
    with write_session(engine) as session:
        report = capture.capture(session=session, items=items, now=NOW)
    assert report.added == [] and "after now" in report.refused[0]
    assert datetime(2099, 11, 19, 10, tzinfo=UTC) == items[0].start


def test_an_event_with_an_impossible_start_is_one_line_and_the_rest_is_read(
    tmp_path: Path,
) -> None:
    # 30 February made icalendar's DTSTART a broken property that raised when read: the whole
    # capture ended in "unexpected error". An event with no DTSTART at all hid the good one
    # beside it ("its events cannot be read ('DTSTART')").
    tmp_path = _folder(tmp_path)
    ok("deal", "add", "Fleet", "--company", "Acme", "--contact", "Ana Ruiz",
       "--email", "ana@acme.example")  # fmt: skip
    calendar = _calendar(
        _event("feb30@x", ":20260230T150000Z", ":20260230T160000Z", "Never", "ana@acme.example"),
        "BEGIN:VEVENT\nUID:nostart@x\nSUMMARY:No start\nEND:VEVENT\n",
        _event("good@x", ":20261118T150000Z", ":20261118T160000Z", "Demo", "ana@acme.example"),
    )
    (tmp_path / "cal.ics").write_text(calendar)
    out = ok("capture", tmp_path / "cal.ics")
    assert [line.startswith("Note: ") for line in out.splitlines()].count(True) == 2, out
    assert out.count("has no readable start (DTSTART), left out") == 2
    assert "Added meeting 2026-11-18 60 min on #1 Fleet (Acme): Demo" in out


def test_items_dated_outside_the_days_a_desk_takes_are_left_out_with_a_line(
    tmp_path: Path,
) -> None:
    # A meeting in year 1 or 9999 was captured, and the desk's JSON export then refused to
    # import (its own backup); "Date: ... 0001" was read as 2001 by the mail parser.
    tmp_path = _folder(tmp_path)
    ok("deal", "add", "Fleet", "--company", "Acme", "--contact", "Ana Ruiz",
       "--email", "ana@acme.example")  # fmt: skip
    calendar = _calendar(
        _event("y1@x", ":00010101T150000Z", ":00010101T160000Z", "Year one", "ana@acme.example"),
        _event("y9@x", ":99991231T150000Z", ":99991231T160000Z", "Year 9999", "ana@acme.example"),
    )
    (tmp_path / "cal.ics").write_text(calendar)
    (tmp_path / "old.eml").write_bytes(_mail(date="Mon, 30 Nov 0001 15:20:00 +0000"))
    code, out, err = run("capture", tmp_path / "cal.ics", tmp_path / "old.eml")
    assert (code, err) == (2, "repdesk: nothing to capture: no path held a message or an event "
                              "it could read\n")  # fmt: skip
    assert out.count("out of range: repdesk takes a date from 1900-01-01 to 9990-12-31") == 3
    ok("export", "json", tmp_path / "desk.json")
    assert "Imported" in ok("--home", tmp_path / "copy", "import", tmp_path / "desk.json")


@pytest.mark.parametrize(
    "rule",
    [
        "RRULE:FREQ=SECONDLY\n",
        "RRULE:FREQ=MINUTELY;COUNT=100000000\n",
        "RRULE:FREQ=DAILY;BYMINUTE=" + ",".join(map(str, range(60))) + ";BYSECOND=0,30\n",
    ],
)
def test_a_meeting_repeating_every_minute_is_refused_before_it_is_expanded(
    tmp_path: Path, rule: str
) -> None:
    # Expanding these took minutes and more than a gigabyte: capture never ended.
    calendar = _calendar(
        _event(
            "bomb@x",
            ":20261101T100000Z",
            ":20261101T103000Z",
            "Bomb",
            "ana@acme.example",
            extra=rule,
        ),
        _event("good@x", ":20261118T150000Z", ":20261118T160000Z", "Demo", "ana@acme.example"),
    )
    (tmp_path / "cal.ics").write_text(calendar)
    reading = read_paths([tmp_path / "cal.ics"], now=NOW)
    assert [item.subject for item in reading.items] == ["Demo"]
    assert any("repeats more often than hourly" in line for line in reading.problems)


def test_a_small_message_in_an_mbox_reads_without_a_note(tmp_path: Path) -> None:
    # The mbox's table of contents counts the "From " line the message file leaves out: every
    # message of an mbox got "0 MB; its headers and text were read, the rest (attachments)
    # left out", 20,000 lines for an inbox of 20,000 mails.
    box = mailbox.mbox(tmp_path / "inbox.mbox")
    box.add(_mail(message_id="<a@x>"))
    box.add(_mail(message_id="<b@x>", body="Short.\n"))
    box.close()
    reading = read_paths([tmp_path / "inbox.mbox"], now=NOW)
    assert (len(reading.items), reading.problems) == (2, [])


def test_a_long_subject_is_cut_without_a_note_about_control_characters(tmp_path: Path) -> None:
    # Cut to 500 characters, a plain 10,000-character subject was reported as holding
    # "control characters (a terminal escape, a NUL)".
    (tmp_path / "long.eml").write_bytes(_mail(subject="S" * 10_000))
    reading = read_paths([tmp_path / "long.eml"], now=NOW)
    assert reading.problems == []
    assert len(reading.items[0].subject) == 500 and reading.items[0].subject.endswith("…")


def test_raw_utf8_headers_read_as_written_and_windows_1252_as_a_fallback(tmp_path: Path) -> None:
    # RFC 6532: many mailers send UTF-8 in headers unencoded. Read through compat32 the subject
    # became one U+FFFD per byte ("Angebot f\ufffd\ufffdr Sie"), kept so in the rep's note.
    utf8 = _mail(subject="Angebot für Sie – Größe 漢字 👩🏽‍💻", sender="José <ana@acme.example>")
    (tmp_path / "utf8.eml").write_bytes(utf8)
    (tmp_path / "cp1252.eml").write_bytes(
        _mail(message_id="<c@x>").replace(
            b"Subject: Re: proposal", "Subject: Café".encode("cp1252")
        )
    )
    reading = read_paths([tmp_path / "utf8.eml", tmp_path / "cp1252.eml"], now=NOW)
    assert reading.problems == []
    assert [i.subject for i in reading.items] == ["Angebot für Sie – Größe 漢字 👩🏽‍💻", "Café"]
    assert reading.items[0].sender == "ana@acme.example"


def test_a_maildir_entry_that_cannot_be_read_is_one_line_and_hides_no_other(
    tmp_path: Path,
) -> None:
    # A dangling link in new/ ended the whole folder with "Mail: cannot be read (No such file
    # or directory)", the messages after it never read.
    maildir = mailbox.Maildir(tmp_path / "Mail")
    maildir.add(_mail(message_id="<first@x>"))
    maildir.close()
    (tmp_path / "Mail" / "new" / "0.dangling").symlink_to(tmp_path / "gone")
    # A pipe (in the folder, or given as the path) blocked the read for ever.
    os.mkfifo(tmp_path / "Mail" / "new" / "1.pipe")
    os.mkfifo(tmp_path / "pipe.eml")
    (tmp_path / "Mail" / "new" / "9.last").write_bytes(_mail(message_id="<last@x>"))
    reading = read_paths([tmp_path / "Mail", tmp_path / "pipe.eml"], now=NOW)
    assert sorted(item.key for item in reading.items) == ["mail:first@x", "mail:last@x"]
    assert [line.rpartition("/")[2] for line in reading.problems] == [
        "0.dangling: not a file (a pipe, a device or a dangling link), left out",
        "1.pipe: not a file (a pipe, a device or a dangling link), left out",
        "pipe.eml: not a file (a pipe, a device or a dangling link), left out",
    ]


def test_a_meeting_to_come_forced_onto_a_lost_deal_says_to_reopen_it(tmp_path: Path) -> None:
    # With --deal naming the lost deal, the line said "reopen it, or capture with --deal".
    ok("deal", "add", "Fleet", "--company", "Acme")
    ok("deal", "lost", "1", "--reason", "price")
    upcoming = _event("up@x", ":20261203T150000Z", ":20261203T160000Z", "Call", "x@y.example")
    (tmp_path / "cal.ics").write_text(_calendar(upcoming))
    out = ok("capture", tmp_path / "cal.ics", "--deal", "1")
    assert "deal #1 Fleet is lost: a next step on it would never show; reopen it first\n" in out


def test_thousands_of_events_without_a_start_are_read_in_linear_time(tmp_path: Path) -> None:
    # Taken out of the calendar one by one (a list's `in` compares whole components), 20,000
    # such events in a 1 MB file took minutes; together, by identity, about a second.
    events = "".join(f"BEGIN:VEVENT\nUID:n{n}@x\nSUMMARY:x\nEND:VEVENT\n" for n in range(6000))
    good = _event("good@x", ":20261118T150000Z", ":20261118T160000Z", "Demo", "ana@acme.example")
    (tmp_path / "cal.ics").write_text(_calendar(events, good))
    started = time.perf_counter()
    reading = read_paths([tmp_path / "cal.ics"], now=NOW)
    assert time.perf_counter() - started < 10  # about 1.5 s; one by one it took 16 s
    assert [item.subject for item in reading.items] == ["Demo"]
    assert len(reading.problems) == 6000


def test_an_event_in_a_time_zone_the_calendar_does_not_define_is_read_with_a_line(
    tmp_path: Path,
) -> None:
    """Found by an audit: a TZID with no VTIMEZONE and no such zone passed without a word."""
    event = _event("tz@x", ";TZID=Mars/Olympus:20261119T100000",
                   ";TZID=Mars/Olympus:20261119T110000", "Red planet sync")  # fmt: skip
    other = _event("tz2@x", ";TZID=Mars/Olympus:20261118T100000",
                   ";TZID=Mars/Olympus:20261118T110000", "Red planet prep")  # fmt: skip
    (tmp_path / "cal.ics").write_text(_calendar(event, other))
    reading = read_paths([tmp_path / "cal.ics"], now=NOW)
    assert sorted(item.subject for item in reading.items) == ["Red planet prep", "Red planet sync"]
    assert reading.problems == [  # once a zone, not once an event
        f"{tmp_path / 'cal.ics'}: an event (tz@x) names a time zone the calendar does not "
        "define (Mars/Olympus): its times are read as yours (so are those of its other events "
        "in that zone)"
    ]


def test_a_picked_item_is_captured_without_the_lines_about_the_others(tmp_path: Path) -> None:
    """Found by an audit: `capture work.mbox#2` still printed the note about item #3."""
    folder = _folder(tmp_path)
    box = mailbox.mbox(folder / "work.mbox")
    box.add(_mail(message_id="<a@x>"))
    box.add(_mail(message_id="<b@x>", subject="Picked"))
    box.add(b"From: x@y.example\nSubject: no date\n\nbody\n")
    box.close()
    everything = read_paths([folder / "work.mbox"], now=NOW)
    assert any("#3" in line for line in everything.problems)
    picked = read_paths([Path(f"{folder / 'work.mbox'}#2")], now=NOW)
    assert [item.subject for item in picked.items] == ["Picked"]
    assert picked.problems == []


def test_a_meeting_the_rep_organised_is_listed_with_whom_not_by_the_rep(tmp_path: Path) -> None:
    """Found by an audit: the app listed a meeting the rep set up as "rep@mycorp.example"."""
    from repdesk.cli.capture import item_line
    from repdesk.services.capture import other_party

    event = _event("m@x", ":20261119T100000Z", ":20261119T110000Z", "Kick-off",
                   "me@mycorp.example", "ana@acme.example",
                   extra="ORGANIZER:mailto:me@mycorp.example\n")  # fmt: skip
    (tmp_path / "cal.ics").write_text(_calendar(event))
    [item] = read_paths([tmp_path / "cal.ics"], now=NOW).items
    assert other_party(item, ("me@mycorp.example",)) == "ana@acme.example"
    assert item_line(item, ("me@mycorp.example",)).endswith('"Kick-off" with ana@acme.example')


# ---------------------------------------------------------------- the calendar changes


def _steps(engine) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with read_session(engine) as session:
        steps = session.exec(select(FollowUp).where(col(FollowUp.done_at).is_(None))).all()
    return [(s.due_on.isoformat(), str(s.due_time)) for s in steps]


def _capture_file(engine, path: Path, now: datetime = NOW) -> capture.CaptureReport:  # type: ignore[no-untyped-def]
    reading = read_paths([path], now=now)
    with write_session(engine) as session:
        return capture.capture(session=session, items=reading.items, now=now)


def test_a_meeting_moved_in_the_calendar_moves_its_next_step(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The step stayed at the old time and went overdue, and the moved meeting was neither
    added nor counted (a hostile test): the calendar is the truth for a meeting's time."""
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    review = ("review@x", "Contract review", "ana@acme.example")
    cal.write_text(
        _calendar(_event(review[0], ":20261201T100000Z", ":20261201T110000Z", *review[1:]))
    )
    _capture_file(engine, cal)
    assert _steps(engine) == [("2026-12-01", "10:00:00")]
    moved = _event(review[0], ":20261203T140000Z", ":20261203T150000Z", *review[1:],
                   extra="SEQUENCE:1\n")  # fmt: skip
    cal.write_text(_calendar(moved))
    report = _capture_file(engine, cal)
    assert (report.added, report.already) == ([], 0)
    [change] = report.changed
    assert (change.was, change.cancelled) == ((date(2026, 12, 1), clock_time(10)), False)
    assert _steps(engine) == [("2026-12-03", "14:00:00")]
    assert _capture_file(engine, cal).already == 1  # read again: nothing to move
    # Once it has happened it is a meeting, and the step is done; read again long after,
    # outside the window where its occurrences are expanded, it is no second meeting.
    for later in (NOW + timedelta(days=14), NOW + timedelta(days=200)):
        _capture_file(engine, cal, now=later)
    with read_session(engine) as session:
        meetings = session.exec(select(Activity).where(Activity.kind == "meeting")).all()
    assert [m.at.strftime("%m-%d %H:%M") for m in meetings] == ["12-03 14:00"]
    assert _steps(engine) == []


def test_a_cancelled_meeting_takes_its_next_step_off_to_the_trash(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    event = ("review@x", ":20261201T100000Z", ":20261201T110000Z", "Review", "ana@acme.example")
    cal.write_text(_calendar(_event(*event)))
    _capture_file(engine, cal)
    cal.write_text(_calendar(_event(*event, extra="STATUS:CANCELLED\n")))
    report = _capture_file(engine, cal)
    assert [c.cancelled for c in report.changed] == [True] and _steps(engine) == []
    out = ok("trash")
    assert "Meeting: Review (the meeting was cancelled)" in out
    assert _capture_file(engine, cal).changed == []  # once


def test_a_moved_or_cancelled_occurrence_of_a_series_moves_or_passes_its_step(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    weekly = _weekly()
    cal.write_text(_calendar(weekly))
    _capture_file(engine, cal)
    assert _steps(engine) == [("2026-11-26", "09:00:00")]
    moved = _event("weekly@x", ":20261127T150000Z", ":20261127T153000Z", "Weekly sync",
                   "ana@acme.example", extra="RECURRENCE-ID:20261126T090000Z\n")  # fmt: skip
    cal.write_text(_calendar(weekly, moved))
    assert len(_capture_file(engine, cal).changed) == 1
    assert _steps(engine) == [("2026-11-27", "15:00:00")]
    called_off = _event("weekly@x", ":20261126T090000Z", ":20261126T093000Z", "Weekly sync",
                        "ana@acme.example",
                        extra="RECURRENCE-ID:20261126T090000Z\nSTATUS:CANCELLED\n")  # fmt: skip
    cal.write_text(_calendar(weekly, called_off))
    report = _capture_file(engine, cal)
    # The next occurrence is the series' next step now.
    assert [c.cancelled for c in report.changed] == [True]
    assert _steps(engine) == [("2026-12-03", "09:00:00")]


def test_two_events_with_one_uid_say_so_and_a_desk_keyed_by_time_is_still_known(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cal = _folder(tmp_path) / "cal.ics"
    cal.write_text(_calendar(
        _event("same@x", ":20261118T100000Z", ":20261118T110000Z", "dup A", "ana@acme.example"),
        _event("same@x", ":20261119T100000Z", ":20261119T110000Z", "dup B", "ana@acme.example"),
    ))  # fmt: skip
    reading = read_paths([cal], now=NOW)
    assert [i.subject for i in reading.items] == ["dup A"]
    assert reading.problems == [
        f"{cal}: 2 events share the UID same@x; one of them is read: a calendar gives each "
        "event a UID of its own"
    ]
    # A desk that captured a single meeting under its time (before this) knows it still.
    ids = _desk(engine)
    with write_session(engine) as session:
        capture.capture(session=session, items=reading.items, now=NOW)
        session.exec(update(Captured).values(source_key="ics:same@x/20261118T100000Z"))
    assert _capture_file(engine, cal).already == 1
    with read_session(engine) as session:
        assert (
            len(session.exec(select(Activity).where(Activity.deal_id == ids["fleet"])).all()) == 1
        )


def test_a_single_files_number_one_is_its_message_and_a_maildir_asks_for_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "reply.eml#1 has no item #1", and "Maildir#1" the same (a hostile test).
    (tmp_path / "reply.eml").write_bytes(_mail())
    reading = read_paths([Path(f"{tmp_path / 'reply.eml'}#1")], now=NOW)
    assert ([i.subject for i in reading.items], reading.problems) == (["Re: proposal"], [])
    box = mailbox.Maildir(tmp_path / "Maildir")
    box.add(_mail(message_id="<a@x>"))
    box.add(_mail(message_id="<b@x>", subject="Second"))
    reading = read_paths([Path(f"{tmp_path / 'Maildir'}#1")], now=NOW)
    assert reading.items == []
    assert reading.problems == [
        f"{tmp_path / 'Maildir'}#1: {tmp_path / 'Maildir'} is a Maildir folder: give the "
        "message's own file, as listed, instead of a number"
    ]
    # A message filed away by the mail client between the folder's listing and its read.
    listed = mailbox.Maildir.keys

    def keys_then_one_goes(self: mailbox.Maildir) -> list[str]:
        found = listed(self)
        Path(self._path, vars(self)["_toc"][sorted(found)[0]]).unlink()
        return found

    monkeypatch.setattr(mailbox.Maildir, "keys", keys_then_one_goes)
    reading = read_paths([tmp_path / "Maildir"], now=NOW)
    assert len(reading.items) == 1
    assert [line.rsplit(": ", 1)[1] for line in reading.problems] == [
        "gone while the folder was read, left out"
    ]


def test_one_message_in_two_files_is_listed_once(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(_mail(sender="stranger@elsewhere.example"))
    (tmp_path / "copy.eml").write_bytes(_mail(sender="stranger@elsewhere.example"))
    reading = read_paths([tmp_path / "a.eml", tmp_path / "copy.eml"], now=NOW)
    assert [item.where for item in reading.items] == [str(tmp_path / "a.eml")]


def test_a_meeting_dragged_to_another_week_after_it_happened_is_a_second_meeting(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Many reps reuse last week's event for the next meeting: keyed by its UID alone, the
    second meeting's step would never be done and stay overdue."""
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    meeting = ("sync@x", "Sync", "ana@acme.example")
    cal.write_text(_calendar(_event(meeting[0], ":20261118T100000Z", ":20261118T110000Z",
                                    *meeting[1:])))  # fmt: skip
    _capture_file(engine, cal)  # it happened: a meeting
    cal.write_text(_calendar(_event(meeting[0], ":20261125T100000Z", ":20261125T110000Z",
                                    *meeting[1:])))  # fmt: skip
    assert [p.kind for p in _capture_file(engine, cal).added] == ["follow_up"]
    assert _steps(engine) == [("2026-11-25", "10:00:00")]
    report = _capture_file(engine, cal, now=NOW + timedelta(days=7))
    assert [p.kind for p in report.added] == ["activity"]
    assert _steps(engine) == []  # the step is done
    with read_session(engine) as session:
        meetings = session.exec(select(Activity).where(Activity.kind == "meeting")).all()
    assert sorted(m.at.strftime("%m-%d") for m in meetings) == ["11-18", "11-25"]


def test_a_meeting_a_desk_keyed_by_its_uid_alone_is_not_taken_again(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    cal.write_text(_calendar(_event("old@x", ":20260101T100000Z", ":20260101T110000Z", "Kickoff",
                                    "ana@acme.example")))  # fmt: skip
    _capture_file(engine, cal)
    with write_session(engine) as session:  # as a desk before this kept one past the window
        session.exec(update(Captured).values(source_key="ics:old@x/"))
    assert _capture_file(engine, cal).already == 1


def test_encoded_words_beside_raw_utf8_in_one_header_read_as_written(tmp_path: Path) -> None:
    # "Grüße f\ufffdr \u65e5\u672c Angebot": the raw part read as ASCII (a hostile test).
    subject = "=?utf-8?q?Gr=C3=BC=C3=9Fe?= für 日本 Angebot"
    (tmp_path / "mixed.eml").write_bytes(_mail(subject=subject))
    (tmp_path / "ascii.eml").write_bytes(
        _mail(subject="=?utf-8?q?Gr=C3=BC=C3=9Fe?= \\u00e9 plain", message_id="<a2@x>")
    )
    reading = read_paths([tmp_path / "mixed.eml", tmp_path / "ascii.eml"], now=NOW)
    assert sorted(i.subject for i in reading.items) == [
        "Grüße \\u00e9 plain",
        "Grüße für 日本 Angebot",
    ]


def test_a_step_the_rep_snoozed_stays_while_the_calendar_keeps_the_meeting(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Read again unchanged, the calendar put a snoozed step back and said "the meeting
    moved" (a hostile test): only a move in the calendar moves the step."""
    from repdesk.services import followups

    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    event = ("review@x", "Review", "ana@acme.example")
    cal.write_text(_calendar(_event(event[0], ":20261201T100000Z", ":20261201T110000Z",
                                    *event[1:])))  # fmt: skip
    step_id = _capture_file(engine, cal).added[0].item_id
    with write_session(engine) as session:
        followups.snooze_follow_up(session=session, follow_up_id=step_id,
                                   when=(date(2026, 12, 4), None), now=NOW)  # fmt: skip
    report = _capture_file(engine, cal)
    assert (report.changed, report.already) == ([], 1)
    assert _steps(engine) == [("2026-12-04", "10:00:00")]
    # Moved in the calendar: the step follows, once.
    cal.write_text(_calendar(_event(event[0], ":20261202T150000Z", ":20261202T160000Z",
                                    *event[1:])))  # fmt: skip
    assert len(_capture_file(engine, cal).changed) == 1
    assert _steps(engine) == [("2026-12-02", "15:00:00")]
    assert _capture_file(engine, cal).changed == []
    # A repeating meeting's regular occurrence, snoozed, stays too.
    weekly = _weekly("weekly@x", "Weekly")
    (cal.parent / "weekly.ics").write_text(_calendar(weekly))
    weekly_step = _capture_file(engine, cal.parent / "weekly.ics").added[-1].item_id
    with write_session(engine) as session:
        followups.snooze_follow_up(session=session, follow_up_id=weekly_step,
                                   when=(date(2026, 11, 27), None), now=NOW)  # fmt: skip
    assert _capture_file(engine, cal.parent / "weekly.ics").changed == []


def test_an_occurrence_deleted_from_its_series_takes_its_step_off(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Google writes a deleted occurrence as EXDATE: its step stayed, overdue for ever, and
    the series never had another (a hostile test). So for a series moved whole."""
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    weekly = _weekly()
    cal.write_text(_calendar(weekly))
    _capture_file(engine, cal)
    assert _steps(engine) == [("2026-11-26", "09:00:00")]
    without = _weekly(extra="EXDATE:20261126T090000Z\n")
    cal.write_text(_calendar(without))
    report = _capture_file(engine, cal)
    assert [c.cancelled for c in report.changed] == [True]
    assert _steps(engine) == [("2026-12-03", "09:00:00")]
    # Read alone, one occurrence proves nothing about the others.
    later = [i for i in read_paths([cal], now=NOW).items if i.start > NOW][1]
    with write_session(engine) as session:
        assert capture.capture(session=session, items=[later], now=NOW).changed == []
    assert _steps(engine) == [("2026-12-03", "09:00:00")]


def test_a_meeting_on_again_after_a_cancel_brings_its_step_back(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    event = ("review@x", "Review", "ana@acme.example")
    cal.write_text(_calendar(_event(event[0], ":20261201T100000Z", ":20261201T110000Z",
                                    *event[1:], extra="STATUS:CONFIRMED\n")))  # fmt: skip
    _capture_file(engine, cal)
    cal.write_text(_calendar(_event(event[0], ":20261201T100000Z", ":20261201T110000Z",
                                    *event[1:], extra="STATUS:CANCELLED\n")))  # fmt: skip
    _capture_file(engine, cal)
    assert _steps(engine) == []
    cal.write_text(_calendar(_event(event[0], ":20261202T100000Z", ":20261202T110000Z",
                                    *event[1:], extra="STATUS:CONFIRMED\n")))  # fmt: skip
    report = _capture_file(engine, cal)
    assert [c.back for c in report.changed] == [True]
    assert _steps(engine) == [("2026-12-02", "10:00:00")]
    assert "The trash is empty." in ok("trash")
    assert _capture_file(engine, cal).changed == []  # once
    # Snoozed after it came back, it stays snoozed while the calendar stays as it is.
    from repdesk.services import followups

    with write_session(engine) as session:
        followups.snooze_follow_up(session=session, follow_up_id=report.changed[0].step_id,
                                   when=(date(2026, 12, 5), None), now=NOW)  # fmt: skip
    assert _capture_file(engine, cal).changed == []
    assert _steps(engine) == [("2026-12-05", "10:00:00")]


def test_a_meeting_that_happened_does_every_step_an_older_desk_took_for_it(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Before a moved meeting was known as one, a move made a second step; once the meeting
    has happened both are done, not one left overdue for ever (a hostile test)."""
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    cal.write_text(_calendar(_event("m@x", ":20261201T100000Z", ":20261201T110000Z", "Review",
                                    "ana@acme.example")))  # fmt: skip
    _capture_file(engine, cal)
    with write_session(engine) as session:  # the second step the older desk made on a move
        first = session.exec(select(FollowUp)).first()
        assert first is not None
        twin = FollowUp(deal_id=first.deal_id, due_on=date(2026, 12, 2), due_time=first.due_time,
                        note=first.note, created_at=NOW)  # fmt: skip
        session.add(twin)
        session.flush()
        session.add(Captured(source_key="ics:m@x/20261202T140000Z", kind="follow_up",
                             item_id=twin.id, deal_id=first.deal_id, captured_at=NOW))  # fmt: skip
    assert len(_steps(engine)) == 2
    cal.write_text(_calendar(_event("m@x", ":20261202T140000Z", ":20261202T150000Z", "Review",
                                    "ana@acme.example")))  # fmt: skip
    _capture_file(engine, cal, now=NOW + timedelta(days=14))
    assert _steps(engine) == []


def test_an_occurrence_moved_back_moves_its_step_back_and_a_snooze_on_it_stays(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The step stayed at the moved time once the occurrence was back at its usual one, and a
    snooze on a moved occurrence was undone by every capture (a hostile test): the ledger
    keeps the start the calendar gave the occurrence."""
    from repdesk.services import followups

    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    weekly = _weekly()
    moved = _event("weekly@x", ":20261127T150000Z", ":20261127T153000Z", "Weekly sync",
                   "ana@acme.example", extra="RECURRENCE-ID:20261126T090000Z\n")  # fmt: skip
    cal.write_text(_calendar(weekly))
    _capture_file(engine, cal)
    cal.write_text(_calendar(weekly, moved))
    step_id = _capture_file(engine, cal).changed[0].step_id
    with write_session(engine) as session:
        followups.snooze_follow_up(session=session, follow_up_id=step_id,
                                   when=(date(2026, 11, 30), None), now=NOW)  # fmt: skip
    assert _capture_file(engine, cal).changed == []
    assert _steps(engine) == [("2026-11-30", "15:00:00")]
    cal.write_text(_calendar(weekly))  # back at its usual time
    assert len(_capture_file(engine, cal).changed) == 1
    assert _steps(engine) == [("2026-11-26", "09:00:00")]
    assert _capture_file(engine, cal).changed == []


def test_a_step_the_rep_deleted_stays_deleted_when_its_meeting_moves(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from repdesk.services import trash

    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    event = ("review@x", "Review", "ana@acme.example")
    cal.write_text(_calendar(_event(event[0], ":20261201T100000Z", ":20261201T110000Z",
                                    *event[1:])))  # fmt: skip
    step_id = _capture_file(engine, cal).added[0].item_id
    with write_session(engine) as session:
        trash.delete_item(session=session, kind="follow_up", item_id=step_id, now=NOW)
    cal.write_text(_calendar(_event(event[0], ":20261202T100000Z", ":20261202T110000Z",
                                    *event[1:])))  # fmt: skip
    report = _capture_file(engine, cal)
    assert (report.added, report.changed, report.already) == ([], [], 1)
    assert _steps(engine) == []


def test_one_meeting_at_two_times_in_two_files_is_read_from_the_first(tmp_path: Path) -> None:
    # Each capture of both moved or cancelled its step and put it back (a hostile test).
    for name, start in (("old.ics", ":20261201T100000Z"), ("new.ics", ":20261202T100000Z")):
        (tmp_path / name).write_text(
            _calendar(_event("m@x", start, start, "Review", "ana@acme.example"))
        )
    reading = read_paths([tmp_path / "new.ics", tmp_path / "old.ics"], now=NOW)
    assert [i.start.day for i in reading.items] == [2]
    assert reading.problems == [
        f"{tmp_path / 'old.ics'}#1: the same meeting (UID m@x) as {tmp_path / 'new.ics'}#1, at "
        f"another time; the one in {tmp_path / 'new.ics'}#1 is read"
    ]


# ---------------------------------------------------------------- what a review found


def test_on_again_after_the_trash_let_the_step_go_adds_a_new_step(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The trash keeps 30 days: restoring an older entry failed the whole capture.
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    later = NOW + timedelta(days=40)
    for status, start in (("CONFIRMED", ":20261201T100000Z"), ("CANCELLED", ":20261201T100000Z")):
        cal.write_text(_calendar(_event("m@x", start, start, "Review", "ana@acme.example",
                                        extra=f"STATUS:{status}\n")))  # fmt: skip
        _capture_file(engine, cal)
    cal.write_text(_calendar(_event("m@x", ":20270105T100000Z", ":20270105T110000Z", "Review",
                                    "ana@acme.example")))  # fmt: skip
    report = _capture_file(engine, cal, now=later)
    assert report.changed == []  # the step the cancel took off is gone with the trash


def test_a_new_series_moved_whole_or_its_first_occurrence_deleted_passes_its_step(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    rule = "RRULE:FREQ=WEEKLY;COUNT=10\n"
    cal.write_text(_calendar(_event("new@x", ":20261124T100000Z", ":20261124T110000Z", "Sync",
                                    "ana@acme.example", extra=rule)))  # fmt: skip
    _capture_file(engine, cal)
    assert _steps(engine) == [("2026-11-24", "10:00:00")]
    cal.write_text(_calendar(_event("new@x", ":20261125T100000Z", ":20261125T110000Z", "Sync",
                                    "ana@acme.example", extra=rule)))  # fmt: skip
    report = _capture_file(engine, cal)
    assert [c.cancelled for c in report.changed] == [True]
    assert _steps(engine) == [("2026-11-25", "10:00:00")]


def test_a_snooze_stays_on_an_occurrence_moved_before_its_first_capture_and_an_old_key(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from repdesk.services import followups

    _desk(engine)
    cal = _folder(tmp_path) / "cal.ics"
    weekly = _weekly("w@x", "Weekly")
    moved = _event("w@x", ":20261127T150000Z", ":20261127T153000Z", "Weekly",
                   "ana@acme.example", extra="RECURRENCE-ID:20261126T090000Z\n")  # fmt: skip
    cal.write_text(_calendar(weekly, moved))
    step_id = _capture_file(engine, cal).added[-1].item_id
    far = cal.parent / "far.ics"
    far.write_text(_calendar(_event("far@x", ":20270301T100000Z", ":20270301T110000Z", "Far",
                                    "ana@acme.example")))  # fmt: skip
    far_step = _capture_file(engine, far).added[0].item_id
    with write_session(engine) as session:  # as an older desk kept a meeting past the window
        session.exec(update(Captured).where(col(Captured.item_id) == far_step)
                     .values(source_key="ics:far@x/"))  # fmt: skip
        for step, day in ((step_id, date(2026, 11, 30)), (far_step, date(2027, 3, 5))):
            followups.snooze_follow_up(session=session, follow_up_id=step, when=(day, None),
                                       now=NOW)  # fmt: skip
    assert _capture_file(engine, cal).changed == []
    assert _capture_file(engine, far).changed == []
    assert sorted(_steps(engine)) == [("2026-11-30", "15:00:00"), ("2027-03-05", "10:00:00")]


# ---------------------------------------------------------------- found by a hostile test of
# people and capture


def _fleet() -> None:
    ok("deal", "add", "Fleet", "--company", "Acme", "--contact", "Ana Ruiz",
       "--email", "ana@acme.example")  # fmt: skip


_DEMO = _event("good@x", ":20261118T150000Z", ":20261118T160000Z", "Demo", "ana@acme.example")


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY;INTERVAL=0", "FREQ=HOURLY;INTERVAL=0"])
def test_a_rule_repeating_every_zero_weeks_is_one_line_and_the_capture_ends(
    tmp_path: Path, rule: str
) -> None:
    """`INTERVAL=0` repeated one instant endlessly: `capture --dry-run` ran for ever at full
    CPU, its memory growing 18 MB a second. Now the event is one line and the rest is read
    (in a process of its own: without the fix it would never end)."""
    tmp_path = _folder(tmp_path)
    ok("deal", "add", "Fleet", "--company", "Acme", "--contact", "Ana Ruiz",
       "--email", "ana@acme.example")  # fmt: skip
    monday = _event("zero@x", ":20261102T100000Z", ":20261102T103000Z", "Pipeline review",
                    "ana@acme.example", extra=f"RRULE:{rule}\n")  # fmt: skip
    (tmp_path / "x.ics").write_text(_calendar(monday, _DEMO))
    done = subprocess.run(
        [sys.executable, "-m", "repdesk", "capture", str(tmp_path / "x.ics"), "--dry-run"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f'Note: {tmp_path / "x.ics"}: an event "Pipeline review" (zero@x) repeats by a rule '
        "that cannot be read (INTERVAL=0: the interval is a whole number from 1 up), left out"
    )
    assert "Would add meeting 2026-11-18 60 min on #1 Fleet (Acme): Demo" in done.stdout


def _beside_the_demo(tmp_path: Path, event: str) -> list[str]:
    """The problems read in a calendar of `event` and the demo meeting, which alone comes in."""
    (tmp_path / "cal.ics").write_text(_calendar(event, _DEMO))
    reading = read_paths([tmp_path / "cal.ics"], now=NOW)
    assert [item.subject for item in reading.items] == ["Demo"]
    return reading.problems


def test_a_rule_is_expanded_only_as_far_as_its_occurrences_are_bounded(tmp_path: Path) -> None:
    """The bound was on the occurrences kept (those in the window), not on those looked at
    to reach them: an hourly rule from 2020 is 60,000 of them before the window opens."""
    hourly = _event("hourly@x", ":20200101T100000Z", ":20200101T103000Z", "Always on",
                    "ana@acme.example", extra="RRULE:FREQ=HOURLY\n")  # fmt: skip
    assert _beside_the_demo(tmp_path, hourly) == [
        f'{tmp_path / "cal.ics"}: an event "Always on" (hourly@x) repeats more than 20,000 '
        "times between its start (2020-01-01) and 2026-12-20 (no meeting does), left out"
    ]


def test_dates_listed_one_by_one_count_against_the_same_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile test: 25,000 RDATEs a minute apart came in as 25,000 meetings without a word,
    where the same as a rule is one line."""
    monkeypatch.setattr("repdesk.io.capture.MAX_OCCURRENCES", 5)
    listed = ",".join(f"202611{day:02d}T100000Z" for day in range(2, 12))
    flood = _event("flood@x", ":20261101T100000Z", ":20261101T103000Z", "Flood",
                   "ana@acme.example", extra=f"RDATE:{listed}\n")  # fmt: skip
    assert _beside_the_demo(tmp_path, flood) == [
        f'{tmp_path / "cal.ics"}: an event "Flood" (flood@x) repeats on more than 5 listed '
        "dates (RDATE; no meeting does), left out"
    ]


def test_a_files_repeating_events_share_one_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many rules each under the bound added up without one: the file has a bound of its
    own, and what is past it is said."""
    monkeypatch.setattr("repdesk.io.capture.MAX_FILE_OCCURRENCES", 10)
    (tmp_path / "cal.ics").write_text(_calendar(_weekly("a@x", "First"), _weekly("b@x", "Next")))
    reading = read_paths([tmp_path / "cal.ics"], now=NOW)
    assert {item.subject for item in reading.items} == {"First"}
    assert reading.problems == [
        f'{tmp_path / "cal.ics"}: an event "Next" (b@x) was not expanded: the file\'s '
        "repeating events ran past 10 occurrences, left out"
    ]


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("FREQ=WEEKLY;UNTIL=notadate", "UNTIL=notadate: not a date or a time"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY=XX: not weekdays (MO to SU, 1MO, -1FR, ...)"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=400",
         "BYSETPOS=400: each a whole number from 1 to 366 or -366 to -1 from the end"),
        ("FREQ=SOMETIMES", "FREQ=SOMETIMES: not a frequency (DAILY, WEEKLY, MONTHLY, ...)"),
    ],
)  # fmt: skip
def test_a_bad_repeat_rule_is_one_line_naming_the_event_and_the_good_ones_are_read(
    tmp_path: Path, rule: str, said: str
) -> None:
    """`UNTIL=notadate` lost the whole calendar with "its events cannot be read (invalid
    'FREQ': WEEKLY\\)": the wrong part blamed, a stray backslash, the good event gone. The
    others were skipped without a word ("0 items would be added")."""
    tmp_path = _folder(tmp_path)
    _fleet()
    bad = _event("bad@x", ":20261102T100000Z", ":20261102T103000Z",
                 "Weekly pipeline review with the whole sales team", "ana@acme.example",
                 extra=f"RRULE:{rule}\n")  # fmt: skip
    (tmp_path / "rr2.ics").write_text(_calendar(bad, _DEMO))
    out = ok("capture", tmp_path / "rr2.ics", "--dry-run").splitlines()
    assert out == [
        f'Note: {tmp_path / "rr2.ics"}: an event "Weekly pipeline review with the whole s…" '
        f"(bad@x) repeats by a rule that cannot be read ({said}), left out",
        "Would add meeting 2026-11-18 60 min on #1 Fleet (Acme): Demo · by ana@acme.example",
        "1 item would be added, 0 to settle (dry run: nothing written)",
    ]


def test_an_event_the_expansion_fails_on_is_one_line_and_the_rest_is_read(tmp_path: Path) -> None:
    """A series recurring-ical-events cannot expand (an EXDATE that is no date) failed the
    whole calendar, or, skipped, went without a word."""
    broken = _weekly("broken@x", "Sync", extra="EXDATE:garbage\n")
    (tmp_path / "cal.ics").write_text(_calendar(broken, _DEMO))
    reading = read_paths([tmp_path / "cal.ics"], now=NOW)
    assert [item.subject for item in reading.items] == ["Demo"]
    assert len(reading.problems) == 1
    assert reading.problems[0].startswith(
        f'{tmp_path / "cal.ics"}: an event "Sync" (broken@x) cannot be read ('
    )
    assert reading.problems[0].endswith("), left out")


def test_a_captured_mail_older_than_the_first_contact_moves_it_back_as_logging_does(
    engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`repdesk log email --at` moves a deal's first contact back to the touch's day; a mail
    captured from before it left the first contact where it was."""
    tmp_path = _folder(tmp_path)
    with write_session(engine) as session:
        deal = deals.create_deal(session=session, title="Fleet", company="Acme", currency="EUR",
                                 email="ana@acme.example", contact="Ana Ruiz",
                                 first_contact=date(2026, 11, 18), now=NOW)  # fmt: skip
    (tmp_path / "old.eml").write_bytes(_mail(date="Mon, 9 Nov 2026 10:00:00 +0000"))
    items = read_paths([tmp_path / "old.eml"], now=NOW).items
    with write_session(engine) as session:
        assert len(capture.capture(session=session, items=items, now=NOW).added) == 1
    with read_session(engine) as session:
        assert deals.get_deal(session=session, deal_id=deal.id).first_contact == date(2026, 11, 9)


def test_a_mail_or_a_meeting_on_a_clock_never_set_is_left_out_with_a_line(tmp_path: Path) -> None:
    """A mail dated 1970-01-01 (a computer clock's zero) was captured as is, and would now
    move its deal's first contact back 56 years; a meeting that happens once in 2099 became a
    next step in 2099."""
    tmp_path = _folder(tmp_path)
    _fleet()
    (tmp_path / "zero.eml").write_bytes(_mail(date="Thu, 01 Jan 1970 00:00:00 +0000"))
    far = _event("far@x", ":20991118T150000Z", ":20991118T160000Z", "Renewal", "ana@acme.example")
    (tmp_path / "cal.ics").write_text(_calendar(far, _DEMO))
    out = ok("capture", tmp_path / "zero.eml", tmp_path / "cal.ics")
    assert out.splitlines()[:2] == [
        f"Note: {tmp_path / 'zero.eml'}: dated 1970-01-01, before 1990: a clock that was not "
        "set (1970-01-01 is a computer clock's zero), not the day it was written, left out",
        f'Note: {tmp_path / "cal.ics"}: an event "Renewal" (far@x) starts 2099-11-18, more '
        "than five years ahead: not a meeting to plan for, left out",
    ]
    assert "1 item added" in out  # the demo, which moved the first contact back to its day
    assert json.loads(ok("deal", "show", "1", "--json"))["first_contact"] == "2026-11-18"


def test_a_missing_item_of_an_unreadable_file_and_a_path_given_twice_are_said_once(
    tmp_path: Path,
) -> None:
    """`capture test.mbox#2` said both "not a mail message" and "has no item #2"; a path given
    twice had its line twice."""
    tmp_path = _folder(tmp_path)
    (tmp_path / "test.mbox").write_text("hello\nthis is no mail\n")
    code, out, _ = run("capture", f"{tmp_path / 'test.mbox'}#2")
    assert (code, out) == (2, f"Note: {tmp_path / 'test.mbox'}: not a mail message (no From, "
                              "Date or Subject header)\n")  # fmt: skip
    code, out, _ = run("capture", tmp_path / "gone.eml", tmp_path / "gone.eml")
    assert (code, out) == (2, f"Note: {tmp_path / 'gone.eml'}: no such file or folder\n")


def test_an_event_ending_before_it_starts_or_over_days_says_no_false_length(
    tmp_path: Path,
) -> None:
    """An event whose end is before its start was listed as 60 minutes, a 30-day one as 1440
    minutes: neither is a meeting's length."""
    tmp_path = _folder(tmp_path)
    _fleet()
    calendar = _calendar(
        _event("back@x", ":20261118T150000Z", ":20261118T140000Z", "Backwards", "ana@acme.example"),
        _event("off@x", ":20261001T090000Z", ":20261031T090000Z", "Offsite", "ana@acme.example"),
    )
    (tmp_path / "cal.ics").write_text(calendar)
    out = ok("capture", tmp_path / "cal.ics").splitlines()
    assert out == [
        f'Note: {tmp_path / "cal.ics"}: an event "Backwards" (back@x) ends before it starts: '
        "read without an end (no length)",
        "Added meeting 2026-10-01 over 30 days on #1 Fleet (Acme): Offsite · by ana@acme.example",
        "Added meeting 2026-11-18 on #1 Fleet (Acme): Backwards · by ana@acme.example",
        "2 items added, 0 to settle",
    ]
    shown = json.loads(ok("deal", "show", "1", "--json"))["recent_activities"]
    assert [a.get("minutes") for a in shown] == [None, None]
