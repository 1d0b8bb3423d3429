"""People in the app (issue 19), driven by keys: the deal page's contacts with their roles, the
contact and company pages opened from it and from the palette, emails and phones as terminal
hyperlinks that a key copies, and capturing mail from the palette with the unmatched assigned
by a key (and undone by u)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.pinned import NOW
from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import db, quota_shown, said, until
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from repdesk.services import deals, people
from repdesk.storage.store import make_engine, write_session
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.screens.board import BoardScreen
from repdesk.tui.screens.deal import DealScreen
from repdesk.tui.screens.mend import PickScreen
from repdesk.tui.screens.people import CaptureScreen, CompanyScreen, ContactScreen
from repdesk.tui.widgets.quota_strip import QuotaStrip

SIZE = (140, 40)


@pytest.fixture
def app(home: Path) -> RepdeskApp:
    desk = build_small_desk(home)
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        ana = people.find_contact(session=session, ref="Ana Ruiz")
        people.edit_contact(
            session=session, contact_id=ana.id, title="CFO", add_emails=["ana@acme.example"],
            add_phones=["+34 600 123 456"], now=NOW,
        )  # fmt: skip
        luis = people.add_contact(
            session=session, name="Luis [bold]Ortega[/]", company="Acme Logistics",
            emails=["luis@acme.example"], now=NOW,
        )  # fmt: skip
        people.link_contact(session=session, deal_id=1, contact_id=ana.id, role="decision maker")
        people.link_contact(session=session, deal_id=1, contact_id=luis.id, role="champion")
    engine.dispose()
    return create_app(desk, settings())


async def _deal_page(pilot: Pilot[Any], deal_id: int = 1) -> DealScreen:
    app: Any = pilot.app
    await until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.board.loaded)
    app.open_deal(deal_id)
    await until(pilot, lambda: isinstance(app.screen, DealScreen) and app.screen.page)
    await pilot.pause()
    return app.screen


async def _capturing(pilot: Pilot[Any], path: Path) -> CaptureScreen:
    """The capture screen opened over the board, reading `path` (enter pressed)."""
    app: Any = pilot.app
    await until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.board.loaded)
    app.push_screen(CaptureScreen())
    await until(pilot, lambda: isinstance(app.screen, CaptureScreen))
    screen = app.screen
    await until(pilot, lambda: screen.query(Input))
    screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    return screen  # type: ignore[no-any-return]


def _text(widget: Any) -> str:
    return str(widget.render())


def _links(text: Any) -> set[str]:
    return {
        span.style.link for span in text.spans if hasattr(span.style, "link") and span.style.link
    }


async def test_the_deal_page_lists_contacts_with_roles_and_links_to_mail_and_dial(
    app: RepdeskApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        page = await _deal_page(pilot)
        assert page.page is not None
        shown = page.query_one("#deal-contacts").render()
        plain = str(shown)
        assert "Ana Ruiz  decision maker, CFO" in plain
        assert "Luis [bold]Ortega[/]  champion" in plain  # brackets shown, never markup
        assert {"mailto:ana@acme.example", "tel:+34600123456", "mailto:luis@acme.example"} <= (
            _links(shown)
        )
        # Y (yank) on the deal page: pick one of its emails and phones; it is copied.
        await pilot.press("Y")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.clipboard == "+34 600 123 456")


async def test_a_name_pages_long_takes_one_line_on_the_page_and_in_the_picker(
    app: RepdeskApp, home: Path
) -> None:
    """Found by an audit: a contact named "Long" * 200 took 20 lines of the deal page's
    Contacts and of the P picker, the other contacts pushed out of sight."""
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        long = people.add_contact(session=session, name="Long" * 200, now=NOW)
        people.link_contact(session=session, deal_id=1, contact_id=long.id, role="user")
    engine.dispose()
    async with app.run_test(size=SIZE) as pilot:
        page = await _deal_page(pilot)
        plain = str(page.query_one("#deal-contacts").render())
        assert "Long" * 14 + "Lon…  user" in plain and "Long" * 16 not in plain
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert max(len(label) for label in labels) < 80
        # Its own page and the deal page's Contact field cut it too (a hostile test: a name of
        # 5,000 characters filled the contact page at 80x24, the email out of reach, and the
        # deal page's Contact field ran to 130 lines).
        app.screen.dismiss(None)
        app.push_screen(ContactScreen(long.id))  # type: ignore[arg-type]
        await until(pilot, lambda: isinstance(app.screen, ContactScreen) and app.screen.loaded)
        assert len(_text(app.screen.query_one("#record-head")).split("\n")[0]) <= 200
    with write_session(make_engine(home / "desk.sqlite")) as session:
        deals.edit_deal(session=session, deal_id=1, contact="Long" * 200, now=NOW)
    again = create_app(app.desk.home, settings())
    async with again.run_test(size=SIZE) as pilot:
        page = await _deal_page(pilot)
        assert "Long" * 50 not in str(page.query_one("#deal-fields").render())


async def test_a_typed_address_holding_a_terminal_escape_never_reaches_the_link(
    home: Path,
) -> None:
    # A deal's email as a CRM's export or the sync brings it is free text (typed in the deal
    # form or `deal add --email`, it is checked first). Made a mailto: link, its ESC went to
    # the terminal inside the hyperlink's escape: the terminal's title changed (OSC 2); OSC 52
    # would write the clipboard.
    desk = build_small_desk(home)
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        evil = deals.create_deal(
            session=session, title="Evil", currency="EUR", contact="Eve", now=NOW
        )
        assert evil.id is not None
        deals.edit_deal(
            session=session, deal_id=evil.id, now=NOW,
            email="eve@x.example\x1b]2;owned\x07", phone="+1 555\x1b]52;c;aGk=\x07",
        )  # fmt: skip
        evil_id = evil.id
    engine.dispose()
    app = create_app(desk, settings())
    async with app.run_test(size=SIZE) as pilot:
        page = await _deal_page(pilot, evil_id)
        links = _links(page.query_one("#deal-contacts").render())
        assert "mailto:eve@x.example%1B]2;owned%07" in links
        assert "tel:+155552" in links  # a dialler takes the digits only
        assert not any(ch < " " or ch == "\x7f" for uri in links for ch in uri)


async def test_P_opens_a_contact_page_and_its_company_page_from_there(app: RepdeskApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await _deal_page(pilot)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("enter")  # the main contact, Ana
        await until(pilot, lambda: isinstance(app.screen, ContactScreen) and app.screen.loaded)
        contact = app.screen
        assert isinstance(contact, ContactScreen)
        assert "Ana Ruiz" in _text(contact.query_one("#record-head"))
        kinds = [entry.kind for entry in contact.entries]
        assert kinds[:3] == ["email", "phone", "company"] and "deal" in kinds
        assert _links(contact.entries[0].label) == {"mailto:ana@acme.example"}
        await pilot.press("Y")  # the email under the cursor
        assert app.clipboard == "ana@acme.example"
        await pilot.press("down", "down", "enter")  # the company
        await until(pilot, lambda: isinstance(app.screen, CompanyScreen) and app.screen.loaded)
        company = app.screen
        assert isinstance(company, CompanyScreen)
        head = _text(company.query_one("#record-head"))
        assert "Acme Logistics" in head and "mail: acme.example" in head
        labels = [str(e.label) for e in company.entries]
        assert any("Fleet tracking rollout" in label for label in labels)
        assert any(label.startswith("Luis [bold]Ortega[/]") for label in labels)
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, DealScreen))


async def test_P_puts_someone_new_or_known_on_the_deal_with_a_role_and_u_undoes_it(
    app: RepdeskApp, home: Path
) -> None:
    """A new user's trial: the app had no way to add a contact or give one a role; the shell's
    `contact add --deal --role` was the only one."""
    from repdesk.tui.forms import FormScreen

    on_deal = (
        "SELECT c.name, l.role, c.title FROM deal_contact l JOIN contact c ON c.id = l.contact_id"
        " WHERE l.deal_id = ? ORDER BY l.position, l.id"
    )
    before = db(home, on_deal, 1)
    async with app.run_test(size=SIZE) as pilot:
        await _deal_page(pilot)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("end", "enter")  # the last line: put someone on this deal
        await until(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.keys_ready)
        form = app.screen
        # Suggested: the people of the deal's company only (a name completed from another
        # company's people made a second contact of that name: a new-user trial).
        suggested = set(form.query_one("#field-name").suggestions)  # type: ignore[attr-defined]
        elsewhere = {name for (name,) in db(home, "SELECT c.name FROM contact c JOIN company o "
                                                  "ON o.id = c.company_id WHERE o.name != "
                                                  "'Acme Logistics'")}  # fmt: skip
        assert "Luis [bold]Ortega[/]" in suggested and not suggested & elsewhere
        await pilot.press(*"Maria Lopez", "tab")
        form.query_one("#field-role").value = "finance"  # type: ignore[attr-defined]
        form.query_one("#field-title").value = "Head of Procurement"  # type: ignore[attr-defined]
        form.query_one("#field-email").value = "maria@acme.example"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(db(home, on_deal, 1)) == len(before) + 1)
        assert db(home, on_deal, 1)[-1] == ("Maria Lopez", "finance", "Head of Procurement")
        deal = app.screen
        assert isinstance(deal, DealScreen)
        await until(pilot, lambda: "Maria Lopez" in _text(deal.query_one("#deal-contacts")))
        await pilot.press("u")
        await until(pilot, lambda: db(home, on_deal, 1) == before)
        assert db(home, "SELECT count(*) FROM contact WHERE name = 'Maria Lopez'") == [(0,)]
        # Someone the desk knows, by their whole name: put on this deal, not made twice.
        await until(pilot, lambda: deal.page is not None)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("end", "enter")
        await until(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.keys_ready)
        app.screen.query_one("#field-name").value = "Ana Ruiz"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, FormScreen))
        assert db(home, "SELECT count(*) FROM contact WHERE name = 'Ana Ruiz'") == [(1,)]
        # Said which it was: a new contact, at the deal's company; a known one by their role.
        notices = [str(n.message) for n in app._notifications]
        assert any("Maria Lopez on " in n and "finance, a new contact at Acme" in n
                   for n in notices)  # fmt: skip
        assert any("Ana Ruiz on " in n and "saved, decision maker ·" in n for n in notices)


async def test_an_address_another_contact_has_is_said_by_the_forms_as_by_the_shell(
    app: RepdeskApp, home: Path
) -> None:
    """A hostile test: the deal form and the P form gave a second person Luis's address in
    silence (`contact add` notes it: mail from it then matches both); the deal form, with
    Ana chosen as the contact, put a new address over the one she had on all her deals."""
    from tests.shell import ok

    from repdesk.tui.forms import FormScreen

    added = ok("deal", "add", "Seats", "--company", "Acme Logistics")  # Ana's company, not Ana
    seats = int(added.split("#")[1].split()[0])
    async with app.run_test(size=SIZE) as pilot:
        await _deal_page(pilot, seats)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.keys_ready)
        app.screen.query_one("#field-contact").value = "Ana Ruiz"  # type: ignore[attr-defined]
        app.screen.query_one("#field-email").value = "LUIS@acme.example"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, FormScreen))
        emails = db(home, "SELECT e.address FROM contact_email e JOIN contact c ON c.id = "
                          "e.contact_id WHERE c.name = 'Ana Ruiz' ORDER BY e.position")  # fmt: skip
        assert emails == [("LUIS@acme.example",), ("ana@acme.example",)]
        assert said(app, "LUIS@acme.example is also the address of #")
        assert said(app, "Luis [bold]Ortega[/]: mail from it matches each of them")


async def test_the_deal_page_shows_what_the_shell_wrote_while_its_contact_page_was_open(
    app: RepdeskApp,
) -> None:
    """A hostile test: a call logged and a contact put on the deal from the shell while its
    contact page was open; back on the deal page, neither showed, 10 s later still not."""
    from tests.shell import ok
    from tests.tui.test_board import drawn_text

    async with app.run_test(size=SIZE) as pilot:
        deal = await _deal_page(pilot)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ContactScreen) and app.screen.loaded)
        ok("log", "call", "1", "--note", "logged from the shell")
        ok("contact", "add", "Marta Shell", "--deal", "1", "--role", "user")
        await until(pilot, lambda: deal._changed_while_away)  # seen while under the page
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is deal)
        await until(
            pilot,
            lambda: (
                "logged from the shell" in drawn_text(deal.query_one("#deal-timeline"))
                and "Marta Shell" in _text(deal.query_one("#deal-contacts"))
            ),
        )


async def test_the_palette_finds_people_and_companies(app: RepdeskApp) -> None:
    from textual.command import CommandPalette

    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.board.loaded)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"luis")
        await until(pilot, lambda: app.screen.query_one(OptionList).option_count > 0)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ContactScreen) and app.screen.loaded)
        assert "Luis [bold]Ortega[/]" in _text(app.screen.query_one("#record-head"))
        # The top line is this month against quota here too (it was empty: a new-user trial).
        await until(pilot, lambda: quota_shown(app))
        assert "won" in str(app.screen.query_one(QuotaStrip)._drawn)


async def test_capture_from_the_palette_adds_the_matched_and_assigns_the_rest(
    app: RepdeskApp, home: Path, tmp_path: Path
) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    for name, sender, subject in (("a.eml", "ana@acme.example", "Re: terms"),
                                  ("b.eml", "stranger@elsewhere.example", "Hello")):  # fmt: skip
        (mail / name).write_text(
            f"From: {sender}\nTo: me@mycorp.example\nSubject: {subject}\n"
            f"Date: Thu, 19 Nov 2026 10:00:00 +0000\nMessage-ID: <{name}@x>\n\nSee you.\n"
        )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.board.loaded)
        await pilot.press("ctrl+p")
        await pilot.press(*"capture mail")
        await until(pilot, lambda: app.screen.query(OptionList) and
                    app.screen.query_one(OptionList).option_count > 0)  # fmt: skip
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen))
        screen = app.screen
        assert isinstance(screen, CaptureScreen)
        screen.query_one(Input).value = f"{mail / 'a.eml'} {mail / 'b.eml'}"
        await pilot.press("enter")
        # The list takes the keys at once, while the files are read (a new-user trial: ↓ and
        # enter went to the paths, each enter starting the read again).
        assert app.focused is screen.query_one(OptionList)
        await until(pilot, lambda: screen.previewed)
        assert [row.kind for row in screen.rows] == ["added", "unmatched"]
        assert db(home, "SELECT COUNT(*) FROM captured") == [(0,)]  # nothing before A
        await pilot.press("A")
        await until(pilot, lambda: db(home, "SELECT COUNT(*) FROM captured") == [(1,)])
        await until(pilot, lambda: screen.previewed and [r.kind for r in screen.rows] ==
                    ["unmatched", "note"])  # fmt: skip
        await pilot.press("enter")  # on the stranger's mail: pick a deal
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("enter")
        await until(pilot, lambda: db(home, "SELECT COUNT(*) FROM captured") == [(2,)])
        deal_id = db(home, "SELECT deal_id FROM captured WHERE source_key = 'mail:b.eml@x'")[0][0]
        # The deal named: a slip in the picker went by unseen (a new-user trial).
        await until(pilot, lambda: said(app, f"Added 1 item to #{deal_id} "))
        found = db(home, "SELECT kind, outcome, text FROM activity WHERE deal_id = ? AND text "
                   "LIKE 'Hello%'", deal_id)  # fmt: skip
        assert found == [("email", "received", "Hello — See you.")]
        await until(pilot, lambda: app.screen is screen)  # the picker gone before the next key
        await pilot.press("u")  # the assignment taken back: ledger and activity both
        await until(pilot, lambda: db(home, "SELECT COUNT(*) FROM captured") == [(1,)])
        assert db(home, "SELECT COUNT(*) FROM activity WHERE text LIKE 'Hello%'") == [(0,)]
        # Listed again to settle, as the shell would (it stayed off the list: an audit).
        await until(pilot, lambda: [r.kind for r in screen.rows] == ["unmatched", "note"])
        # Another program's write reads the files again, but the paths being typed keep the
        # focus (it jumped to the list: a review).
        paths = screen.query_one(Input)
        paths.focus()
        await pilot.pause()
        screen.previewed = True
        screen.reload()
        await until(pilot, lambda: not screen.workers or all(
            w.is_finished for w in screen.workers))  # fmt: skip
        await pilot.pause()
        assert app.focused is paths


async def test_the_capture_screen_moves_a_meetings_step_with_the_calendar_and_u_undoes_it(
    app: RepdeskApp, home: Path, tmp_path: Path
) -> None:
    def calendar(start: str) -> str:
        return (
            "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:review@x\n"
            f"DTSTART:{start}\nDURATION:PT1H\nSUMMARY:Contract review\n"
            "ATTENDEE:mailto:ana@acme.example\nEND:VEVENT\nEND:VCALENDAR\n"
        )

    cal = tmp_path / "cal.ics"
    cal.write_text(calendar("20261201T100000Z"))
    steps = "SELECT due_on, due_time FROM follow_up WHERE note = 'Meeting: Contract review'"
    async with app.run_test(size=SIZE) as pilot:
        screen = await _capturing(pilot, cal)
        await until(pilot, lambda: screen.previewed and screen.rows[0].kind == "added")
        await pilot.press("A")
        await until(pilot, lambda: db(home, steps) == [("2026-12-01", "10:00:00.000000")])
        cal.write_text(calendar("20261203T140000Z"))  # moved in the calendar
        screen.query_one(Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: [r.kind for r in screen.rows][:1] == ["changed"])
        assert "moves its next step" in screen.rows[0].label.plain
        await pilot.press("A")
        await until(pilot, lambda: db(home, steps) == [("2026-12-03", "14:00:00.000000")])
        await pilot.press("u")
        await until(pilot, lambda: db(home, steps) == [("2026-12-01", "10:00:00.000000")])


async def test_a_capture_read_stops_when_its_screen_goes_and_never_holds_up_the_quit(
    app: RepdeskApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that never ended (a calendar repeating every 0 weeks) went on after esc, and `q`
    blanked the screen and never quit: the read ran in asyncio's pool, whose threads the app's
    exit waits for. Now it runs in a daemon thread and is told to stop when the screen goes."""
    import threading

    import repdesk.io.capture

    seen: dict[str, Any] = {}

    def endless(paths: list[Path], *, now: Any, stop: threading.Event | None = None) -> Any:
        seen["daemon"] = threading.current_thread().daemon
        seen["stop"] = stop
        if stop is not None:
            stop.wait(30)
        return repdesk.io.capture.Reading()

    monkeypatch.setattr(repdesk.io.capture, "read_paths", endless)
    (tmp_path / "x.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _capturing(pilot, tmp_path / "x.ics")
        await until(pilot, lambda: "stop" in seen)
        assert "reading" in str(screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert seen["daemon"] is True  # the app's exit never waits for it
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
        assert seen["stop"] is not None and seen["stop"].is_set()


async def test_the_capture_list_says_left_out_once(app: RepdeskApp, tmp_path: Path) -> None:
    """The list read "left out: …fifo.eml: not a file (…), left out": every line about the
    files was prefixed "left out", most of which say it themselves (and some leave nothing
    out). Now a line about the files is a note, as the shell says it."""
    import os

    os.mkfifo(tmp_path / "fifo.eml")
    (tmp_path / "future.eml").write_text(
        "From: ana@acme.example\nTo: me@mycorp.example\nSubject: Soon\n"
        "Date: Thu, 19 Nov 2099 10:00:00 +0000\nMessage-ID: <f@x>\n\nLater.\n"
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, BoardScreen) and app.board.loaded)
        app.push_screen(CaptureScreen(f"{tmp_path / 'fifo.eml'} {tmp_path / 'future.eml'}"))
        await until(pilot, lambda: isinstance(app.screen, CaptureScreen))
        screen = app.screen
        assert isinstance(screen, CaptureScreen)
        await until(pilot, lambda: screen.query(Input))
        screen.query_one(Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.previewed)
        labels = [row.label.plain for row in screen.rows]
        assert labels == [
            f"note: {tmp_path / 'fifo.eml'}: not a file (a pipe, a device or a dangling link), "
            "left out",
            f"left out: {tmp_path / 'future.eml'}: dated 2099-11-19 10:00 UTC, after now: a "
            "message from the future",
        ]
