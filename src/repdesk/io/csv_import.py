"""Import pipeline, first half: read CSV files into checked rows, without touching the desk.

One pipeline for every format: read the file (UTF-8 with or without a byte-order mark, UTF-16,
Windows-1252; quoted commas and line breaks), recognise its format by its headers
(`repdesk.io.formats`), apply the column mapping (the format's, overridden by `--map`), and
parse each cell with the value parsers (`repdesk.io.values`). Every problem is collected as
`FILE:LINE: column 'value': expected ...`, up to 20 are reported at once, and nothing is
written if there is any. The second half (stages, status, create or update, one transaction)
is `repdesk.services.transfer`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from repdesk.core import forecast
from repdesk.core.domain import CONTACT_ROLES, role_word, row_id
from repdesk.core.errors import InvalidInput, RepdeskError
from repdesk.core.money import AMOUNT_FORMS
from repdesk.core.quantities import MAX_MINUTES
from repdesk.core.reach import check_address, check_phone
from repdesk.core.text import shown_value
from repdesk.io import files, formats, values
from repdesk.io.csv_export import unescape_cell
from repdesk.io.formats import DEAL_FIELDS, Format, normalise

MAX_REPORTED = 20
OWN_ID_PREFIX = "repdesk:"  # `repdesk export csv` writes a deal without a source id as this + id
Progress = Callable[[int, int], None]


class ImportFailed(RepdeskError):
    def __init__(self, problems: list[str], total: int) -> None:
        self.problems = problems
        self.total = total
        more = f"\n… and {total - len(problems):,} more" if total > len(problems) else ""
        super().__init__(
            f"nothing was imported: {total:,} problem{'s' if total != 1 else ''}\n"
            + "\n".join(problems)
            + more
        )


class Problems:
    """Collects problems; keeps the first MAX_REPORTED, counts them all."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.total = 0

    def add(self, where: str, column: str, value: str, expected: str) -> None:
        self.add_line(f"{where}: {column} {shown_value(value)}: expected {expected}")

    def add_line(self, text: str) -> None:
        self.total += 1
        if len(self.shown) < MAX_REPORTED:
            self.shown.append(text)

    def add_first(self, text: str) -> None:
        """A problem that matters more than the per-row ones (such as unknown stages)."""
        self.total += 1
        self.shown = [text, *self.shown][:MAX_REPORTED]

    def check(self) -> None:
        if self.total:
            raise ImportFailed(self.shown, self.total)


@dataclass(frozen=True)
class ImportOptions:
    family: str | None = None  # None: recognise each file by its headers
    column_map: dict[str, str] = field(default_factory=dict)  # our field -> their column
    stage_map: dict[str, str] = field(default_factory=dict)  # their stage (normalised) -> ours
    status_map: dict[str, str] = field(default_factory=dict)  # their status -> open/won/lost
    date_format: str | None = None
    encoding: str | None = None  # None: recognised (see decode)
    create_stages: bool = False
    default_currency: str = "EUR"


@dataclass
class Table:
    path: Path
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line where the record starts, cells)
    encoding: str = "UTF-8"  # as the summary names it
    decimal_comma: bool = False  # semicolon-separated: written where a comma is the decimal mark


@dataclass
class DealRow:
    where: str  # "FILE:LINE"
    source_id: str | None
    title: str
    company: str = ""
    contact: str = ""
    email: str = ""
    phone: str = ""
    value_cents: int = 0
    currency: str = "EUR"
    stage: str = ""  # the file's stage name; "" for none
    stage_column: str = "stage"
    status: str | None = None  # None: the stage decides
    source: str = ""
    product: str = ""
    region: str = ""
    segment: str = "new"
    first_contact: date | None = None
    expected_close: date | None = None
    closed_on: date | None = None
    close_date: date | None = None
    lost_reason: str = ""
    probability: int | None = None
    # A stage's own place and probability, where the file gives them (Salesforce's
    # StageSortOrder; repdesk's own export): created stages follow them.
    stage_order: int | None = None
    stage_probability: int | None = None
    # The rep's own forecast fields, from a file with their columns (repdesk's export): which
    # of formats.OWN_FORECAST_FIELDS it has, and their values (the model's column names).
    own: dict[str, Any] = field(default_factory=dict)
    # The CRM's forecast category (Salesforce's ForecastCategoryName, HubSpot's Forecast
    # category) as stored; the import keeps it as the rep's call where the stage's default
    # differs.
    crm_forecast: str | None = None
    nps_on: date | None = None
    account: str = ""  # the CRM's account id: company names and task links go through it
    # The other people a person cell names after the first ("Ana (ana@x); Bo (bo@x)", as
    # HubSpot writes a deal's associated contacts): (name, address) each.
    more_people: list[tuple[str, str]] = field(default_factory=list)
    created_is_first_contact: bool = False
    known_stages: Mapping[str, str] = field(default_factory=dict)  # the format's stage words
    # Our date field -> the file's column for it ("" when it has none): messages name these.
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class ActivityRow:
    where: str
    source_id: str
    links: tuple[str, ...]  # the CRM ids it hangs on (an opportunity or an account)
    kind: str
    at: datetime
    outcome: str = ""
    minutes: int | None = None
    text: str = ""
    # A to-do the CRM has still open (Salesforce's Status "Not Started", IsClosed false): a
    # next step due on `at`'s day, not something that happened.
    still_open: bool = False
    due: bool = True  # the file gives its day (ActivityDate); else `at` is its creation


# Salesforce's closed task statuses (its default picklist's; an org may add its own, which
# the IsClosed column then tells).
_DONE_STATUSES = frozenset({"completed", "complete", "done", "closed"})


@dataclass
class PersonRow:
    """A contact from a CRM's people export (Salesforce Contact.csv)."""

    where: str
    source_id: str  # their id, e.g. "salesforce:003..."
    name: str
    account: str = ""  # the CRM's account id: the company, through Account.csv
    title: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


@dataclass
class RoleRow:
    """A contact on a deal (Salesforce OpportunityContactRole.csv)."""

    where: str
    deal_source_id: str  # "salesforce:006..."
    person_source_id: str  # "salesforce:003..."
    role: str  # repdesk's word
    primary: bool = False


@dataclass
class SourceFile:
    path: Path
    format: Format
    rows: int
    unused_columns: list[str]
    encoding: str = "UTF-8"


@dataclass
class ImportNotes:
    """What the rep should know about an import that is not a problem: each becomes a line of
    the summary (`summary_lines`). The reading fills the file's side, `services.transfer` the
    desk's."""

    # The file's own value of an optional descriptive field -> (its column, FILE:LINE of each).
    kept_segments: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    # FILE:LINE and close day of closed deals dated after today.
    future_closes: list[tuple[str, date]] = field(default_factory=list)
    # FILE:LINE and record creation day of deals closed (or expected to close) before it.
    closed_before_created: list[tuple[str, date]] = field(default_factory=list)
    expected_before_created: list[tuple[str, date]] = field(default_factory=list)
    no_first_contact: list[str] = field(default_factory=list)  # FILE:LINE; taken as today
    long_calls: list[str] = field(default_factory=list)  # FILE:LINE; kept as a day's minutes
    # FILE:LINE of open deals whose expected close has passed: in no forecast (said, as the
    # KPI pane's €0 forecast beside €27m open puzzled a new user).
    expected_passed: list[str] = field(default_factory=list)
    # The CRM's forecast calls kept where the stage's default differs: (FILE:LINE, category);
    # and the categories repdesk does not know -> (their column, FILE:LINE of each).
    crm_forecasts: list[tuple[str, str]] = field(default_factory=list)
    unknown_forecasts: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    # (stage, the category the CRM gives its open deals, the desk's default, the stage's
    # probability) where the two categories differ.
    stage_forecasts: list[tuple[str, str, str, int]] = field(default_factory=list)
    # FILE:LINE of amounts the file gives no currency for: in the desk's, said once.
    assumed_currency: list[str] = field(default_factory=list)
    # (FILE:LINE, the value) of email and phone cells that are none: left out, named (kept,
    # a contacts export of the desk could not be imported back: a hostile test).
    not_reachable: list[tuple[str, str]] = field(default_factory=list)
    date_forms: list[str] = field(default_factory=list)  # "FILE: dates read as ... (why)"
    # Into an empty desk: (stage, the desk's probability, the file's), and whether the
    # desk's stages took the file's order.
    stage_probabilities: list[tuple[str, int, int]] = field(default_factory=list)
    stages_reordered: bool = False
    today: date | None = None


@dataclass
class ImportPlan:
    notes: ImportNotes = field(default_factory=ImportNotes)
    sources: list[SourceFile] = field(default_factory=list)
    deals: list[DealRow] = field(default_factory=list)
    activities: list[ActivityRow] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)  # CRM account id -> company name
    people: list[PersonRow] = field(default_factory=list)
    roles: list[RoleRow] = field(default_factory=list)
    # Problems found so far; the desk-side checks add theirs, then all are reported together.
    problems: Problems = field(default_factory=Problems)

    @property
    def prefixes(self) -> set[str]:
        return {s.format.id_prefix for s in self.sources if s.format.records == formats.DEALS}


# ---------------------------------------------------------------- reading


def read_table(path: Path, encoding: str | None = None) -> Table:
    raw = files.read_input(path, "a CSV file")
    text, used = decode(path, raw, encoding)
    # Not str.splitlines(): it also breaks at \x0b, \x0c, \x1c-\x1e, \x85, U+2028 and U+2029,
    # which a CSV writer leaves unquoted inside a cell; csv wants lines split at \r and \n only.
    # strict: a quote that is never closed is an error, not the rest of the file in one cell.
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    if delimiter != ",":
        used = f"{used}, {_SEPARATORS[delimiter]}"
    start = 1
    try:
        headers = next(reader, [])
        rows: list[tuple[int, list[str]]] = []
        start = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        if str(exc) == "unexpected end of data":
            raise RepdeskError(
                f'{path}:{start}: a quoted cell that starts on this line is never closed (a " '
                "too many or too few); nothing after it could be read"
            ) from None
        raise RepdeskError(f"{path}:{reader.line_num}: not readable as CSV ({exc})") from None
    if not any(h.strip() for h in headers):
        raise RepdeskError(f"{path}:1: no header line (the first line names the columns)")
    if "\x00" in "".join(headers):
        raise RepdeskError(f"{path}:1: a NUL character in the header line; remove it")
    seen: dict[str, int] = {}
    for position, header in enumerate(headers, start=1):
        key = normalise(header)
        if key and seen.setdefault(key, position) != position:
            raise RepdeskError(
                f"{path}:1: the column {header.strip()!r} appears twice (columns "
                f"{seen[key]} and {position}): which one holds the value is a guess; "
                "rename or remove one"
            )
    return Table(
        path=path,
        headers=[h.strip() for h in headers],
        rows=rows,
        encoding=used,
        decimal_comma=delimiter == ";",
    )


_SEPARATORS = {",": "comma-separated", "\t": "tab-separated", ";": "semicolon-separated"}


def _delimiter(text: str) -> str:
    """The separator the header line uses: a comma, else a tab (Excel's "Unicode text") or a
    semicolon (Excel's CSV where a comma is the decimal mark), whichever splits it into the
    most columns. A comma-separated header with one name holding a semicolon stays commas."""
    first_line = text.split("\n", 1)[0]
    best, most = ",", 1
    for candidate in _SEPARATORS:
        try:
            names = next(csv.reader([first_line], delimiter=candidate), [])
        except csv.Error:
            continue
        # Split by another separator, a quoted name ("Notes; a; b") leaves its quotes in the
        # pieces: that separator is not the file's (it won for such a header: a hostile test).
        if len(names) > most and not any('"' in name for name in names):
            best, most = candidate, len(names)
    return best


def check_encoding(name: str) -> str:
    """The codec `--encoding NAME` names, or RepdeskError listing common ones."""
    common = "e.g. utf-8, utf-16, windows-1252, latin-1"
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise RepdeskError(f"--encoding {name!r}: not an encoding Python knows; {common}") from None
    # rot13, base64, zlib, hex... are codecs too, but of bytes to bytes: no text comes out.
    if not getattr(info, "_is_text_encoding", True):
        raise RepdeskError(f"--encoding {name!r}: not a text encoding; {common}")
    return info.name


def decode(path: Path, raw: bytes, encoding: str | None) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read in.

    CRMs and spreadsheets write UTF-8 (Excel with a byte-order mark), UTF-16 (Excel's "Unicode
    text", always with a mark) or, in Western European locales, Windows-1252 (Salesforce
    reports default to ISO-8859-1, which Windows-1252 contains). Without `--encoding`: a mark
    decides; else UTF-8 if the bytes are UTF-8 (a Windows-1252 text with an accent almost never
    is); else Windows-1252.
    """
    if encoding is not None:
        codec = check_encoding(encoding)
        if codec == "utf-8":
            codec = "utf-8-sig"  # a byte-order mark is not part of the first header
        try:
            return raw.decode(codec).removeprefix("\ufeff"), encoding
        except UnicodeDecodeError as exc:
            raise RepdeskError(
                f"{path}: not {encoding} text (byte 0x{raw[exc.start]:02x} at offset "
                f"{exc.start:,}); leave out --encoding to have it recognised"
            ) from None
        except (UnicodeError, ValueError):  # punycode's and others' own refusals
            raise RepdeskError(
                f"{path}: not {encoding} text; leave out --encoding to have it recognised"
            ) from None
    if raw.startswith(codecs.BOM_UTF8):
        return _decoded(path, raw, "utf-8-sig"), "UTF-8 with a byte-order mark"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decoded(path, raw, "utf-16"), "UTF-16"
    first_line = raw.split(b"\n", 1)[0]
    if first_line.count(b"\x00") * 3 >= len(first_line) > 0:
        # Every other byte NUL: UTF-16 text without its mark (NULs are valid UTF-8, too).
        raise RepdeskError(
            f"{path}: NUL bytes in the header line, as in UTF-16 text without a byte-order "
            "mark: give its encoding, e.g. --encoding utf-16-le"
        )
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        # Windows-1252 leaves five bytes undefined: a file holding one is in no encoding we know.
        return raw.decode("cp1252"), "Windows-1252, not UTF-8"
    except UnicodeDecodeError as exc:
        raise RepdeskError(
            f"{path}: neither UTF-8, UTF-16 nor Windows-1252 text (byte "
            f"0x{raw[exc.start]:02x} at offset {exc.start:,}); save it as UTF-8, or say which "
            "encoding it is in with --encoding NAME"
        ) from None


def _decoded(path: Path, raw: bytes, codec: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if codec.startswith("utf-8") else "UTF-16"
        raise RepdeskError(
            f"{path}: starts with a {name} byte-order mark, but byte {exc.start:,} is not "
            f"{name}; save it again, or give its encoding with --encoding NAME"
        ) from None


def _pick_format(table: Table, options: ImportOptions) -> Format:
    found = formats.recognise(table.headers, options.family)
    if found is not None:
        return found
    if options.family is not None:
        # Named explicitly: trust the user; the title check below says what is missing.
        return formats.family_default(options.family)
    if options.column_map:
        return formats.MAPPED
    listed = ", ".join(table.headers[:12]) + (", …" if len(table.headers) > 12 else "")
    raise RepdeskError(
        f"{table.path}: not a format repdesk knows (native, Pipedrive, HubSpot, Salesforce); "
        f"its columns are {listed}. Map them with --map FIELD=COLUMN, e.g. --map "
        f"title={table.headers[0]} (fields: {', '.join(DEAL_FIELDS)})"
    )


def _columns(table: Table, fmt: Format, options: ImportOptions) -> dict[str, list[int]]:
    """Our field -> the indexes of the columns that may hold it, in order of preference."""
    index: dict[str, int] = {}
    for position, header in enumerate(table.headers):
        index.setdefault(normalise(header), position)
    columns = {
        name: [index[h] for h in candidates if h in index]
        for name, candidates in fmt.columns.items()
    }
    if fmt.records == formats.DEALS:
        for name, column in options.column_map.items():
            if normalise(column) not in index:
                raise RepdeskError(
                    f"--map {name}={column}: {table.path} has no column {column!r} "
                    f"(its columns: {', '.join(table.headers)})"
                )
            columns[name] = [index[normalise(column)]]
        if not columns.get("title"):
            raise RepdeskError(
                f"{table.path}:1: no column for the deal title in {fmt.name}: "
                f"give one with --map title=COLUMN (its columns: {', '.join(table.headers)})"
            )
    return {name: found for name, found in columns.items() if found}


def read_files(
    paths: Sequence[Path], options: ImportOptions, progress: Progress | None = None
) -> ImportPlan:
    """Read and check every file into a plan; the rows with problems are left out of it and
    the problems kept in `plan.problems` (the desk-side checks add theirs, then report)."""
    plan = ImportPlan()
    problems = plan.problems
    tables = [read_table(path, options.encoding) for path in paths]
    total = sum(len(t.rows) for t in tables)
    done = 0
    for table in tables:
        fmt = _pick_format(table, options)
        if fmt.records == formats.UNSUPPORTED:
            raise RepdeskError(
                f"{table.path}: this is {fmt.name}; repdesk imports Salesforce Opportunity, "
                "Account, Task, Contact and OpportunityContactRole exports"
            )
        columns = _columns(table, fmt, options)
        reading = _date_reading(table, fmt, columns, options, problems, plan.notes)
        used = {i for found in columns.values() for i in found}
        unused = [h for i, h in enumerate(table.headers) if i not in used and h]
        plan.sources.append(SourceFile(table.path, fmt, len(table.rows), unused, table.encoding))
        for line, cells in table.rows:
            if not _row_fits(table, line, cells, problems):
                continue
            cell = _CellReader(table, fmt, columns, line, cells)
            if fmt.records == formats.DEALS:
                row = _deal_row(cell, fmt, options, reading, problems, plan.notes)
                if row is not None:
                    plan.deals.append(row)
            elif fmt.records == formats.ACTIVITIES:
                activity = _activity_row(cell, fmt, reading, problems, plan.notes)
                if activity is not None:
                    plan.activities.append(activity)
            elif fmt.records == formats.CONTACTS:
                _person_row(cell, fmt, plan)
            elif fmt.records == formats.CONTACT_ROLES:
                _role_row(cell, fmt, plan)
            elif (account_id := cell.text("id")[0]) and (name := cell.text("name")[0]):
                plan.accounts[account_id] = name
            done += 1
            if progress is not None and done % 500 == 0:
                progress(done, total)
    _check_duplicate_ids(plan.deals, problems)
    for row in plan.deals:
        if not row.company and row.account in plan.accounts:
            row.company = plan.accounts[row.account]
    return plan


def _date_reading(
    table: Table,
    fmt: Format,
    columns: dict[str, list[int]],
    options: ImportOptions,
    problems: Problems,
    notes: ImportNotes,
) -> values.DateReading:
    """How this file's dates that are not ISO are read: `--date-format`, else the form the file
    proves (named in the summary), else none (each such cell is refused, saying which forms
    would read the file)."""
    names = formats.DATE_FIELDS if fmt.records == formats.DEALS else ("on", "created")
    positions = sorted({i for name in names for i in columns.get(name, ())})
    cells = []
    for line, row in table.rows:
        for position in positions:
            text = row[position].strip() if position < len(row) else ""
            if text and not values.looks_iso(text):
                cells.append((text, f"line {line}, {table.headers[position]}"))
    form = values.infer_date_form(cells)
    if options.date_format:
        # The rep's form wins; if a cell does not read in it, say what would.
        better = form.format != options.date_format and options.date_format not in form.choices
        return values.DateReading(
            options.date_format, given=True, hint=form.hint() if better else ""
        )
    if form.conflict:
        problems.add_first(f"{table.path}: {form.conflict}")
        return values.DateReading()
    if form.format:
        notes.date_forms.append(f"{table.path}: dates read as {form.format}, {form.proof}")
        return values.DateReading(form.format)
    return values.DateReading(hint=form.hint())


def _row_fits(table: Table, line: int, cells: list[str], problems: Problems) -> bool:
    """A record has the header's number of cells (else a stray quote or comma moved every
    value after it) and no NUL character (PostgreSQL cannot store one, and no typed text has
    one)."""
    where = f"{table.path}:{line}"
    if len(cells) != len(table.headers):
        problems.add_line(
            f"{where}: {len(cells)} cells where the header line has {len(table.headers)} "
            "(a stray comma or quote?)"
        )
        return False
    for position, value in enumerate(cells):
        if "\x00" in value:
            column = table.headers[position] or f"column {position + 1}"
            problems.add_line(f"{where}: {column}: a NUL character (\\x00) is not text; remove it")
            return False
    return True


def _check_duplicate_ids(rows: list[DealRow], problems: Problems) -> None:
    first: dict[str, str] = {}
    unnamed: dict[tuple[str, str], str] = {}
    for row in rows:
        if row.source_id is None:
            # Without an id, title and company are what a re-import matches on.
            key = (row.title.casefold(), row.company.casefold())
            if key in unnamed:
                problems.add_line(
                    f"{row.where}: the deal {row.title!r} at {row.company!r} appears again "
                    f"(first at {unnamed[key]}): without an id, title and company name a deal; "
                    "give each row an id (a source_id column, or --map id=COLUMN)"
                )
            else:
                unnamed[key] = row.where
            continue
        if row.source_id in first:
            problems.add_line(
                f"{row.where}: the deal {row.source_id!r} appears again (first at "
                f"{first[row.source_id]}): each deal once per import"
            )
        else:
            first[row.source_id] = row.where


_T = TypeVar("_T")


# One person of a person cell: a name, an address in brackets after it, or both.
_PERSON = re.compile(r"\s*(?P<name>[^;()]*?)\s*(?:\((?P<address>[^()\s;]+@[^()\s;]+)\))?\s*")


def people_in_cell(text: str) -> list[tuple[str, str]]:
    """The people a deal's person cell names, as (name, address): "Maria Johnson
    (maria@x.example);Brian Halligan (bh@x.example)" (HubSpot's associated contacts) is two
    with their addresses; anything else ("Ana (CFO)", "Smith; John") is one name as written.
    Read as one whole name, the cell made one contact of both (found by an audit)."""
    parts = [part for part in text.split(";") if part.strip()]
    found = []
    for part in parts or [text]:
        match = _PERSON.fullmatch(part)
        # Several only when each has its address: "Smith; John" is one name as written (a
        # review: any semicolon split it).
        if match is None or (len(parts) > 1 and not match["address"]):
            return [(text.strip(), "")]
        name, address = match["name"], match["address"] or ""
        found.append((name or address, address))
    return found or [(text.strip(), "")]


def _decimal_comma_first(table: Table, parse: Callable[[str], _T]) -> Callable[[str], _T]:
    """In a semicolon-separated file (Excel where a comma is the decimal mark) a number is read
    with the comma as its decimal mark and the point grouping thousands ("1.234,56"), else as
    written ("1234.56"); a number neither way reads is refused as written."""
    if not table.decimal_comma:
        return parse

    def parse_either(text: str) -> _T:
        try:
            return parse(text.translate(_SWAP_MARKS))
        except values.CellError as swapped:
            try:
                return parse(text)
            except values.CellError as written:
                # "-1.234,50" read with the comma as decimal mark is a number refused for its
                # value (negative): say that, not that a comma only groups thousands.
                chosen = swapped if _understood(swapped) and not _understood(written) else written
                raise values.CellError(_in_decimal_comma_words(chosen.expected)) from None

    return parse_either


_SWAP_MARKS = str.maketrans({",": ".", ".": ","})


# What the amount parser says of a number's marks, said as this file writes numbers.
_DECIMAL_COMMA_WORDS = (
    (
        "a comma only groups thousands (12,500) and decimals take a point (12.5)",
        "a point only groups thousands (12.500) and decimals take a comma (12,5)",
    ),
    (AMOUNT_FORMS, "use digits with a comma for decimals, e.g. 12500, 12.500,50, 12,5k or 1,2m"),
    ("12,500.50", "12.500,50"),
)


def _in_decimal_comma_words(expected: str) -> str:
    for said, instead in _DECIMAL_COMMA_WORDS:
        expected = expected.replace(said, instead)
    return expected


def _understood(problem: values.CellError) -> bool:
    """Whether the cell was read as a number and refused for its value, not for its form."""
    return not any(
        words in problem.expected for words in ("is not an amount", "is ambiguous", "a whole")
    )


class _CellReader:
    """One record's cells by our field names: the first non-empty candidate column wins."""

    def __init__(
        self, table: Table, fmt: Format, columns: dict[str, list[int]], line: int, cells: list[str]
    ) -> None:
        self.table, self.fmt, self.columns, self.cells = table, fmt, columns, cells
        self.where = f"{table.path}:{line}"

    def has(self, name: str) -> bool:
        return name in self.columns

    def text(self, name: str) -> tuple[str, str]:
        """(value, the header it came from); ("", our field name) when there is none."""
        if name not in self.columns:  # most of a format's fields are not in a given file
            return "", name
        for position in self.columns[name]:
            if position < len(self.cells):
                value = self.cells[position]
                if self.fmt.unescapes_formulas:
                    value = unescape_cell(value)
                value = value.strip()
                if value:
                    return value, self.table.headers[position]
        found = self.columns.get(name)
        return "", self.table.headers[found[0]] if found else name


_STATUS_WORDS = {
    "open": "open",
    "won": "won",
    "lost": "lost",
    "closed won": "won",
    "closed lost": "lost",
}


def _deal_row(
    cell: _CellReader,
    fmt: Format,
    options: ImportOptions,
    reading: values.DateReading,
    problems: Problems,
    notes: ImportNotes,
) -> DealRow | None:
    where = cell.where
    before = problems.total

    def parsed(name: str, parse: Callable[[str], object]) -> object | None:
        value, column = cell.text(name)
        if not value:
            return None
        try:
            return parse(value)
        except values.CellError as exc:
            problems.add(where, column, value, exc.expected)
            return None

    title, title_column = cell.text("title")
    if not title:
        problems.add(where, title_column, title, "a deal title")
    row = DealRow(where=where, source_id=None, title=title)
    for name in ("company", "contact", "email", "phone", "source", "product", "region"):
        setattr(row, name, cell.text(name)[0])
    named = people_in_cell(row.contact)
    (row.contact, address), row.more_people = named[0], named[1:]
    if address and row.email and address.casefold() != row.email.casefold():
        # The email column is the deal's; the main contact keeps the cell's address too (it
        # was dropped: an audit).
        row.more_people.insert(0, (row.contact, address))
    row.email = _reachable(check_address, row.email or address, where, notes)
    row.phone = _reachable(check_phone, row.phone, where, notes)
    row.lost_reason = cell.text("lost_reason")[0]
    row.account = cell.text("account")[0]
    row.created_is_first_contact = fmt.created_is_first_contact
    row.known_stages = fmt.stages
    # The currency column first: a value's symbol or code must agree with it ("£500" in a
    # EUR row is refused); without one, a symbol sets the deal's currency.
    currency = parsed("currency", values.parse_currency)
    money = parsed(
        "value",
        _decimal_comma_first(
            cell.table,
            lambda text: values.parse_money(
                text,
                currency=str(currency) if currency else None,
                default_currency=options.default_currency,
            ),
        ),
    )
    code = None
    if isinstance(money, tuple):
        row.value_cents, code = money
    row.currency = str(currency or code or options.default_currency)
    if not (currency or code) and row.value_cents:
        notes.assumed_currency.append(cell.where)
    # Descriptive: a word the CRMs use for a new or an existing customer is read as one; any
    # other value is kept as it is, a slice of its own, and named in the summary.
    segment, segment_column = cell.text("segment")
    word = values.segment_word(segment)
    row.segment = word or segment
    if word is None:
        notes.kept_segments.setdefault(segment, (segment_column, []))[1].append(where)
    percent = _decimal_comma_first(cell.table, values.parse_probability)
    probability = parsed("probability", percent)
    row.probability = probability if isinstance(probability, int) else None
    stage_probability = parsed("stage_probability", percent)
    row.stage_probability = stage_probability if isinstance(stage_probability, int) else None
    # Only an ordering hint: one that does not read is left out, never a reason to refuse.
    row.stage_order = values.whole_number(cell.text("stage_order")[0])
    _own_forecast(row, cell, parsed)
    _crm_forecast(row, cell, notes)
    for name in formats.DATE_FIELDS:
        text, column = cell.text(name)
        row.columns[name] = column if cell.has(name) else ""
        if text:
            try:
                day = values.parse_day(text, reading, naive_utc=name in fmt.naive_utc)
            except values.CellError as exc:
                problems.add(where, column, text, exc.expected)
            else:
                setattr(row, name, day)
    row.stage, row.stage_column = cell.text("stage")
    row.status = _status(cell, fmt, options, problems)
    if cell.has("id") and (their_id := cell.text("id")[0]):
        row.source_id = f"{fmt.id_prefix}:{their_id}" if fmt.id_prefix else their_id
        own = their_id.removeprefix(OWN_ID_PREFIX)
        if not fmt.id_prefix and own != their_id and row_id(own) is None:
            # `repdesk:N` names deal N of the desk that exported it; '²' or 5,000 digits do not.
            value, column = cell.text("id")
            problems.add(where, column, value, f"{OWN_ID_PREFIX}N with N a deal id, or another id")
    elif fmt.id_prefix and title:
        # No id to go by (a report without its id column): title and company identify it.
        row.source_id = f"{fmt.id_prefix}:{title.casefold()}|{row.company.casefold()}"
    return row if problems.total == before else None


def _own_forecast(row: DealRow, cell: _CellReader, parsed: Callable[..., Any]) -> None:
    """The rep's call, the deal's own probability, its competitor and its customer's score,
    each where the file has its column (nps_on is read with the dates)."""
    if cell.has("forecast"):
        call = parsed("forecast", values.parse_forecast)
        row.own["forecast"] = None if call in (None, forecast.AUTO) else call
    if cell.has("own_probability"):
        own = parsed("own_probability", _decimal_comma_first(cell.table, values.parse_probability))
        row.own["probability"] = own if isinstance(own, int) else None
    if cell.has("competitor"):
        row.own["competitor"] = cell.text("competitor")[0]
    if cell.has("nps"):
        score = parsed("nps", values.parse_score)
        row.own["nps"] = score if isinstance(score, int) else None
    if cell.has("nps_on"):
        row.own["nps_on"] = None  # the date loop fills it in (row.nps_on)


def _crm_forecast(row: DealRow, cell: _CellReader, notes: ImportNotes) -> None:
    """The CRM's forecast category: never a reason to refuse a row (descriptive, like the
    segment); a word repdesk does not know leaves the deal to its stage's default, and is
    named in the summary."""
    text, column = cell.text("crm_forecast")
    if not text:
        return
    call = forecast.crm_category(text)
    if call is None:
        notes.unknown_forecasts.setdefault(text, (column, []))[1].append(cell.where)
    elif call != forecast.CLOSED:
        row.crm_forecast = call


def _status(
    cell: _CellReader, fmt: Format, options: ImportOptions, problems: Problems
) -> str | None:
    value, column = cell.text("status")
    if value:
        key = normalise(value)
        status = options.status_map.get(key) or fmt.statuses.get(key) or _STATUS_WORDS.get(key)
        if status is None:
            problems.add(
                cell.where,
                column,
                value,
                "open, won or lost (map other words with --status-map THEIRS=open|won|lost)",
            )
        return status
    if cell.has("is_won") or cell.has("is_closed"):
        flags = []
        for name in ("is_won", "is_closed"):
            text, column = cell.text(name)
            try:
                flags.append(values.parse_flag(text))
            except values.CellError as exc:
                problems.add(cell.where, column, text, exc.expected)
                return None
        won, closed = flags
        return "won" if won else "lost" if closed else "open"
    return None


def _activity_row(
    cell: _CellReader,
    fmt: Format,
    reading: values.DateReading,
    problems: Problems,
    notes: ImportNotes,
) -> ActivityRow | None:
    before = problems.total
    their_id, id_column = cell.text("id")
    if not their_id:
        problems.add(cell.where, id_column, their_id, "the task's id")
    subtype = cell.text("subtype")[0].casefold()
    kind_word = cell.text("type")[0].casefold()
    seconds, seconds_column = cell.text("seconds")
    minutes = None
    try:
        minutes = values.parse_seconds_as_minutes(seconds)
    except values.CellError as exc:
        problems.add(cell.where, seconds_column, seconds, exc.expected)
    if minutes is not None and minutes > MAX_MINUTES:
        notes.long_calls.append(cell.where)
        minutes = MAX_MINUTES
    if subtype == "call" or cell.text("call_type")[0] or seconds:
        kind = "call"
    elif subtype in ("email", "listemail"):
        kind = "email"
    elif kind_word in ("call", "email", "meeting"):
        kind = kind_word
    else:
        kind = "note"
    at = None
    day_text, day_column = cell.text("on")
    created_text, created_column = cell.text("created")
    try:
        if day_text:
            at = values.local_noon(values.parse_day(day_text, reading))
        elif created_text:
            at = values.parse_instant(created_text, reading, naive_utc="created" in fmt.naive_utc)
        else:
            named = " and ".join(
                column
                for name, column in (("on", day_column), ("created", created_column))
                if cell.has(name)
            )
            problems.add_line(
                f"{cell.where}: no date for the task"
                + (f" ({named} empty)" if named else " (the file has no column for it)")
            )
    except values.CellError as exc:
        text, column = (day_text, day_column) if day_text else (created_text, created_column)
        problems.add(cell.where, column, text, exc.expected)
    subject, description = cell.text("subject")[0], cell.text("description")[0]
    links = tuple(link for link in (cell.text("what")[0], cell.text("account")[0]) if link)
    still_open = _still_open(cell, problems)
    if problems.total != before or at is None:
        return None
    return ActivityRow(
        where=cell.where,
        source_id=f"{fmt.id_prefix}:{their_id}",
        links=links,
        kind=kind,
        at=at,
        outcome=cell.text("disposition")[0],
        minutes=minutes,
        text=" — ".join(part for part in (subject, description) if part),
        still_open=still_open,
        due=bool(day_text),
    )


def _still_open(cell: _CellReader, problems: Problems) -> bool:
    """A task still to do: IsClosed false where the file has it, else a status other than a
    closed one; a file with neither (a call log) holds what happened."""
    closed, column = cell.text("is_closed")
    if closed:
        try:
            return not values.parse_flag(closed)
        except values.CellError as exc:
            problems.add(cell.where, column, closed, exc.expected)
            return False
    status = cell.text("status")[0]
    return bool(status) and status.strip().casefold() not in _DONE_STATUSES


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


def _reachable(check: Callable[[str], str], text: str, where: str, notes: ImportNotes) -> str:
    """An email or phone cell as the shell takes one, or "" and a note when it is none (`call
    me`, `not-an-email`): a CRM's text, so nothing is refused for it, but it reaches no
    contact record, where the desk takes only an address or a number (the shell's rule)."""
    if not text.strip():
        return ""
    try:
        return check(text)
    except InvalidInput:
        notes.not_reachable.append((where, text))
        return ""


def _reachables(
    check: Callable[[str], str], texts: Sequence[str], where: str, notes: ImportNotes
) -> tuple[str, ...]:
    return tuple(kept for text in texts if (kept := _reachable(check, text, where, notes)))


def _person_row(cell: _CellReader, fmt: Format, plan: ImportPlan) -> None:
    if cell.has("emails"):  # our own contacts CSV: several of each in one cell
        _native_person_row(cell, fmt, plan)
        return
    their_id = cell.text("id")[0]
    name = cell.text("name")[0] or " ".join(
        part for part in (cell.text("first")[0], cell.text("last")[0]) if part
    )
    if not their_id or not name:
        plan.problems.add(cell.where, "Name", name, "a contact with an Id and a name")
        return
    plan.people.append(
        PersonRow(
            where=cell.where,
            source_id=f"{fmt.id_prefix}:{their_id}",
            name=name,
            account=cell.text("account")[0],
            title=cell.text("title")[0],
            emails=_reachables(check_address, (cell.text("email")[0],), cell.where, plan.notes),
            phones=_reachables(
                check_phone,
                (cell.text("phone")[0], cell.text("mobile")[0]),
                cell.where,
                plan.notes,
            ),
        )
    )


def _role_row(cell: _CellReader, fmt: Format, plan: ImportPlan) -> None:
    deal, person = cell.text("opportunity")[0], cell.text("contact")[0]
    if not deal or not person:
        plan.problems.add(cell.where, "OpportunityId", deal, "an OpportunityId and a ContactId")
        return
    word, column = cell.text("role")
    role = formats.SALESFORCE_ROLES.get(normalise(word), "other") if word else "other"
    primary = False
    try:
        primary = values.parse_flag(cell.text("primary")[0])
    except values.CellError as exc:
        text, column = cell.text("primary")
        plan.problems.add(cell.where, column, text, exc.expected)
    plan.roles.append(
        RoleRow(
            where=cell.where,
            deal_source_id=f"{fmt.id_prefix}:{deal}",
            person_source_id=f"{fmt.id_prefix}:{person}",
            role=role,
            primary=primary,
        )
    )


def _native_person_row(cell: _CellReader, fmt: Format, plan: ImportPlan) -> None:
    their_id, name = cell.text("id")[0], cell.text("name")[0]
    if not name:
        plan.problems.add(cell.where, "name", name, "the contact's name")
        return
    source_id = f"{fmt.id_prefix}:{their_id or cell.where}"
    plan.people.append(
        PersonRow(
            where=cell.where,
            source_id=source_id,
            name=name,
            account=cell.text("company")[0],
            title=cell.text("title")[0],
            emails=_reachables(
                check_address, _split(cell.text("emails")[0]), cell.where, plan.notes
            ),
            phones=_reachables(check_phone, _split(cell.text("phones")[0]), cell.where, plan.notes),
        )
    )
    # The company's name itself stands in for an account id (plan.accounts names it).
    if cell.text("company")[0]:
        plan.accounts.setdefault(cell.text("company")[0], cell.text("company")[0])
    for part in _split(cell.text("deals")[0]):
        deal_key, _, written = part.rpartition("=")
        if not deal_key:
            deal_key, written = written, "other"
        # A role as `--role` takes it (`Decision Maker` was read as other, and so was any
        # word at all: a hostile test); one that is none is refused with its line.
        role = role_word(written)
        if role is None:
            plan.problems.add(
                cell.where,
                "deals",
                part.strip(),
                "DEAL=ROLE, a role one of " + ", ".join(CONTACT_ROLES),
            )
            continue
        plan.roles.append(
            RoleRow(
                where=cell.where,
                deal_source_id=deal_key.strip(),
                person_source_id=source_id,
                role=role,
            )
        )
