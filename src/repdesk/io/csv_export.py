"""`repdesk export csv`: every deal in the native columns, safe to open in a spreadsheet.

A cell starting with `=`, `+`, `-` or `@` is a formula to Excel and LibreOffice (a title such as
`=HYPERLINK(...)` would run); so is one starting with a tab or a carriage return, which a
spreadsheet skips before reading the `=` after it (OWASP's CSV injection list). Such cells
get a leading apostrophe, which spreadsheets show as text; our own import takes exactly that
apostrophe off again, so the round trip gives back the original text. Standard library only
on a desk file (see `repdesk.reports.queries`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from repdesk.io.files import write_atomically
from repdesk.io.formats import NATIVE_COLUMNS
from repdesk.reports import queries

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_VALUE = NATIVE_COLUMNS.index("value")


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


def export_csv(conn: Any, path: Path) -> int:
    """Write every deal (open, won and lost) to `path`; returns how many. `conn` is a sqlite3
    connection (a desk file, without SQLAlchemy) or a SQLAlchemy session (either engine)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(NATIVE_COLUMNS)
    rows = queries.fetch(conn, "deals_for_export")
    for row in rows:
        # Dates come as ISO text from a file and as dates from a server: str() writes both alike.
        cells = ["" if value is None else value for value in row]
        cells[_VALUE] = _amount(int(row[_VALUE]))
        # A closed deal's stage is Won or Lost; the stage it closed from is in its history.
        writer.writerow([escape_cell(str(cell)) for cell in cells])
    write_atomically(path, buffer.getvalue().encode("utf-8"))
    return len(rows)


CONTACT_COLUMNS = ("contact_id", "name", "title", "company", "emails", "phones", "deals")


def export_contacts(conn: Any, path: Path) -> int:
    """Write every contact to `path` (CONTACT_COLUMNS; several emails, phones and deals in one
    cell, `; ` between them, a deal as its source id `=` the contact's role on it, the main
    contact's deal first); returns how many. `repdesk import` reads it back."""
    emails: dict[int, list[str]] = {}
    phones: dict[int, list[str]] = {}
    deals: dict[int, list[str]] = {}
    for contact_id, address in queries.fetch(conn, "contact_emails_for_export"):
        emails.setdefault(contact_id, []).append(address)
    for contact_id, number in queries.fetch(conn, "contact_phones_for_export"):
        phones.setdefault(contact_id, []).append(number)
    for contact_id, deal_key, role in queries.fetch(conn, "contact_deals_for_export"):
        deals.setdefault(contact_id, []).append(f"{deal_key}={role}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CONTACT_COLUMNS)
    rows = queries.fetch(conn, "contacts_for_export")
    for contact_id, name, title, company in rows:
        cells = [
            str(contact_id), name, title, company, "; ".join(emails.get(contact_id, [])),
            "; ".join(phones.get(contact_id, [])), "; ".join(deals.get(contact_id, [])),
        ]  # fmt: skip
        writer.writerow([escape_cell(cell) for cell in cells])
    write_atomically(path, buffer.getvalue().encode("utf-8"))
    return len(rows)
