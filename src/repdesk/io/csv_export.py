"""`repdesk export csv`: every deal in the native columns, safe to open in a spreadsheet.

A cell starting with `=`, `+`, `-` or `@` is a formula to Excel and LibreOffice (a title such as
`=HYPERLINK(...)` would run). Such cells get a leading apostrophe, which spreadsheets show as
text; our own import takes exactly that apostrophe off again, so the round trip gives back the
original text. Standard library only.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from repdesk.errors import RepdeskError
from repdesk.io.formats import NATIVE_COLUMNS

_FORMULA_START = ("=", "+", "-", "@")


def _needs_escape(text: str) -> bool:
    # A text that already starts with the escape mark before a formula sign is escaped too,
    # so unescaping is exact: unescape_cell(escape_cell(s)) == s for every s.
    if text.startswith(_FORMULA_START):
        return True
    return text.startswith("'") and _needs_escape(text[1:])


def escape_cell(text: str) -> str:
    return "'" + text if _needs_escape(text) else text


def unescape_cell(text: str) -> str:
    return text[1:] if text.startswith("'") and _needs_escape(text[1:]) else text


def _amount(cents: int) -> str:
    whole, part = divmod(cents, 100)
    return f"{whole}.{part:02d}" if part else str(whole)


_QUERY = """
    SELECT d.source_id, d.title, d.company, d.contact, d.email, d.phone, d.value_cents,
           d.currency, s.name, d.status, d.source, d.product, d.region, d.segment,
           d.first_contact, d.expected_close, d.closed_on, d.lost_reason, d.id
    FROM deal d JOIN stage s ON s.id = d.stage_id
    ORDER BY d.id
"""


def export_csv(conn: sqlite3.Connection, path: Path) -> int:
    """Write every deal (open, won and lost) to `path`; returns how many."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(NATIVE_COLUMNS)
    count = 0
    for row in conn.execute(_QUERY):
        cells = ["" if value is None else value for value in row[:-1]]
        cells[6] = _amount(int(row[6]))
        # A closed deal's stage is Won or Lost; the stage it closed from is in its history.
        writer.writerow([escape_cell(str(cell)) for cell in cells])
        count += 1
    write_atomically(path, buffer.getvalue().encode("utf-8"))
    return count


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file, so nobody ever reads half an export."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RepdeskError(f"cannot write {path}: {exc.strerror}") from None
