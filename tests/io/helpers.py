"""Shared by the import/export tests: the CLI in-process, a digest of the desk, the data."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# ../shared/data beside the checkout (a worktree sits one folder deeper, so look further up).
DATA = next(
    (up / "shared" / "data" for up in ROOT.parents if (up / "shared" / "data").is_dir()),
    ROOT.parent / "shared" / "data",
)
MAVEN = DATA / "maven_crm_sales_opportunities"
# Real Salesforce exports travel with the tests (BSD-3-Clause, see fixtures/real/README.md).
SALESFORCE = FIXTURES / "real" / "salesforce_data_cloud_workshop"
# 300 real Maven records (both date styles) always run; the whole file when ../shared has it.
MAVEN_SLICE = FIXTURES / "real" / "maven_slice"

# The command line the README gives for Maven's sales_pipeline.csv, word for word.
MAVEN_ARGS = [
    "--map", "id=opportunity_id", "--map", "title=product", "--map", "product=product",
    "--map", "company=account", "--map", "stage=deal_stage", "--map", "value=close_value",
    "--map", "first_contact=engage_date", "--map", "close_date=close_date",
    "--stage-map", "Prospecting=Prospect", "--stage-map", "Engaging=Contacted",
]  # fmt: skip


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"the shared data is not here: {path}")
    return path


def rows(desk: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(desk)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY 1"
            )
        ]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    finally:
        conn.close()


def digest(desk: Path) -> str:
    if not desk.exists():
        return "no desk"
    return hashlib.sha256(repr(rows(desk)).encode()).hexdigest()
