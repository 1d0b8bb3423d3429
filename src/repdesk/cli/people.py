"""`repdesk contact ...` and `repdesk company ...`: the people on the deals and their companies."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from repdesk.cli import shell
from repdesk.cli.registry import Command
from repdesk.cli.shell import Desk, UsageError
from repdesk.core import clock, formatting
from repdesk.core.domain import CONTACT_ROLES
from repdesk.core.money import format_money
from repdesk.core.text import cut, printable
from repdesk.storage.models import saved_id

if TYPE_CHECKING:
    from sqlmodel import Session

    from repdesk.services.people import Person

# A name, title or address in a line the shell prints: a line's worth (see person_line).
NAME_CHARS = 60


def won_text(won: dict[str, int]) -> str:
    """`€12,000.00 + $5,000.00`, or `-` for nothing won."""
    return " + ".join(format_money(cents, code) for code, cents in sorted(won.items())) or "-"


def touch_text(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    days = clock.days_since(moment, clock.today())  # calendar days, as the app's pages
    on = clock.local_date(moment).isoformat()
    return f"{on} ({'today' if days <= 0 else shell.count(days, 'day') + ' ago'})"


def person_json(found: Person) -> dict[str, Any]:
    return {
        "id": found.id,
        "name": found.name,
        "title": found.title,
        "company": found.company or None,
        "emails": list(found.emails),
        "phones": list(found.phones),
    }


def person_line(found: Person) -> str:
    """`#3 Jonas Müller · CFO · Müller GmbH · jonas@...`: each part cut to a line's worth,
    as the deal lists cut theirs (a 10,000-character name made a 20,000-character line of
    `contact list`: a hostile test); `contact show` and `--json` give them whole."""
    parts = [f"#{found.id} {cut(found.name, NAME_CHARS)}"]
    if found.title:
        parts.append(cut(found.title, NAME_CHARS))
    if found.company:
        parts.append(cut(found.company, shell.COMPANY_CHARS))
    reach = ", ".join(cut(x, NAME_CHARS) for x in (*found.emails[:1], *found.phones[:1]))
    return " · ".join(parts) + (f" · {reach}" if reach else "")


def _role(text: str | None) -> str:
    from repdesk.services.people import check_role

    return check_role(text) if text is not None else "other"


def _stay_in_touch(text: str) -> int | None:
    from repdesk.core.quantities import parse_optional_repeat

    with shell.naming("stay-in-touch"):
        return parse_optional_repeat(text)


# ---------------------------------------------------------------- contact


def cmd_contact_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, people

    role = _role(args.role)
    if args.role is not None and args.deal is None:
        raise UsageError("--role needs --deal DEAL (the deal the contact plays it on)")
    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal) if args.deal is not None else None
        shared = _shared_addresses(session, args.email, besides=None)
        namesakes = people.contacts_named(session, args.name)
        contact = people.add_contact(
            session=session,
            name=args.name,
            emails=args.email,
            phones=args.phone,
            # Put on a deal, they work where the deal is unless told otherwise.
            company=args.company if args.company is not None else (deal.company if deal else ""),
            title=args.title or "",
        )
        line = f"Added contact {person_line(people.person(session, contact))}"
        if deal is not None:
            people.link_contact(
                session=session,
                deal_id=saved_id(deal),
                contact_id=saved_id(contact),
                role=role,
            )
            line += f", {role} on #{deal.id} {shell.cut_title(deal.title)}"
        # Allowed (two people may share a name), but said: a second "Ana Ruiz" at Acme made
        # `--contact "Ana Ruiz"` ambiguous without a word when it was added (a hostile test).
        same = [c for c in namesakes if c.company_id == contact.company_id]
        if same:
            where = people.person(session, same[0]).company
            shared.append(
                f"Note: #{same[0].id} {cut(same[0].name, NAME_CHARS)}"
                + (f" at {cut(where, shell.COMPANY_CHARS)}" if where else "")
                + " has this name already: two contacts now, so `--contact` needs the id "
                f"(#{contact.id} is the new one)"
            )
    shell.out(line)
    _say_shared(shared)
    return 0


def _shared_addresses(session: Session, addresses: list[str], *, besides: int | None) -> list[str]:
    from repdesk.services import people

    return [
        f"Note: {note}" for note in people.shared_address_notes(session, addresses, besides=besides)
    ]


def _say_shared(notes: list[str]) -> None:
    for note in notes:
        sys.stderr.write(note + "\n")


def cmd_contact_list(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import people

    with desk.read() as session:
        company_id = None
        if args.company is not None:
            company_id = people.find_company(session=session, ref=args.company).id
        found = people.list_contacts(session=session, company_id=company_id)
    if args.json:
        shell.print_json([person_json(row.person) | {"deals": row.deals} for row in found])
        return 0
    for row in found:
        shell.out(person_line(row.person) + f" · {shell.count(row.deals, 'deal')}")
    shell.out(shell.count(len(found), "contact"))
    return 0


def cmd_contact_show(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import people

    with desk.read() as session:
        contact = people.find_contact(session=session, ref=args.contact)
        card = people.contact_card(session=session, contact_id=saved_id(contact))
    found = card.person
    if args.json:
        shell.print_json(
            person_json(found)
            | {
                "deals": [
                    {"id": d.id, "title": d.title, "status": d.status, "role": d.role}
                    for d in card.deals
                ],
                "last_touch": card.last_touch.isoformat() if card.last_touch else None,
            }
        )
        return 0
    shell.out(f"#{found.id} {printable(found.name)}")
    for label, value in (("title", found.title), ("company", found.company)):
        shell.out(f"  {label + ':':<12} {printable(value) or '-'}")
    shell.out(f"  {'emails:':<12} " + (", ".join(printable(e) for e in found.emails) or "-"))
    shell.out(f"  {'phones:':<12} " + (", ".join(printable(p) for p in found.phones) or "-"))
    shell.out(f"  {'last touch:':<12} {touch_text(card.last_touch)}")
    shell.out(f"Deals ({len(card.deals)})" + ("" if card.deals else ": none"))
    for deal in card.deals:
        shell.out(f"  #{deal.id} {shell.cut_title(deal.title)} · {deal.status} · {deal.role}")
    return 0


def cmd_contact_edit(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import people

    given = (args.name, args.title, args.company, *args.email, *args.no_email)
    if all(v is None for v in given) and not (args.phone or args.no_phone):
        raise UsageError(
            "contact edit: nothing to change: give --name, --title, --company, --email, "
            "--phone, --no-email or --no-phone"
        )
    with desk.write() as session:
        contact = people.find_contact(session=session, ref=args.contact)
        # An address added and removed in one edit is not the contact's: no note about it.
        removed = {a.strip().casefold() for a in args.no_email}
        kept = [a for a in args.email if a.strip().casefold() not in removed]
        shared = _shared_addresses(session, kept, besides=contact.id)
        people.edit_contact(
            session=session,
            contact_id=saved_id(contact),
            name=args.name,
            title=args.title,
            company=args.company,
            add_emails=args.email,
            remove_emails=args.no_email,
            add_phones=args.phone,
            remove_phones=args.no_phone,
        )
        line = f"Contact {person_line(people.person(session, contact))}"
    shell.out(line)
    _say_shared(shared)
    return 0


def cmd_contact_link(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, people

    role = _role(args.role)
    with desk.write() as session:
        contact = people.find_contact(session=session, ref=args.contact)
        deal = deals.find_deal(session=session, ref=args.deal)
        people.link_contact(
            session=session,
            deal_id=saved_id(deal),
            contact_id=saved_id(contact),
            role=role,
            main=args.main,
        )
        on = f"#{deal.id} {shell.cut_title(deal.title)}"
        line = f"{cut(contact.name, NAME_CHARS)}: {role} on {on}"
        if args.main:
            line += " (its main contact)"
    shell.out(line)
    return 0


def cmd_contact_unlink(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, people

    with desk.write() as session:
        contact = people.find_contact(session=session, ref=args.contact)
        deal = deals.find_deal(session=session, ref=args.deal)
        people.unlink_contact(session=session, deal_id=saved_id(deal), contact_id=saved_id(contact))
        off = f"#{deal.id} {shell.cut_title(deal.title)}"
        line = f"{cut(contact.name, NAME_CHARS)} is off {off}"
    shell.out(line)
    return 0


# ---------------------------------------------------------------- company


def cmd_company_list(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import people

    with desk.read() as session:
        found = people.list_companies(session=session)
    if args.json:
        shell.print_json(
            [
                {
                    "id": row.id,
                    "name": row.name,
                    "deals": row.deals,
                    "open_deals": row.open_deals,
                    "contacts": row.contacts,
                    "won": {code: cents / 100 for code, cents in row.won.items()},
                    "last_touch": row.last_touch.isoformat() if row.last_touch else None,
                    "stay_in_touch_days": row.touch_every_days,
                }
                for row in found
            ]
        )
        return 0
    for row in found:
        rhythm = (
            f" · stay in touch {formatting.every(row.touch_every_days)}"
            if row.touch_every_days
            else ""
        )
        shell.out(
            f"#{row.id} {cut(row.name, shell.COMPANY_CHARS)} · {shell.count(row.deals, 'deal')} "
            f"({row.open_deals} open) · {shell.count(row.contacts, 'contact')} · won "
            f"{won_text(row.won)} · last touch {touch_text(row.last_touch)}{rhythm}"
        )
    shell.out(f"{len(found):,} compan{'y' if len(found) == 1 else 'ies'}")
    return 0


def cmd_company_show(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import people

    with desk.read() as session:
        company = people.find_company(session=session, ref=args.company)
        card = people.company_card(session=session, company_id=saved_id(company))
    if args.json:
        shell.print_json(
            {
                "id": card.company.id,
                "name": card.company.name,
                "domain": card.company.domain or None,
                "mail_domains": card.domains,
                "stay_in_touch_days": card.company.touch_every_days,
                "won": {code: cents / 100 for code, cents in card.won.items()},
                "last_touch": card.last_touch.isoformat() if card.last_touch else None,
                "deals": [
                    {
                        "id": d.id,
                        "title": d.title,
                        "status": d.status,
                        "value": d.value_cents / 100,
                        "currency": d.currency,
                    }
                    for d in card.deals
                ],
                "contacts": [person_json(p) for p in card.contacts],
            }
        )
        return 0
    shell.out(f"#{card.company.id} {printable(card.company.name)}")
    every = card.company.touch_every_days
    fields = (
        ("won", won_text(card.won)),
        ("last touch", touch_text(card.last_touch)),
        ("stay in touch", formatting.every(every) if every else "-"),
        ("mail domains", ", ".join(card.domains) or "-"),
    )
    for label, value in fields:
        shell.out(f"  {label + ':':<15} {printable(value)}")
    shell.out(f"Deals ({len(card.deals)})" + ("" if card.deals else ": none"))
    for deal in card.deals:
        shell.out(
            f"  #{deal.id} {shell.cut_title(deal.title)} · {deal.status} · "
            f"{format_money(deal.value_cents, deal.currency)}"
        )
    shell.out(f"Contacts ({len(card.contacts)})" + ("" if card.contacts else ": none"))
    for found in card.contacts:
        shell.out("  " + person_line(found))
    return 0


def cmd_company_edit(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import people

    rhythm: Any = "keep"
    if args.stay_in_touch is not None:
        rhythm = _stay_in_touch(args.stay_in_touch)
    if args.name is None and args.domain is None and rhythm == "keep":
        raise UsageError(
            "company edit: nothing to change: give --name, --domain or --stay-in-touch"
        )
    with desk.write() as session:
        company = people.find_company(session=session, ref=args.company)
        people.edit_company(
            session=session,
            company_id=saved_id(company),
            name=args.name,
            domain=args.domain,
            touch_every_days=rhythm,
            own_domains=[address.rpartition("@")[2] for address in desk.settings.me],
        )
        every = company.touch_every_days
        line = (
            f"Company #{company.id} {cut(company.name, shell.COMPANY_CHARS)}"
            + (f" · stay in touch {formatting.every(every)}" if every else "")
            + (f" · mail domain {cut(company.domain, NAME_CHARS)}" if company.domain else "")
        )
    shell.out(line)
    return 0


# ---------------------------------------------------------------- the commands


def _add_arguments(add: argparse.ArgumentParser) -> None:
    add.add_argument("name", metavar="NAME")
    add.add_argument("--email", action="append", default=[], metavar="E", help="(repeatable)")
    add.add_argument("--phone", action="append", default=[], metavar="P", help="(repeatable)")
    add.add_argument("--company", type=shell.given, metavar="C", help="the company they work for")
    add.add_argument("--title", metavar="T", help="their job title, e.g. CFO")
    add.add_argument("--deal", type=shell.given, metavar="DEAL", help="put them on this deal")
    add.add_argument("--role", type=shell.given, metavar="R", help=", ".join(CONTACT_ROLES))


def _list_arguments(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("--company", type=shell.given, metavar="C", help="only this company's")
    shell.add_json_flag(listing)


def _show_arguments(show: argparse.ArgumentParser) -> None:
    show.add_argument("contact", metavar="CONTACT", help="an id, a name or an address")
    shell.add_json_flag(show)


def _edit_arguments(edit: argparse.ArgumentParser) -> None:
    edit.add_argument("contact", metavar="CONTACT")
    edit.add_argument("--name", type=shell.given, help="a new name")
    edit.add_argument("--title", help="a new job title")
    edit.add_argument("--company", help='their company ("" for none)')
    edit.add_argument("--email", action="append", default=[], metavar="E", help="add an address")
    edit.add_argument("--no-email", action="append", default=[], metavar="E", help="remove one")
    edit.add_argument("--phone", action="append", default=[], metavar="P", help="add a number")
    edit.add_argument("--no-phone", action="append", default=[], metavar="P", help="remove one")


def _link_arguments(link: argparse.ArgumentParser) -> None:
    link.add_argument("contact", metavar="CONTACT")
    link.add_argument("deal", metavar="DEAL")
    link.add_argument("--role", type=shell.given, metavar="R", help=", ".join(CONTACT_ROLES))
    link.add_argument("--main", action="store_true", help="the deal's main contact (its card's)")


def _unlink_arguments(unlink: argparse.ArgumentParser) -> None:
    unlink.add_argument("contact", metavar="CONTACT")
    unlink.add_argument("deal", metavar="DEAL")


def _company_list_arguments(listing: argparse.ArgumentParser) -> None:
    shell.add_json_flag(listing)


def _company_show_arguments(show: argparse.ArgumentParser) -> None:
    show.add_argument("company", metavar="COMPANY", help="an id or a name")
    shell.add_json_flag(show)


def _company_edit_arguments(edit: argparse.ArgumentParser) -> None:
    edit.add_argument("company", metavar="COMPANY")
    edit.add_argument("--name", type=shell.given, help="a new name")
    edit.add_argument("--domain", help="the mail domain its people write from, e.g. acme.example")
    edit.add_argument(
        "--stay-in-touch",
        type=shell.given,
        metavar="EVERY",
        help="a won customer untouched this long is going cold, e.g. 60d or 8w; off stops it",
    )


def commands() -> list[Command]:
    contact = [
        Command("add", "add a contact", cmd_contact_add, _add_arguments),
        Command("list", "list contacts", cmd_contact_list, _list_arguments),
        Command("show", "show a contact with their deals", cmd_contact_show, _show_arguments),
        Command("edit", "change a contact", cmd_contact_edit, _edit_arguments),
        Command("link", "put a contact on a deal with a role", cmd_contact_link, _link_arguments),
        Command("unlink", "take a contact off a deal", cmd_contact_unlink, _unlink_arguments),
    ]
    company = [
        Command("list", "list companies", cmd_company_list, _company_list_arguments),
        Command(
            "show",
            "show a company: deals, contacts, won value",
            cmd_company_show,
            _company_show_arguments,
        ),
        Command(
            "edit",
            "rename a company, set its mail domain or its stay-in-touch rhythm",
            cmd_company_edit,
            _company_edit_arguments,
        ),
    ]
    return [
        Command("contact", "add, list, show, edit, link or unlink contacts", actions=contact),
        Command("company", "list, show or edit companies", actions=company),
    ]
