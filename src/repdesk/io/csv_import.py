"""Native CSV import: the columns `repdesk export csv` writes, one transaction, all or nothing.

Reading and checking happen before any write, so a bad row imports nothing; every problem is
reported as FILE:LINE, the column, the value and what was expected (up to 20 at once).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from repdesk.dates import DateInputError, parse_date
from repdesk.errors import RepdeskError
from repdesk.money import AmountInputError, parse_amount

NATIVE_COLUMNS = (
    "title",
    "company",
    "contact",
    "email",
    "phone",
    "value",
    "currency",
    "stage",
    "status",
    "source",
    "product",
    "region",
    "segment",
    "first_contact",
    "expected_close",
    "closed_on",
    "lost_reason",
)
MAX_REPORTED = 20


class ImportFailed(RepdeskError):
    def __init__(self, problems: list[str], total: int) -> None:
        self.problems = problems
        more = f"\n… and {total - len(problems)} more" if total > len(problems) else ""
        super().__init__(
            f"nothing was imported: {total} problem{'s' if total != 1 else ''}\n"
            + "\n".join(problems)
            + more
        )


@dataclass
class ImportPlan:
    path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        counts = Counter((row["stage"] or "first stage", row["status"]) for row in self.rows)
        return ", ".join(
            f"{n} {status} in {stage}" for (stage, status), n in sorted(counts.items())
        )


def read_native(path: Path, *, default_currency: str, today: date) -> ImportPlan:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RepdeskError(f"{path}: no such file") from None
    except OSError as exc:
        raise RepdeskError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")  # with or without a byte-order mark
    except UnicodeDecodeError as exc:
        raise RepdeskError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    # Not str.splitlines(): it also breaks at \x0b, \x0c, \x1c-\x1e, \x85, U+2028 and U+2029,
    # which a CSV writer leaves unquoted inside a cell; csv wants lines split at \r and \n only.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "title" not in headers:
        raise RepdeskError(
            f"{path}:1: no 'title' column; native columns are: {', '.join(NATIVE_COLUMNS)}"
        )
    reader.fieldnames = headers
    plan = ImportPlan(path=path)
    problems: list[str] = []
    total = 0

    def problem(line: int, column: str, value: str, expected: str) -> None:
        nonlocal total
        total += 1
        if len(problems) < MAX_REPORTED:
            problems.append(f"{path}:{line}: {column} {value!r}: expected {expected}")

    for record in reader:
        line = reader.line_num
        cells = {k: (v or "").strip() for k, v in record.items() if k is not None}
        if not any(cells.values()):
            continue
        row: dict[str, Any] = {name: cells.get(name, "") for name in NATIVE_COLUMNS}
        if not row["title"]:
            problem(line, "title", row["title"], "a deal title")
        try:
            row["value_cents"] = parse_amount(row["value"]) if row["value"] else 0
        except AmountInputError:
            problem(line, "value", row["value"], "an amount such as 12500 or 12500.50")
        row["currency"] = (row["currency"] or default_currency).upper()
        if len(row["currency"]) != 3 or not row["currency"].isalpha():
            problem(line, "currency", row["currency"], "a three-letter code such as EUR")
        row["status"] = (row["status"] or "open").lower()
        if row["status"] not in ("open", "won", "lost"):
            problem(line, "status", row["status"], "open, won or lost")
        row["segment"] = (row["segment"] or "new").lower()
        if row["segment"] not in ("new", "existing"):
            problem(line, "segment", row["segment"], "new or existing")
        for column in ("first_contact", "expected_close", "closed_on"):
            value = row[column]
            try:
                # ISO only: a file is data, so `tomorrow` or `fri` would be a guess.
                row[column] = date.fromisoformat(value) if value else None
                if value:
                    parse_date(value, today=today)
            except (ValueError, DateInputError):
                problem(line, column, value, "an ISO date such as 2026-11-22")
                row[column] = None
        if (
            row["status"] != "open"
            and row["closed_on"] is None
            and row["status"] in ("won", "lost")
        ):
            problem(line, "closed_on", "", f"the date a {row['status']} deal closed")
        if row["status"] == "lost" and not row["lost_reason"]:
            row["lost_reason"] = "not given"
        row["line"] = line
        plan.rows.append(row)
    if problems:
        raise ImportFailed(problems, total)
    return plan


def apply(*, session: Any, plan: ImportPlan) -> int:
    """Create every planned deal inside the caller's one transaction."""
    from repdesk.services import deals

    problems: list[str] = []
    for row in plan.rows:
        try:
            stage = row["stage"] or None
            if stage and deals.find_stage(session=session, name=stage).kind != "open":
                stage = None  # a closed deal arrives through its first stage, then closes
            deal = deals.create_deal(
                session=session,
                title=row["title"],
                company=row["company"],
                contact=row["contact"],
                email=row["email"],
                phone=row["phone"],
                value_cents=row["value_cents"],
                currency=row["currency"],
                stage=stage,
                source=row["source"],
                product=row["product"],
                region=row["region"],
                segment=row["segment"],
                first_contact=row["first_contact"] or row["closed_on"],
                expected_close=row["expected_close"],
            )
            if row["status"] == "won":
                deals.win_deal(session=session, deal_id=deal.id, on=row["closed_on"])
            elif row["status"] == "lost":
                deals.lose_deal(
                    session=session, deal_id=deal.id, reason=row["lost_reason"], on=row["closed_on"]
                )
        except RepdeskError as exc:
            problems.append(f"{plan.path}:{row['line']}: {exc}")
            if len(problems) >= MAX_REPORTED:
                break
    if problems:
        # Raising rolls back the caller's transaction: nothing of the file lands.
        raise ImportFailed(problems, len(problems))
    return len(plan.rows)
