"""Every way an import is refused: one clear message naming FILE:LINE, the column, the value and
what was expected; exit code 2; the desk unchanged."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from tests.io.helpers import FIXTURES, digest
from tests.shell import ok, refused


@pytest.fixture
def desk(home: Path) -> Path:
    ok("deal", "add", "Existing deal", "--company", "Acme", "--value", "1000")
    return home / "desk.sqlite"


def write(tmp_path: Path, text: str, name: str = "deals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused_unchanged(desk: Path, *args: object) -> str:
    before = digest(desk)
    err = refused("import", *[str(a) for a in args])
    assert digest(desk) == before
    return err


def test_each_bad_cell_is_named_with_file_line_column_value_and_form(
    desk: Path, tmp_path: Path
) -> None:
    bad = write(
        tmp_path,
        "title,value,currency,status,segment,first_contact,closed_on\n"
        "Good,100,EUR,open,new,2026-01-01,\n"
        ",5,EUR,open,new,,\n"
        "Two,abc,EUR,open,new,,\n"
        "Three,5,EURO,open,new,,\n"
        "Four,5,EUR,pending,new,,\n"
        "Five,5,EUR,open,partner,,\n"
        "Six,5,EUR,open,new,1/2/2026,\n"
        '"Seven\nspans two lines",5,EUR,won,new,,\n'
        "Eight,5,EUR,lost,new,2026-02-01,2026-01-01\n",
    )
    err = refused_unchanged(desk, bad)
    assert f"{bad}:3: title '': expected a deal title" in err
    assert f"{bad}:4: value 'abc': expected an amount" in err
    assert f"{bad}:5: currency 'EURO': expected an ISO 4217 currency code" in err
    assert f"{bad}:6: status 'pending': expected open, won or lost" in err
    # An optional descriptive field never refuses a file: 'partner' is kept as a segment.
    assert f"{bad}:7:" not in err
    assert f"{bad}:8: first_contact '1/2/2026': expected an ISO date" in err
    # A record that spans lines is named by the line it starts on.
    assert f"{bad}:9: closed_on '': expected the date the won deal closed" in err
    assert f"{bad}:11: closed_on '2026-01-01': expected on or after 2026-02-01" in err
    assert err.startswith("repdesk: nothing was imported: 7 problems\n")


def test_at_most_twenty_problems_then_a_count(desk: Path, tmp_path: Path) -> None:
    bad = write(tmp_path, "title,value\n" + "".join(f"D{i},x{i}\n" for i in range(30)))
    err = refused_unchanged(desk, bad)
    assert err.count("expected an amount") == 20
    assert "… and 10 more" in err and "30 problems" in err


def test_unknown_stages_are_listed_with_counts(desk: Path, tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "title,stage\nA,Discovery\nB,Discovery\nC,Pitch\nD,Demo\n",
    )
    err = refused_unchanged(desk, bad)
    assert "stages the desk does not have: 'Discovery' (2 deals, first at" in err
    assert f"'Pitch' (1 deal, first at {bad}:4)" in err
    assert "--stage-map" in err and "--create-stages" in err
    err = refused_unchanged(desk, bad, "--stage-map", "Discovery=Nowhere")
    assert "the desk has no stage 'Nowhere' (named in --stage-map" in err


def test_a_status_that_contradicts_the_stage(desk: Path, tmp_path: Path) -> None:
    bad = write(tmp_path, "title,stage,status,closed_on\nA,Won,lost,2026-01-01\n")
    err = refused_unchanged(desk, bad)
    assert f"{bad}:2: stage 'Won': expected a stage that fits a lost deal" in err


def test_status_map_reads_other_words(desk: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "title,status,closed_on\nA,Signed,2026-01-01\nB,Dead,2026-01-02\n")
    refused_unchanged(desk, path)
    out = ok("import", path, "--status-map", "Signed=won", "--status-map", "Dead=lost")
    assert "Won    won           1" in out and "Lost   lost          1" in out


def test_the_same_id_twice_in_one_file(desk: Path, tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "Deal - ID,Deal - Title,Deal - Status\n7,A,Open\n7,B,Open\n",
    )
    err = refused_unchanged(desk, bad)
    assert f"{bad}:3: the deal 'pipedrive:7' appears again (first at {bad}:2)" in err


def test_files_that_cannot_be_read(desk: Path, tmp_path: Path) -> None:
    assert "no such file" in refused_unchanged(desk, tmp_path / "missing.csv")
    # Bytes no encoding we recognise can hold: 0x81 is undefined in Windows-1252.
    unknown = tmp_path / "unknown.csv"
    unknown.write_bytes(b"title\nM\x81ller \xe9\n")
    err = refused_unchanged(desk, unknown)
    assert "neither UTF-8, UTF-16 nor Windows-1252 text (byte 0x81 at offset 7)" in err
    assert "--encoding NAME" in err
    empty = write(tmp_path, "", "empty.csv")
    assert "no header line" in refused_unchanged(desk, empty)
    assert "is a folder" in refused_unchanged(desk, tmp_path)


def _import_in_a_bounded_process(home: Path, path: Path) -> subprocess.CompletedProcess[str]:
    """`repdesk import PATH` with at most 2 GB of memory and a minute: without the rule below,
    /dev/zero took all the machine's memory and a named pipe hung."""

    def bounded() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    return subprocess.run(
        [sys.executable, "-m", "repdesk", "import", str(path)],
        env={**os.environ, "REPDESK_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=bounded,
    )


@pytest.mark.parametrize("name", ["deals.csv", "desk.json"])
def test_a_device_or_a_pipe_nobody_writes_is_refused_at_once(
    desk: Path, home: Path, tmp_path: Path, name: str
) -> None:
    before = digest(desk)
    device = tmp_path / f"zero-{name}"
    device.symlink_to("/dev/zero")  # never ends
    done = _import_in_a_bounded_process(home, device)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "is a device, not a" in done.stderr
    pipe = tmp_path / f"pipe-{name}"
    os.mkfifo(pipe)  # nobody writes: opening it used to wait for ever
    done = _import_in_a_bounded_process(home, pipe)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert digest(desk) == before


def test_a_pipe_with_an_export_in_it_is_read(desk: Path, home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "repdesk", "import", "/dev/stdin"],
        input="title,company\nPiped deal,Acme\n",
        env={**os.environ, "REPDESK_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Piped deal" in ok("deal", "list")


def test_unknown_headers_ask_for_a_mapping(desk: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "opportunity,amount\nA,5\n")
    err = refused_unchanged(desk, path)
    assert "not a format repdesk knows" in err and "opportunity, amount" in err
    assert "--map FIELD=COLUMN" in err
    assert "'headline' is not a field" in refused_unchanged(desk, path, "--map", "headline=x")
    err = refused_unchanged(desk, path, "--map", "title=name")
    assert "has no column 'name'" in err
    assert "expected THEIRS=OURS" in refused_unchanged(desk, path, "--stage-map", "Won")
    err = refused_unchanged(desk, path, "--map", "title=opportunity", "--status-map", "a=b")
    assert "'b' is not open, won or lost" in err
    ok("import", path, "--map", "title=opportunity", "--map", "value=amount")


def test_from_a_format_whose_title_column_is_missing(desk: Path) -> None:
    err = refused_unchanged(desk, FIXTURES / "hubspot_deals.csv", "--from", "pipedrive")
    assert "no column for the deal title in a Pipedrive deals export" in err


def test_a_date_format_that_reads_no_date(desk: Path) -> None:
    err = refused_unchanged(desk, FIXTURES / "salesforce_report.csv", "--date-format", "%H:%M")
    assert "--date-format '%H:%M': expected a format that reads a whole date" in err


def test_dry_run_reports_by_stage_and_status_and_writes_nothing(desk: Path) -> None:
    before = digest(desk)
    out = ok("import", FIXTURES / "pipedrive_deals.csv", "--dry-run")
    assert "Would import 4 deals" in out and "4 to create, 0 to update" in out
    assert "Negotiation  open          1" in out and "Won          won           1" in out
    assert "Nothing was written (--dry-run)." in out
    assert digest(desk) == before


def test_a_score_or_probability_only_float_or_int_could_read_is_refused_by_its_cell(
    desk: Path, tmp_path: Path
) -> None:
    # A 5,000-digit score was "unexpected error: ValueError" (int() refuses that many digits);
    # '1e1', '1_0' and other scripts' digits were read as probabilities by float().
    bad = write(
        tmp_path,
        "source_id,title,status,closed_on,nps,own_probability\n"
        f"t:1,Won one,won,2026-11-01,{'9' * 5000},\n"
        "t:2,Open one,open,,,1e1\n"
        "t:3,Open two,open,,,1_0\n"
        "t:4,Open three,open,,,٣\n"
        "t:5,Open four,open,,,40.5%\n",
    )
    err = refused_unchanged(desk, bad)
    assert f"{bad}:2: nps '999" in err and "expected a score from 0 to 10" in err
    for line, typed in ((3, "1e1"), (4, "1_0"), (5, "٣")):
        assert f"{bad}:{line}: own_probability '{typed}': expected a probability" in err
    assert f"{bad}:6:" not in err  # a CRM's decimal percentage is still read
    assert "Traceback" not in err and "unexpected error" not in err
