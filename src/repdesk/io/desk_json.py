"""`repdesk export json` and its import: the whole desk as one JSON document.

Every table (stages, deals, stage history, activities, follow-ups, objections, quotas, the
trash, and the CRM sync's settings, links, outbox and conflicts) with every column and id, so
importing the file into an empty desk gives an identical desk, still linked to the same CRM. The
values are the same whichever engine wrote them, so a desk moves between a SQLite file and a
PostgreSQL server this way: dates `2026-11-20`, times `10:00:00`, instants UTC as
`2026-11-20T09:30:00.000000Z`, money in cents. The import also reads what the first,
SQLite-only exporter wrote (instants as SQLite's naive UTC text, `2026-11-20 09:30:00.000000`).

A JSON export is a whole desk, not a list of deals: it is refused on a desk that already holds
deals or quotas (`repdesk restore` replaces a desk file; CSV merges deals into one). Both
directions run through SQLAlchemy Core over the models' tables, on either engine. The import
checks every row before it writes any (types, required columns, duplicate ids and names, rows
pointing at rows the file lacks), so it reports up to 20 problems at once on both engines: a
PostgreSQL transaction cannot go on after its first failed insert.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Integer,
    String,
    Table,
    Time,
    TypeDecorator,
    func,
    insert,
)
from sqlalchemy import inspect as sql_inspect
from sqlalchemy import select as sql_select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from repdesk.core import forecast
from repdesk.core.currencies import CODE_FORM, is_code
from repdesk.core.dates import DAY_RANGE, PeriodInputError, in_range, parse_period
from repdesk.core.domain import (
    ACTIVITY_KINDS,
    CONTACT_ROLES,
    FREE_MAIL_DOMAINS,
    MAX_TEXT,
    OBJECTION_CATEGORIES,
    OBJECTION_STATUSES,
    STAGE_KINDS,
    STATUSES,
)
from repdesk.core.errors import RepdeskError
from repdesk.core.money import MAX_CENTS, MAX_SHOWN, check_cents
from repdesk.core.reach import is_domain
from repdesk.core.review import OUTCOMES
from repdesk.core.text import name_key, shown_value
from repdesk.core.weeks import week_of_label
from repdesk.io import files
from repdesk.io.files import write_atomically
from repdesk.settings import DATABASE_URL_ENV
from repdesk.storage import migrations, store
from repdesk.storage.models import ALL_TABLES, UTCDateTime

FORMAT = "repdesk-desk"
TABLES = ALL_TABLES  # parents before children: the order rows are checked and inserted in
MAX_PROBLEMS = 20
_INSERT_BATCH = 5_000

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# What a kind of value looks like, for messages.
_EXPECTED = {
    "int": "int",
    "text": "text",
    "date": "a date (YYYY-MM-DD)",
    "time": "a time (HH:MM:SS)",
    "instant": "a UTC instant (YYYY-MM-DDTHH:MM:SS.ffffffZ)",
}


def format_instant(moment: datetime) -> str:
    """An instant as the export writes it: UTC, microseconds, `Z`; the same text on both
    engines and sortable as text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # -"+00:00"


# ---------------------------------------------------------------- the columns


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # int | text | date | time | instant
    nullable: bool
    required: bool  # NOT NULL without a default: a row must give it
    unique: bool
    int_range: tuple[int, int]
    parent: str | None  # the table a foreign key points at


def _kind(column: Any) -> str:
    type_ = column.type
    if isinstance(type_, UTCDateTime):
        return "instant"
    if isinstance(type_, TypeDecorator):  # SQLModel's AutoString: text underneath
        type_ = type_.impl
    if isinstance(type_, Date):
        return "date"
    if isinstance(type_, Time):
        return "time"
    if isinstance(type_, Integer):
        return "int"
    if isinstance(type_, String):
        return "text"
    raise TypeError(f"{column.table.name}.{column.name}: no JSON form for {type_!r}")


def _model_tables() -> list[Table]:
    return [SQLModel.metadata.tables[name] for name in TABLES]


def _columns(conn: Connection, table: Table) -> dict[str, _Column]:
    """The columns of `table`: kinds from the models, defaults and integer widths from the
    desk's own schema (the same on both engines: migrations write BIGINT for money)."""
    stored = {c["name"]: c for c in sql_inspect(conn).get_columns(table.name)}
    columns = {}
    for column in table.columns:
        found = stored[column.name]
        parents = [fk.column.table.name for fk in column.foreign_keys]
        columns[column.name] = _Column(
            name=column.name,
            kind=_kind(column),
            nullable=bool(found["nullable"]),
            required=not found["nullable"] and found.get("default") is None,
            unique=bool(column.unique) or (column.primary_key and column.name != "id"),
            int_range=_INT64 if isinstance(found["type"], BigInteger) else _INT32,
            parent=parents[0] if parents else None,
        )
    return columns


# ---------------------------------------------------------------- export


def export_json(conn: Connection, path: Path, *, exported_at: datetime) -> dict[str, int]:
    """Write the desk behind `conn` (read in the caller's one snapshot) to `path`; returns the
    rows per table."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in _model_tables():
        names = [column.name for column in table.columns]
        forms = [_JSON_FORM.get(_kind(column)) for column in table.columns]
        result = conn.execute(sql_select(table).order_by(*table.primary_key.columns)).all()
        tables[table.name] = [
            {
                name: value if form is None or value is None else form(value)
                for name, form, value in zip(names, forms, row, strict=True)
            }
            for row in result
        ]
    document = {
        "format": FORMAT,
        "schema": _schema_version(conn),
        "exported_at": format_instant(exported_at),
        "tables": tables,
    }
    data = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    write_atomically(path, data.encode("utf-8"))
    return {name: len(rows) for name, rows in tables.items()}


# How a value of a kind is written (ints and text as they are).
_JSON_FORM: dict[str, Callable[[Any], str]] = {
    "instant": format_instant,
    "date": date.isoformat,
    "time": time.isoformat,
}


def _schema_version(conn: Connection) -> int:
    # A file keeps its version in its header; a server in the one-row schema table.
    if conn.dialect.name == "sqlite":
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
    statement = sql_text(f"SELECT version FROM {migrations.SERVER_SCHEMA_TABLE}")
    return int(conn.execute(statement).scalar_one())


# ---------------------------------------------------------------- import


def read_document(path: Path) -> dict[str, Any]:
    """The tables of a JSON export, checked for shape; RepdeskError names what is wrong."""
    raw = files.read_input(path, "a JSON file")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise RepdeskError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise RepdeskError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise RepdeskError(
            f"{path}: not a repdesk JSON export (written by `repdesk export json`); "
            "for deals from elsewhere use a CSV file"
        )
    schema = document.get("schema")
    if not isinstance(schema, int) or schema > migrations.LATEST:
        raise RepdeskError(
            f"{path}: written by a newer repdesk (schema {schema}; this one knows up to "
            f"{migrations.LATEST}): upgrade repdesk to import it"
        )
    tables = document.get("tables")
    if not isinstance(tables, dict) or set(tables) - set(TABLES):
        unknown = ", ".join(sorted(set(tables) - set(TABLES))) if isinstance(tables, dict) else ""
        raise RepdeskError(
            f"{path}: tables: expected {', '.join(TABLES)}"
            + (f" (unknown: {unknown})" if unknown else "")
        )
    return tables


def import_json(
    conn: Connection, path: Path, tables: dict[str, Any], *, dry_run: bool
) -> dict[str, int]:
    """Load the tables of a JSON export (see read_document) into the empty desk behind `conn`.

    The caller owns the write transaction: all or nothing. Raises RepdeskError, with up to 20
    problems and where each is, when anything does not fit; `dry_run` checks and inserts
    everything, then takes it back.
    """
    held = {
        name: conn.execute(
            sql_select(func.count()).select_from(SQLModel.metadata.tables[name])
        ).scalar_one()
        for name in ("deal", "quota")
    }
    if any(held.values()):
        elsewhere = (
            "an empty desk (--home DIR), or use `repdesk restore` for a backup file"
            if conn.dialect.name == "sqlite"
            else f"an empty database (createdb NAME, then {DATABASE_URL_ENV} naming it)"
        )
        raise RepdeskError(
            f"{path} is a whole desk and this desk is not empty ({held['deal']:,} "
            f"deal{'' if held['deal'] == 1 else 's'}, {held['quota']:,} "
            f"quota{'' if held['quota'] == 1 else 's'}): import it into {elsewhere}"
        )
    checked = _check(conn, path, tables)
    with _taken_back(conn) if dry_run else nullcontext():
        conn.execute(SQLModel.metadata.tables["stage"].delete())  # the default pipeline gives way
        for table in _model_tables():
            _insert(conn, path, table, checked[table.name])
        if "deal_contact" not in tables:
            # An export from before people were records (schema 5): its deals' contact text
            # becomes contacts and companies, as the upgrade of a desk file does.
            for statement in migrations.adopt_people_sql(conn.dialect.name):
                conn.exec_driver_sql(statement)
        store.continue_ids(conn, TABLES)
    return {name: len(rows) for name, rows in checked.items()}


@contextmanager
def _taken_back(conn: Connection) -> Iterator[None]:
    savepoint = conn.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def _check(conn: Connection, path: Path, tables: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every row as the values to insert; or RepdeskError listing what does not fit."""
    problems: list[str] = []
    checked: dict[str, list[dict[str, Any]]] = {}
    ids: dict[str, set[int]] = {}
    for table in _model_tables():
        columns = _columns(conn, table)
        rows = tables.get(table.name, [])
        checked[table.name] = []
        ids[table.name] = set()
        if not isinstance(rows, list):
            problems.append(f"{path}: tables.{table.name}: expected a list of rows")
            continue
        seen: dict[str, dict[Any, int]] = {c.name: {} for c in columns.values() if c.unique}
        has_id = "id" in columns  # sync_state is keyed by its `key`
        for number, row in enumerate(rows):
            place = f"{path}: tables.{table.name}[{number}]"
            if not isinstance(row, dict) or (has_id and not _is_int(row.get("id"))):
                problems.append(
                    f"{place}: expected an object with an integer id"
                    if has_id
                    else f"{place}: expected an object"
                )
                continue
            values: dict[str, Any] = {}
            for name, value in row.items():
                column = columns.get(name)
                if column is None:
                    problems.append(f"{place}.{name}: not a column of {table.name}")
                    continue
                try:
                    values[name] = _from_json(value, column)
                    _check_meaning(table.name, name, values[name])
                except ValueError as exc:
                    problems.append(f"{place}.{name} {_shown(value)}: expected {exc}")
                    continue
                parent = column.parent
                if parent is not None and value is not None and value not in ids[parent]:
                    problems.append(f"{place}.{name} {value!r}: no {parent} of that id in the file")
                if column.unique and value is not None:
                    first = seen[name].setdefault(value, number)
                    if first != number:
                        problems.append(
                            f"{place}.{name} {value!r}: the same as tables.{table.name}[{first}]; "
                            f"each {table.name} needs its own"
                        )
            for column in columns.values():
                if column.required and column.name not in row:
                    problems.append(f"{place}.{column.name}: missing; expected {_expected(column)}")
            checked[table.name].append(values)
        # Foreign keys point at ids; a child table is checked after its parents (TABLES' order).
        for number, row in enumerate(rows if has_id else []):
            if isinstance(row, dict) and _is_int(row.get("id")):
                if row["id"] in ids[table.name]:
                    problems.append(
                        f"{path}: tables.{table.name}[{number}].id {row['id']}: another "
                        f"{table.name} has this id"
                    )
                ids[table.name].add(row["id"])
    problems.extend(_check_together(path, checked))
    if problems:
        plural = "s" if len(problems) != 1 else ""
        more = len(problems) - MAX_PROBLEMS
        raise RepdeskError(
            f"nothing was imported: {len(problems):,} problem{plural}\n"
            + "\n".join(problems[:MAX_PROBLEMS])
            + (f"\n… and {more:,} more" if more > 0 else "")
        )
    return checked


def _is_week(value: str) -> bool:
    match = re.fullmatch(r"([0-9]{4})-W([0-9]{2})", value)
    try:
        return match is not None and week_of_label(int(match[1]), int(match[2])).label == value
    except ValueError:
        return False


def _is_period(value: str) -> bool:
    try:
        return parse_period(value).label == value
    except PeriodInputError:
        return False


_SYNC_KINDS = ("deal", "activity", "follow_up")

# What a value must mean, beyond its type: the limits the shell and the forms hold to, so a
# file cannot make a desk that later commands cannot read (a repeat of 2^31 days, a value whose
# sum overflows, a deal in no stage a board has).
_MEANING: dict[tuple[str, str], tuple[Callable[[Any], bool], str]] = {
    ("stage", "kind"): (lambda v: v in STAGE_KINDS, "one of " + ", ".join(STAGE_KINDS)),
    ("stage", "probability"): (lambda v: 0 <= v <= 100, "a percentage from 0 to 100"),
    ("stage", "rot_days"): (lambda v: v is None or 1 <= v <= 3650, "1 to 3650 days or null"),
    ("stage", "name"): (lambda v: bool(v.strip()), "a stage name"),
    ("deal", "title"): (lambda v: bool(v.strip()), "a deal title"),
    ("deal", "status"): (lambda v: v in STATUSES, "one of " + ", ".join(STATUSES)),
    # new, existing, or a CRM's own value kept by a CSV import (its own slice)
    ("deal", "segment"): (lambda v: bool(v.strip()), "a segment: new, existing or another word"),
    ("deal", "currency"): (is_code, CODE_FORM),
    ("deal", "value_cents"): (check_cents, f"cents from 0 to {MAX_CENTS} ({MAX_SHOWN})"),
    ("activity", "kind"): (lambda v: v in ACTIVITY_KINDS, "one of " + ", ".join(ACTIVITY_KINDS)),
    ("activity", "minutes"): (lambda v: v is None or 0 <= v <= 24 * 60, "0 to 1440 or null"),
    ("follow_up", "recur_days"): (lambda v: v is None or 1 <= v <= 366, "1 to 366 days or null"),
    ("objection", "category"): (
        lambda v: v in OBJECTION_CATEGORIES,
        "one of " + ", ".join(OBJECTION_CATEGORIES),
    ),
    ("objection", "status"): (
        lambda v: v in OBJECTION_STATUSES,
        "one of " + ", ".join(OBJECTION_STATUSES),
    ),
    ("quota", "amount_cents"): (lambda v: 0 < v <= MAX_CENTS, f"cents from 1 to {MAX_CENTS}"),
    ("company", "name"): (lambda v: bool(v.strip()), "a company name"),
    ("company", "touch_every_days"): (lambda v: v is None or 1 <= v <= 366, "1 to 366 or null"),
    # As `company edit --domain` takes one: a free-mail domain would tie every gmail.com mail
    # to the company (a hostile test got one in through a file).
    ("company", "domain"): (
        lambda v: v == "" or (is_domain(v) and v == v.lower() and v not in FREE_MAIL_DOMAINS),
        "a mail domain such as acme.example in lower case (not a free-mail one), or empty",
    ),
    ("contact", "name"): (lambda v: bool(v.strip()), "a contact's name"),
    ("deal_contact", "role"): (lambda v: v in CONTACT_ROLES, "one of " + ", ".join(CONTACT_ROLES)),
    ("captured", "kind"): (lambda v: v in ("activity", "follow_up"), "activity or follow_up"),
    ("quota", "period"): (_is_period, "a period such as 2026-11, 2026-Q4 or 2026"),
    ("deal", "forecast"): (
        lambda v: v is None or v in forecast.CATEGORIES,
        "one of " + ", ".join(forecast.CATEGORIES) + " or null",
    ),
    ("deal", "probability"): (lambda v: v is None or 0 <= v <= 100, "0 to 100 or null"),
    ("deal", "nps"): (lambda v: v is None or 0 <= v <= 10, "0 to 10 or null"),
    ("forecast_change", "from_category"): (
        lambda v: v in forecast.CATEGORIES,
        "one of " + ", ".join(forecast.CATEGORIES),
    ),
    ("forecast_change", "to_category"): (
        lambda v: v in forecast.CATEGORIES,
        "one of " + ", ".join(forecast.CATEGORIES),
    ),
    ("probability_change", "from_probability"): (
        lambda v: v is None or 0 <= v <= 100,
        "0 to 100 or null",
    ),
    ("probability_change", "to_probability"): (
        lambda v: v is None or 0 <= v <= 100,
        "0 to 100 or null",
    ),
    ("commitment", "outcome"): (lambda v: v is None or v in OUTCOMES, "kept, missed or null"),
    ("commitment", "week"): (_is_week, "a week such as 2026-W48"),
    ("weekly_review", "week"): (_is_week, "a week such as 2026-W48"),
    # The sync's rows name desk rows by kind (src/repdesk/sync/engine.py MODELS).
    ("sync_link", "kind"): (lambda v: v in _SYNC_KINDS, "one of " + ", ".join(_SYNC_KINDS)),
    ("sync_outbox", "kind"): (lambda v: v in _SYNC_KINDS, "one of " + ", ".join(_SYNC_KINDS)),
    ("sync_conflict", "kind"): (lambda v: v in _SYNC_KINDS, "one of " + ", ".join(_SYNC_KINDS)),
}


def _check_meaning(table: str, name: str, value: Any) -> None:
    """ValueError saying what was expected when `value` fits its column's type but not what the
    desk means by it."""
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ValueError(f"text of at most {MAX_TEXT:,} characters")
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(day, date) and not in_range(day):
        raise ValueError(DAY_RANGE)
    rule = _MEANING.get((table, name))
    if rule is not None and value is not None and not rule[0](value):
        raise ValueError(rule[1])


def _check_together(path: Path, checked: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What no single value shows: the pipeline has its open, won and lost stages, and each
    deal is in a stage of its status."""
    problems = []
    kinds = {row.get("id"): row.get("kind", "open") for row in checked.get("stage", [])}
    for kind in STAGE_KINDS:
        if kind not in kinds.values():
            problems.append(
                f"{path}: tables.stage: no {kind} stage; a desk needs at least one open stage, "
                "a won and a lost stage"
            )
    named: dict[str, int] = {}
    for number, row in enumerate(checked.get("company", [])):
        # One company of a name, in any case (as `company edit` keeps them): two made every
        # `company show` of it ambiguous while `deal add --company` took the first.
        key = name_key(str(row.get("name", "")))
        if key in named:
            problems.append(
                f"{path}: tables.company[{number}].name {_shown(row.get('name'))}: the same as "
                f"tables.company[{named[key]}] in another case or form; each company needs "
                "its own"
            )
        named.setdefault(key, number)
    for number, row in enumerate(checked.get("deal", [])):
        stage_kind = kinds.get(row.get("stage_id"))
        status = row.get("status", "open")
        if stage_kind is not None and stage_kind != status:
            problems.append(
                f"{path}: tables.deal[{number}].stage_id {row.get('stage_id')!r}: a {stage_kind} "
                f"stage for a {status} deal; expected a stage of kind {status}"
            )
        if status != "open" and row.get("closed_on") is None:
            problems.append(
                f"{path}: tables.deal[{number}].closed_on null: expected the day the {status} "
                "deal closed"
            )
    return problems


def _insert(conn: Connection, path: Path, table: Table, rows: list[dict[str, Any]]) -> None:
    # One executemany per set of columns (a file from an older schema lacks the newer ones).
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_columns[tuple(row)].append(row)
    try:
        for group in by_columns.values():
            for start in range(0, len(group), _INSERT_BATCH):
                conn.execute(insert(table), group[start : start + _INSERT_BATCH])
    except DBAPIError as exc:
        # What the checks above did not foresee; the engine's own words, first line only.
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise RepdeskError(f"nothing was imported: {path}: tables.{table.name}: {reason}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expected(column: _Column) -> str:
    words = _EXPECTED[column.kind]
    if column.kind == "int" and column.int_range == _INT32:
        words = f"int from {_INT32[0]} to {_INT32[1]}"
    return words + (" or null" if column.nullable else "")


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return shown_value(value)  # a 131,073-character title is not repeated in full
    return "null" if value is None else repr(value)


def _from_json(value: Any, column: _Column) -> Any:
    """The Python value for `column` (what SQLAlchemy binds on either engine); ValueError
    carrying what was expected when it does not fit."""
    if value is None:
        if column.nullable:
            return None
        raise ValueError(_expected(column))
    kind = column.kind
    if kind == "int":
        if _is_int(value) and column.int_range[0] <= value <= column.int_range[1]:
            return value
    elif kind == "text":
        if isinstance(value, str) and "\x00" not in value and _encodable(value):
            return value
    elif isinstance(value, str):
        try:
            if kind == "date" and _ISO_DATE.fullmatch(value):
                return date.fromisoformat(value)
            if kind == "time":
                moment = time.fromisoformat(value)
                if moment.tzinfo is None:
                    return moment
            if kind == "instant" and len(value) > 10:
                instant = datetime.fromisoformat(value)
                # Without an offset it is the first exporter's SQLite text: UTC.
                if instant.tzinfo is None:
                    return instant.replace(tzinfo=UTC)
                return instant.astimezone(UTC)
        except ValueError:
            pass
    raise ValueError(_expected(column))


def _encodable(value: str) -> bool:
    # JSON can carry lone surrogates ("\\ud800"); no database can store them.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
