"""Imports and exports carry people (issue 19): a CRM's person columns and people exports
become contacts and companies, a JSON export holds them and gives them back on either engine,
and a JSON file from before people were records gets them on its way in."""

from __future__ import annotations

import json
from pathlib import Path

from tests.io.helpers import FIXTURES
from tests.io.test_json_engines import FIRST_EXPORTER_FILE
from tests.shell import ok, refused

SALESFORCE_FILES = {
    "Opportunity.csv": (
        "Id,Name,StageName,Amount,CloseDate,AccountId,IsWon,IsClosed,CreatedDate\n"
        "006A,Fleet rollout,Prospecting,45000,2026-12-15,001A,false,false,2026-10-01\n"
        "006B,Renewal,Closed Won,12000,2026-10-02,001B,true,true,2026-08-01\n"
    ),
    "Account.csv": "Id,Name,BillingCity\n001A,Acme Logistics,Madrid\n001B,Nordwind Bank,Oslo\n",
    "Contact.csv": (
        "Id,AccountId,FirstName,LastName,Title,Email,Phone,MobilePhone\n"
        "003A,001A,Ana,Ruiz,CFO,ana@acme.example,+34 600,+34 611\n"
        "003B,001A,Luis,Ortega,IT lead,luis@acme.example,,\n"
        "003C,001B,Ole,Berg,,ole@nordwind.example,,\n"
    ),
    "OpportunityContactRole.csv": (
        "Id,OpportunityId,ContactId,Role,IsPrimary\n"
        "00KA,006A,003B,Technical Buyer,false\n"
        "00KB,006A,003A,Economic Buyer,true\n"
        "00KC,006B,003C,Decision Maker,true\n"
        "00KD,006Z,003C,Other,false\n"
    ),
}


def _write(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in files]


def test_salesforce_contacts_and_their_roles_on_opportunities(tmp_path: Path) -> None:
    files = _write(tmp_path / "sf", SALESFORCE_FILES)
    out = ok("import", *files)
    assert "Contacts: 3 added, 0 already on the desk; 3 on deals; 1 left out" in out
    assert "OpportunityContactRole.csv:5" in out  # the role on an opportunity not imported
    fleet = json.loads(ok("deal", "show", "1", "--json"))
    assert [(c["name"], c["role"], c["main"], c["title"]) for c in fleet["contacts"]] == [
        ("Ana Ruiz", "finance", True, "CFO"), ("Luis Ortega", "user", False, "IT lead"),
    ]  # fmt: skip
    assert fleet["contacts"][0]["phones"] == ["+34 600", "+34 611"]
    assert (fleet["company"], fleet["contact"], fleet["email"]) == (
        "Acme Logistics", "Ana Ruiz", "ana@acme.example",
    )  # fmt: skip
    again = ok("import", *files)
    assert "Contacts: 0 added, 3 already on the desk" in again
    assert ok("contact", "list").strip().endswith("3 contacts")


def test_roles_imported_without_their_contacts_say_how_to_bring_them_in(tmp_path: Path) -> None:
    """Found by an audit: imported after their contacts, every role went unlinked, and the
    line blamed "a deal or contact not in these files or on the desk"."""
    files = _write(tmp_path / "sf", SALESFORCE_FILES)
    roles = files.pop()
    ok("import", *files)
    out = ok("import", roles)
    assert "4 of the contact roles name a contact not in these files: import the role export" in out
    assert "`repdesk import Contact.csv OpportunityContactRole.csv`" in out
    again = ok("import", files[2], roles)  # the contacts' file with it: found again, linked
    assert "Contacts: 0 added, 3 already on the desk; 3 on deals" in again
    assert len(json.loads(ok("deal", "show", "1", "--json"))["contacts"]) == 2


def test_pipedrive_person_columns_become_contacts_at_their_organisations() -> None:
    ok("import", FIXTURES / "pipedrive_deals.csv", "--create-stages")
    first = json.loads(ok("deal", "show", "1", "--json"))
    assert [(c["name"], c["emails"], c["company"]) for c in first["contacts"]] == [
        ("Jana Novak", ["jana@acme.example"], "Acme Logistics, GmbH")
    ]
    shown = json.loads(ok("company", "show", "Acme Logistics, GmbH", "--json"))
    assert [d["title"] for d in shown["deals"]] == ["Fleet tracking rollout"]
    # Imported again: nobody twice.
    before = ok("contact", "list")
    ok("import", FIXTURES / "pipedrive_deals.csv", "--create-stages")
    assert ok("contact", "list") == before


def test_hubspots_associated_contacts_are_each_a_contact_with_their_address(
    tmp_path: Path,
) -> None:
    """HubSpot writes a deal's associated contacts as "Name (address)", several with ";":
    read as one name, the cell made one contact of both, and the same person twice (found by
    an audit)."""
    cells = (
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Associated Company,Associated Contact\n"
        "101,Renewal,closedwon,5000,2026-10-01,Brightside Media,"
        "Maria Johnson (maria@brightside.example);Brian Halligan (bh@brightside.example)\n"
        "102,Upsell,appointmentscheduled,3000,2026-12-20,Brightside Media,"
        "Maria Johnson (maria@brightside.example)\n"
    )
    [path] = _write(tmp_path / "hubspot", {"deals.csv": cells})
    out = ok("import", path)
    assert "Also put on their deals: 1 more person named in the deals' person cells" in out
    renewal = json.loads(ok("deal", "show", "1", "--json"))
    assert [(c["name"], c["emails"], c["main"]) for c in renewal["contacts"]] == [
        ("Maria Johnson", ["maria@brightside.example"], True),
        ("Brian Halligan", ["bh@brightside.example"], False),
    ]
    assert renewal["email"] == "maria@brightside.example"
    ok("import", path)  # again: nobody twice
    assert ok("contact", "list").strip().endswith("2 contacts")
    from repdesk.io.csv_import import people_in_cell

    # Without an address for each, a semicolon is part of one name as written.
    assert people_in_cell("Smith; John") == [("Smith; John", "")]
    assert people_in_cell("Ana (CFO)") == [("Ana (CFO)", "")]


def test_a_re_import_gives_no_contact_another_ones_address(tmp_path: Path) -> None:
    """Found by a hostile test: imported again, a file whose deal has two people gave the
    second the deal's (the first one's) address: every later import gave a deal's email and
    phone to each of its contacts, not its main one alone."""
    cells = (
        "title,company,contact,email\n"
        "D1,Acme,Maria Johnson (maria@x.example);Brian Halligan (bh@x.example),\n"
        "D2,Acme,Brian Halligan (bh@x.example),\n"
        'D3,Acme,"Zed (zed@x.example);Yan (y@@x)",other@x.example\n'
    )
    [path] = _write(tmp_path / "native", {"deals.csv": cells})
    ok("import", path, "--dry-run")  # what the import would do is checked the same way
    ok("import", path)
    first = {c["name"]: c["emails"] for c in json.loads(ok("contact", "list", "--json"))}
    assert "Also put on their deals" not in ok("import", path)  # nobody new a second time
    again = {c["name"]: c["emails"] for c in json.loads(ok("contact", "list", "--json"))}
    assert (
        first
        == again
        == {
            "Maria Johnson": ["maria@x.example"],
            "Brian Halligan": ["bh@x.example"],
            # The email column is the deal's; the cell's own address stays the person's.
            "Zed": ["other@x.example", "zed@x.example"],
            "Yan": [],  # "y@@x" is no address: the person comes in without it, nothing refused
        }
    )


def test_a_persons_address_is_kept_as_their_first_deal_wrote_it(tmp_path: Path) -> None:
    """Found by an audit: the same person on two deals, the second writing the address in
    capitals, kept only the later spelling (the smaller text won)."""
    cells = (
        "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Status,"
        "Deal - Organization,Deal - Contact person,Person - Email\n"
        "102,Seats,100,EUR,Lead In,Open,Nordwind,Ole Berg,ole@nordwind.example\n"
        "103,Cards,100,EUR,Lead In,Open,Nordwind,ole berg,OLE@nordwind.example\n"
    )
    [path] = _write(tmp_path / "pipedrive", {"deals.csv": cells})
    ok("import", path, "--create-stages")
    [ole] = json.loads(ok("contact", "list", "--json"))
    assert (ole["name"], ole["emails"]) == ("Ole Berg", ["ole@nordwind.example"])


def test_a_json_export_carries_people_and_an_older_one_gets_them_on_import(
    engine, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # An export from schema 2 (deal text only): its people become records on the way in.
    ok("import", FIRST_EXPORTER_FILE)
    listed = ok("contact", "list")
    document = json.loads(FIRST_EXPORTER_FILE.read_text(encoding="utf-8"))
    named = {d["contact"] for d in document["tables"]["deal"] if d["contact"]}
    assert named and all(name in listed for name in named)
    ok("contact", "add", "Extra Person", "--email", "x@acme.example", "--deal", "1", "--role",
       "champion")  # fmt: skip
    exported = tmp_path / "desk.json"
    ok("export", "json", exported)
    tables = json.loads(exported.read_text(encoding="utf-8"))["tables"]
    assert {"company", "contact", "contact_email", "deal_contact", "captured"} <= set(tables)
    assert any(row["role"] == "champion" for row in tables["deal_contact"])
    # Into an empty desk file (from the server too): the same people, the same roles.
    people_here = ok("contact", "list")
    monkeypatch.delenv("REPDESK_DATABASE_URL", raising=False)
    other = tmp_path / "other"
    ok("--home", other, "import", exported)
    assert ok("--home", other, "contact", "list") == people_here
    shown = json.loads(ok("--home", other, "deal", "show", "1", "--json"))
    assert ("Extra Person", "champion") in [(c["name"], c["role"]) for c in shown["contacts"]]


def test_a_contacts_csv_export_goes_back_in_with_roles_and_nobody_twice(tmp_path: Path) -> None:
    ok("contact", "add", "Ana Ruiz", "--email", "ana@acme.example", "--email", "=cmd@x.example",
       "--phone", "+34 600", "--company", "Acme", "--title", "CFO")  # fmt: skip
    ok("deal", "add", "Fleet", "--contact", "Ana Ruiz", "--role", "finance")
    ok("export", "csv", tmp_path / "deals.csv")
    assert "Wrote 1 contact" in ok("export", "contacts", tmp_path / "contacts.csv")
    text = (tmp_path / "contacts.csv").read_text(encoding="utf-8")
    assert text.splitlines()[1] == (
        "1,Ana Ruiz,CFO,Acme,ana@acme.example; =cmd@x.example,'+34 600,repdesk:1=finance"
    )
    # The same desk: nobody twice. Another desk, with the deals first: the same people and roles.
    assert "Contacts: 0 added, 1 already on the desk" in ok("import", tmp_path / "contacts.csv")
    other = tmp_path / "other"
    ok("--home", other, "import", tmp_path / "deals.csv")
    out = ok("--home", other, "import", tmp_path / "contacts.csv")
    assert "Contacts: 0 added, 1 already on the desk; 1 on deals" in out  # the deal brought Ana
    shown = json.loads(ok("--home", other, "deal", "show", "1", "--json"))
    assert [(c["name"], c["role"], c["title"], c["phones"]) for c in shown["contacts"]] == [
        ("Ana Ruiz", "finance", "CFO", ["+34 600"])
    ]
    assert shown["contacts"][0]["emails"] == ["ana@acme.example", "=cmd@x.example"]


def test_people_sharing_an_address_come_back_as_themselves(tmp_path: Path) -> None:
    """A hostile test: three people with one address in three cases, exported and imported
    into a new desk, became one contact (0 added, 3 already on the desk), with the second's
    phone and the second's role on the deal."""
    ok("contact", "add", "Ana Ruiz", "--email", "ana@acme.example", "--company", "Acme",
       "--title", "CFO")  # fmt: skip
    ok("deal", "add", "Fleet", "--company", "Acme", "--contact", "Ana Ruiz",
       "--role", "decision maker")  # fmt: skip
    ok("contact", "add", "Bob Shared", "--email", "Ana@Acme.example", "--phone", "+34 600 000 111",
       "--company", "Acme", "--deal", "Fleet", "--role", "champion")  # fmt: skip
    ok("contact", "add", "Carl NoDeal", "--email", "ANA@ACME.EXAMPLE", "--company", "Acme")
    ok("export", "csv", tmp_path / "deals.csv")
    ok("export", "contacts", tmp_path / "contacts.csv")
    other = tmp_path / "other"
    ok("--home", other, "import", tmp_path / "deals.csv")
    out = ok("--home", other, "import", tmp_path / "contacts.csv")
    assert "Contacts: 2 added, 1 already on the desk" in out
    listed = json.loads(ok("--home", other, "contact", "list", "--json"))
    assert sorted((c["name"], tuple(c["phones"])) for c in listed) == [
        ("Ana Ruiz", ()),
        ("Bob Shared", ("+34 600 000 111",)),
        ("Carl NoDeal", ()),
    ]
    shown = json.loads(ok("--home", other, "deal", "show", "1", "--json"))
    assert sorted((c["name"], c["role"]) for c in shown["contacts"]) == [
        ("Ana Ruiz", "decision maker"),
        ("Bob Shared", "champion"),
    ]
    again = ok("--home", other, "import", tmp_path / "contacts.csv")  # nobody twice
    assert "Contacts: 0 added, 3 already on the desk" in again


def test_an_email_or_phone_cell_that_is_none_is_left_out_named_and_the_export_goes_back_in(
    tmp_path: Path,
) -> None:
    """A hostile test: `not-an-email` and `call me` came in as a contact's address and number
    (the shell refuses both), and the desk's own contacts export then failed to import, with
    no line named."""
    deals_csv = tmp_path / "deals.csv"
    deals_csv.write_text(
        "title,company,contact,email,phone\n"
        "Fleet,Acme,Ana,not-an-email,call me\n"
        "Seats,Acme,Bob,bob@acme.example,+34 600\n",
        encoding="utf-8",
    )
    out = ok("import", deals_csv)
    assert (
        "2 email or phone cells left out, being no address (ana@acme.example) nor number (3 "
        f"digits or more): 'not-an-email' ({deals_csv}:2), 'call me' ({deals_csv}:2)"
    ) in out
    people = {
        c["name"]: (c["emails"], c["phones"]) for c in json.loads(ok("contact", "list", "--json"))
    }
    assert people == {"Ana": ([], []), "Bob": (["bob@acme.example"], ["+34 600"])}
    ok("export", "contacts", tmp_path / "contacts.csv")
    assert "Contacts: 0 added, 2 already on the desk" in ok("import", tmp_path / "contacts.csv")


def test_a_contacts_csv_s_roles_are_read_as_role_takes_them_and_a_wrong_one_refused(
    tmp_path: Path,
) -> None:
    """A hostile test: `repdesk:1=Decision Maker` and `repdesk:1=overlord` both came in as
    other, in silence; `--role "Decision Maker"` takes the first and refuses the second."""
    ok("deal", "add", "Fleet", "--company", "Acme")
    people = tmp_path / "contacts.csv"
    people.write_text(
        "contact_id,name,title,company,emails,phones,deals\n"
        "1,Ana Ruiz,,Acme,,,repdesk:1=Decision Maker\n"
        "2,Bob,,Acme,,,repdesk:1=overlord\n",
        encoding="utf-8",
    )
    err = refused("import", people)
    assert "contacts.csv:3" in err and "'repdesk:1=overlord'" in err and "decision maker" in err
    people.write_text(people.read_text(encoding="utf-8").replace("overlord", "dm"), "utf-8")
    ok("import", people)
    shown = json.loads(ok("deal", "show", "1", "--json"))
    assert sorted((c["name"], c["role"]) for c in shown["contacts"]) == [
        ("Ana Ruiz", "decision maker"),
        ("Bob", "decision maker"),
    ]


def test_a_json_file_s_companies_hold_to_what_company_edit_takes(tmp_path: Path) -> None:
    """A hostile test: a file gave two companies `[/]Acme` and `[/]ACME` (every `company show`
    of them ambiguous, `deal add --company` taking the first) and a domain gmail.com."""
    ok("deal", "add", "Fleet", "--company", "[/]Acme")
    exported = tmp_path / "desk.json"
    ok("export", "json", exported)
    document = json.loads(exported.read_text(encoding="utf-8"))
    companies = document["tables"]["company"]
    companies.append({**companies[0], "id": 2, "name": "[/]ACME"})
    companies[0]["domain"] = "gmail.com"
    exported.write_text(json.dumps(document), encoding="utf-8")
    err = refused("--home", tmp_path / "other", "import", exported)
    assert f"{exported}: tables.company[0].domain 'gmail.com': expected a mail domain" in err
    assert (
        f"{exported}: tables.company[1].name '[/]ACME': the same as tables.company[0] in "
        "another case or form; each company needs its own"
    ) in err
