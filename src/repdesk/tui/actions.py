"""The deal actions shared by the board, the deal page and the queues.

Each builds its form (or question) at once, on the key press, so keys typed right after `c`
land in the form and never in the screen below. The form writes through the services when it
is valid and is dismissed with what changed (with an `Undo` where the change can be taken
back); the screen pushes it with a callback that refreshes what it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any, TypedDict

from sqlmodel import Session

from repdesk.core import clock, formatting, quantities, reach
from repdesk.core.dates import (
    Period,
    format_when,
    parse_date,
    parse_past_day,
    parse_past_when,
    parse_period,
    parse_when,
    working_days_after,
)
from repdesk.core.domain import ACTIVITY_KINDS, OBJECTION_CATEGORIES, SEGMENTS
from repdesk.core.errors import InvalidInput, NotFound
from repdesk.core.money import format_money, parse_amount
from repdesk.core.text import cut
from repdesk.services import activities, deals, followups, merge, objections, quotas, trash
from repdesk.services.activities import CALL_OUTCOMES
from repdesk.storage.models import Deal, saved_id
from repdesk.tui.forms import ConfirmScreen, FieldError, FieldSpec, FormScreen
from repdesk.tui.gateway import DeskGateway
from repdesk.tui.undo import Undo, undo_of
from repdesk.tui.widgets.playbook import ObjectionFormScreen, PlaybookPanel


def _when(text: str) -> Any:
    try:
        return parse_when(text, today=clock.today())
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def _happened(text: str) -> Any:
    """When something happened: empty is now; `yesterday 15:00`, `mon 10:00` (the last one)."""
    if not text.strip() or text.strip().lower() == "now":
        return None
    try:
        return activities.happened_at(parse_past_when(text, today=clock.today()))
    except (ValueError, InvalidInput) as exc:
        raise FieldError(str(exc).removeprefix("at: ")) from None


def _closed_on(text: str) -> date | None:
    """A day that has come (a close, a first contact): a weekday is the last one (`tue`);
    empty is None, which the caller reads (a close: today; an edit's first contact: kept)."""
    if not text.strip():
        return None
    try:
        return parse_past_day(text, today=clock.today())
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def _reach(check: Callable[[str], str], before: str) -> Callable[[str], str]:
    """An email or phone field, checked as a contact's are (core/reach.py); what the deal
    already had passes as it is (an import keeps what the CRM held, and an edit of the value
    must not be refused for it)."""

    def parse(text: str) -> str:
        if text.strip() == before.strip():
            return text
        try:
            return check(text)
        except InvalidInput as exc:
            raise FieldError(f"{exc.value!r} is not valid: {exc.expected}") from None

    return parse


def _date(text: str) -> date:
    try:
        return parse_date(text, today=clock.today())
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def _amount(
    text: str, currency: str | None = None, *, what: str = "a deal value", least: str = "0 or more"
) -> int:
    try:
        return parse_amount(text, currency=currency, what=what, least=least)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def when_hint() -> str:
    """A next step's forms, its date one the field takes today (a date written in the code
    went by and was then refused when typed: found by an audit)."""
    return f"e.g. tomorrow, fri 10:00, +3d, {_days_on(10)}"


def date_hint() -> str:
    """A day without a time (a close date): only forms that such a field takes."""
    return f"e.g. fri, +2w, {_days_on(30)}"


def past_hint() -> str:
    """A day that has been (won or lost on)."""
    return f"e.g. yesterday, tue, {_days_on(-3)}"


def _days_on(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


class _DealText(TypedDict):
    """The deal form's text fields, as create_deal and edit_deal take them."""

    title: str
    company: str
    contact: str
    email: str
    phone: str
    source: str
    product: str
    region: str


def deal_form(desk: DeskGateway, *, deal_id: int | None, stage_id: int | None) -> FormScreen:
    """New deal (in the stage under the cursor) or edit; dismissed with (deal, Undo | None)."""

    def load(session: Session) -> tuple[Deal | None, list[tuple[str, str]]]:
        stage_options = [(s.name, str(s.id)) for s in deals.open_stages(session=session)]
        return (
            deals.get_deal(session=session, deal_id=deal_id) if deal_id else None
        ), stage_options

    deal, stage_options = desk.read_now(load)  # one row and the stage names: a millisecond
    currency = deal.currency if deal else desk.settings.currency
    email, phone = (deal.email, deal.phone) if deal else ("", "")
    fields = [
        FieldSpec("title", "Title", deal.title if deal else "", required=True),
        FieldSpec("company", "Company", deal.company if deal else ""),
        FieldSpec("contact", "Contact", deal.contact if deal else ""),
        FieldSpec(
            "value",
            f"Value ({currency})",
            f"{deal.value_cents / 100:.2f}".removesuffix(".00") if deal else "",
            parse=lambda text: _amount(text, currency),
            placeholder="e.g. 12500 or 12.5k",
            aliases=("value_cents",),
        ),
        FieldSpec(
            "expected_close",
            "Expected close",
            deal.expected_close.isoformat() if deal and deal.expected_close else "",
            parse=_date,
            placeholder=date_hint(),
            aliases=("expected close",),
        ),
        # Editable, so a deal added today and won on Tuesday (first contacted before) can be
        # said so (a win before the first contact is refused: a new-user trial had no way).
        FieldSpec(
            "first_contact",
            "First contact",
            deal.first_contact.isoformat() if deal else "",
            parse=_closed_on,
            placeholder=(
                "e.g. 2026-11-02 or tue (the last one)"
                if deal
                else "today; or e.g. 2026-11-02 or tue (the last one)"
            ),
            aliases=("first contact",),
        ),
        FieldSpec("email", "Email", email, parse=_reach(reach.check_address, email)),
        FieldSpec("phone", "Phone", phone, parse=_reach(reach.check_phone, phone)),
        FieldSpec("source", "Source", deal.source if deal else ""),
        FieldSpec("product", "Product", deal.product if deal else ""),
        FieldSpec("region", "Region", deal.region if deal else ""),
        FieldSpec(
            "segment",
            "Segment",
            deal.segment if deal else "new",
            kind="select",
            options=[
                ("new customer", "new"),
                ("existing customer", "existing"),
                # A CRM's own value an import kept (issue 15) stays choosable as it is.
                *([(deal.segment, deal.segment)] if deal and deal.segment not in SEGMENTS else []),
            ],
            required=True,
        ),
    ]
    if deal is None:
        fields.insert(
            3,
            FieldSpec(
                "stage",
                "Stage",
                str(stage_id or stage_options[0][1]),
                kind="select",
                options=stage_options,
                required=True,
            ),
        )

    async def submit(values: dict[str, Any]) -> Any:
        def typed(name: str) -> str:
            return values.get(name) or ""

        text = _DealText(
            title=typed("title"), company=typed("company"), contact=typed("contact"),
            email=typed("email"), phone=typed("phone"), source=typed("source"),
            product=typed("product"), region=typed("region"),
        )  # fmt: skip
        if deal is None:

            def create(session: Session) -> tuple[Deal, str]:
                new = deals.create_deal(
                    session=session,
                    currency=currency,
                    value_cents=values["value"] or 0,
                    stage=values["stage"],
                    segment=values["segment"],
                    expected_close=values["expected_close"],
                    first_contact=values["first_contact"],
                    **text,
                )
                return new, _shared_with(session, saved_id(new), [text["email"]])

            (new, shared), changes = await desk.write_recorded(create)
            return new, undo_of(f"new deal {new.title}", saved_id(new), changes, result=shared)

        def edit(session: Session) -> tuple[Deal, str]:
            first = values["first_contact"]
            changed = deals.edit_deal(
                session=session,
                deal_id=saved_id(deal),
                value_cents=values["value"] or 0,
                segment=values["segment"],
                expected_close=values["expected_close"],
                **({"first_contact": first} if first is not None else {}),
                **text,
            )
            typed = [text["email"]] if text["email"] != deal.email else []  # retyped only
            return changed, _shared_with(session, saved_id(changed), typed)

        (changed, shared), changes = await desk.write_recorded(edit)
        return changed, undo_of(
            f"edit of {changed.title}", saved_id(changed), changes, result=shared
        )

    title = "New deal" if deal is None else f"Edit deal #{deal.id}"
    return FormScreen(title, fields, submit)


def _shared_with(session: Session, deal_id: int, addresses: list[str]) -> str:
    """What the deal form says of an address another contact than the deal's main one has
    (`contact add` says it in the shell)."""
    from repdesk.services import people

    links = people.links_of(session, deal_id)
    main = links[0].contact_id if links else None
    return "; ".join(people.shared_address_notes(session, addresses, besides=main))


# An outcome field's placeholder: tab both completes and goes on (see lose()'s hint).
OUTCOME_HINT = "a digit picks; or type: → or tab completes (tab goes on)"


def log_call_form(desk: DeskGateway, *, deal_id: int, title: str) -> FormScreen:
    """The most frequent action: outcome + next step in a handful of keys. A deal with a next
    step pending asks what becomes of it: kept, or done by this call (a next step typed here
    stood beside it, two on one day, and nothing asked: a new-user trial). A step due today or
    before needs no asking: the call answers it (services/activities.py)."""
    today = clock.today()
    try:
        waiting = desk.read_now(lambda s: followups.pending(session=s, deal_id=deal_id))
    except NotFound:
        waiting = []  # gone since: saving says so
    # A step due already is the call's to answer (services/activities.py), said when saved.
    answered = next((step for step in waiting if step.due_on <= today), None)
    if answered is not None:
        waiting = []
    fields = [
        FieldSpec(
            "outcome",
            "Outcome",
            suggestions=CALL_OUTCOMES,
            picks=CALL_OUTCOMES,
            placeholder=OUTCOME_HINT,
            required=True,
        ),
        FieldSpec("next", "Next step", parse=_when, placeholder=when_hint(), aliases=("next",)),
        FieldSpec("next_note", "Next step note"),
        FieldSpec("minutes", "Minutes", parse=quantities.parse_minutes),
        FieldSpec("at", "When", parse=_happened, placeholder="now; or e.g. yesterday 15:00"),
        FieldSpec("notes", "Notes", kind="area"),
    ]
    step = waiting[0] if waiting else None
    if step is not None:
        # Right after the next step and its note, named in its label (its hint was under the
        # fold at 80x24: a new-user trial); not before them, where it would take the tab that
        # goes from the outcome to the next step.
        fields.insert(3, FieldSpec(
            "pending", f"Its next step, {formatting.step_words(step)}", "keep", kind="select",
            required=True, options=[("keep it", "keep"), ("done by this call", "done")],
        ))  # fmt: skip

    async def submit(values: dict[str, Any]) -> Any:
        if values["next_note"] and not values["next"]:
            raise InvalidInput("next", "", "a date for the next step (the note needs one)")

        def write(session: Session) -> Any:
            # Which step the call does is read as it is saved (services/activities.py): one
            # the shell did while the form was open was claimed by this call too (a hostile
            # test).
            return activities.log_touch(
                session=session,
                deal_id=deal_id,
                kind="call",
                outcome=values["outcome"],
                minutes=values["minutes"],
                text=values["notes"] or "",
                next_when=values["next"],
                next_note=values["next_note"] or "",
                at=values["at"],
                step_done=step is not None and values.get("pending") == "done",
                step_id=saved_id(step) if step is not None else None,
            )

        logged, changes = await desk.write_recorded(write)
        done = logged.done
        result = f"its step {formatting.step_words(done)} done" if done is not None else ""
        return logged.activity, undo_of(f"call on {title}", deal_id, changes, result=result)

    return FormScreen(f"Log a call: {title}", fields, submit)


def follow_up_form(desk: DeskGateway, *, deal_id: int, title: str) -> FormScreen:
    fields = [
        FieldSpec("when", "When", parse=_when, required=True, placeholder=when_hint()),
        FieldSpec("note", "Note"),
        FieldSpec(
            "every",
            "Repeat every",
            parse=quantities.parse_repeat,
            placeholder="e.g. 30d or 2w (optional)",
        ),
    ]

    async def submit(values: dict[str, Any]) -> Any:
        added, changes = await desk.write_recorded(
            lambda s: followups.add_follow_up(
                session=s,
                deal_id=deal_id,
                when=values["when"],
                note=values["note"] or "",
                recur_days=values["every"],
            )
        )
        return added, undo_of(f"follow-up on {title}", deal_id, changes)

    return FormScreen(f"Follow-up: {title}", fields, submit)


def objection_form(
    desk: DeskGateway,
    *,
    deal_id: int,
    title: str,
    objection_id: int | None = None,
) -> ObjectionFormScreen:
    existing = None
    if objection_id is not None:
        existing = desk.read_now(
            lambda s: objections.get_objection(session=s, objection_id=objection_id)
        )
    shown_status = existing.status if existing else "open"
    fields = [
        FieldSpec(
            "category",
            "Category",
            existing.category if existing else "price",
            kind="select",
            options=[(c, c) for c in OBJECTION_CATEGORIES],
            required=True,
        ),
        FieldSpec("said", "What they said", existing.said if existing else "", required=True),
        FieldSpec("answer", "Your answer", existing.answer if existing else "", kind="area"),
        FieldSpec(
            "status",
            "Status",
            shown_status,
            kind="select",
            options=[("open", "open"), ("addressed", "addressed"), ("resolved", "resolved")],
            required=True,
            hint="an answer marks an open objection addressed",
        ),
    ]

    async def submit(values: dict[str, Any]) -> Any:
        # A status the rep left as it was shown is the service's to set, as in the shell: an
        # answer marks an open objection addressed (the form kept it open: a new-user trial).
        status = None if values["status"] == shown_status else values["status"]

        def write(session: Session) -> Any:
            if existing is None:
                created = objections.add_objection(
                    session=session,
                    deal_id=deal_id,
                    category=values["category"],
                    said=values["said"],
                    answer=values["answer"] or "",
                )
                if status is not None and status != created.status:
                    objections.update_objection(
                        session=session,
                        objection_id=saved_id(created),
                        status=status,
                    )
                return created
            return objections.update_objection(
                session=session,
                objection_id=saved_id(existing),
                category=values["category"],
                said=values["said"],
                answer=values["answer"] or "",
                status=status,
            )

        saved, changes = await desk.write_recorded(write)
        what = "objection" if existing is None else "objection change"
        return saved, undo_of(f"{what} on {title}", deal_id, changes)

    heading = f"Objection: {title}" if existing is None else f"Objection #{existing.id}: {title}"

    def earlier_answers(category: str) -> list[objections.PlaybookAnswer]:
        # A small indexed query (category, limit 8): quick enough for a key press.
        return desk.read_now(
            lambda s: objections.playbook(
                session=s, category=category, exclude_deal=deal_id, limit=8
            )
        )

    return ObjectionFormScreen(heading, fields, submit, playbook=PlaybookPanel(earlier_answers))


def _to_win(desk: DeskGateway, deal_id: int) -> tuple[Deal, list[Any]]:
    """The deal, and the one-off steps winning it closes (services/deals.py)."""

    def read(session: Session) -> tuple[Deal, list[Any]]:
        deal = deals.get_deal(session=session, deal_id=deal_id)
        return deal, deals.steps_a_win_would_close(session=session, deal_id=deal_id)

    return desk.read_now(read)


def _won(desk: DeskGateway, deal: Deal, on: date | None, close_steps: bool) -> Any:
    """Win it; the undo's line names the steps done with the win."""

    def write(session: Session) -> list[Any]:
        won = deals.win_deal(
            session=session, deal_id=saved_id(deal), on=on, close_steps=close_steps
        )
        return deals.steps_closed_by_win(session=session, deal=won)

    async def run() -> Undo:
        closed, changes = await desk.write_recorded(write)
        return undo_of(
            f"win of {deal.title}", saved_id(deal), changes, stage_id=deal.stage_id,
            result=formatting.steps_with_the_win(closed),
        )  # fmt: skip

    return run


def win(desk: DeskGateway, *, deal_id: int) -> ConfirmScreen | str:
    """The question before a deal is won, or why it cannot be (a message to show). It says
    what becomes of the deal's steps: `W` (won on a day) keeps them if asked."""
    deal, steps = _to_win(desk, deal_id)
    if deal.status == "won":
        return "This deal is already won."
    question = f"Mark '{deal.title}' ({format_money(deal.value_cents, deal.currency)}) won today?"
    if steps:
        said = formatting.steps_with_the_win(steps)
        question += (
            f" ({said[0].upper()}{said[1:]}; W keeps {'it' if len(steps) == 1 else 'them'}.)"
        )
    return ConfirmScreen(question, on_yes=_won(desk, deal, None, close_steps=True))


def win_on(desk: DeskGateway, *, deal_id: int) -> FormScreen | str:
    """Won on an earlier day (the contract signed on Tuesday, logged on Friday); a deal with
    one-off steps pending asks what becomes of them."""
    deal, steps = _to_win(desk, deal_id)
    if deal.status == "won":
        return "This deal is already won."
    fields = [
        FieldSpec("on", "Won on", "today", parse=_closed_on, required=True,
                  placeholder=past_hint(), aliases=("date",)),
    ]  # fmt: skip
    if steps:
        label = f"Its step {formatting.step_words(steps[0])}"
        if len(steps) > 1:
            label = f"Its {len(steps)} steps (first {formatting.step_words(steps[0])})"
        fields.append(FieldSpec(
            "steps", label, "done", kind="select", required=True,
            options=[("done with the win", "done"), ("keep", "keep")],
        ))  # fmt: skip

    async def submit(values: dict[str, Any]) -> Undo:
        run = _won(desk, deal, values["on"], close_steps=values.get("steps", "done") == "done")
        result: Undo = await run()
        return result

    return FormScreen(f"Won: {deal.title}", fields, submit)


def lose(desk: DeskGateway, *, deal_id: int) -> FormScreen | str:
    def load(session: Session) -> tuple[Deal, list[str]]:
        return deals.get_deal(session=session, deal_id=deal_id), deals.lost_reasons(session=session)

    deal, reasons = desk.read_now(load)
    if deal.status == "lost":
        return "This deal is already lost."
    previous = deal.stage_id
    # Only reasons the field takes are offered, each cut in the hint: a CRM's reason pages long
    # flooded the form and was then refused when taken (a review).
    reasons = [r for r in reasons if len(r) <= deals.MAX_REASON]
    used = ", ".join(cut(r, 40) for r in reasons[:8])
    hint = f"Used before: {used}" if reasons else "e.g. price, not a fit"
    fields = [
        FieldSpec(
            "reason",
            "Why was it lost?",
            suggestions=reasons,
            required=True,
            # "tab completes" read as "tab, then tab again to move on", and the second tab
            # came round to this field, whose next letters replaced it (a new user's trial).
            hint=hint + " (→ completes; tab completes and goes on; delete keeps what you typed)",
        ),
        FieldSpec("on", "Lost on", "", parse=_closed_on, placeholder="today; or e.g. tue",
                  aliases=("date",)),
    ]  # fmt: skip

    async def submit(values: dict[str, Any]) -> Undo:
        _, changes = await desk.write_recorded(
            lambda s: deals.lose_deal(
                session=s, deal_id=deal_id, reason=values["reason"], on=values["on"]
            )
        )
        return undo_of(f"loss of {deal.title}", deal_id, changes, stage_id=previous)

    return FormScreen(f"Lost: {deal.title}", fields, submit)


def _due(follow_up: Any) -> str:
    """`due Fri 04 Dec 09:00`: the day a saved follow-up now has."""
    return f"due {formatting.when(follow_up.due_on, follow_up.due_time)}"


def _snooze_when(text: str) -> Any:
    """Quick choices first (1 = +1 day, 3 = +3 days, m = next Monday), else any date."""
    quick = {"1": "+1d", "3": "+3d", "m": "mon"}
    return _when(quick.get(text.strip().lower(), text))


def done_form(desk: DeskGateway, *, follow_up_id: int, title: str, note: str = "") -> FormScreen:
    """Complete a follow-up: the outcome (logged on the deal, as a call unless another kind is
    picked), and the next step in the same go. The next step defaults to the follow-up's own
    rhythm when it repeats (one period after the one that was due), else to three working days
    out, so the deal never drops off the queues by accident."""
    today = clock.today()
    suggested, hint = working_days_after(today, 3).isoformat(), "clear it for no next step"
    try:
        follow_up = desk.read_now(
            lambda s: followups.get_follow_up(session=s, follow_up_id=follow_up_id)
        )
    except NotFound:
        follow_up = None  # gone since the queue was read: saving says so
    if follow_up is not None and follow_up.recur_days:
        every = follow_up.recur_days
        day = followups.next_recurrence(follow_up.due_on, every, today)
        suggested = format_when(day, follow_up.due_time)
        repeats = formatting.every(every)
        hint = f"repeats {repeats}: due one period after this one; clear it for none"
    fields = [
        FieldSpec("outcome", "Outcome", suggestions=CALL_OUTCOMES, picks=CALL_OUTCOMES,
                  required=True, placeholder=OUTCOME_HINT),
        FieldSpec("next", "Next step", suggested, parse=_when, placeholder=when_hint(), hint=hint),
        FieldSpec("next_note", "Next step note", note),
        FieldSpec("kind", "Logged on the deal as", "call", kind="select", required=True,
                  options=[(kind, kind) for kind in ACTIVITY_KINDS]),
    ]  # fmt: skip

    async def submit(values: dict[str, Any]) -> Any:
        (done, following), changes = await desk.write_recorded(
            lambda s: followups.complete_follow_up(
                session=s,
                follow_up_id=follow_up_id,
                outcome=values["outcome"],
                next_when=values["next"],
                next_note=values["next_note"] or "",
                kind=values["kind"],
            )
        )
        result = "no next step" if following is None else f"next step {_due(following)}"
        return done, undo_of(
            f"completion of the follow-up on {title}", done.deal_id, changes, result=result
        )

    return FormScreen(f"Done: {title}", fields, submit)


def snooze_form(desk: DeskGateway, *, follow_up_id: int, title: str) -> FormScreen:
    fields = [
        FieldSpec(
            "when",
            "Snooze until",
            parse=_snooze_when,
            required=True,
            # "then enter": a digit picks at once in the call form's outcome, not here, where
            # it may begin a date (a new-user trial expected it to).
            hint="1 tomorrow · 3 in three days · m next Monday · or a date (fri 10:00); then enter",
        )
    ]

    async def submit(values: dict[str, Any]) -> Any:
        moved, changes = await desk.write_recorded(
            lambda s: followups.snooze_follow_up(
                session=s, follow_up_id=follow_up_id, when=values["when"]
            )
        )
        return moved, undo_of(
            f"snooze of the follow-up on {title}", moved.deal_id, changes, result=_due(moved)
        )

    return FormScreen(f"Snooze: {title}", fields, submit)


def reschedule_form(
    desk: DeskGateway, *, follow_up_id: int, title: str, current: str, note: str
) -> FormScreen:
    fields = [
        FieldSpec("when", "New date", current, parse=_when, required=True, placeholder=when_hint()),
        FieldSpec("note", "Note", note),
    ]

    async def submit(values: dict[str, Any]) -> Any:
        moved, changes = await desk.write_recorded(
            lambda s: followups.reschedule_follow_up(
                session=s,
                follow_up_id=follow_up_id,
                when=values["when"],
                note=values["note"] or "",
                # A day typed alone keeps the time, as a snooze does (it went: an audit).
                keep_time=True,
            )
        )
        return moved, undo_of(
            f"new date of the follow-up on {title}", moved.deal_id, changes, result=_due(moved)
        )

    return FormScreen(f"Reschedule: {title}", fields, submit)


def _period(text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def quota_form(desk: DeskGateway, *, period: Period, current: int | None) -> FormScreen:
    """The quota of a period (the one given unless changed): what the strip and the KPI pane
    measure against. The form returns (period, amount) once saved; the amount None when the
    rep emptied it to clear the quota (set on the wrong period: it could not be taken back but
    by an undo, in that session: a forecast trial)."""
    fields = [
        FieldSpec(
            "amount",
            "Quota",
            "" if current is None else f"{current / 100:.2f}".removesuffix(".00"),
            # Its messages name a quota (the shell's `quota set` says the same), not a deal value.
            parse=lambda text: _amount(text, what="a quota", least="above 0"),
            required=current is None,
            placeholder="what you must win, e.g. 60k",
            hint="" if current is None else "emptied, the period's quota is cleared",
            aliases=("amount_cents",),
        ),
        FieldSpec("period", "Period", period.label, parse=_period, required=True,
                  hint="a month 2026-11, a quarter 2026-Q4 or a year 2026"),
    ]  # fmt: skip

    async def submit(values: dict[str, Any]) -> tuple[Period, int | None]:
        chosen, amount = values["period"], values["amount"]
        if amount is None:
            was, changes = await desk.write_recorded(
                lambda s: quotas.clear_quota(session=s, period=chosen)
            )
            if was is None:
                raise NotFound(
                    f"{chosen.label} has no quota to clear: type an amount to set one",
                    field="amount",
                )
            what = f"clearing of the quota of {chosen.label}"
        else:
            _, changes = await desk.write_recorded(
                lambda s: quotas.set_quota(session=s, period=chosen, amount_cents=amount)
            )
            what = f"quota of {chosen.label}"
        if desk.remember_undo is not None:
            desk.remember_undo(undo_of(what, 0, changes))
        return chosen, amount

    return FormScreen("Your quota", fields, submit)


def say_quota_cleared(app: Any, saved: tuple[Period, int | None]) -> None:
    """A quota form emptied: what went, and how it comes back (its figures just read "no
    quota set", which alone could be a desk that lost it)."""
    period, amount = saved
    if amount is None:
        app.notify(f"Cleared the quota of {period.label} (u brings it back).")


# ---------------------------------------------------------------- mending: delete, merge


async def delete(desk: DeskGateway, *, kind: str, item_id: int, deal_id: int) -> tuple[Any, Undo]:
    """Move a deal, activity, follow-up or objection to the trash; `u` takes it back."""
    item, changes = await desk.write_recorded(
        lambda s: trash.delete_item(session=s, kind=kind, item_id=item_id)
    )
    return item, undo_of(f"delete of {item.what}", deal_id, changes)


def merge_form(desk: DeskGateway, *, keep_id: int, title: str) -> FormScreen:
    """Merge a duplicate into this deal: its timeline moves here, it goes to the trash."""
    fields = [
        FieldSpec("gone", "Duplicate to merge in", required=True,
                  placeholder="its id or title", aliases=("GONE", "deal"),
                  hint="its activities, follow-ups, objections and history move to this deal; "
                  "it goes to the trash (u undoes)"),
    ]  # fmt: skip

    async def submit(values: dict[str, Any]) -> Any:
        def write(session: Session) -> Any:
            gone = deals.find_deal(session=session, ref=values["gone"])
            merged = merge.merge_deals(session=session, keep_id=keep_id, gone_id=saved_id(gone))
            return merged, gone.title

        (merged, gone_title), changes = await desk.write_recorded(write)
        return merged, undo_of(f"merge of {gone_title} into {title}", keep_id, changes)

    return FormScreen(f"Merge into: {title}", fields, submit)


# ---------------------------------------------------------------- the forecast (issue 21)


def _category(text: str) -> str:
    from repdesk.core import forecast

    typed = forecast.parse_category(text or "auto")
    if typed is None:
        raise FieldError(forecast.CATEGORY_FORMS)
    return typed


def forecast_form(desk: DeskGateway, *, deal_id: int) -> FormScreen | str:
    """The rep's forecast call on an open deal, its own probability, who it is up against."""
    from repdesk.core import forecast
    from repdesk.services import forecast as deal_forecast
    from repdesk.storage.models import Stage

    def load(session: Session) -> tuple[Deal, Any, int]:
        deal = deals.get_deal(session=session, deal_id=deal_id)
        stage = session.get(Stage, deal.stage_id)
        outlook = deal_forecast.deal_forecast(session=session, deal_id=deal_id)
        return deal, outlook, stage.probability if stage is not None else 0

    deal, outlook, stage_probability = desk.read_now(load)
    if outlook.category is None:
        return f"This deal is {deal.status}: only an open deal has a forecast category."
    now_shown = forecast.label(outlook.category)
    rules = ", ".join(f"{forecast.label(c)} from {least}%" for c, least in forecast.THRESHOLDS)

    def saved_words(values: Mapping[str, str]) -> str:
        """What saving stores, from the category picked and the probability typed (the
        hint said `now commit.` whatever was picked: a new-user trial)."""
        picked = values.get("forecast") or forecast.AUTO
        if picked != forecast.AUTO:
            return f"saves {forecast.label(picked)}, your call (now {now_shown})"
        try:
            own = quantities.parse_own_probability(values.get("probability", ""))
        except ValueError:
            return f"saves auto: the category its probability gives (now {now_shown})"
        whose, probability = (
            ("its own", own) if own is not None else ("its stage's", stage_probability)
        )
        by_rule = forecast.label(forecast.default_category(probability))
        return (
            f"saves auto: {by_rule} from {whose} {probability}% (now {now_shown}) · "
            f"{rules}, else omitted"
        )

    fields = [
        # Picked from a list, as every field of a fixed set of choices is (the objection's
        # category, the deal's stage): enter opens it. A text box with completion took enter
        # as save, unchanged (a new-user trial).
        FieldSpec(
            "forecast",
            "Forecast category",
            deal.forecast if deal.forecast in forecast.CATEGORIES else forecast.AUTO,
            kind="select",
            options=[
                ("auto (from the probability)", forecast.AUTO),
                *((forecast.label(c), c) for c in forecast.CATEGORIES),
            ],
            required=True,
            parse=_category,
            live_hint=saved_words,
        ),
        FieldSpec(
            "probability",
            "Its own probability (%)",
            "" if deal.probability is None else str(deal.probability),
            parse=quantities.parse_own_probability,
            placeholder=f"empty: its stage's ({stage_probability}%)",
        ),
        FieldSpec("competitor", "Up against", deal.competitor, placeholder="a competitor's name"),
    ]

    async def submit(values: dict[str, Any]) -> Any:
        def write(session: Session) -> Deal:
            deal_forecast.set_forecast(
                session=session, deal_id=deal_id, category=values["forecast"]
            )
            deal_forecast.set_probability(
                session=session, deal_id=deal_id, probability=values["probability"]
            )
            return deals.set_competitor(
                session=session, deal_id=deal_id, competitor=values["competitor"] or ""
            )

        changed, changes = await desk.write_recorded(write)
        return changed, undo_of(f"forecast of {deal.title}", deal_id, changes)

    return FormScreen(f"Forecast: {deal.title}", fields, submit)


def _asked_on(text: str) -> date | None:
    return _date(text) if text.strip() else None


def nps_form(desk: DeskGateway, *, deal_id: int) -> FormScreen | str:
    """A won customer's answer to "how likely are you to recommend us?", 0 to 10."""
    from repdesk.services import forecast as deal_forecast

    deal = desk.read_now(lambda s: deals.get_deal(session=s, deal_id=deal_id))
    if deal.status != "won":
        return f"This deal is {deal.status}: a score is a won customer's answer."
    fields = [
        FieldSpec(
            "score",
            "How likely to recommend you, 0-10",
            "" if deal.nps is None else str(deal.nps),
            parse=quantities.parse_score,
            hint="9-10 promoter, 7-8 passive, 0-6 detractor; empty clears it",
        ),
        FieldSpec("on", "Asked on", parse=_asked_on, placeholder="today", aliases=("date",)),
    ]

    async def submit(values: dict[str, Any]) -> Any:
        changed, changes = await desk.write_recorded(
            lambda s: deal_forecast.set_nps(
                session=s, deal_id=deal_id, score=values["score"], on=values["on"]
            )
        )
        return changed, undo_of(f"score of {deal.title}", deal_id, changes)

    return FormScreen(f"Customer score: {deal.title}", fields, submit)


def commitment_form(desk: DeskGateway, *, week: Any) -> FormScreen:
    """A commitment for `week`: a deal, and what will happen on it."""
    from repdesk.services import review

    titles = desk.read_now(lambda s: [d.title for d in deals.list_deals(session=s, status="open")])
    fields = [
        FieldSpec("deal", "Deal", required=True, suggestions=titles, only_one=True,
                  placeholder="its id, title or company", aliases=("DEAL",)),
        FieldSpec("text", "What will happen", required=True,
                  placeholder="e.g. signed order form back", aliases=("commitment",)),
    ]  # fmt: skip

    async def submit(values: dict[str, Any]) -> Any:
        def write(session: Session) -> Any:
            deal = deals.find_deal(session=session, ref=values["deal"])
            return review.add_commitment(
                session=session,
                deal_id=saved_id(deal),
                text=values["text"],
                week=week,
            )

        made, changes = await desk.write_recorded(write)
        return made, undo_of(f"commitment for {week.label}", made.deal_id, changes)

    return FormScreen(f"Commit for {week.label}", fields, submit)


def contact_form(desk: DeskGateway, *, deal_id: int, title: str) -> FormScreen:
    """Someone on this deal, with their role: a person the desk knows by that whole name (at
    the deal's company) is put on it; anyone else becomes a contact first (at the deal's
    company), as `repdesk contact add NAME --deal DEAL --role R` does. The app had no way to
    add a contact (a new-user trial)."""
    from repdesk.core.domain import CONTACT_ROLES
    from repdesk.services import people

    # The people of the deal's company only: whom it puts on the deal (a name completed from
    # another company's people became a second contact of that name: a new-user trial).
    def read(session: Session) -> tuple[str, list[str]]:
        deal = deals.get_deal(session=session, deal_id=deal_id)
        return deal.company, people.contact_names(session=session, company_id=deal.company_id)

    deal_company, known = desk.read_now(read)
    fields = [
        FieldSpec("name", "Name", required=True, suggestions=known, only_one=True,
                  placeholder="someone the desk knows completes; anyone else is added"),
        FieldSpec("role", "Role on the deal", "decision maker", kind="select", required=True,
                  options=[(role, role) for role in CONTACT_ROLES]),
        FieldSpec("title", "Title", placeholder="e.g. Head of Procurement (a new contact's)"),
        FieldSpec("email", "Email", parse=_reach(reach.check_address, "")),
        FieldSpec("phone", "Phone", parse=_reach(reach.check_phone, "")),
    ]  # fmt: skip

    async def submit(values: dict[str, Any]) -> Any:
        def write(session: Session) -> tuple[str, bool, str]:
            deal = deals.get_deal(session=session, deal_id=deal_id)
            found = people.contact_for_deal(
                session=session, ref=values["name"], company=deal.company
            )
            new = found is None
            if found is None:
                found = people.add_contact(
                    session=session,
                    name=values["name"],
                    emails=[values["email"]] if values["email"] else [],
                    phones=[values["phone"]] if values["phone"] else [],
                    company=deal.company,
                    title=values["title"] or "",
                )
            else:
                people.edit_contact(
                    session=session,
                    contact_id=saved_id(found),
                    add_emails=[values["email"]] if values["email"] else [],
                    add_phones=[values["phone"]] if values["phone"] else [],
                )
            people.link_contact(
                session=session, deal_id=deal_id, contact_id=saved_id(found), role=values["role"]
            )
            shared = people.shared_address_notes(
                session, [values["email"] or ""], besides=saved_id(found)
            )
            return found.name, new, "; ".join(shared)

        (name, new, shared), changes = await desk.write_recorded(write)
        at = f" at {deal_company}" if deal_company else ""
        result = f"{values['role']}, a new contact{at}" if new else values["role"]
        result += f"; {shared}" if shared else ""
        return name, undo_of(f"{name} on {title}", deal_id, changes, result=result)

    return FormScreen(f"Contact on {title}", fields, submit)
