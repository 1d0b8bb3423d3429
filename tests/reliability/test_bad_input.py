"""Bad values at every entry point of the shell: exit 2, one line, and every table's checksum
unchanged (issue 7, item 9). tests/cli/test_cli.py covers the first twenty messages word for
word; here every command meets dates, amounts, negative and huge values, unknown stages,
periods and ids, listed and then generated."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.helpers import repdesk, table_checksums
from tests.thorough import scaled
from tests.tui.desks import build_small_desk

from repdesk.cli import main

HUGE = "9" * 25  # beyond SQLite's 64-bit integers
ENORMOUS = "9" * 5000  # beyond Python's int() digit limit


@pytest.fixture(scope="module")
def desk_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bad-input")
    build_small_desk(home)
    assert run(home, "follow-up", "done", "2")[0] == 0  # a done follow-up, to complete again
    return home


def run(home: Path, *args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["--home", str(home), *args])
    return code, err.getvalue()


CASES = [
    # amounts
    ("deal", "add", "X", "--value", "-1"),
    ("deal", "add", "X", "--value", "1e400"),
    ("deal", "add", "X", "--value", "1e999999999"),
    ("deal", "add", "X", "--value", HUGE),
    ("deal", "add", "X", "--value", "10000000000000.01"),
    ("deal", "add", "X", "--value", "NaN"),
    ("deal", "add", "X", "--value", "12.5kk"),
    ("deal", "add", "X", "--value", ""),
    ("deal", "add", "X", "--value", "²"),
    ("quota", "set", "2026-11", "-5"),
    ("quota", "set", "2026-11", "1e400"),
    ("quota", "set", "2026-11", HUGE),
    # text that must say something
    ("deal", "add", "   "),
    ("deal", "add", "X", "--currency", "EURO"),
    ("deal", "add", "X", "--currency", "€"),
    ("deal", "lost", "1", "--reason", "   "),
    ("objection", "add", "1", "--category", "price", "--said", "  "),
    # dates
    ("deal", "add", "X", "--first-contact", "2026-02-29"),
    ("deal", "add", "X", "--first-contact", "fri 10:00"),
    ("deal", "add", "X", "--first-contact", "+99999999d"),
    ("deal", "add", "X", "--first-contact", "2026-11-20", "--expected-close", "2026-11-19"),
    ("deal", "won", "1", "--on", "1999-01-01"),
    ("deal", "lost", "1", "--reason", "price", "--on", "2026-13-01"),
    ("log", "call", "1", "--next", "yesterday 25:00"),
    ("log", "call", "1", "--next", "+" + HUGE + "d"),
    ("follow-up", "add", "1", "2026-02-29"),
    ("follow-up", "snooze", "1", "someday"),
    ("follow-up", "done", "1", "--next", "fryday"),
    ("kpi", "--as-of", "tomorrow 10:00"),
    ("kpi", "--as-of", "2026-02-30"),
    # numbers of minutes and repeats
    ("log", "call", "1", "--minutes", "-5"),
    ("log", "call", "1", "--minutes", "1441"),
    ("log", "call", "1", "--minutes", "1.5"),
    ("log", "call", "1", "--minutes", "²"),
    ("log", "call", "1", "--minutes", ENORMOUS),
    ("follow-up", "add", "1", "tomorrow", "--every", "0d"),
    ("follow-up", "add", "1", "tomorrow", "--every", "367d"),
    ("follow-up", "add", "1", "tomorrow", "--every", "²d"),
    ("follow-up", "add", "1", "tomorrow", "--every", HUGE + "d"),
    # stages
    ("deal", "add", "X", "--stage", "Won"),
    ("deal", "add", "X", "--stage", "0"),
    ("deal", "move", "1", "Lost"),
    ("deal", "move", "1", HUGE),
    ("deal", "move", "1", "²"),
    ("deal", "reopen", "7", "--stage", "Nowhere"),
    ("deal", "list", "--stage", "Nowhere"),
    ("deal", "list", "--status", "weird"),
    # periods
    ("quota", "2026-Q0"),
    ("quota", "2026-Q5"),
    ("quota", "2026-11-01"),
    ("quota", "-2026"),
    ("quota", "2026-11", "2026-12"),
    ("quota", "set", "2026-00", "5"),
    ("kpi", "--period", "0000"),
    # ids and deal references
    ("deal", "won", HUGE),
    ("deal", "won", ENORMOUS),
    ("deal", "won", "²"),
    ("deal", "show", "-1"),
    ("deal", "move", "", "Prospect"),
    ("log", "call", "nobody"),
    ("log", "call", "1" + HUGE),
    ("follow-up", "add", HUGE, "tomorrow"),
    ("follow-up", "done", "0"),
    ("follow-up", "done", "-1"),
    ("follow-up", "done", HUGE),
    ("follow-up", "done", "²"),
    ("follow-up", "done", "2"),  # already done
    ("follow-up", "snooze", ENORMOUS, "tomorrow"),
    ("objection", "add", HUGE, "--category", "price", "--said", "x"),
    ("objection", "add", "1", "--category", "weather", "--said", "x"),
    ("objection", "answer", HUGE, "x"),
    ("objection", "resolve", "0"),
    ("playbook", "weather"),
    # files
    ("import", "/nonexistent/deals.csv"),
    ("import", "/"),
    ("export", "ics", "/"),
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a)[:60])
def test_a_bad_value_exits_2_with_one_line_and_changes_no_table(
    desk_home: Path, args: tuple[str, ...]
) -> None:
    before = table_checksums(desk_home / "desk.sqlite")
    code, err = run(desk_home, *args)
    assert code == 2, err
    assert err.startswith("repdesk: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "unexpected error" not in err
    assert table_checksums(desk_home / "desk.sqlite") == before


def test_a_non_utf8_csv_is_refused_the_same_way(desk_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "deals.csv"
    # Not UTF-8, and 0x8d is in no Windows-1252 text either (other bytes read as Windows-1252).
    bad.write_bytes(b"title,value\n\xff\x8dFleet,12\n")
    before = table_checksums(desk_home / "desk.sqlite")
    assert run(desk_home, "import", str(bad))[0] == 2
    assert table_checksums(desk_home / "desk.sqlite") == before


@pytest.mark.slow
def test_the_real_entry_point_answers_bad_input_the_same(desk_home: Path) -> None:
    before = table_checksums(desk_home / "desk.sqlite")
    for args in (CASES[1], CASES[55], CASES[-4]):
        result = repdesk(desk_home, *args)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert table_checksums(desk_home / "desk.sqlite") == before


# ---------------------------------------------------------------- generated values

ENTRIES = {
    "amount": lambda v: ("deal", "add", "Generated", "--value", v),
    "quota": lambda v: ("quota", "set", "2026-11", v),
    "when": lambda v: ("follow-up", "add", "1", v),
    "date": lambda v: ("deal", "won", "1", "--on", v),
    "period": lambda v: ("kpi", "--period", v, "--json"),
    "minutes": lambda v: ("log", "call", "1", "--minutes", v),
    "every": lambda v: ("follow-up", "add", "1", "tomorrow", "--every", v),
    "stage": lambda v: ("deal", "move", "1", v),
    "follow-up id": lambda v: ("follow-up", "snooze", v, "tomorrow"),
    "deal": lambda v: ("objection", "add", v, "--category", "price", "--said", "x"),
}
NUMBERISH = st.text(alphabet="0123456789+-.,eEkKmMdDwW:Q ²٣_x", max_size=24)
VALUES = st.one_of(NUMBERISH, st.text(max_size=24), st.sampled_from([HUGE, ENORMOUS, "-0"]))


@pytest.mark.slow
@settings(
    max_examples=scaled(full=300, default=100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(entry=st.sampled_from(sorted(ENTRIES)), value=VALUES)
def test_any_value_is_taken_or_refused_with_exit_2_never_a_crash(
    desk_home: Path, entry: str, value: str
) -> None:
    value = value.replace("\x00", "")  # argv cannot carry NUL
    if value.startswith("-"):
        value = " " + value  # a leading dash would be read as an option
    desk = desk_home / "desk.sqlite"
    before = table_checksums(desk)
    code, err = run(desk_home, *ENTRIES[entry](value))
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("repdesk: ") and "unexpected error" not in err, err
        assert table_checksums(desk) == before
