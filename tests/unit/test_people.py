"""People and companies as records (issue 19), without any UI, on both engines: the schema
step's move of deal text into records, contacts with several addresses on several deals with
a role, the deal's text columns following them, the trash and merge carrying the links, and a
won customer's "stay in touch" rhythm feeding Going cold."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta

import pytest
from sqlmodel import select
from tests.pinned import NOW, TODAY

from repdesk.core.errors import Ambiguous, InvalidInput
from repdesk.reports import figures
from repdesk.services import activities, deals, merge, people, trash
from repdesk.storage import migrations
from repdesk.storage.models import Company, Contact, Deal
from repdesk.storage.store import make_engine, read_session, write_session


def _deal(session, title: str, **fields):  # type: ignore[no-untyped-def]
    return deals.create_deal(session=session, title=title, currency="EUR", now=NOW, **fields)


def test_the_schema_step_moves_every_deals_people_into_records_losing_none(home) -> None:  # type: ignore[no-untyped-def]
    """A v5 desk whose deals spell one company two ways, share a contact, hold an email with no
    name, and a second address for a contact already seen: every one becomes a record."""
    home.mkdir(parents=True)
    path = home / "desk.sqlite"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for version in range(1, 6):
            for statement in migrations.step_sql(version, "sqlite"):
                conn.execute(statement)
        rows = [
            (1, "Fleet", "Acme Logistics", "Ana Ruiz", "ana@acme.example", "+34 600"),
            (2, "Pilot", " ACME logistics ", "ana ruiz", "ANA.R@acme.example", ""),
            (3, "Renewal", "Nordwind", "", "ops@nordwind.example", ""),
            (4, "Solo", "", "Kim Doe", "", "+1 555 0100"),
            (5, "Bare", "", "", "", ""),
        ]
        for deal_id, title, company, contact, email, phone in rows:
            conn.execute(
                "INSERT INTO deal (id, title, company, contact, email, phone, stage_id, "
                "first_contact, stage_entered_at, created_at, updated_at) VALUES "
                "(?, ?, ?, ?, ?, ?, 1, '2026-11-01', '2026-11-01 00:00:00.000000', "
                "'2026-11-01 00:00:00.000000', '2026-11-01 00:00:00.000000')",
                (deal_id, title, company, contact, email, phone),
            )
        conn.execute(f"PRAGMA application_id = {migrations.APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 5")
    engine = make_engine(path)
    with read_session(engine) as session:
        companies = session.exec(select(Company).order_by(Company.id)).all()
        assert [c.name for c in companies] == ["Acme Logistics", "Nordwind"]
        names = {
            d.id: [(p.person.name, p.person.emails, p.person.phones) for p in
                   people.people_of_deal(session=session, deal_id=d.id)]  # type: ignore[arg-type]
            for d in session.exec(select(Deal))
        }  # fmt: skip
        # Deals 1 and 2 share one contact; both addresses and the phone are hers.
        ana = ("Ana Ruiz", ("ana@acme.example", "ANA.R@acme.example"), ("+34 600",))
        assert names[1] == [ana] and names[2] == [ana]
        assert names[3] == [("ops@nordwind.example", ("ops@nordwind.example",), ())]
        assert names[4] == [("Kim Doe", (), ("+1 555 0100",))]
        assert names[5] == []
        deal_two = session.get(Deal, 2)
        assert deal_two is not None and deal_two.company_id == companies[0].id
        assert deal_two.company == " ACME logistics "  # what the rep typed stays as it was
    engine.dispose()


def test_a_contact_on_several_deals_with_roles_and_the_deal_showing_its_main_one(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        ana = people.add_contact(
            session=session, name="Ana Ruiz", emails=["ana@acme.example", "ana@gmail.com"],
            phones=["+34 600 111"], company="Acme", title="CFO", now=NOW,
        )  # fmt: skip
        bob = people.add_contact(session=session, name="Bob Lee", company="acme", now=NOW)
        fleet = _deal(session, "Fleet")
        pilot = _deal(session, "Pilot", company="ACME")
        people.link_contact(session=session, deal_id=fleet.id, contact_id=ana.id, role="DM")
        people.link_contact(session=session, deal_id=fleet.id, contact_id=bob.id, role="champion")
        people.link_contact(session=session, deal_id=pilot.id, contact_id=ana.id, role="finance")
        fleet_id, pilot_id, ana_id, bob_id = fleet.id, pilot.id, ana.id, bob.id
    with read_session(engine) as session:
        fleet = session.get(Deal, fleet_id)
        # A deal without a company is with its first contact's; its card shows its main contact.
        assert (fleet.company, fleet.contact, fleet.email, fleet.phone) == (
            "Acme", "Ana Ruiz", "ana@acme.example", "+34 600 111",
        )  # fmt: skip
        on_fleet = people.people_of_deal(session=session, deal_id=fleet_id)
        assert [(p.person.name, p.role, p.main) for p in on_fleet] == [
            ("Ana Ruiz", "decision maker", True), ("Bob Lee", "champion", False),
        ]  # fmt: skip
        card = people.contact_card(session=session, contact_id=ana_id)
        assert [(d.id, d.role) for d in card.deals] == [(fleet_id, "decision maker"),
                                                        (pilot_id, "finance")]  # fmt: skip
        company = people.company_card(session=session, company_id=card.person.company_id)
        assert [p.name for p in company.contacts] == ["Ana Ruiz", "Bob Lee"]
        assert company.domains == ["acme.example"]  # gmail.com names no company
    with write_session(engine) as session:
        # Bob becomes Fleet's main contact; Ana's first address changes: the cards follow.
        people.link_contact(session=session, deal_id=fleet_id, contact_id=bob_id, main=True)
        people.edit_contact(
            session=session, contact_id=ana_id, remove_emails=["ana@acme.example"],
            add_emails=["ana.ruiz@acme.example"],
        )  # fmt: skip
        people.edit_company(session=session, company_id=company.company.id, name="Acme Group")
    with read_session(engine) as session:
        fleet, pilot = session.get(Deal, fleet_id), session.get(Deal, pilot_id)
        assert (fleet.contact, fleet.company) == ("Bob Lee", "Acme Group")
        assert (pilot.contact, pilot.email) == ("Ana Ruiz", "ana@gmail.com")


def test_typing_a_deals_contact_fields_finds_or_makes_the_records(engine) -> None:  # type: ignore[no-untyped-def]
    """What the deal form, `deal add` and a CRM pull write: the name picks the main contact,
    the email and phone are theirs; emptied, the contact leaves the deal and stays a contact."""
    with write_session(engine) as session:
        deal = _deal(session, "Fleet", company="Acme", contact="Ana Ruiz", email="ana@acme.example")
        deal_id = deal.id
        deals.edit_deal(session=session, deal_id=deal_id, email="ana.r@acme.example", phone="+34 1")
        deals.edit_deal(session=session, deal_id=deal_id, contact="Luis Ortega")
    with read_session(engine) as session:
        on = people.people_of_deal(session=session, deal_id=deal_id)
        assert [(p.person.name, p.person.emails, p.person.phones) for p in on] == [
            ("Luis Ortega", (), ()), ("Ana Ruiz", ("ana.r@acme.example",), ("+34 1",)),
        ]  # fmt: skip
        deal = session.get(Deal, deal_id)
        assert (deal.contact, deal.email) == ("Luis Ortega", "")
        assert all(p.person.company == "Acme" for p in on)
    with write_session(engine) as session:
        deals.edit_deal(session=session, deal_id=deal_id, contact="")
    with read_session(engine) as session:
        assert session.get(Deal, deal_id).contact == "Ana Ruiz"  # the next one is main now
        assert len(session.exec(select(Contact)).all()) == 2  # Luis is still a contact


def test_an_address_typed_with_another_contact_is_added_to_theirs_not_put_over_it(engine) -> None:  # type: ignore[no-untyped-def]
    """A hostile test: the deal form, Contact set to Ana and Email typed, replaced the address
    Ana had on all her deals. With the contact unchanged, an edited address still corrects
    theirs (the form shows the main contact's first one)."""
    with write_session(engine) as session:
        _deal(session, "Fleet", company="Acme", contact="Ana Ruiz", email="other@a.example")
        seats = _deal(session, "Seats", company="Acme").id
        deals.edit_deal(session=session, deal_id=seats, contact="Ana Ruiz", email="third@a.example")
    with read_session(engine) as session:
        [ana] = [p.person for p in people.people_of_deal(session=session, deal_id=seats)]
        assert ana.emails == ("third@a.example", "other@a.example")
    with write_session(engine) as session:
        deals.edit_deal(session=session, deal_id=seats, email="third@b.example")  # a typo fixed
    with read_session(engine) as session:
        [ana] = [p.person for p in people.people_of_deal(session=session, deal_id=seats)]
        assert ana.emails == ("third@b.example", "other@a.example")


def test_a_link_s_scheme_before_an_address_or_a_number_is_taken_off() -> None:
    """A hostile test: `mailto:ana@acme.example` and `tel:+34...` were kept whole, and capture
    never matched mail from the address."""
    from repdesk.core.reach import check_address, check_phone

    assert check_address(" MAILTO:ana@acme.example") == "ana@acme.example"
    assert check_phone("tel:+34 600 123 456") == "+34 600 123 456"
    with pytest.raises(InvalidInput):
        check_address("mailto:")


def test_a_deleted_deal_comes_back_with_its_contacts_and_a_merge_brings_them_over(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        keep = _deal(session, "Keep", company="Acme", contact="Ana Ruiz")
        gone = _deal(session, "Gone", company="Acme", contact="Bob Lee")
        people.link_contact(
            session=session, deal_id=gone.id,
            contact_id=people.find_contact(session=session, ref="Ana").id, role="finance",
        )  # fmt: skip
        keep_id, gone_id = keep.id, gone.id
        item = trash.delete_item(session=session, kind="deal", item_id=gone_id, now=NOW)
    assert item.rows == 2  # the deal and its first stage: its contacts are not its timeline
    with write_session(engine) as session:
        trash.restore(session=session, trash_id=item.id, now=NOW)
    with read_session(engine) as session:
        on_gone = people.people_of_deal(session=session, deal_id=gone_id)
        assert [(p.person.name, p.role) for p in on_gone] == [
            ("Bob Lee", "other"), ("Ana Ruiz", "finance"),
        ]  # fmt: skip
    with write_session(engine) as session:
        merged = merge.merge_deals(session=session, keep_id=keep_id, gone_id=gone_id, now=NOW)
    assert merged.contacts == 1  # Bob joins; Ana was on Keep already
    with read_session(engine) as session:
        assert [p.person.name for p in people.people_of_deal(session=session, deal_id=keep_id)] == [
            "Ana Ruiz", "Bob Lee",
        ]  # fmt: skip
        assert session.get(Deal, keep_id).contact == "Ana Ruiz"


def test_names_roles_and_addresses_that_do_not_fit_are_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        with pytest.raises(InvalidInput, match="role"):
            people.check_role("boss")
        with pytest.raises(InvalidInput, match="email"):
            people.add_contact(session=session, name="X", emails=["not an address"])
        with pytest.raises(InvalidInput, match="name"):
            people.add_contact(session=session, name="  ")
        people.add_contact(session=session, name="Ana Ruiz")
        people.add_contact(session=session, name="Ana Ortega")
        with pytest.raises(Ambiguous, match="Ana Ruiz"):
            people.find_contact(session=session, ref="ana")
        assert people.find_contact(session=session, ref="ana ruiz").name == "Ana Ruiz"


def test_an_address_or_number_holding_control_or_invisible_characters_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    # `contact add --email` took "x@y.example ESC[2J" as a checked address: it then went to
    # every export, the CRM sync and a mailto: link as it was.
    with write_session(engine) as session:
        for address in ("x@y.example\x1b[2J", "ana@acme.example\u202e", "a\u200b@acme.example",
                        "ana@acme.example\x00"):  # fmt: skip
            with pytest.raises(InvalidInput, match="email"):
                people.add_contact(session=session, name="X", emails=[address])
        for number in ("+34 600\x1b]52;c;aGk=\x07", "+34 600 123 456\u202e", "600\x00123"):
            with pytest.raises(InvalidInput, match="phone"):
                people.add_contact(session=session, name="X", phones=[number])
        kept = people.add_contact(
            session=session, name="Zoë", emails=["zoë@bücher.example"], phones=["+34 600 123 456"]
        )
        assert kept.id is not None


def test_a_company_or_contact_typed_in_ascii_finds_the_one_written_in_other_letters(engine) -> None:  # type: ignore[no-untyped-def]
    # "acme logistics" made a second company beside "ＡＣＭＥ Logistics" (full-width) and
    # "STRASSE AG" one beside "Straße AG", while typed the other way round they were the same.
    with write_session(engine) as session:
        wide = people.ensure_company(session, "ＡＣＭＥ Logistics")
        street = people.ensure_company(session, "Straße AG")
        assert people.ensure_company(session, "acme logistics").id == wide.id
        assert people.ensure_company(session, "STRASSE AG").id == street.id
        john = people.add_contact(session=session, name="Ｊｏｈｎ Smith")
        assert [c.id for c in people.contacts_named(session, "john smith")] == [john.id]
        assert people.company_named(session, "Acme") is None


def test_a_mail_domain_that_is_none_or_names_no_company_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    # `company edit --domain` took "acme.example ESC[31m", "[bold].example", ".example" and
    # "gmail.com" (which capture never matches: a free-mail domain names no company).
    with write_session(engine) as session:
        acme = people.ensure_company(session, "Acme")
        for bad in ("acme.example\x1b[31m", "[bold].example", ".example", "example.", "a..b",
                    "acme.example\u202e", "gmail.com"):  # fmt: skip
            with pytest.raises(InvalidInput, match="domain"):
                people.edit_company(session=session, company_id=acme.id, domain=bad)
        for good, kept in (("@ACME.example", "acme.example"), ("bücher.example", "bücher.example"),
                           ("mail-1.acme.example", "mail-1.acme.example"), ("", "")):  # fmt: skip
            edited = people.edit_company(session=session, company_id=acme.id, domain=good)
            assert edited.domain == kept


def test_a_won_customer_untouched_past_its_rhythm_is_going_cold_until_any_touch(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        deal = _deal(session, "Seats", company="Nordwind", first_contact=TODAY - timedelta(days=90))
        deal_id = deal.id
        deals.win_deal(session=session, deal_id=deal_id, on=TODAY - timedelta(days=70), now=NOW)
        activities.log_activity(
            session=session, deal_id=deal_id, kind="call", at=NOW - timedelta(days=61), now=NOW
        )
        people.edit_company(
            session=session, company_id=deal.company_id, touch_every_days=60, now=NOW
        )

    def cold() -> list[figures.QueueRow]:
        with read_session(engine) as session:
            queues = figures.day_queues(session, today=TODAY, now=NOW, going_cold_days=14)
        return [row for row in queues.going_cold if row.deal_id == deal_id]

    rows = cold()
    assert len(rows) == 1 and rows[0].urgency_days == 61
    assert rows[0].note == "stay in touch every 60 days" and rows[0].company == "Nordwind"
    with write_session(engine) as session:
        # Any touch on any of the company's deals resets it: an email on another deal.
        other = _deal(session, "Upsell", company="Nordwind")
        activities.log_activity(session=session, deal_id=other.id, kind="email", now=NOW)
    assert cold() == []


def test_the_apps_undo_takes_back_an_edit_that_made_a_company_and_a_contact(engine) -> None:  # type: ignore[no-untyped-def]
    """The deal form's edit names a new company and contact: the undo removes both records and
    puts the deal's text back, though the deal pointed at them."""
    from repdesk.services.changes import recording

    with write_session(engine) as session:
        deal_id = _deal(session, "Fleet", company="Acme", contact="Ana Ruiz").id
    with write_session(engine) as session, recording(session) as changes:
        deals.edit_deal(session=session, deal_id=deal_id, company="Nordwind", contact="Ole Berg",
                        email="ole@nordwind.example")  # fmt: skip
    with write_session(engine) as session:
        changes.revert(session)
    with read_session(engine) as session:
        deal = session.get(Deal, deal_id)
        assert (deal.company, deal.contact, deal.email) == ("Acme", "Ana Ruiz", "")
        assert [c.name for c in session.exec(select(Company))] == ["Acme"]
        assert [c.name for c in session.exec(select(Contact))] == ["Ana Ruiz"]


def test_a_server_desk_of_schema_5_moves_its_deals_people_in_its_upgrade(server_url: str) -> None:
    """The same step on PostgreSQL, in its one upgrade transaction: records made, ids in the
    deals' order, and the sequences moved past them (a new contact after it gets a new id)."""
    from tests.engines import server_connection

    from repdesk.storage.store import make_server_engine

    with server_connection(server_url) as conn:
        for version in range(1, 6):
            for statement in migrations.step_sql(version, "postgresql"):
                conn.execute(statement)
        conn.execute(
            f"CREATE TABLE {migrations.SERVER_SCHEMA_TABLE} (application_id BIGINT NOT NULL, "
            f"version INTEGER NOT NULL)"
        )
        conn.execute(
            f"INSERT INTO {migrations.SERVER_SCHEMA_TABLE} VALUES ({migrations.APPLICATION_ID}, 5)"
        )
        for deal_id, company, contact in ((1, "Zeta", "Zoe"), (2, "Acme", "Ana"), (3, "zeta", "")):
            conn.execute(
                "INSERT INTO deal (id, title, company, contact, email, stage_id, first_contact, "
                "stage_entered_at, created_at, updated_at) VALUES (%s, 'T', %s, %s, %s, 1, "
                "'2026-11-01', now(), now(), now())",
                (deal_id, company, contact, "" if contact else "ops@zeta.example"),
            )
    engine = make_server_engine(server_url)
    try:
        with write_session(engine) as session:
            companies = session.exec(select(Company).order_by(Company.id)).all()
            assert [(c.id, c.name) for c in companies] == [(1, "Zeta"), (2, "Acme")]
            names = [(c.id, c.name) for c in session.exec(select(Contact).order_by(Contact.id))]
            assert names == [(1, "Zoe"), (2, "Ana"), (3, "ops@zeta.example")]
            added = people.add_contact(session=session, name="New", company="Nordwind")
            assert added.id == 4 and added.company_id == 3
    finally:
        engine.dispose()
