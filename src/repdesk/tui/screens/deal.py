"""The deal page: the fields, the timeline, the objections and the pending follow-ups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from sqlmodel import Session, select
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static, TextArea

from repdesk.core import clock, formatting
from repdesk.core import forecast as categories
from repdesk.core.errors import NotFound
from repdesk.core.money import format_money
from repdesk.core.text import cut, printable
from repdesk.services import activities, deals, followups, objections, people
from repdesk.services import forecast as deal_forecast
from repdesk.services.deals import HistoryEntry
from repdesk.services.forecast import DealForecast
from repdesk.services.people import OnDeal
from repdesk.storage.models import (
    Activity,
    CloseDateChange,
    Deal,
    FollowUp,
    ForecastChange,
    Objection,
)
from repdesk.tui import actions
from repdesk.tui.lifecycle import ReleasedFromApp, can_show
from repdesk.tui.screens.base import DeskScreen
from repdesk.tui.screens.people import render_contacts
from repdesk.tui.undo import Undo, undo_of
from repdesk.tui.widgets.footer import RepdeskFooter
from repdesk.tui.widgets.quota_strip import QuotaStrip
from repdesk.tui.widgets.scrolled import ScrolledPane


@dataclass(frozen=True)
class DealPage:
    """Everything the page shows, read in one short session."""

    deal: Deal
    stage: str
    history: list[HistoryEntry]
    activities: list[Activity]
    objections: list[Objection]
    follow_ups: list[FollowUp]
    outlook: DealForecast | None = None  # its forecast (schema v5)
    close_dates: tuple[CloseDateChange, ...] = ()
    categories: tuple[ForecastChange, ...] = ()
    people: list[OnDeal] = field(default_factory=list)  # its contacts, the main one first


def load_page(session: Session, deal_id: int) -> DealPage:
    deal = deals.get_deal(session=session, deal_id=deal_id)
    names = {s.id: s.name for s in deals.stages(session=session)}
    return DealPage(
        deal=deal,
        stage=names[deal.stage_id],
        history=deals.history(session=session, deal_id=deal_id),
        activities=activities.timeline_activities(session=session, deal_id=deal_id),
        objections=objections.objections_of(session=session, deal_id=deal_id),
        follow_ups=followups.pending(session=session, deal_id=deal_id),
        outlook=deal_forecast.deal_forecast(session=session, deal_id=deal_id),
        close_dates=tuple(deal_forecast.close_date_changes(session=session, deal_id=deal_id)),
        categories=tuple(deal_forecast.forecast_changes(session=session, deal_id=deal_id)),
        people=people.people_of_deal(session=session, deal_id=deal_id),
    )


def warm_page_reads(session: Session) -> None:
    """Read one deal's page and forget it: its statements are compiled and cached for the
    first page the rep opens (RepdeskApp.warm_up)."""
    deal_id = session.exec(select(Deal.id).limit(1)).first()
    if deal_id is not None:
        load_page(session, deal_id)


def _heading(title: str) -> Text:
    # The heading's style must not become the whole Text's base style.
    text = Text()
    text.append(title, style="bold")
    return text


def _when(moment: datetime, this_year: int) -> str:
    """Local time; this year's without the year (the time column stays narrow), older ones
    without the time."""
    local = moment.astimezone()
    return local.strftime("%d %b %H:%M" if local.year == this_year else "%d %b %Y")


FIELD_CHARS = 200  # of a field's value on the deal page


def render_fields(page: DealPage) -> Group:
    d = page.deal
    text = _heading(printable(d.title) + "\n")
    text.append(f"{printable(d.company) or '-'} · {printable(page.stage)} · ", style="")
    text.append(format_money(d.value_cents, d.currency), style="bold")
    # "open" said nothing its stage does not, and wrapped onto a line of its own at 120
    # columns (a new user's trial); won and lost are said, whatever their stage is called,
    # unless the stage's name says it already ("Won · €2,400 · won": another trial).
    said = d.status == "open" or d.status.casefold() == page.stage.strip().casefold()
    text.append("\n" if said else f" · {d.status}\n")
    rows = [
        ("Contact", d.contact),
        ("Email", d.email),
        ("Phone", d.phone),
        ("First contact", d.first_contact.isoformat()),
        ("Expected close", d.expected_close.isoformat() if d.expected_close else ""),
        ("Closed", d.closed_on.isoformat() if d.closed_on else ""),
        ("Lost reason", d.lost_reason),  # a CRM's may be pages long: cut below
        ("Source", d.source),
        ("Product", d.product),
        ("Region", d.region),
        ("Segment", d.segment),
        *forecast_rows(page),
    ]
    # Each cut: a contact's name pages long (a paste, an import) filled the page, 130 lines.
    fields = [_Field(label, cut(value, FIELD_CHARS)) for label, value in rows if value]
    text.rstrip()
    return Group(text, *fields)


def forecast_rows(page: DealPage) -> list[tuple[str, str]]:
    """The forecast call, the probability, how often the close date slipped, the competitor
    and the customer's score (F and V change them)."""
    d, outlook = page.deal, page.outlook
    if outlook is None:
        return []
    rows = []
    if outlook.category is not None:
        # Short: the side column is narrow. "auto" is what the F form calls the default.
        call = "your call" if outlook.overridden else "auto"
        whose = "its own" if outlook.own_probability else f"{page.stage}'s"
        rows.append(("Forecast", f"{categories.label(outlook.category)} ({call})"))
        rows.append(("Probability", f"{outlook.probability}% ({whose})"))
    if outlook.slips:
        times = "once" if outlook.slips == 1 else f"{outlook.slips} times"
        days = "1 day" if outlook.slipped_days == 1 else f"{outlook.slipped_days} days"
        rows.append(("Close slipped", f"{times}, by {days}"))
    rows.append(("Competitor", d.competitor))
    if d.nps is not None:
        rows.append(("NPS", f"{d.nps} ({d.nps_on.isoformat() if d.nps_on else '-'})"))
    return rows


class _Field:
    """A label and its value on one line, or the value on its own line below the label when
    both do not fit: an email address or a phone number is never split in the middle."""

    LABEL = 15

    def __init__(self, label: str, value: str) -> None:
        self.label, self.value = label, value

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        line = Text(f"{self.label:<{self.LABEL}}", style="dim")
        if self.LABEL + Text(self.value).cell_len <= options.max_width:
            line.append(self.value)
            yield line
        else:
            yield Text(self.label, style="dim")
            yield Text("  " + self.value)


def render_next_steps(page: DealPage) -> Text:
    text = _heading("Next steps\n")
    if not page.follow_ups:
        text.append("no next step: press f to schedule one\n", style="yellow")
    elif page.deal.status == "lost":
        # They stay, for a reopen (R) to bring back; listed as if pending they read as work to
        # do (a new user's trial), yet no queue shows them.
        text.append("the deal is lost: these show in no queue (R reopens it)\n", style="dim")
    today = clock.today()
    for fu in page.follow_ups:
        style = "red" if fu.due_on < today else ""
        text.append(f"{formatting.when(fu.due_on, fu.due_time):<18}", style=style)
        text.append(printable(fu.note))
        if fu.recur_days:
            text.append(f"  ({formatting.every(fu.recur_days)})", style="dim")
        text.append("\n")
    return text


def render_objections(page: DealPage) -> Text:
    open_count = sum(1 for o in page.objections if o.status == "open")
    text = _heading(f"Objections ({open_count} open)\n")
    if not page.objections:
        text.append("none recorded: press o to add one\n", style="dim")
    for obj in page.objections:
        style = {"open": "red", "addressed": "yellow", "resolved": "green"}[obj.status]
        text.append(f"[{obj.status}] ", style=style)
        text.append(f"{obj.category}: ", style="bold")
        text.append(printable(obj.said) + "\n")
        if obj.answer:
            text.append("  ↳ " + printable(obj.answer) + "\n", style="dim")
    return text


class Timeline:
    """Activities, stage changes and objections in time order, newest first.

    Wide: one row each, the times in a column of their own and what happened wrapping beside
    them. Narrow (an 80-column terminal's half): the time and the kind on one line, what
    happened indented below, so it gets the whole width instead of a sliver of it.
    """

    WIDE = 64  # cells from which a row holds time, kind and detail side by side

    def __init__(self, events: list[tuple[datetime, str, str]], this_year: int) -> None:
        self.events = events
        self.this_year = this_year

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield _heading("Timeline")
        if options.max_width >= self.WIDE:
            rows = Table.grid(padding=(0, 2, 0, 0), expand=True)
            rows.add_column(no_wrap=True, style="dim")
            rows.add_column(ratio=1)
            for at, kind, detail in self.events:
                what = Text()
                what.append(kind, style="bold")  # a span: a base style would embolden it all
                if detail:
                    what.append("  " + printable(detail))
                rows.add_row(_when(at, self.this_year), what)
            yield rows
            return
        for at, kind, detail in self.events:
            line = Text()
            line.append(_when(at, self.this_year) + "  ", style="dim")
            line.append(kind, style="bold")
            yield line
            if detail:
                yield Padding(Text(printable(detail)), (0, 0, 0, 2))


def render_timeline(page: DealPage) -> Timeline:
    events: list[tuple[datetime, str, str]] = []
    for act in page.activities:
        detail = " · ".join(p for p in (act.outcome, act.text) if p)
        minutes = f" ({act.minutes} min)" if act.minutes else ""
        events.append((act.at, act.kind + minutes, detail))
    for change in page.history:
        move = f"{change.from_stage} → {change.to_stage}" if change.from_stage else change.to_stage
        events.append((change.at, "stage", move))
    for obj in page.objections:
        events.append((obj.raised_at, "objection", f"{obj.category}: {obj.said}"))
    for moved in page.close_dates:
        was = moved.from_date.isoformat() if moved.from_date else "none"
        now = moved.to_date.isoformat() if moved.to_date else "none"
        events.append((moved.changed_at, "close date", f"{was} → {now}"))
    for call in page.categories:
        was, now = categories.label(call.from_category), categories.label(call.to_category)
        events.append((call.changed_at, "forecast", f"{was} → {now}"))
    events.sort(key=lambda e: e[0], reverse=True)
    return Timeline(events, clock.now().astimezone().year)


class NotesArea(TextArea, ReleasedFromApp):
    """The deal's own notes, edited in place: saved when the rep leaves it (esc, tab or a
    click elsewhere); `esc` leaves it without leaving the page."""

    BINDINGS = [Binding("escape", "leave", "Leave the notes", id="deal.notes_leave", show=False)]

    @staticmethod
    def shown(notes: str) -> str:
        """The notes as the area holds them: a TextArea draws its text as it is, so an escape
        sequence in notes from the shell, an import or the sync would act on the terminal."""
        # Tabs stay tabs (the area draws them): only what acts on the terminal is shown as a
        # picture, so leaving tab-indented notes changes nothing (a review).
        return "\t".join(printable(part, multiline=True) for part in notes.split("\t"))

    def action_leave(self) -> None:
        self.screen.set_focus(None)

    async def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # TextArea's own handler would insert the text as it is
        if self.read_only:
            return
        if result := self._replace_via_keyboard(self.shown(event.text), *self.selection):
            self.move_cursor(result.end_location)


class DealScreen(DeskScreen):
    TITLE = "Deal page"  # the heading of its keys under `?`
    BINDINGS = [
        Binding("escape", "back", "Back", id="deal.back"),
        Binding("c", "log_call", "Call", id="deal.log_call"),
        Binding("f", "follow_up", "Follow-up", id="deal.follow_up"),
        Binding("o", "objection", "Objection", id="deal.objection"),
        Binding("a", "answer", "Answer objection", id="deal.answer"),
        Binding("e", "edit", "Edit", id="deal.edit"),
        Binding("w", "won", "Won", id="deal.won"),
        Binding("x", "lost", "Lost", id="deal.lost"),
        Binding("R", "reopen", "Reopen", id="deal.reopen", show=False),
        Binding("W", "won_on", "Won on a day", id="deal.won_on", show=False),
        Binding("D", "delete", "Delete (the deal or a line of it)", id="deal.delete", show=False),
        Binding("M", "merge", "Merge a duplicate in", id="deal.merge", show=False),
        Binding("N", "notes", "Edit the notes", id="deal.notes", show=False),
        Binding("P", "people", "People: a contact or the company", id="deal.people", show=False),
        Binding("Y", "copy", "Copy (yank) an email or a phone", id="deal.copy", show=False),
        Binding("F", "forecast", "Forecast call", id="deal.forecast", show=False),
        # V, not P (the people's key): the customer's verdict on the deal won.
        Binding("V", "nps", "Customer score (NPS)", id="deal.nps", show=False),
        # Two panes that scroll on their own: the scroll keys move the one with the cursor,
        # and these move the cursor between them (at 80x24 the timeline's oldest lines were
        # out of reach of every key: a new-user trial).
        Binding("l", "column(1)", "To the timeline", id="deal.timeline", show=False),
        Binding("h", "column(-1)", "To the fields", id="deal.fields", show=False),
    ]

    # Below 100 cells these leave the footer (`?` lists them), so no key is cut mid-word.
    NARROW_FOOTER_HIDES = frozenset({"deal.answer", "deal.won", "deal.lost", "app.quit"})

    DEFAULT_CSS = """
    DealScreen #deal-body { height: 1fr; }
    /* Wide enough for a whole email address under its label. */
    DealScreen #deal-side { width: 1fr; min-width: 42; padding: 0 1; }
    DealScreen #deal-main { width: 2fr; padding: 0 1; border-left: solid $panel; }
    DealScreen #deal-main:focus { border-left: thick $accent; }
    DealScreen Static { margin-bottom: 1; }
    DealScreen #deal-notes-title { margin-bottom: 0; }
    DealScreen #deal-notes { height: auto; min-height: 4; max-height: 12; }
    """

    def __init__(self, deal_id: int) -> None:
        super().__init__()
        self.deal_id = deal_id
        self.page: DealPage | None = None
        self.read_early(self._page_reader())

    def _page_reader(self) -> Callable[[Any], DealPage]:
        deal_id = self.deal_id
        return lambda s: load_page(s, deal_id)

    def compose(self) -> ComposeResult:
        yield QuotaStrip(id="quota-strip")
        with Horizontal(id="deal-body"):
            with ScrolledPane(id="deal-side"):
                yield Static(id="deal-fields")
                yield Static(id="deal-contacts")
                yield Static(id="deal-next")
                yield Static(id="deal-objections")
                yield Static(_heading("Notes (N edits, esc leaves)"), id="deal-notes-title")
                yield NotesArea(id="deal-notes", soft_wrap=True, show_line_numbers=False)
            with ScrolledPane(id="deal-main"):
                yield Static(id="deal-timeline")
        yield RepdeskFooter()

    def on_mount(self) -> None:
        if (page := self.early_result()) is not None:
            self._show(page)
        else:
            self.reload()
        self.app.refresh_quota()

    @work(exclusive=True, group="deal-load")
    async def reload(self) -> None:
        deal_id = self.deal_id
        try:
            page = await self.first_read(self._page_reader())
        except NotFound:  # deleted or merged away by another program (the shell, a sync)
            if can_show(self):
                self.notify(
                    f"Deal #{deal_id} is gone (deleted or merged elsewhere): back to the board.",
                    markup=False,
                )
                self.dismiss(None)
            return
        if can_show(self):  # else the rep went back while it was reading
            self._show(page)

    def _show(self, page: DealPage) -> None:
        self.page = page
        self.query_one("#deal-fields", Static).update(render_fields(page))
        self.query_one("#deal-contacts", Static).update(render_contacts(page.people))
        self.query_one("#deal-next", Static).update(render_next_steps(page))
        self.query_one("#deal-objections", Static).update(render_objections(page))
        self.query_one("#deal-timeline", Static).update(render_timeline(page))
        notes = self.query_one(NotesArea)
        if not notes.has_focus:  # never under the rep's fingers
            notes.load_text(NotesArea.shown(page.deal.notes))

    def _title(self) -> str:
        return self.page.deal.title if self.page else f"deal #{self.deal_id}"

    def action_back(self) -> None:
        self.dismiss(None)

    def _open(self, screen: Screen[Any] | str) -> None:
        if isinstance(screen, str):
            self.notify(screen)
        else:
            self.app.push_screen(screen, self._after)

    def _after(self, result: Any) -> None:
        if result is not None:
            undo = result[1] if isinstance(result, tuple) else result
            if isinstance(undo, Undo):
                self.app.remember_saved(undo)
            self.reload()

    def action_log_call(self) -> None:
        self._open(actions.log_call_form(self.desk, deal_id=self.deal_id, title=self._title()))

    def action_follow_up(self) -> None:
        self._open(actions.follow_up_form(self.desk, deal_id=self.deal_id, title=self._title()))

    def action_objection(self) -> None:
        self._open(actions.objection_form(self.desk, deal_id=self.deal_id, title=self._title()))

    def action_answer(self) -> None:
        """Edit, answer or resolve the oldest objection that is not resolved yet."""
        pending = [o for o in (self.page.objections if self.page else []) if o.status != "resolved"]
        if not pending:
            self.notify("No open objections on this deal: o records one.")
            return
        self._open(
            actions.objection_form(
                self.desk, deal_id=self.deal_id, title=self._title(), objection_id=pending[0].id
            )
        )

    def action_edit(self) -> None:
        self._open(actions.deal_form(self.desk, deal_id=self.deal_id, stage_id=None))

    def action_won(self) -> None:
        self._open(actions.win(self.desk, deal_id=self.deal_id))

    def action_lost(self) -> None:
        self._open(actions.lose(self.desk, deal_id=self.deal_id))

    def action_forecast(self) -> None:
        self._open(actions.forecast_form(self.desk, deal_id=self.deal_id))

    def action_nps(self) -> None:
        self._open(actions.nps_form(self.desk, deal_id=self.deal_id))

    def action_notes(self) -> None:
        self.query_one(NotesArea).focus()

    def on_descendant_blur(self, event: Any) -> None:
        widget = event.widget
        if not isinstance(widget, NotesArea) or self.page is None:
            return
        if widget.text != NotesArea.shown(self.page.deal.notes):  # the rep changed them
            # The app's worker, not the page's: esc leaves (and removes) the page while the
            # notes are being saved, and a page's workers are cancelled with it.
            self.app.run_worker(self.save_notes(widget.text), group="deal-notes")

    async def save_notes(self, text: str) -> None:
        deal_id, title = self.deal_id, self._title()
        try:
            deal, changes = await self.desk.write_recorded(
                lambda s: deals.edit_deal(session=s, deal_id=deal_id, notes=text)
            )
        except Exception as exc:
            problem = self.desk.explain(exc)
            self.app.notify(f"Notes not saved: {problem}", severity="error", timeout=10)
            return
        self.app.remember_undo(undo_of(f"notes of {title}", deal_id, changes))
        self.app.notify("Notes saved.")
        if can_show(self) and self.page is not None:
            self.page = replace(self.page, deal=deal)

    async def action_people(self) -> None:
        """Open a contact's page or the company's (tui/screens/people.py)."""
        await self._pick_record("deal_people_choices", "People on", "enter: open · esc: back")

    async def action_copy(self) -> None:
        await self._pick_record("deal_reach_choices", "Copy from", "enter: copy · esc: back")

    async def _pick_record(self, reader: str, heading: str, keys: str) -> None:
        from repdesk.tui.screens import people as people_screens
        from repdesk.tui.screens.mend import PickScreen

        deal_id, read = self.deal_id, getattr(people_screens, reader)
        try:
            choices = await self.desk.read(lambda s: read(s, deal_id))
        except Exception as exc:  # deleted meanwhile (from the shell)
            self.notify(self.desk.explain(exc), severity="error")
            return
        if not choices:
            self.notify("No emails or phones on this deal yet: P puts someone on it.")
            return

        def picked(choice: tuple[str, Any] | None) -> None:
            if choice is not None and choice[0] == "add":
                self._add_contact()
            else:
                people_screens.open_record(self.app, choice)

        self.app.push_screen(PickScreen(f"{heading} {self._title()}", choices, keys), picked)

    def _add_contact(self) -> None:
        try:
            form = actions.contact_form(self.desk, deal_id=self.deal_id, title=self._title())
        except Exception as exc:  # the deal deleted meanwhile (from the shell)
            self.notify(self.desk.explain(exc), severity="error")
            return
        self._open(form)

    def action_won_on(self) -> None:
        self._open(actions.win_on(self.desk, deal_id=self.deal_id))

    def action_merge(self) -> None:
        self._open(actions.merge_form(self.desk, keep_id=self.deal_id, title=self._title()))

    async def action_delete(self) -> None:
        """Pick the deal, a follow-up, an objection or an activity; it goes to the trash."""
        from repdesk.tui.screens.mend import PickScreen, deal_parts

        deal_id = self.deal_id
        try:
            parts = await self.desk.read(lambda s: deal_parts(s, deal_id))
        except Exception as exc:  # deleted meanwhile (from the shell)
            self.notify(self.desk.explain(exc), severity="error")
            return

        async def picked(choice: Any) -> None:
            if choice is None:
                return
            kind, item_id = choice
            deleted = await self.app.delete_to_trash(kind=kind, item_id=item_id, deal_id=deal_id)
            if not deleted or not can_show(self):
                return
            if kind == "deal":
                self.dismiss(None)
            else:
                self.reload()

        self.app.push_screen(
            PickScreen(
                f"Delete from {self._title()}",
                parts,
                "enter: to the trash (u undoes) · esc: keep everything",
            ),
            picked,
        )

    def action_column(self, step: int) -> None:
        """h and l, as on the board: the pane to the left (the fields) or the right (the
        timeline) takes the scroll keys."""
        self.query_one("#deal-main" if step > 0 else "#deal-side", ScrolledPane).focus()

    async def action_reopen(self) -> None:
        deal_id, title = self.deal_id, self._title()
        try:
            _, changes = await self.desk.write_recorded(
                lambda s: deals.reopen_deal(session=s, deal_id=deal_id)
            )
        except Exception as exc:
            if not can_show(self):
                return
            self.notify(self.desk.explain(exc), severity="error", timeout=10)
            return
        if changes:
            self.app.remember_undo(undo_of(f"reopening of {title}", deal_id, changes))
        self.reload()
