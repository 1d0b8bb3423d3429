"""People in the app (issue 19): a deal's contacts with their roles, a contact page and a
company page, the palette finding people and companies, and capturing mail and meetings.

Emails and phones are terminal hyperlinks (`mailto:`, `tel:`: a click in a terminal that
knows OSC 8 links writes the mail or dials), and `Y` copies (yanks) the one under the cursor
(OSC 52, through the terminal, so it works over ssh too). Every text from the desk or a file
reaches the screen through `printable` as plain Text, never as markup.
"""

from __future__ import annotations

import shlex
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.content import Content
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from repdesk import background
from repdesk.core import clock, formatting
from repdesk.core.money import format_money
from repdesk.core.text import cut, printable
from repdesk.services import people
from repdesk.services.people import OnDeal, Person, tel_uri
from repdesk.storage.models import saved_id
from repdesk.tui.lifecycle import can_show
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.pick_list import PickList
from repdesk.tui.widgets.quota_strip import QuotaStrip

# What a link's URI keeps as it is: printable ASCII. The URI is written into the terminal's
# hyperlink escape (OSC 8) unescaped, so an ESC or BEL in it (a typed email is free text)
# would end that escape and start one of its own (a title, a clipboard write).
_URI_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))


def link(text: Text, shown: str, uri: str) -> None:
    """Append `shown` to `text` as a terminal hyperlink to `uri`."""
    safe_uri = quote(uri, safe=_URI_SAFE, errors="replace")
    text.append(printable(shown), style=Style(link=safe_uri, underline=True))


def mailto(address: str) -> str:
    return "mailto:" + address.strip()


def reach(text: Text, found: Person, *, between: str = " · ") -> None:
    """Each email and phone of a person, as links, after `text`, with `between` between."""
    links = [(address, mailto(address)) for address in found.emails]
    links += [(number, tel_uri(number)) for number in found.phones]
    for n, (shown, uri) in enumerate(links):
        text.append(between if n else "")
        link(text, shown, uri)


NAME_CHARS = 60  # of a person's or a company's name in a list line
HEAD_CHARS = 200  # of a name or a title at the top of its own page


def render_contacts(on_deal: list[OnDeal]) -> Text:
    """The deal page's Contacts: each with their role, title, emails and phones."""
    text = Text()
    text.append(f"Contacts ({len(on_deal)})\n", style="bold")
    if not on_deal:
        text.append("none: e edits the deal's contact\n", style="dim")
    for on in on_deal:
        # Cut: a name pages long (an import's, a paste) pushed the others off the page.
        text.append(cut(on.person.name, NAME_CHARS), style="bold" if on.main else "")
        text.append(f"  {on.role}", style="italic")
        if on.person.title:
            text.append(f", {cut(on.person.title, NAME_CHARS)}", style="dim")
        text.append("\n")
        # One address or number a line: in the deal page's narrow column, "a · b · c" on one
        # line broke "+49 30 1687731" in the middle (a new user's trial).
        if on.person.emails or on.person.phones:
            text.append("  ")
            reach(text, on.person, between="\n  ")
            text.append("\n")
    text.rstrip()
    return text


@dataclass(frozen=True)
class Entry:
    """One line of a contact or company page: what enter and y do with it."""

    label: Text
    kind: str  # email | phone | deal | contact | company | none
    value: Any = None


def _deal_entry(deal: people.DealOf, extra: str = "") -> Entry:
    label = Text(f"#{deal.id} ")
    label.append(printable(deal.title), style="bold")
    label.append(f" · {deal.status} · {format_money(deal.value_cents, deal.currency)}{extra}")
    return Entry(label, "deal", deal.id)


def _touch(moment: Any) -> str:
    if moment is None:
        return "never"
    days = clock.days_since(moment, clock.today())
    return f"{clock.local_date(moment).isoformat()}, " + ("today" if days <= 0 else f"{days} d ago")


def contact_entries(card: people.ContactCard) -> tuple[Text, list[Entry]]:
    found = card.person
    head = Text()
    # Cut: a name pages long (a paste) filled the page, its emails and deals out of reach.
    head.append(cut(found.name, HEAD_CHARS) + "\n", style="bold")
    if found.title:
        head.append(cut(found.title, HEAD_CHARS) + "\n")
    head.append(f"last touch: {_touch(card.last_touch)}", style="dim")
    entries: list[Entry] = []
    for address in found.emails:
        label = Text("email  ")
        link(label, address, mailto(address))
        entries.append(Entry(label, "email", address))
    for number in found.phones:
        label = Text("phone  ")
        link(label, number, tel_uri(number))
        entries.append(Entry(label, "phone", number))
    if found.company_id is not None:
        entries.append(Entry(Text("company  " + cut(found.company, NAME_CHARS)), "company",
                             found.company_id))  # fmt: skip
    for deal in card.deals:
        entries.append(_deal_entry(deal, f" · {deal.role}"))
    return head, entries


def company_entries(card: people.CompanyCard) -> tuple[Text, list[Entry]]:
    company = card.company
    head = Text()
    head.append(cut(company.name, HEAD_CHARS) + "\n", style="bold")
    won = " + ".join(format_money(v, c) for c, v in sorted(card.won.items())) or "-"
    head.append(f"won {won} · last touch: {_touch(card.last_touch)}")
    if company.touch_every_days:
        head.append(f" · stay in touch {formatting.every(company.touch_every_days)}")
    if card.domains:
        head.append("\nmail: " + printable(", ".join(card.domains)), style="dim")
    entries = [_deal_entry(deal) for deal in card.deals]
    for found in card.contacts:
        label = Text(cut(found.name, NAME_CHARS), style="bold")
        if found.title:
            label.append(f", {cut(found.title, NAME_CHARS)}", style="")
        if found.emails or found.phones:
            label.append("  ")
            reach(label, found)
        entries.append(Entry(label, "contact", found.id))
    return head, entries


class RecordScreen(DeskScreen):
    """A contact's or a company's page: a heading and a list; enter opens a deal, a contact
    or a company, and copies an email or a phone; Y copies (yanks)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="record.back"),
        Binding("enter", "open", "Open", id="record.open"),
        Binding("Y", "copy", "Copy (yank) email/phone", id="record.copy", key_display="Y"),
    ]
    DEFAULT_CSS = """
    RecordScreen #record-head { height: auto; padding: 0 1; margin-bottom: 1; }
    RecordScreen OptionList { height: 1fr; }
    """

    def __init__(self, record_id: int) -> None:
        super().__init__()
        self.record_id = record_id
        self.entries: list[Entry] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        with Vertical():
            yield Static(id="record-head")
            yield PickList(id="record-list")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        self.reload()

    def read(self, session: Any) -> tuple[Text, list[Entry]]:
        raise NotImplementedError

    @work(exclusive=True, group="record-load")
    async def reload(self) -> None:
        try:
            head, entries = await self.desk.read(self.read)
        except Exception as exc:  # gone since (another program), or the desk away
            if can_show(self):
                self.notify(self.desk.explain(exc), severity="error")
            return
        if not can_show(self):
            return
        self.entries = entries
        self.query_one("#record-head", Static).update(head)
        listing = self.query_one(OptionList)
        keep = listing.highlighted
        listing.clear_options()
        listing.add_options([Option(entry.label) for entry in entries])
        if entries:
            listing.highlighted = min(keep or 0, len(entries) - 1)
        listing.focus()
        self.loaded = True

    def _current(self) -> Entry | None:
        index = self.query_one(OptionList).highlighted
        return self.entries[index] if index is not None and index < len(self.entries) else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_open(self) -> None:
        entry = self._current()
        if entry is None:
            return
        if entry.kind in ("email", "phone"):
            self.action_copy()
        elif entry.kind == "deal":
            self.app.open_deal(entry.value)
        elif entry.kind == "contact":
            self.app.push_screen(ContactScreen(entry.value))
        elif entry.kind == "company":
            self.app.push_screen(CompanyScreen(entry.value))

    def action_copy(self) -> None:
        entry = self._current()
        if entry is None or entry.kind not in ("email", "phone"):
            self.notify("Nothing to copy here: Y copies (yanks) an email or a phone.")
            return
        copy(self.app, entry.value)


def copy(app: Any, value: str) -> None:
    app.copy_to_clipboard(value)
    app.notify(f"Copied {value}")


class ContactScreen(RecordScreen):
    TITLE = "Contact page"

    def read(self, session: Any) -> tuple[Text, list[Entry]]:
        return contact_entries(people.contact_card(session=session, contact_id=self.record_id))


class CompanyScreen(RecordScreen):
    TITLE = "Company page"

    def read(self, session: Any) -> tuple[Text, list[Entry]]:
        return company_entries(people.company_card(session=session, company_id=self.record_id))


# ---------------------------------------------------------------- from the deal page


def deal_people_choices(session: Any, deal_id: int) -> list[tuple[str, tuple[str, Any]]]:
    """What `p` on a deal page offers: its contacts (with roles) and its company."""
    from repdesk.storage.models import Deal

    choices: list[tuple[str, tuple[str, Any]]] = []
    for on in people.people_of_deal(session=session, deal_id=deal_id):
        choices.append(
            (f"{cut(on.person.name, NAME_CHARS)} · {on.role}", ("contact", on.person.id))
        )
    deal = session.get(Deal, deal_id)
    if deal is not None and deal.company_id is not None:
        choices.append(
            (f"the company: {cut(deal.company, NAME_CHARS)}", ("company", deal.company_id))
        )
    choices.append(("+ put someone on this deal (a contact, with their role)", ("add", deal_id)))
    return choices


def deal_reach_choices(session: Any, deal_id: int) -> list[tuple[str, tuple[str, Any]]]:
    """What `y` on a deal page offers to copy: each email and phone of its contacts."""
    choices: list[tuple[str, tuple[str, Any]]] = []
    for on in people.people_of_deal(session=session, deal_id=deal_id):
        for address in on.person.emails:
            choices.append((f"{cut(on.person.name, NAME_CHARS)}: {address}", ("email", address)))
        for number in on.person.phones:
            choices.append((f"{cut(on.person.name, NAME_CHARS)}: {number}", ("phone", number)))
    return choices


def open_record(app: Any, choice: tuple[str, Any] | None) -> None:
    if choice is None:
        return
    kind, value = choice
    if kind == "contact":
        app.push_screen(ContactScreen(value))
    elif kind == "company":
        app.push_screen(CompanyScreen(value))
    elif kind in ("email", "phone"):
        copy(app, value)


# ---------------------------------------------------------------- the palette


class FindPeople(Provider):
    """People and companies by name (and contacts by address), as deals are found: read once
    when the palette opens, matched in memory at each key."""

    async def startup(self) -> None:
        from repdesk.tui.commands import read_once

        # Not awaited here: a key typed before it ends would cancel it (see read_once).
        self.found = read_once(self.app, lambda s: people.search(session=s, text="", limit=5000))

    async def search(self, query: str) -> Hits:
        from repdesk.tui.commands import highlight, read_result

        matcher = self.matcher(query)
        for record in await read_result(getattr(self, "found", None)):
            if isinstance(record, Person):
                label = cut(record.name, NAME_CHARS) + (
                    f" · {cut(record.company, NAME_CHARS)}" if record.company else ""
                )
                extra = " ".join(record.emails)
                score = max(matcher.match(label), matcher.match(extra) if extra else 0)
                screen: Screen[None] = ContactScreen(record.id)
                help_text = "contact" + (f", {record.title}" if record.title else "")
            else:
                label = cut(record.name, NAME_CHARS)
                score = matcher.match(label)
                screen = CompanyScreen(record.id)
                help_text = "company"
            if score > 0:
                yield Hit(
                    # A hair below a deal matching as well: "nordwind" still jumps to the deal
                    # (as before people were in the palette); a person's own name still wins.
                    score * 0.99,
                    highlight(matcher, label),
                    partial(self.app.push_screen, screen),
                    text=label,
                    help=escape(printable(help_text)),
                )


CAPTURE_WORDS = "Capture mail and meetings from …"


class CaptureCommand(Provider):
    """The palette's way to capture: opens the capture screen."""

    async def discover(self) -> Hits:
        yield DiscoveryHit(Content(CAPTURE_WORDS), self._open, text=CAPTURE_WORDS,
                           help="a .eml, mbox, Maildir or .ics path")  # fmt: skip

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        score = matcher.match(CAPTURE_WORDS)
        if score > 0:
            yield Hit(score, matcher.highlight(CAPTURE_WORDS), self._open, text=CAPTURE_WORDS,
                      help="a .eml, mbox, Maildir or .ics path")  # fmt: skip

    def _open(self) -> None:
        self.app.push_screen(CaptureScreen())


# ---------------------------------------------------------------- capture


@dataclass(frozen=True)
class Row:
    label: Text
    # added | changed (a next step the calendar moved or cancelled) | ambiguous | unmatched
    # | note
    kind: str
    item: Any = None
    candidates: tuple[Any, ...] = ()


class CaptureScreen(DeskScreen):
    """Type paths; enter shows what they hold and where each would go; A adds what matched;
    enter on an item assigns it (several deals, or none) to a deal you pick."""

    TITLE = "Capture mail and meetings"
    BINDINGS = [
        Binding("escape", "back", "Back", id="capture.back"),
        Binding("A", "add_matched", "Add what matched", id="capture.add"),
        # The main thing on a row, as enter is everywhere: here, which deal it is about.
        Binding("enter", "assign", "Assign to a deal", id="capture.assign"),
    ]
    DEFAULT_CSS = """
    CaptureScreen #capture-help { height: auto; padding: 0 1; color: $text-muted; }
    CaptureScreen OptionList { height: 1fr; }
    """

    def __init__(self, paths: str = "") -> None:
        super().__init__()
        self.paths = paths
        self.items: list[Any] = []
        self.rows: list[Row] = []
        self.previewed = False
        self._to_list = False
        self._reading = False
        # Set when the screen goes (esc, the app quitting): the file read in its thread stops
        # at its next message or event (it went on at full CPU after esc: a hostile test).
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        yield Static(
            Text(
                "Paths (.eml, mbox, Maildir, .ics; spaces between, quotes around a path "
                "with spaces), then enter. Nothing is written before A (add what matched) or enter "
                "on an item (assign it to a deal)."
            ),
            id="capture-help",
        )
        yield Input(value=self.paths, placeholder="~/Mail/today.mbox ~/calendar.ics", id="paths")
        yield PickList(id="capture-list")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value == self.paths and self._reading:
            # These paths are being read (enter again started the read over): the list takes
            # the keys, as after any enter (a read the app began itself, after a write, kept
            # them in the paths, and `A` was typed there: a flaky run on a busy machine).
            self._to_list = True
            self.query_one(OptionList).focus()
            return
        self.paths = event.value
        # The list takes the keys at once, "reading" on it: the first read takes a second or
        # more (the calendar libraries load), and ↓ and enter went to the paths meanwhile,
        # each enter starting the read again (a new-user trial).
        self.rows = [Row(Text("reading …", style="dim"), "note")]
        listing = self.query_one(OptionList)
        listing.clear_options()
        listing.add_option(Option(self.rows[0].label))
        listing.focus()
        self._to_list = True
        self.preview()

    def reload(self) -> None:
        """After an undo (the app calls it): read the files again, so an assignment undone is
        listed again to settle (it stayed off the list: an audit)."""
        if self.previewed:
            self.preview()

    def _paths(self) -> list[Path]:
        try:
            words = shlex.split(self.paths)
        except ValueError:
            words = self.paths.split()
        return [Path(word).expanduser() for word in words]

    @work(exclusive=True, group="capture")
    async def preview(self) -> None:
        import asyncio

        from repdesk.io.capture import read_paths
        from repdesk.services import capture

        paths = self._paths()
        if not paths:
            self.notify("Type a path first.")
            self.query_one(Input).focus()
            return
        self._reading = True
        try:
            # A daemon thread, not asyncio's pool: the app's exit waits for that pool's threads
            # (a read that never ended kept the app from quitting, its screen blank: a hostile
            # test); the read itself is bounded (io/capture.py) and stops when told.
            now, stop = clock.now(), self._stop
            read = background.start(lambda: read_paths(paths, now=now, stop=stop), "capture-read")
            reading = await asyncio.wrap_future(read)
            if self._stop.is_set():
                return  # the screen went meanwhile: what was read is for nobody
            me = self.desk.settings.me
            report = await self.desk.read(
                lambda s: capture.capture(session=s, items=reading.items, me=me, dry_run=True)
            )
        finally:
            self._reading = False
        if not can_show(self):
            return
        self.items = reading.items
        self.show(report, reading.problems)

    def show(self, report: Any, problems: list[str]) -> None:
        from repdesk.services.capture import note_of, other_party

        me = self.desk.settings.me
        rows: list[Row] = []

        def line(item: Any) -> Text:
            on = clock.local_date(item.start).isoformat()
            text = Text(f"{on} {item.kind} ")
            text.append(printable(item.subject or "(no subject)"), style="bold")
            who = other_party(item, me)
            if who:
                text.append(f" · {printable(who)}", style="dim")
            return text

        for placed in report.added:
            label = line(placed.item)
            label.append(f" → #{placed.deal.id} {printable(placed.deal.title)}")
            if placed.kind == "follow_up":
                label.append(" (a next step)", style="italic")
            rows.append(Row(label, "added", placed.item))
        for change in report.changed:
            word = "on again: " if change.back else "cancelled: " if change.cancelled else "moved: "
            label = Text(word, style="yellow")
            label.append_text(line(change.item))
            verb = (
                "brings its next step back"
                if change.back
                else "takes its next step off"
                if change.cancelled
                else "moves its next step"
            )
            label.append(f" {verb} on #{change.deal.id} {printable(change.deal.title)}")
            rows.append(Row(label, "changed", change.item))
        for unsettled in report.ambiguous:
            label = Text("several deals: ", style="yellow")
            label.append_text(line(unsettled.item))
            rows.append(Row(label, "ambiguous", unsettled.item, tuple(unsettled.candidates)))
        for unsettled in report.unmatched:
            label = Text("no deal: ", style="yellow")
            label.append_text(line(unsettled.item))
            rows.append(Row(label, "unmatched", unsettled.item))
        # As the shell says them: a line about the files is a note (most end "left out"
        # themselves, and some leave nothing out: "left out: …fifo.eml: not a file …, left
        # out", a hostile test); an item the desk refused is left out.
        for problem in problems:
            rows.append(Row(Text("note: " + printable(problem), style="dim"), "note"))
        for refused in report.refused:
            rows.append(Row(Text("left out: " + printable(refused), style="dim"), "note"))
        if report.already:
            rows.append(Row(Text(f"{report.already} captured before", style="dim"), "note"))
        if not rows:
            rows.append(Row(Text("nothing in these files", style="dim"), "note"))
        self.rows = rows
        _ = note_of  # the notes the rows become are the service's (see services/capture.py)
        listing = self.query_one(OptionList)
        # Read again after a write (this screen's, an undo, another program's): the cursor
        # stays where it was and the focus too (it jumped to the list's top, out of the paths
        # being typed: a review).
        was = listing.highlighted if self.previewed else None
        listing.clear_options()
        listing.add_options([Option(row.label) for row in rows])
        listing.highlighted = min(was or 0, len(rows) - 1)
        if self._to_list or not self.previewed:
            listing.focus()
        self._to_list = False
        self.previewed = True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_assign()

    def action_back(self) -> None:
        self.dismiss(None)

    def on_unmount(self) -> None:
        self._stop.set()

    async def action_add_matched(self) -> None:
        from repdesk.services import capture

        items = [row.item for row in self.rows if row.kind in ("added", "changed")]
        if not items:
            self.notify("Nothing matched a deal here: enter on an item assigns it to one.")
            return
        me = self.desk.settings.me
        await self._write(lambda s: capture.capture(session=s, items=items, me=me), "capture")

    def action_assign(self) -> None:
        from repdesk.tui.screens.mend import PickScreen

        index = self.query_one(OptionList).highlighted
        row = self.rows[index] if index is not None and index < len(self.rows) else None
        if row is None or row.kind not in ("ambiguous", "unmatched", "added"):
            self.notify("Put the cursor on a mail or meeting first.")
            return
        if row.candidates:
            choices = [(f"#{d.id} {d.title} ({d.company or '-'}, {d.status})", d.id)
                       for d in row.candidates]  # fmt: skip
            self._pick(row, choices, PickScreen)
            return
        self._pick_open_deal(row, PickScreen)

    @work(group="capture-pick")
    async def _pick_open_deal(self, row: Row, pick: Any) -> None:
        from repdesk.services import deals

        found = await self.desk.read(lambda s: deals.list_deals(session=s, status="all"))
        choices = [
            (f"#{d.id} {d.title} ({d.company or '-'}, {d.status})", saved_id(d)) for d in found
        ]
        self._pick(row, choices, pick)

    def _pick(self, row: Row, choices: list[tuple[str, int]], pick: Any) -> None:
        from repdesk.services import capture

        async def chosen(deal_id: Any) -> None:
            if deal_id is None:
                return
            me = self.desk.settings.me
            await self._write(
                lambda s: capture.settle(session=s, item=row.item, deal_id=deal_id, me=me),
                "assigned capture",
            )

        self.app.push_screen(
            pick(f"Which deal is {row.item.subject or 'it'} about?", choices,
                 "enter: put it there (u undoes) · esc: leave it"),
            chosen,
        )  # fmt: skip

    async def _write(self, write: Any, what: str) -> None:
        from repdesk.tui.undo import undo_of

        try:
            report, changes = await self.desk.write_recorded(write)
        except Exception as exc:
            self.notify(self.desk.explain(exc), severity="error", timeout=10)
            return
        touched = [placed.deal.id for placed in report.added]
        touched += [change.deal.id for change in report.changed]
        if touched and changes:
            self.app.remember_undo(undo_of(what, touched[0], changes))
        count = len(report.added)
        said = f"Added {count} item{'s' if count != 1 else ''} to deals"
        if count == 1:
            # The deal named: a mail put on the wrong one by a slip in the picker went by
            # unseen (a new-user trial).
            deal = report.added[0].deal
            said = f"Added 1 item to #{deal.id} {cut(deal.title, 60)}"
        if report.changed:
            said += f"; {len(report.changed)} next step{'s' if len(report.changed) != 1 else ''}"
            said += " changed with the calendar"
        self.notify(f"{said}: u undoes.", markup=False)
        self.preview()
