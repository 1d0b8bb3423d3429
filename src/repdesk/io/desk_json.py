"""`repdesk export json` and its import: the whole desk as one JSON document.

Every table (stages, deals, stage history, activities, follow-ups, objections, quotas) with
every column, values exactly as the desk stores them (ISO text for dates and instants, money in
cents), so importing the file into an empty desk gives an identical desk, ids included.
A JSON export is a whole desk, not a list of deals: it is refused on a desk that already holds
deals or quotas (`repdesk restore` replaces a desk; CSV merges deals into one). Standard library
only.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from repdesk import migrations
from repdesk.errors import RepdeskError
from repdesk.io.csv_export import write_atomically

FORMAT = "repdesk-desk"
# Parents before children (models.ALL_TABLES, without importing SQLModel; a test checks).
TABLES = ("stage", "deal", "stage_change", "activity", "follow_up", "objection", "quota")


def export_json(conn: sqlite3.Connection, path: Path, *, exported_at: str) -> dict[str, int]:
    """Write the desk behind `conn` (read in one snapshot) to `path`; rows per table."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in TABLES:
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY id")
        names = [d[0] for d in cursor.description]
        tables[table] = [dict(zip(names, row, strict=True)) for row in cursor]
    document = {
        "format": FORMAT,
        "schema": conn.execute("PRAGMA user_version").fetchone()[0],
        "exported_at": exported_at,
        "tables": tables,
    }
    data = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    write_atomically(path, data.encode("utf-8"))
    return {table: len(rows) for table, rows in tables.items()}


def _columns(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    """Column name -> the kind of value it holds: int, text, or real."""
    kinds = {}
    for _cid, name, declared, *_ in conn.execute(f"PRAGMA table_info({table})"):
        upper = (declared or "").upper()
        kinds[name] = "int" if "INT" in upper else "real" if "REAL" in upper else "text"
    return kinds


def read_document(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The tables of a JSON export, checked for shape; RepdeskError names what is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise RepdeskError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
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


def import_json(conn: sqlite3.Connection, path: Path, *, dry_run: bool) -> dict[str, int]:
    """Load a JSON export into the empty desk behind `conn`, in one transaction."""
    tables = read_document(path)
    conn.execute("BEGIN IMMEDIATE")
    try:
        held = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("deal", "quota")
        }
        if any(held.values()):
            raise RepdeskError(
                f"{path} is a whole desk and this desk is not empty ({held['deal']} deals, "
                f"{held['quota']} quotas): import it into an empty desk (--home DIR), or use "
                "`repdesk restore` for a backup file"
            )
        problems: list[str] = []
        counts: dict[str, int] = {}
        conn.execute("DELETE FROM stage")  # the new desk's default pipeline makes way
        for table in TABLES:
            rows = tables.get(table, [])
            kinds = _columns(conn, table)
            if not isinstance(rows, list):
                problems.append(f"{path}: tables.{table}: expected a list of rows")
                continue
            for number, row in enumerate(rows):
                place = f"{path}: tables.{table}[{number}]"
                if not isinstance(row, dict) or not isinstance(row.get("id"), int):
                    problems.append(f"{place}: expected an object with an integer id")
                    continue
                fits = True
                for name, value in row.items():
                    if name not in kinds:
                        problems.append(f"{place}.{name}: not a column of {table}")
                        fits = False
                    elif not _fits(value, kinds[name]):
                        problems.append(f"{place}.{name} {value!r}: expected {kinds[name]} or null")
                        fits = False
                if not fits or problems:
                    continue
                names = list(row)
                try:
                    conn.execute(
                        f"INSERT INTO {table} ({', '.join(names)}) "
                        f"VALUES ({', '.join('?' for _ in names)})",
                        [row[n] for n in names],
                    )
                except sqlite3.IntegrityError as exc:
                    problems.append(f"{place}: {exc}")
            counts[table] = len(rows)
        if problems:
            plural = "s" if len(problems) != 1 else ""
            raise RepdeskError(
                f"nothing was imported: {len(problems)} problem{plural}\n"
                + "\n".join(problems[:20])
            )
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            table, rowid, parent, _ = broken[0]
            raise RepdeskError(
                f"nothing was imported: {path}: {len(broken)} rows point at missing rows "
                f"(first: {table} row {rowid} -> {parent})"
            )
        conn.execute("ROLLBACK" if dry_run else "COMMIT")
        return counts
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _fits(value: Any, kind: str) -> bool:
    if value is None:
        return True
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "real":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)
