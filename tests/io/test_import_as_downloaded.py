"""Exports come in as they are downloaded (issue 15): the text encoding a CRM or a spreadsheet
wrote, the CRM's own words for optional fields, two-digit years, closes dated after today,
Salesforce's zone-less UTC times, the CRM's stage order, left-out currencies, migrated records
and messages that name the file's own columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.io.helpers import SALESFORCE, digest
from tests.shell import ok, refused


def write(tmp_path: Path, text: str, name: str = "deals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def deals(status: str = "all") -> dict[str, dict[str, object]]:
    return {d["title"]: d for d in json.loads(ok("deal", "list", "--status", status, "--json"))}


def refused_unchanged(home: Path, *args: object) -> str:
    before = digest(home / "desk.sqlite")
    err = refused("import", *[str(a) for a in args])
    assert digest(home / "desk.sqlite") == before
    return err


# ---------------------------------------------------------------- encodings

ACCENTED = "title,company,value\nMüller Umzug,Société Générale,1200\nCafé €uro,Ærø,300\n"


@pytest.mark.parametrize(
    ("encoded", "named"),
    [
        (ACCENTED.encode("utf-8"), "(UTF-8)"),
        (b"\xef\xbb\xbf" + ACCENTED.encode("utf-8"), "(UTF-8 with a byte-order mark)"),
        (ACCENTED.encode("utf-16"), "(UTF-16)"),  # with its byte-order mark, as Excel writes it
        (b"\xfe\xff" + ACCENTED.encode("utf-16-be"), "(UTF-16)"),
        (ACCENTED.encode("cp1252"), "(Windows-1252 (not UTF-8))"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "windows-1252"],
)
def test_each_encoding_a_crm_writes_is_read_and_named(
    home: Path, tmp_path: Path, encoded: bytes, named: str
) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes(encoded)
    out = ok("import", path)
    assert f"Reading {path} as a repdesk CSV (native columns): 2 rows {named}" in out
    found = deals()
    assert found["Müller Umzug"]["company"] == "Société Générale"
    assert found["Café €uro"]["company"] == "Ærø"


def test_encoding_forces_one_and_names_a_wrong_one(home: Path, tmp_path: Path) -> None:
    # UTF-16 without a byte-order mark cannot be recognised: the NULs in the header say so.
    bare = tmp_path / "bare.csv"
    bare.write_bytes(ACCENTED.encode("utf-16-le"))
    err = refused_unchanged(home, bare)
    assert "as in UTF-16 text without a byte-order mark" in err and "--encoding utf-16-le" in err
    out = ok("import", bare, "--encoding", "utf-16-le")
    assert "2 rows (utf-16-le)" in out and "Müller Umzug" in deals()
    # A UTF-8 file forced to Latin-1 reads as Latin-1 says: the rep asked for it.
    latin = write(tmp_path, "title\nNaïve\n", "latin.csv")
    ok("import", latin, "--encoding", "latin-1")
    assert "NaÃ¯ve" in deals()
    wrong = tmp_path / "wrong.csv"
    wrong.write_bytes("title\nMüller\n".encode("cp1252"))
    err = refused_unchanged(home, wrong, "--encoding", "utf-8")
    assert f"{wrong}: not utf-8 text (byte 0xfc at offset 7)" in err
    assert "--encoding 'klingon': not an encoding" in refused_unchanged(
        home, wrong, "--encoding", "klingon"
    )


def test_a_real_export_saved_as_windows_1252_or_utf_16_gives_the_same_deals(
    home: Path, tmp_path: Path
) -> None:
    """Salesforce's own Opportunity export (UTF-8 with a mark), saved again the two other ways a
    spreadsheet saves it: the same 50 deals each time."""
    original = (SALESFORCE / "Opportunity.csv").read_bytes().decode("utf-8-sig")
    args = ("--stage-map", "Discovery=Qualified")
    ok("import", SALESFORCE / "Opportunity.csv", *args)
    before = deals()
    for codec in ("cp1252", "utf-16"):
        copy = tmp_path / f"Opportunity-{codec}.csv"
        copy.write_bytes(original.encode(codec))
        out = ok("import", copy, *args)
        assert "0 created, 0 updated, 50 unchanged" in out
    assert deals() == before
