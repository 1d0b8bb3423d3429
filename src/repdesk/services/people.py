"""People and companies: contacts with their emails and phones, the deals they are on (with a
role), the companies they work at, and a won customer's "stay in touch" rhythm.

The records are the truth. A deal keeps four text columns beside them (company, contact,
email, phone) that show its company's name and its main contact (the first linked: name, first
email, first phone), so the board, the CSV export and the CRM sync read them without a join.
This module keeps those columns in step: `refresh_deal` after any change to a deal's contacts,
and `adopt_deal_fields` when a writer sets the text (the deal form, `deal add`, a CRM pull, an
import): what was typed there names the deal's company and its main contact, found or made.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from repdesk.core import clock
from repdesk.core.domain import CONTACT_ROLES, FREE_MAIL_DOMAINS, role_word, row_id
from repdesk.core.errors import Ambiguous, InvalidInput, NotFound
from repdesk.core.reach import check_address, check_phone, is_domain
from repdesk.core.text import cut, printable
from repdesk.storage.models import (
    Activity,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    Deal,
    DealContact,
    saved_id,
)

ROLES = CONTACT_ROLES
# The text columns of a deal that show its people.
PEOPLE_FIELDS = ("company", "contact", "email", "phone")
MAX_TOUCH_DAYS = 366

_NUMBER = re.compile(r"[+-]?\d+")


def check_role(role: str) -> str:
    """A role as stored (core.domain.role_word), or refused naming the roles."""
    word = role_word(role)
    if word is None:
        raise InvalidInput("role", role, "one of " + ", ".join(ROLES))
    return word


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower().rstrip(">")


def tel_uri(number: str) -> str:
    """`tel:+34600123456`: the digits and a leading + (what a terminal hands a dialler)."""
    kept = "".join(c for c in number if c.isdigit() or c == "+")
    return "tel:" + (kept[0] + kept[1:].replace("+", "") if kept else "")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", " ".join(text.split())).casefold()


# ---------------------------------------------------------------- finding


def get_company(*, session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound(f"no company has id {company_id}")
    return company


def get_contact(*, session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact has id {contact_id}")
    return contact


def company_named(session: Session, name: str) -> Company | None:
    """The company with this name, in any case and spacing; None when there is none."""
    wanted = _fold(name)
    if not wanted:
        return None
    # A first cut in SQL (SQLite's lower() folds ASCII only), the exact fold in Python.
    rough = session.exec(
        select(Company)
        .where(func.lower(Company.name) == name.strip().lower())
        .order_by(col(Company.id))
    ).all()
    for company in rough:
        if _fold(company.name) == wanted:
            return company
    others = select(Company).order_by(col(Company.id))
    if name.isascii() and " ".join(name.split()) == name.strip():
        # lower() folded the typed name exactly; a stored one folds to it only when it holds
        # other letters (full-width ＡＣＭＥ, ß for ss).
        others = others.where(_not_ascii(col(Company.name)))
    for company in session.exec(others):
        if _fold(company.name) == wanted:
            return company
    return None


def contacts_named(session: Session, name: str) -> list[Contact]:
    """Contacts with this name, in any case and spacing (SQL first, as company_named)."""
    wanted = _fold(name)
    rough = session.exec(
        select(Contact)
        .where(func.lower(Contact.name) == name.strip().lower())
        .order_by(col(Contact.id))
    ).all()
    found = [c for c in rough if _fold(c.name) == wanted]
    if found:
        return found
    others = select(Contact).order_by(col(Contact.id))
    if name.isascii() and " ".join(name.split()) == name.strip():
        others = others.where(_not_ascii(col(Contact.name)))
    return [c for c in session.exec(others) if _fold(c.name) == wanted]


def _not_ascii(column: Any) -> Any:
    """Names holding a character past ASCII (SQLAlchemy runs a regular expression on both
    engines: Python's re on SQLite, `~` on PostgreSQL)."""
    return column.regexp_match("[^\\x01-\\x7f]")


_Named = TypeVar("_Named", Company, Contact)


def _by_ref(session: Session, model: type[_Named], ref: str, what: str, listed: str) -> _Named:
    text = ref.strip()
    if not text:
        raise InvalidInput(what, ref, f"a {what} id or name")
    if _NUMBER.fullmatch(text):
        number = row_id(text)
        found = session.get(model, number) if number is not None else None
        if found is None:
            raise NotFound(f"no {what} #{text[:20]}; `{listed}` shows the ids")
        return found
    wanted = _fold(text)
    rows = session.exec(select(model).order_by(col(model.id))).all()
    exact = [row for row in rows if _fold(row.name) == wanted]
    matches = exact or [row for row in rows if wanted in _fold(row.name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(f"no {what} matches {ref!r} (see `{listed}`)")
    shown = "; ".join(f"{row.id}: {cut(row.name, 60)}" for row in matches[:10])
    more = " and more" if len(matches) > 10 else ""
    several = "companies" if what == "company" else f"{what}s"  # "companys" (a hostile test)
    raise Ambiguous(f"{ref!r} matches several {several}: {shown}{more}. Use the id.")


def find_company(*, session: Session, ref: str) -> Company:
    """A company by id, or by its name (exact in any case first, then a part of it)."""
    return _by_ref(session, Company, ref, "company", "repdesk company list")


def find_contact(*, session: Session, ref: str) -> Contact:
    """A contact by id, by one of their addresses, or by name (exact first, then a part)."""
    text = ref.strip()
    if "@" in text and not _NUMBER.fullmatch(text):
        found = contacts_with_address(session, text)
        if len(found) == 1:
            return found[0]
    return _by_ref(session, Contact, ref, "contact", "repdesk contact list")


def contact_for_deal(*, session: Session, ref: str, company: str = "") -> Contact | None:
    """The contact `deal add --contact REF` puts on a new deal: by id, by an address one
    contact has, or by their whole name (at `company` when one is given); None for someone the
    desk does not know, who becomes a new contact. Never a part of a name: "Ana" once put Ana
    Ruiz of another company on the deal (found by a hostile test)."""
    text = ref.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):  # an id: that contact, or NotFound
        return _by_ref(session, Contact, text, "contact", "repdesk contact list")
    if "@" in text:
        matches = contacts_with_address(session, text)
    else:
        matches = contacts_named(session, text)
        if company.strip():
            at = company_named(session, company)
            matches = [c for c in matches if at is not None and c.company_id == at.id]
    if len(matches) > 1:
        shown = "; ".join(f"{c.id}: {c.name}" for c in matches[:10])
        raise Ambiguous(f"{ref!r} is several contacts: {shown}. Use the id.")
    return matches[0] if matches else None


def contacts_with_address(session: Session, address: str) -> list[Contact]:
    wanted = address.strip().casefold()
    rough = session.exec(
        select(Contact)
        .join(ContactEmail, col(ContactEmail.contact_id) == Contact.id)
        .where(func.lower(ContactEmail.address) == address.strip().lower())
        .order_by(col(Contact.id))
    ).all()
    found = {c.id: c for c in rough}
    if not found and not address.isascii():  # SQLite's lower() folds ASCII only
        for email in session.exec(select(ContactEmail)):
            if email.address.casefold() == wanted:
                contact = session.get(Contact, email.contact_id)
                if contact is not None:
                    found[contact.id] = contact
    return list(found.values())


def shared_address_notes(
    session: Session, addresses: Iterable[str], *, besides: int | None
) -> list[str]:
    """What to say of addresses another contact than `besides` has already: allowed (a
    shared mailbox is real), but mail from one then matches both, so capture lists it instead
    of placing it. The shell and the app's forms say the same (the forms said nothing: a
    hostile test)."""
    notes = []
    for address in dict.fromkeys(a.strip() for a in addresses if a.strip()):
        others = [c for c in contacts_with_address(session, address) if c.id != besides]
        if others:
            names = ", ".join(f"#{c.id} {cut(c.name, 60)}" for c in others[:3])
            notes.append(
                f"{printable(address)} is also the address of {names}: mail from it matches "
                "each of them, so capture lists it instead of placing it"
            )
    return notes


def emails_of(session: Session, contact_id: int) -> list[ContactEmail]:
    return list(
        session.exec(
            select(ContactEmail)
            .where(ContactEmail.contact_id == contact_id)
            .order_by(col(ContactEmail.position), col(ContactEmail.id))
        )
    )


def phones_of(session: Session, contact_id: int) -> list[ContactPhone]:
    return list(
        session.exec(
            select(ContactPhone)
            .where(ContactPhone.contact_id == contact_id)
            .order_by(col(ContactPhone.position), col(ContactPhone.id))
        )
    )


def links_of(session: Session, deal_id: int) -> list[DealContact]:
    return list(
        session.exec(
            select(DealContact)
            .where(DealContact.deal_id == deal_id)
            .order_by(col(DealContact.position), col(DealContact.id))
        )
    )


# ---------------------------------------------------------------- companies


def ensure_company(session: Session, name: str, *, now: datetime | None = None) -> Company:
    """The company of this name, made when there is none."""
    found = company_named(session, name)
    if found is not None:
        return found
    moment = now or clock.now()
    company = Company(name=" ".join(name.split()), created_at=moment, updated_at=moment)
    session.add(company)
    session.flush()
    return company


def edit_company(
    *,
    session: Session,
    company_id: int,
    name: str | None = None,
    domain: str | None = None,
    touch_every_days: int | str | None = "keep",
    now: datetime | None = None,
    own_domains: Iterable[str] = (),
) -> Company:
    """Rename a company (its deals show the new name), set its mail domain, or its "stay in
    touch" rhythm (days; None stops it). `own_domains`: the rep's own (settings `me`), which
    name no customer."""
    company = get_company(session=session, company_id=company_id)
    moment = now or clock.now()
    if name is not None:
        if not name.strip():
            raise InvalidInput("name", name, "a company name")
        other = company_named(session, name)
        if other is not None and other.id != company.id:
            raise InvalidInput("name", name, f"a name no other company has (#{other.id} has it)")
        company.name = " ".join(name.split())
        for deal in session.exec(select(Deal).where(Deal.company_id == company.id)):
            deal.company = company.name
            deal.updated_at = moment
            session.add(deal)
    if domain is not None:
        cleaned = domain.strip().lower().removeprefix("@")
        if cleaned and not is_domain(cleaned):
            raise InvalidInput("domain", domain, "a mail domain such as acme.example")
        if cleaned and cleaned in {d.strip().lower() for d in own_domains}:
            # Capture never matches mail by it (it is on every message the rep sends).
            raise InvalidInput(
                "domain", domain, "the company's own domain: this one is yours (settings `me`)"
            )
        if cleaned in FREE_MAIL_DOMAINS:
            raise InvalidInput(
                "domain", domain, "the company's own domain: a free-mail one names no company"
            )
        company.domain = cleaned
    if touch_every_days != "keep":
        days = touch_every_days
        if days is not None and not (isinstance(days, int) and 1 <= days <= MAX_TOUCH_DAYS):
            raise InvalidInput("stay in touch", days, f"1 to {MAX_TOUCH_DAYS} days, or off")
        company.touch_every_days = days
    company.updated_at = moment
    session.add(company)
    session.flush()
    return company


# ---------------------------------------------------------------- contacts


def add_contact(
    *,
    session: Session,
    name: str,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    company: str = "",
    title: str = "",
    now: datetime | None = None,
) -> Contact:
    if not name.strip():
        raise InvalidInput("name", name, "the person's name")
    addresses = [check_address(a) for a in emails]
    numbers = [check_phone(p) for p in phones]
    moment = now or clock.now()
    at = ensure_company(session, company, now=moment) if company.strip() else None
    contact = Contact(
        name=" ".join(name.split()),
        title=title.strip(),
        company_id=at.id if at is not None else None,
        created_at=moment,
        updated_at=moment,
    )
    session.add(contact)
    session.flush()
    assert contact.id is not None
    for address in addresses:
        _add_email(session, contact.id, address)
    for number in numbers:
        _add_phone(session, contact.id, number)
    session.flush()
    return contact


def _add_email(session: Session, contact_id: int, address: str, *, first: bool = False) -> bool:
    """Add an address (once: the same in any case is there already); True when added."""
    held = emails_of(session, contact_id)
    for email in held:
        if email.address.casefold() == address.casefold():
            if first and held[0] is not email:
                _put_first(session, held, email)
            return False
    position = (held[0].position - 1 if held else 0) if first else _after(held)
    session.add(ContactEmail(contact_id=contact_id, address=address, position=position))
    session.flush()
    return True


def _add_phone(session: Session, contact_id: int, number: str, *, first: bool = False) -> bool:
    held = phones_of(session, contact_id)
    for phone in held:
        if _digits(phone.number) == _digits(number):
            if first and held[0] is not phone:
                _put_first(session, held, phone)
            return False
    position = (held[0].position - 1 if held else 0) if first else _after(held)
    session.add(ContactPhone(contact_id=contact_id, number=number, position=position))
    session.flush()
    return True


def _digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit())


def _after(rows: Sequence[Any]) -> int:
    return max((row.position for row in rows), default=-1) + 1


def _put_first(session: Session, rows: Sequence[Any], row: Any) -> None:
    row.position = rows[0].position - 1
    session.add(row)
    session.flush()


def edit_contact(
    *,
    session: Session,
    contact_id: int,
    name: str | None = None,
    title: str | None = None,
    company: str | None = None,
    add_emails: Iterable[str] = (),
    remove_emails: Iterable[str] = (),
    add_phones: Iterable[str] = (),
    remove_phones: Iterable[str] = (),
    now: datetime | None = None,
) -> Contact:
    """Change a contact; only what is given changes. The deals they are the main contact of
    show the change."""
    contact = get_contact(session=session, contact_id=contact_id)
    moment = now or clock.now()
    if name is not None:
        if not name.strip():
            raise InvalidInput("name", name, "the person's name")
        contact.name = " ".join(name.split())
    if title is not None:
        contact.title = title.strip()
    if company is not None:
        at = ensure_company(session, company, now=moment) if company.strip() else None
        contact.company_id = at.id if at is not None else None
    for address in [check_address(a) for a in add_emails]:
        _add_email(session, contact_id, address)
    for address in remove_emails:
        gone = [
            e
            for e in emails_of(session, contact_id)
            if e.address.casefold() == address.strip().casefold()
        ]
        if not gone:
            raise InvalidInput("email", address, f"one of {contact.name}'s addresses")
        for email in gone:
            session.delete(email)
    for number in [check_phone(p) for p in add_phones]:
        _add_phone(session, contact_id, number)
    for number in remove_phones:
        gone_phones = [
            p for p in phones_of(session, contact_id) if _digits(p.number) == _digits(number)
        ]
        if not gone_phones or not _digits(number):
            raise InvalidInput("phone", number, f"one of {contact.name}'s numbers")
        for phone in gone_phones:
            session.delete(phone)
    contact.updated_at = moment
    session.add(contact)
    session.flush()
    for link in session.exec(select(DealContact).where(DealContact.contact_id == contact_id)):
        refresh_deal(session, link.deal_id, now=moment)
    return contact


# ---------------------------------------------------------------- contacts on deals


def link_contact(
    *,
    session: Session,
    deal_id: int,
    contact_id: int,
    role: str = "other",
    main: bool = False,
    now: datetime | None = None,
) -> DealContact:
    """Put a contact on a deal with a role (a contact already on it gets the role). `main`: the
    deal's main contact, the one its card shows. The first contact of a deal is its main one."""
    role = check_role(role)
    get_contact(session=session, contact_id=contact_id)
    links = links_of(session, deal_id)
    link = next((lk for lk in links if lk.contact_id == contact_id), None)
    if link is None:
        position = (links[0].position - 1 if links else 0) if main else _after(links)
        link = DealContact(deal_id=deal_id, contact_id=contact_id, role=role, position=position)
    else:
        link.role = role
        if main and links[0] is not link:
            link.position = links[0].position - 1
    session.add(link)
    session.flush()
    deal = session.get(Deal, deal_id)
    contact = session.get(Contact, contact_id)
    if deal is not None and contact is not None and deal.company_id is None and contact.company_id:
        # A deal without a company is with its contact's.
        deal.company_id = contact.company_id
        session.add(deal)
        session.flush()
    refresh_deal(session, deal_id, now=now)
    return link


def unlink_contact(
    *, session: Session, deal_id: int, contact_id: int, now: datetime | None = None
) -> None:
    """Take a contact off a deal (the contact stays, with their other deals)."""
    links = [lk for lk in links_of(session, deal_id) if lk.contact_id == contact_id]
    if not links:
        contact = get_contact(session=session, contact_id=contact_id)
        raise NotFound(f"{contact.name} is not on deal #{deal_id}")
    for link in links:
        session.delete(link)
    session.flush()
    refresh_deal(session, deal_id, now=now)


def refresh_deal(session: Session, deal_id: int, *, now: datetime | None = None) -> None:
    """The deal's text columns show its company and its main contact again."""
    deal = session.get(Deal, deal_id)
    if deal is None:
        return
    links = links_of(session, deal_id)
    name = email = phone = ""
    if links:
        main = session.get(Contact, links[0].contact_id)
        if main is not None:
            name = main.name
            emails, phones = (
                emails_of(session, links[0].contact_id),
                phones_of(session, links[0].contact_id),
            )
            email = emails[0].address if emails else ""
            phone = phones[0].number if phones else ""
    company = deal.company
    if deal.company_id is not None:
        record = session.get(Company, deal.company_id)
        company = record.name if record is not None else company
    shown = (company, name, email, phone)
    if (deal.company, deal.contact, deal.email, deal.phone) != shown:
        deal.company, deal.contact, deal.email, deal.phone = shown
        deal.updated_at = now or clock.now()
        session.add(deal)
        session.flush()


def adopt_deal_fields(
    session: Session, deal: Deal, changed: Iterable[str], *, now: datetime | None = None
) -> None:
    """What a writer put in a deal's text columns (`changed` names which) becomes records:

    - company: the company of that name (made if new), or none when emptied;
    - contact: who the main contact is: the one of that name on the deal, at its company or on
      their own, else a new contact; emptied, the main contact leaves the deal (and stays a
      contact);
    - email, phone: the main contact's first address or number (the one shown): one of theirs
      moves first, another replaces it, emptied removes it. With no main contact yet, the
      contact with that address, else one named by it.
    """
    moment = now or clock.now()
    changed = set(changed) & set(PEOPLE_FIELDS)
    if not changed or deal.id is None:
        return
    if "company" in changed:
        text = deal.company.strip()
        deal.company_id = ensure_company(session, text, now=moment).id if text else None
        session.add(deal)
        session.flush()
    if "contact" in changed:
        _choose_main(session, deal, deal.contact, moment)
    for name in ("email", "phone"):
        if name not in changed:
            continue
        typed = getattr(deal, name).strip()
        links = links_of(session, deal.id)
        if not links:
            if not typed:
                continue
            found = contacts_with_address(session, typed) if name == "email" else []
            contact = found[0] if len(found) == 1 else None
            if contact is None:
                contact = Contact(
                    name=typed, company_id=deal.company_id, created_at=moment, updated_at=moment
                )
                session.add(contact)
                session.flush()
            assert contact.id is not None
            session.add(DealContact(deal_id=deal.id, contact_id=contact.id, position=0))
            session.flush()
            links = links_of(session, deal.id)
        # Typed with another main contact in the same edit, the address is that person's
        # new one, not a correction of theirs: it goes first and theirs stay (the deal form
        # replaced the address an existing contact had on all their deals: a hostile test).
        _set_first(session, links[0].contact_id, name, typed, replace="contact" not in changed)
    refresh_deal(session, deal.id, now=moment)


def _choose_main(session: Session, deal: Deal, typed: str, moment: datetime) -> None:
    assert deal.id is not None
    links = links_of(session, deal.id)
    name = typed.strip()
    if not name:
        if links:
            session.delete(links[0])
            session.flush()
        return
    on_deal = {lk.contact_id: lk for lk in links}
    named = contacts_named(session, name)
    contact = (
        next((c for c in named if c.id in on_deal), None)
        or next((c for c in named if c.company_id == deal.company_id and deal.company_id), None)
        or next((c for c in named if c.company_id is None and deal.company_id is None), None)
    )
    if contact is None:
        contact = Contact(
            name=" ".join(name.split()),
            company_id=deal.company_id,
            created_at=moment,
            updated_at=moment,
        )
        session.add(contact)
        session.flush()
    elif contact.company_id is None and deal.company_id is not None:
        contact.company_id = deal.company_id
        session.add(contact)
    assert contact.id is not None
    link = on_deal.get(contact.id)
    if link is None:
        position = links[0].position - 1 if links else 0
        session.add(DealContact(deal_id=deal.id, contact_id=contact.id, position=position))
    elif links[0] is not link:
        link.position = links[0].position - 1
        session.add(link)
    session.flush()


def _set_first(
    session: Session, contact_id: int, kind: str, typed: str, *, replace: bool = True
) -> None:
    rows: list[Any] = (
        emails_of(session, contact_id) if kind == "email" else phones_of(session, contact_id)
    )
    if not typed:
        if rows:
            session.delete(rows[0])
            session.flush()
        return

    def same(row: Any) -> bool:
        if kind == "email":
            return bool(row.address.casefold() == typed.casefold())
        number: str = row.number
        return number == typed or bool(_digits(number) and _digits(number) == _digits(typed))

    existing = next((r for r in rows if same(r)), None)
    if existing is not None:
        if rows[0] is not existing:
            _put_first(session, rows, existing)
        return
    if rows and replace:
        if kind == "email":
            rows[0].address = typed
        else:
            rows[0].number = typed
        session.add(rows[0])
    elif rows:
        position = rows[0].position - 1
        if kind == "email":
            session.add(ContactEmail(contact_id=contact_id, address=typed, position=position))
        else:
            session.add(ContactPhone(contact_id=contact_id, number=typed, position=position))
    elif kind == "email":
        session.add(ContactEmail(contact_id=contact_id, address=typed, position=0))
    else:
        session.add(ContactPhone(contact_id=contact_id, number=typed, position=0))
    session.flush()


# ---------------------------------------------------------------- what the pages show


@dataclass(frozen=True, slots=True)
class Person:
    """A contact with what the pages show of them."""

    id: int
    name: str
    title: str
    company_id: int | None
    company: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OnDeal:
    """A contact on a deal: who and in which role."""

    person: Person
    role: str
    main: bool


@dataclass(frozen=True, slots=True)
class DealOf:
    """A deal a contact is on, or a company has."""

    id: int
    title: str
    status: str
    value_cents: int
    currency: str
    role: str = ""


@dataclass(frozen=True, slots=True)
class ContactCard:
    person: Person
    deals: list[DealOf]
    last_touch: datetime | None


@dataclass(frozen=True, slots=True)
class CompanyCard:
    company: Company
    deals: list[DealOf]
    contacts: list[Person]
    won: dict[str, int]  # won value by currency, in cents
    last_touch: datetime | None
    domains: list[str] = field(default_factory=list)  # its own and its people's (free mail aside)


def person(session: Session, contact: Contact) -> Person:
    assert contact.id is not None
    company = session.get(Company, contact.company_id) if contact.company_id else None
    return Person(
        id=contact.id,
        name=contact.name,
        title=contact.title,
        company_id=contact.company_id,
        company=company.name if company is not None else "",
        emails=tuple(e.address for e in emails_of(session, contact.id)),
        phones=tuple(p.number for p in phones_of(session, contact.id)),
    )


def persons(session: Session, contacts: Sequence[Contact]) -> list[Person]:
    """Person for each contact, in four queries however many (the palette reads them all)."""
    ids = [c.id for c in contacts]
    emails: dict[int, list[str]] = {}
    phones: dict[int, list[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for email in session.exec(
            select(ContactEmail)
            .where(col(ContactEmail.contact_id).in_(chunk))
            .order_by(col(ContactEmail.position), col(ContactEmail.id))
        ):
            emails.setdefault(email.contact_id, []).append(email.address)
        for phone in session.exec(
            select(ContactPhone)
            .where(col(ContactPhone.contact_id).in_(chunk))
            .order_by(col(ContactPhone.position), col(ContactPhone.id))
        ):
            phones.setdefault(phone.contact_id, []).append(phone.number)
    names = dict(session.exec(select(Company.id, Company.name)).all())
    return [
        Person(
            id=saved_id(c),
            name=c.name,
            title=c.title,
            company_id=c.company_id,
            company=names.get(c.company_id, "") if c.company_id else "",
            emails=tuple(emails.get(saved_id(c), ())),
            phones=tuple(phones.get(saved_id(c), ())),
        )
        for c in contacts
    ]


def people_of_deal(*, session: Session, deal_id: int) -> list[OnDeal]:
    found = []
    for index, link in enumerate(links_of(session, deal_id)):
        contact = session.get(Contact, link.contact_id)
        if contact is not None:
            found.append(OnDeal(person(session, contact), link.role, index == 0))
    return found


def _last_touch(session: Session, deal_ids: list[int]) -> datetime | None:
    if not deal_ids:
        return None
    return session.exec(
        select(func.max(Activity.at)).where(col(Activity.deal_id).in_(deal_ids))
    ).one()


def contact_card(*, session: Session, contact_id: int) -> ContactCard:
    contact = get_contact(session=session, contact_id=contact_id)
    rows = session.exec(
        select(Deal, DealContact.role)
        .join(DealContact, col(DealContact.deal_id) == Deal.id)
        .where(DealContact.contact_id == contact_id)
        .order_by(col(Deal.id))
    ).all()
    deals = [_deal_of(deal, role) for deal, role in rows]
    return ContactCard(person(session, contact), deals, _last_touch(session, [d.id for d in deals]))


def _deal_of(deal: Deal, role: str = "") -> DealOf:
    assert deal.id is not None
    return DealOf(deal.id, deal.title, deal.status, deal.value_cents, deal.currency, role)


def company_card(*, session: Session, company_id: int) -> CompanyCard:
    company = get_company(session=session, company_id=company_id)
    deal_rows = session.exec(
        select(Deal).where(Deal.company_id == company_id).order_by(col(Deal.id))
    ).all()
    deals = [_deal_of(d) for d in deal_rows]
    contacts = [
        person(session, c)
        for c in session.exec(
            select(Contact).where(Contact.company_id == company_id).order_by(col(Contact.id))
        )
    ]
    won: dict[str, int] = {}
    for deal in deal_rows:
        if deal.status == "won":
            won[deal.currency] = won.get(deal.currency, 0) + deal.value_cents
    domains = [company.domain] if company.domain else []
    for contact in contacts:
        for address in contact.emails:
            domain = domain_of(address)
            if domain and domain not in FREE_MAIL_DOMAINS and domain not in domains:
                domains.append(domain)
    return CompanyCard(
        company, deals, contacts, won, _last_touch(session, [d.id for d in deals]), domains
    )


@dataclass(frozen=True, slots=True)
class CompanyRow:
    id: int
    name: str
    deals: int
    open_deals: int
    won: dict[str, int]
    contacts: int
    last_touch: datetime | None
    touch_every_days: int | None


def list_companies(*, session: Session) -> list[CompanyRow]:
    from repdesk.reports import queries

    rows: dict[int, dict[str, Any]] = {}
    for company_id, name, every, deals, open_deals, contacts, last in queries.fetch(
        session, "companies"
    ):
        rows[company_id] = {
            "id": company_id, "name": name, "deals": int(deals), "open_deals": int(open_deals),
            "won": {}, "contacts": int(contacts), "last_touch": queries.as_instant(last),
            "touch_every_days": every,
        }  # fmt: skip
    for company_id, currency, value in queries.fetch(session, "company_won"):
        rows[company_id]["won"][currency] = int(value)
    return [CompanyRow(**row) for row in rows.values()]


@dataclass(frozen=True, slots=True)
class ContactRow:
    person: Person
    deals: int


def list_contacts(*, session: Session, company_id: int | None = None) -> list[ContactRow]:
    query = select(Contact).order_by(func.lower(Contact.name), col(Contact.id))
    if company_id is not None:
        query = query.where(Contact.company_id == company_id)
    counts = dict(
        session.exec(
            select(DealContact.contact_id, func.count()).group_by(col(DealContact.contact_id))
        ).all()
    )
    contacts = session.exec(query).all()
    return [ContactRow(found, int(counts.get(found.id, 0))) for found in persons(session, contacts)]


def contact_names(*, session: Session, company_id: int | None) -> list[str]:
    """The names of a company's contacts (None: of those with no company), each once, as a
    form suggests them."""
    query = select(Contact.name).distinct().order_by(col(Contact.name))
    if company_id is None:
        query = query.where(col(Contact.company_id).is_(None))
    else:
        query = query.where(Contact.company_id == company_id)
    return list(session.exec(query).all())


def search(*, session: Session, text: str, limit: int = 50) -> list[Person | Company]:
    """Contacts and companies whose name (or a contact's address) holds `text`, for the
    palette; empty text: all of them, up to `limit`."""
    needle = text.strip().lower()
    found: list[Person | Company] = []
    companies = select(Company).order_by(col(Company.name))
    contacts = select(Contact).order_by(col(Contact.name))
    if needle:
        companies = companies.where(func.lower(Company.name).contains(needle, autoescape=True))
        contacts = contacts.where(
            or_(
                func.lower(Contact.name).contains(needle, autoescape=True),
                col(Contact.id).in_(
                    select(ContactEmail.contact_id).where(
                        func.lower(ContactEmail.address).contains(needle, autoescape=True)
                    )
                ),
            )
        )
    found.extend(session.exec(companies.limit(limit)).all())
    found.extend(persons(session, session.exec(contacts.limit(limit)).all()))
    return found
