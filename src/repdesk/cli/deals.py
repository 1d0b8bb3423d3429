"""`repdesk deal ...`: add, list, show, move, win, lose, reopen, delete, merge and notes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk, UsageError
from repdesk.cli.trash import trashed_line
from repdesk.core import clock, formatting
from repdesk.core.currencies import check_code
from repdesk.core.domain import CONTACT_ROLES
from repdesk.core.errors import AlreadyClosed
from repdesk.core.money import format_money, parse_money
from repdesk.core.text import printable, same_name

if TYPE_CHECKING:
    from sqlmodel import Session

    from repdesk.storage.models import Contact, Deal


def cmd_deal_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, people

    currency = check_code(args.currency) if args.currency is not None else None
    value, named = 0, None
    if args.value is not None:
        default = desk.settings.currency
        with shell.naming("--value"):
            value, named = parse_money(args.value, currency=currency, default_currency=default)
    first = shell.day(args.first_contact, "--first-contact") if args.first_contact else None
    expected = shell.day(args.expected_close, "--expected-close") if args.expected_close else None
    if args.role is not None and not args.contact:
        raise UsageError("--role needs --contact NAME|ID (who plays it)")
    with desk.write() as session:
        # --contact names a contact on the desk (by id, name or address); a name the desk
        # does not know yet becomes a new contact, with --email and --phone as theirs.
        known = people.contact_for_deal(session=session, ref=args.contact, company=args.company)
        deal = deals.create_deal(
            session=session,
            title=args.title,
            company=args.company,
            contact="" if known is not None else args.contact,
            email="" if known is not None else args.email,
            phone="" if known is not None else args.phone,
            value_cents=value,
            currency=currency or named or desk.settings.currency,  # "$500" is in USD
            stage=args.stage,
            source=args.source,
            product=args.product,
            region=args.region,
            segment=args.segment,
            first_contact=first,
            expected_close=expected,
        )
        _with_contact(session, deal, known, args)
        line = f"Added {shell.deal_line(deal, shell.stage_names(session))}"
        if deal.contact:
            role = args.role and people.check_role(args.role)
            line += f" with {printable(deal.contact)}" + (f" ({role})" if role else "")
    shell.out(line)  # only once committed: a full disk fails the commit, not before it
    _warn_unrated(desk, deal.currency)
    return 0


def _warn_unrated(desk: Desk, currency: str) -> None:
    """A deal in a currency the settings have no rate for counts in no figure: said at once,
    as an import says it, not found out later from a KPI that looks too low."""
    if desk.settings.conversion.factor(currency) is not None:
        return
    from repdesk.core.kpi import rates_to_add

    sys.stderr.write(
        f"Warning: this deal in {currency} is left out of every KPI until the settings have "
        f"a rate for {currency}: {rates_to_add([currency])}\n"
    )


def _with_contact(
    session: Session, deal: Deal, known: Contact | None, args: argparse.Namespace
) -> None:
    from repdesk.services import people
    from repdesk.storage.models import saved_id

    deal_id = saved_id(deal)
    role = people.check_role(args.role) if args.role is not None else "other"
    if known is not None:
        people.link_contact(session=session, deal_id=deal_id, contact_id=saved_id(known), role=role)
        if args.email or args.phone:
            people.edit_contact(
                session=session,
                contact_id=saved_id(known),
                add_emails=[args.email] if args.email else [],
                add_phones=[args.phone] if args.phone else [],
            )
    elif args.role is not None:
        links = people.links_of(session, deal_id)
        if links:
            people.link_contact(
                session=session, deal_id=deal_id, contact_id=links[0].contact_id, role=role
            )


def cmd_deal_list(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    with desk.read() as session:
        found = deals.list_deals(session=session, status=args.status, stage=args.stage)
        names = shell.stage_names(session)
        if args.json:
            shell.print_json([shell.deal_json(d, names) for d in found])
            return 0
        for deal in found:
            shell.out(shell.deal_line(deal, names) + _closed_words(deal, names))
        shell.out(shell.count(len(found), "deal"))
    return 0


def _closed_words(deal: Deal, names: dict[int, str]) -> str:
    """` · won on 2026-12-03` after a closed deal's line; only the day when its stage already
    says won or lost (the stages are the rep's own: a renamed one may not)."""
    if deal.status == "open":
        return ""
    said = same_name(names.get(deal.stage_id, ""), deal.status)
    return f" · {'' if said else deal.status + ' '}on {deal.closed_on}"


RECENT_ACTIVITIES = 5  # `deal show`: the last few; the app's deal page has the whole timeline


def cmd_deal_show(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.cli.forecast import forecast_fields
    from repdesk.cli.people import person_json
    from repdesk.services import activities, deals, followups, forecast, objections, people

    with desk.read() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        names = shell.stage_names(session)
        assert deal.id is not None
        on_deal = people.people_of_deal(session=session, deal_id=deal.id)
        outlook = forecast.deal_forecast(session=session, deal_id=deal.id)
        pending = followups.pending(session=session, deal_id=deal.id)
        heard = objections.objections_of(session=session, deal_id=deal.id)
        recent = activities.timeline_activities(
            session=session, deal_id=deal.id, limit=RECENT_ACTIVITIES
        )
    if args.json:
        shell.print_json(
            shell.deal_json(deal, names)
            | {
                "forecast": outlook.category,
                "probability": outlook.probability,
                "close_date_slips": outlook.slips,
                "slipped_days": outlook.slipped_days,
                "contacts": [
                    person_json(on.person) | {"role": on.role, "main": on.main} for on in on_deal
                ],
                "follow_ups": [
                    {
                        "id": fu.id,
                        "due_on": fu.due_on.isoformat(),
                        "due_time": fu.due_time.strftime("%H:%M") if fu.due_time else None,
                        "note": fu.note,
                        "every_days": fu.recur_days,
                    }
                    for fu in pending
                ],
                "objections": [
                    {
                        "id": obj.id,
                        "category": obj.category,
                        "status": obj.status,
                        "said": obj.said,
                        "answer": obj.answer,
                    }
                    for obj in heard
                ],
                "recent_activities": [
                    {
                        "id": act.id,
                        "kind": act.kind,
                        "on": clock.local_date(act.at).isoformat(),
                        "outcome": act.outcome,
                        "minutes": act.minutes,
                        "text": act.text,
                    }
                    for act in recent
                ],
            }
        )
        return 0
    shell.out(f"#{deal.id} {printable(deal.title)}")
    fields = [
        ("company", deal.company),
        ("contact", deal.contact),
        ("email", deal.email),
        ("phone", deal.phone),
        ("value", format_money(deal.value_cents, deal.currency)),
        ("stage", names[deal.stage_id]),
        ("status", deal.status),
        ("expected close", deal.expected_close.isoformat() if deal.expected_close else ""),
        ("source", deal.source),
        ("product", deal.product),
        ("region", deal.region),
        ("segment", deal.segment),
        ("first contact", deal.first_contact.isoformat()),
    ]
    if deal.closed_on is not None:
        fields.append(("closed on", deal.closed_on.isoformat()))
    if deal.status == "lost":
        fields.append(("lost reason", deal.lost_reason))
    fields += forecast_fields(deal, outlook, names[deal.stage_id])
    for label, value in fields:
        shell.out(f"  {label + ':':<15} {printable(value) or '-'}")
    if len(on_deal) > 1 or any(on.role != "other" for on in on_deal):
        shell.out(f"Contacts ({len(on_deal)})")
        for on in on_deal:
            reach = ", ".join(printable(x) for x in (*on.person.emails, *on.person.phones))
            title = f", {printable(on.person.title)}" if on.person.title else ""
            shell.out(
                f"  #{on.person.id} {printable(on.person.name)}{title} · {on.role}"
                + (f" · {reach}" if reach else "")
            )
    if deal.notes.strip():
        shell.out("Notes")
        for note_line in deal.notes.strip().splitlines():
            shell.out(f"  {printable(note_line)}")
    shell.out(f"Follow-ups ({len(pending)})" + ("" if pending else ": none pending"))
    for fu in pending:
        repeat = f" ↻ {formatting.every(fu.recur_days)}" if fu.recur_days else ""
        note = f"  {printable(fu.note)}" if fu.note else ""
        shell.out(f"  [{fu.id}] {formatting.when(fu.due_on, fu.due_time)}{repeat}{note}")
    shell.out(f"Objections ({len(heard)})" + ("" if heard else ": none"))
    for obj in heard:
        shell.out(f"  [{obj.id}] {obj.category}, {obj.status}: {printable(obj.said)}")
        if obj.answer:
            shell.out(f"       answer: {printable(obj.answer)}")
    shell.out(f"Last activities ({len(recent)})" if recent else "Activities: none yet")
    for act in recent:
        when = clock.local_date(act.at).isoformat()
        minutes = f" {act.minutes} min" if act.minutes else ""
        words = " · ".join(printable(w) for w in (act.outcome, act.text) if w)
        shell.out(f"  [{act.id}] {when} {act.kind}{minutes}" + (f" · {words}" if words else ""))
    return 0


def cmd_deal_move(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    def move(session: Session, deal_id: int) -> Deal:
        deal = deals.get_deal(session=session, deal_id=deal_id)
        to_open = deals.find_stage(session=session, name=args.stage).kind == "open"
        if deal.status != "open" and to_open:  # to Won or Lost: the close says "already"
            # Moved, it would be reopened without a word and its revenue leave the figures
            # (found by a hostile test): the rep says so with `deal reopen`.
            raise AlreadyClosed(
                f"deal #{deal.id} is {deal.status} (on {deal.closed_on}): `repdesk deal reopen "
                f"{deal.id} --stage STAGE` reopens it into a stage"
            )
        moved = deals.move_deal(
            session=session, deal_id=deal_id, stage=args.stage, close_steps=True
        )
        done = deals.steps_closed_by_win(session=session, deal=moved)
        closed.append(_with_the_win(done, "`repdesk deal won DEAL --keep-steps`"))
        return moved

    closed: list[str] = []
    return shell.change_deal(desk, args.deal, move, lambda deal, line: f"Moved {line}{closed[0]}")


def cmd_deal_won(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    on = shell.past_day(args.on, "--on") if args.on else None
    closed: list[str] = []

    def won(session: Session, deal_id: int) -> Deal:
        deal = deals.win_deal(
            session=session, deal_id=deal_id, on=on, close_steps=not args.keep_steps
        )
        closed.append(_with_the_win(deals.steps_closed_by_win(session=session, deal=deal)))
        return deal

    return shell.change_deal(
        desk, args.deal, won, lambda deal, line: f"Won {line} on {deal.closed_on}{closed[0]}"
    )


def _with_the_win(steps: list[Any], keep: str = "--keep-steps") -> str:
    """`; its step ... done with the win (...)`: what winning did to the deal's steps, and
    how a win keeps them (`deal move` has no --keep-steps: it named one: a hostile test)."""
    if not steps:
        return ""
    return f"; {formatting.steps_with_the_win(steps)} ({keep} keeps a deal's steps)"


def cmd_deal_lost(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    on = shell.past_day(args.on, "--on") if args.on else None
    return shell.change_deal(
        desk,
        args.deal,
        lambda s, deal_id: deals.lose_deal(
            session=s, deal_id=deal_id, reason=args.reason, on=on, competitor=args.competitor
        ),
        lambda deal, line: (
            f"Lost {line}: {printable(deal.lost_reason)}"
            + (f" (to {printable(deal.competitor)})" if deal.competitor else "")
        ),
    )


def cmd_deal_reopen(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    def reopen(session: Session, deal_id: int) -> Deal:
        deal = deals.get_deal(session=session, deal_id=deal_id)
        if deal.status == "open":
            raise AlreadyClosed(f"deal #{deal.id} is open already: nothing to reopen")
        if args.stage and deals.find_stage(session=session, name=args.stage).kind != "open":
            raise UsageError(f"--stage {args.stage}: a deal is reopened into an open stage")
        back.extend(deals.steps_closed_by_win(session=session, deal=deal))
        return deals.reopen_deal(session=session, deal_id=deal_id, stage=args.stage)

    def said(deal: Deal, line: str) -> str:
        # The steps its win did are pending again: said, as the win said it did them.
        steps = "its step" if len(back) == 1 else f"its {len(back)} steps"
        again = f"; {steps} done with the win pending again" if back else ""
        return f"Reopened {line}{again}"

    back: list[Any] = []
    return shell.change_deal(desk, args.deal, reopen, said)


def cmd_deal_delete(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, trash
    from repdesk.storage.models import saved_id

    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        item = trash.delete_item(session=session, kind="deal", item_id=saved_id(deal))
    rows = shell.count(item.rows - 1, "row")
    with_rows = f" (with {rows} of its timeline)" if item.rows > 1 else ""
    shell.out(trashed_line(item).replace(": in the trash", f"{with_rows}: in the trash", 1))
    return 0


def cmd_deal_merge(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, merge
    from repdesk.storage.models import saved_id

    with desk.write() as session:
        keep = deals.find_deal(session=session, ref=args.keep)
        gone = deals.find_deal(session=session, ref=args.gone)
        gone_line = f"#{gone.id} {shell.title_and_company(gone.title, gone.company)}"
        merged = merge.merge_deals(session=session, keep_id=saved_id(keep), gone_id=saved_id(gone))
        line = shell.deal_line(merged.keep, shell.stage_names(session))
    moved = shell.table_counts({t: merged.moved[t] for t in ("activity", "follow_up", "objection")})
    if merged.contacts:
        moved += f", {shell.count(merged.contacts, 'contact')}"
    shell.out(
        f"Merged {gone_line} into {line}: {moved} and its stage history moved; "
        f"#{merged.gone_id} is in the trash as {merged.trash_id}"
    )
    return 0


def cmd_deal_notes(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals
    from repdesk.storage.models import saved_id

    if args.text is None:
        with desk.read() as session:
            deal = deals.find_deal(session=session, ref=args.deal)
        sys.stdout.write("".join(printable(line) + "\n" for line in deal.notes.splitlines()))
        return 0
    text = _stdin_text() if args.text == "-" else args.text.replace("\\n", "\n")
    if "\x00" in text:
        raise UsageError("deal notes: the text holds a NUL character (binary data?): not saved")
    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        deals.edit_deal(session=session, deal_id=saved_id(deal), notes=text)
        lines = len(text.splitlines())
        said = f"Notes of #{deal.id} {shell.cut_title(deal.title)}: " + (
            formatting.count(lines, "line") if lines else "cleared"
        )
    shell.out(said)  # once saved: a reader gone from the pipe must not undo the write
    return 0


def _stdin_text() -> str:
    """What `deal notes DEAL -` reads: UTF-8, or one line saying it is not."""
    raw = sys.stdin.buffer.read()
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")  # a Windows editor's BOM too
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"deal notes: the standard input is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
            f"offset {exc.start:,}): not saved"
        ) from None


# ---------------------------------------------------------------- the commands


DEAL_TEXT_FIELDS = (
    ("company", "the buying company"),
    ("email", "the contact's email"),
    ("phone", "the contact's phone"),
    ("source", "where it came from, e.g. inbound, referral (a KPI slice)"),
    ("product", "what is sold (a KPI slice)"),
    ("region", "where (a KPI slice)"),
)


def _add_arguments(add: argparse.ArgumentParser) -> None:
    add.add_argument("title")
    for flag, about in DEAL_TEXT_FIELDS:
        add.add_argument(f"--{flag}", default="", help=about)
    add.add_argument(
        "--contact",
        default="",
        metavar="NAME|ID",
        help="a contact: an id, an address or a whole name (a name the desk lacks adds one)",
    )
    add.add_argument("--role", type=shell.given, metavar="R", help=", ".join(CONTACT_ROLES))
    add.add_argument("--value", type=shell.given, help="e.g. 12500, 12,500.50 or 12.5k")
    add.add_argument("--currency", type=shell.given, help="three-letter code (default: the desk's)")
    add.add_argument("--stage", type=shell.given, help="a stage name (default: the first)")
    add.add_argument(
        "--segment",
        choices=("new", "existing"),
        default="new",
        help="a new customer or an existing one (default: new)",
    )
    add.add_argument(
        "--first-contact",
        type=shell.given,
        metavar="DATE",
        help="default: today (the cycle's start)",
    )
    add.add_argument(
        "--expected-close", type=shell.given, metavar="DATE", help="when you expect it to close"
    )


def _list_arguments(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("--stage", type=shell.given, help="only the deals in this stage")
    listing.add_argument("--status", default="open", help="open, won, lost or all")
    shell.add_json_flag(listing)


def _show_arguments(show: argparse.ArgumentParser) -> None:
    show.add_argument("deal", metavar="DEAL")
    shell.add_json_flag(show)


def _move_arguments(move: argparse.ArgumentParser) -> None:
    move.add_argument("deal", metavar="DEAL")
    move.add_argument("stage", metavar="STAGE")


def _won_arguments(won: argparse.ArgumentParser) -> None:
    won.add_argument("deal", metavar="DEAL")
    won.add_argument(
        "--on", type=shell.given, metavar="DATE", help="the day it was won (default: today)"
    )
    won.add_argument(
        "--keep-steps",
        action="store_true",
        help="keep its pending steps (by default its one-off steps are done with the win; "
        "repeating ones, a customer's check-in, stay)",
    )


def _lost_arguments(lost: argparse.ArgumentParser) -> None:
    lost.add_argument("deal", metavar="DEAL")
    lost.add_argument("--reason", required=True, help="why it was lost, e.g. price, timing")
    lost.add_argument(
        "--on", type=shell.given, metavar="DATE", help="the day it was lost (default: today)"
    )
    lost.add_argument("--competitor", metavar="NAME", help="who it went to")


def _reopen_arguments(reopen: argparse.ArgumentParser) -> None:
    reopen.add_argument("deal", metavar="DEAL")
    reopen.add_argument("--stage", type=shell.given, help="the open stage it goes back to")


def _deal_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("deal", metavar="DEAL")


def _merge_arguments(merge: argparse.ArgumentParser) -> None:
    merge.add_argument("keep", metavar="KEEP")
    merge.add_argument("gone", metavar="GONE")


def _notes_arguments(notes: argparse.ArgumentParser) -> None:
    notes.add_argument("deal", metavar="DEAL")
    notes.add_argument(
        "text", metavar="TEXT", nargs="?", help="the new notes (\\n for a new line; - reads stdin)"
    )


def commands() -> list[Command]:
    from repdesk.cli.forecast import deal_actions  # `deal set`, `deal nps` (issue 21)

    actions = [
        Command("add", "add a deal", cmd_deal_add, _add_arguments),
        Command("list", "list deals", cmd_deal_list, _list_arguments),
        Command("show", "show one deal", cmd_deal_show, _show_arguments),
        Command("move", "move a deal to a stage", cmd_deal_move, _move_arguments),
        Command("won", "mark a deal won", cmd_deal_won, _won_arguments),
        Command("lost", "mark a deal lost", cmd_deal_lost, _lost_arguments),
        Command("reopen", "reopen a won or lost deal", cmd_deal_reopen, _reopen_arguments),
        Command("delete", "move a deal to the trash (30 days)", cmd_deal_delete, _deal_argument),
        Command(
            "merge",
            "move GONE's timeline to KEEP and GONE to the trash",
            cmd_deal_merge,
            _merge_arguments,
        ),
        Command("notes", "print a deal's notes, or replace them", cmd_deal_notes, _notes_arguments),
        *deal_actions(),
    ]
    help = "add, list, show, move, win, lose, reopen, delete or merge deals; set their forecast"
    return [Command("deal", help, actions=actions)]
