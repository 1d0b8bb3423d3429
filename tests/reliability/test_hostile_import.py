"""Hostile input at the imports, the settings and the amounts (issue 18, items 9, 10, 14, 16-20,
22, 27, 28; issue 14's rates): each is refused with one line naming FILE:LINE (or the file and
key, or the option) and the desk is left as it was, or it is read exactly as the README says.
Nothing here may end in "unexpected error" or a later command crashing."""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest
from tests.io.helpers import digest
from tests.shell import ok, refused, run

from repdesk.core import money

NATIVE_HEADER = "title,company,value,currency,stage,status,first_contact,closed_on"


def write(tmp_path: Path, text: str, name: str = "deals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused_import(home: Path, *args: object) -> str:
    """`repdesk import ...` refused (exit 2, one message per problem) with the desk unchanged."""
    desk = home / "desk.sqlite"
    before = digest(desk)
    err = refused("import", *[str(a) for a in args])
    assert digest(desk) == before
    return err


@pytest.fixture
def desk(home: Path) -> Path:
    ok("deal", "add", "Existing", "--company", "Acme", "--value", "1000")
    return home / "desk.sqlite"


def deals(desk: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(desk)) as conn:
        return conn.execute(
            "SELECT title, company, value_cents, currency FROM deal ORDER BY id"
        ).fetchall()


# ---------------------------------------------------------------- 9: the shape of a CSV


def test_an_unclosed_quote_is_refused_not_the_rest_of_the_file_in_one_title(
    home: Path, desk: Path, tmp_path: Path
) -> None:
    bad = write(tmp_path, 'title,value\n"Acme,100\nBeta,200\nGamma,300\n')
    err = refused_import(home, bad)
    assert f"{bad}:2: a quoted cell that starts on this line is never closed" in err
    # The quote in the last column: the same cell count as the header, still refused.
    last = write(tmp_path, 'title,value\nAcme,"100\nBeta,200\n', "last.csv")
    assert f"{last}:2: a quoted cell that starts on this line is never closed" in (
        refused_import(home, last)
    )
    assert len(deals(desk)) == 1


def test_rows_with_another_cell_count_than_the_header_are_refused_with_their_line(
    home: Path, desk: Path, tmp_path: Path
) -> None:
    bad = write(tmp_path, "title,value\nAcme,100\nBeta,1,200\nGamma\n")
    err = refused_import(home, bad)
    assert f"{bad}:3: 3 cells where the header line has 2" in err
    assert f"{bad}:4: 1 cells where the header line has 2" in err
    assert err.startswith("repdesk: nothing was imported: 2 problems\n")


def test_a_column_named_twice_is_refused(home: Path, desk: Path, tmp_path: Path) -> None:
    bad = write(tmp_path, "title,value,Value\nAcme,100,200\n")
    err = refused_import(home, bad)
    assert f"{bad}:1: the column 'Value' appears twice (columns 2 and 3)" in err


# ---------------------------------------------------------------- 10: export, then import


def test_export_then_import_leaves_deals_with_spaces_around_their_text_as_they_are(
    home: Path, desk: Path, tmp_path: Path
) -> None:
    ok("deal", "add", "  Spaced title  ", "--company", " Spaced Co ", "--value", "500")
    before = deals(desk)
    exported = tmp_path / "deals.csv"
    ok("export", "csv", exported)
    ok("import", exported)
    assert deals(desk) == before  # no second copy, and the spaces kept
    ok("import", exported)
    assert deals(desk) == before


# ---------------------------------------------------------------- 14: rates in the settings


@pytest.mark.parametrize("rate", ["nan", "inf", "-inf", "1e308", "1e30", "0.0", "true", '"1"'])
def test_a_rate_that_is_no_usable_number_is_named_with_the_file_and_key(
    home: Path, desk: Path, rate: str
) -> None:
    settings = home / "settings.toml"
    assert settings.exists()  # written with the defaults by the first command
    settings.write_text(f'currency = "EUR"\n\n[rates]\nUSD = {rate}\n', encoding="utf-8")
    for command in (("quota",), ("kpi",)):
        code, _, err = run(*command)
        assert code == 1 and "Traceback" not in err and "unexpected" not in err
        assert err.startswith(f"repdesk: {settings}: rates.USD = ") and err.count("\n") == 1
        assert "expected a number from 0.000001 to 1000000" in err


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("rates = 5\n", "rates = 5"),
        ("keys = 5\n", "keys = 5"),
        ('currency = "SSX"\n', "currency = 'SSX'"),
        ('[rates]\n"ßx" = 2\n', "rates.ßx = 2"),
    ],
)
def test_a_setting_of_the_wrong_type_or_code_names_its_key(
    home: Path, desk: Path, text: str, key: str
) -> None:
    settings = home / "settings.toml"
    settings.write_text(text, encoding="utf-8")
    code, _, err = run("quota")
    assert code == 1 and "Traceback" not in err
    assert err.startswith(f"repdesk: {settings}: {key} is not valid: expected ")


def test_the_settings_template_holds_only_settings_that_do_something(tmp_path: Path) -> None:
    from repdesk import settings

    assert "working_hours" not in settings.DEFAULT_TEXT
    # A file written by an older repdesk still loads.
    old = tmp_path / "old.toml"
    old.write_text('working_hours = "09:00-17:00"\n', encoding="utf-8")
    assert settings.load(old).currency == "EUR"


def test_saving_a_setting_keeps_a_symlinked_settings_file_a_symlink(tmp_path: Path) -> None:
    from repdesk import settings

    real = tmp_path / "dotfiles" / "repdesk.toml"
    real.parent.mkdir()
    real.write_text('# mine\ntheme = "nord"\n', encoding="utf-8")
    link = tmp_path / "config" / "settings.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    settings.save_value(link, "theme", "textual-light")
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_text(encoding="utf-8") == '# mine\ntheme = "textual-light"\n'
    assert sorted(p.name for p in real.parent.iterdir()) == ["repdesk.toml"]


# ---------------------------------------------------------------- 16: the calendar's edge


def test_a_follow_up_at_the_calendar_edge_is_refused_and_one_stored_there_fails_cleanly(
    home: Path, desk: Path, tmp_path: Path
) -> None:
    err = refused("follow-up", "add", "1", "9999-12-31", "--every", "30d")
    assert "'9999-12-31' is out of range: repdesk takes a date from 1900-01-01 to 9990-12-31" in err
    # One that got there before the bound (an older desk): `done` and `export ics` say so.
    ok("follow-up", "add", "1", "2030-01-01", "--every", "30d")
    with closing(sqlite3.connect(desk)) as conn, conn:
        conn.execute("UPDATE follow_up SET due_on = '9999-12-31'")
    err = refused("follow-up", "done", "1")
    assert "next: '9999-12-31' is not valid" in err and "--next" in err
    calendar = tmp_path / "f.ics"
    ok("export", "ics", calendar)
    assert "DTSTART;VALUE=DATE:99991231" in calendar.read_text(encoding="utf-8")
    ok("follow-up", "done", "1", "--next", "2030-02-01")


@pytest.fixture
def far_east(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The rep in UTC+14, where 0001-01-01T00:00 UTC is a day before the calendar starts."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    yield
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_salesforce_task_dates_before_the_calendar_are_refused_with_file_line(
    home: Path, desk: Path, tmp_path: Path, far_east: None
) -> None:
    tasks = write(
        tmp_path,
        "Id,WhatId,Subject,ActivityDate,CreatedDate,TaskSubtype\n"
        "00T1,006A,Call,,0001-01-01T00:00:00.000+0000,Call\n"
        "00T2,006A,Call,0001-01-01,,Call\n"
        "00T3,006A,Call,,0001-01-01T00:00:00,Call\n",
        "Task.csv",
    )
    err = refused_import(home, tasks)
    for line in (2, 3, 4):
        assert f"{tasks}:{line}: " in err
    assert "expected a date from 1900-01-01 to 9990-12-31" in err


# ---------------------------------------------------------------- 17: digit-like text


@pytest.mark.parametrize("seconds", ["²", "9" * 5000, "١٢"], ids=["superscript", "5000", "arabic"])
def test_digit_like_call_durations_are_refused_with_file_line(
    home: Path, desk: Path, tmp_path: Path, seconds: str
) -> None:
    tasks = write(
        tmp_path,
        "Id,WhatId,Subject,ActivityDate,TaskSubtype,CallDurationInSeconds\n"
        f"00T1,006A,Call,2026-11-02,Call,{seconds}\n",
        "Task.csv",
    )
    err = refused_import(home, tasks)
    assert f"{tasks}:2: CallDurationInSeconds " in err
    assert "expected a whole number of seconds" in err and len(err) < 400


@pytest.mark.parametrize(
    "own",
    ["repdesk:²", "repdesk:" + "9" * 5000, "repdesk:99999999999999999999"],
    ids=["superscript", "5000-digits", "beyond-int64"],
)
def test_digit_like_own_ids_are_refused_with_file_line(
    home: Path, desk: Path, tmp_path: Path, own: str
) -> None:
    bad = write(tmp_path, f"source_id,title\n{own},Acme\n")
    err = refused_import(home, bad)
    assert f"{bad}:2: source_id " in err and "expected repdesk:N with N a deal id" in err


# ---------------------------------------------------------------- 18: JSON that means nothing


def _exported(home: Path, tmp_path: Path) -> dict[str, object]:
    ok("deal", "add", "Acme", "--value", "100")
    ok("follow-up", "add", "1", "2026-12-01", "--every", "30d")
    ok("quota", "set", "2026-11", "1000")
    path = tmp_path / "desk.json"
    ok("export", "json", path)
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("table", "column", "value", "expected"),
    [
        ("follow_up", "recur_days", 2147483647, "1 to 366 days or null"),
        ("follow_up", "recur_days", -7, "1 to 366 days or null"),
        ("follow_up", "due_on", "9999-12-31", "a date from 1900-01-01 to 9990-12-31"),
        ("deal", "value_cents", 2**63 - 1, "cents from 0 to 90000000000"),
        ("deal", "value_cents", -1, "cents from 0 to 90000000000"),
        ("deal", "currency", "SSX", "an ISO 4217 currency code"),
        ("deal", "status", "maybe", "one of open, won, lost"),
        ("deal", "title", "x" * 131_073, "text of at most 131,072 characters"),  # csv's limit
        ("quota", "amount_cents", 2**63 - 1, "cents from 1 to 90000000000"),
        ("quota", "period", "2026-13", "a period such as 2026-11"),
        ("stage", "probability", 1000, "a percentage from 0 to 100"),
    ],
    ids=lambda value: "long" if isinstance(value, str) and len(value) > 100 else None,
)
def test_a_json_import_checks_what_values_mean(
    home: Path, tmp_path: Path, table: str, column: str, value: object, expected: str
) -> None:
    document = _exported(home, tmp_path)
    document["tables"][table][0][column] = value  # type: ignore[index]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    fresh = tmp_path / "fresh"
    err = refused("--home", fresh, "import", path)
    assert f"{path}: tables.{table}[0].{column} " in err and f"expected {expected}" in err
    assert "Traceback" not in err and len(err) < 2000


def test_a_json_import_without_an_open_stage_is_refused(home: Path, tmp_path: Path) -> None:
    document = _exported(home, tmp_path)
    tables = document["tables"]
    assert isinstance(tables, dict)
    tables["stage"] = [s for s in tables["stage"] if s["kind"] != "open"]
    tables["deal"] = tables["stage_change"] = tables["follow_up"] = []
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    err = refused("--home", tmp_path / "fresh", "import", path)
    assert f"{path}: tables.stage: no open stage" in err


# ---------------------------------------------------------------- 19: sums that fit


def test_ten_thousand_deals_at_the_largest_value_still_sum(home: Path, tmp_path: Path) -> None:
    largest = f"{money.MAX_CENTS // 100}"
    lines = [NATIVE_HEADER]
    for number in range(10_000):
        lines.append(f"Won {number},Co,{largest},EUR,Won,won,2026-11-01,2026-11-02")
        lines.append(f"Open {number},Co,{largest},EUR,Negotiation,open,2026-11-01,")
    ok("import", write(tmp_path, "\n".join(lines) + "\n"))
    ok("quota", "set", "2026-11", largest)
    for command in (("quota",), ("kpi",), ("kpi", "--json"), ("quota", "--json")):
        code, _, err = run(*command)
        assert code == 0, err
    refused("deal", "add", "X", "--value", f"{money.MAX_CENTS // 100}.01")


# ---------------------------------------------------------------- 20: NUL bytes


def test_a_nul_byte_in_a_csv_is_refused_with_file_line(
    home: Path, desk: Path, tmp_path: Path
) -> None:
    bad = write(tmp_path, "title,company\nAcme,Fine\nBeta,Bad\x00Co\n")
    err = refused_import(home, bad)
    assert f"{bad}:3: company: a NUL character" in err


# ---------------------------------------------------------------- 22: amounts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12,5", "is ambiguous: a comma only groups thousands"),
        ("1,2,3", "is ambiguous"),
        ("1,5k", "is ambiguous"),
        ("12.345", "has too many decimals (EUR has 2 decimals); repdesk does not round"),
        ("£500", "is in GBP, not EUR"),
        ("¥500", "is ambiguous: ¥ is used for JPY and CNY"),
    ],
)
def test_an_ambiguous_amount_in_a_csv_is_refused_with_file_line(
    home: Path, desk: Path, tmp_path: Path, value: str, expected: str
) -> None:
    bad = write(tmp_path, f'title,value,currency\nAcme,"{value}",EUR\n')
    err = refused_import(home, bad)
    assert f"{bad}:2: value {value!r}: expected an amount" in err and expected in err


def test_a_currency_symbol_in_a_csv_sets_the_currency(
    home: Path, desk: Path, tmp_path: Path
) -> None:
    rows = 'title,value\nDollars,$500\nPounds,"£1,250.50"\nCoded,CHF 20\nPlain,12500\n'
    ok("import", write(tmp_path, rows))
    assert deals(desk)[1:] == [
        ("Dollars", "", 50_000, "USD"),
        ("Pounds", "", 125_050, "GBP"),
        ("Coded", "", 2_000, "CHF"),
        ("Plain", "", 1_250_000, "EUR"),
    ]


def test_the_shell_reads_amounts_as_the_import_does(home: Path, desk: Path) -> None:
    ok("deal", "add", "Pounds", "--value", "£500")
    assert deals(desk)[-1] == ("Pounds", "", 50_000, "GBP")
    assert "is ambiguous" in refused("deal", "add", "X", "--value", "12,5")
    assert "is in GBP, not USD" in refused("deal", "add", "X", "--value", "£5", "--currency", "USD")
    assert "has too many decimals (JPY has no decimals)" in refused(
        "deal", "add", "X", "--value", "500.5", "--currency", "JPY"
    )
    assert "is in USD, not EUR" in refused("quota", "set", "2026-11", "$500")


def test_the_deal_form_refuses_another_currency_than_the_deal_is_in() -> None:
    from repdesk.tui.actions import _amount
    from repdesk.tui.forms import FieldError

    assert _amount("12,500.50", "EUR") == 1_250_050
    with pytest.raises(FieldError, match="is in GBP, not EUR"):
        _amount("£500", "EUR")


# ---------------------------------------------------------------- 27: formulas


def test_csv_export_escapes_formulas_after_a_tab_or_carriage_return(
    home: Path, tmp_path: Path
) -> None:
    for title in ("\t=1+2", "\r=HYPERLINK(1)"):
        ok("deal", "add", title, "--value", "1")
    exported = tmp_path / "deals.csv"
    ok("export", "csv", exported)
    with exported.open(encoding="utf-8", newline="") as handle:
        titles = [row[1] for row in csv.reader(handle)][1:]
    assert titles == ["'\t=1+2", "'\r=HYPERLINK(1)"]


# ---------------------------------------------------------------- 28: ISO 4217


def test_a_currency_code_that_is_not_iso_4217_is_refused_at_every_entry(
    home: Path, desk: Path, tmp_path: Path
) -> None:
    err = refused("deal", "add", "X", "--currency", "ßx")
    assert (
        err
        == "repdesk: --currency: 'ßx' is not an ISO 4217 currency code such as EUR, USD or GBP\n"
    )
    assert "is not an ISO 4217" in refused("deal", "add", "X", "--currency", "ABC")
    bad = write(tmp_path, "title,currency\nAcme,ßx\nBeta,SSX\n")
    err = refused_import(home, bad)
    assert f"{bad}:2: currency 'ßx': expected an ISO 4217" in err
    assert f"{bad}:3: currency 'SSX': expected an ISO 4217" in err
    ok("deal", "add", "Kept", "--currency", "usd")
    assert deals(desk)[-1][3] == "USD"
