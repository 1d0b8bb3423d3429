"""Build a big desk for the benchmarks: N open deals (default 10,000), 10 activities each,
closed deals, follow-ups and objections. Deterministic; written with sqlite3 executemany.

    python benchmarks/big_desk.py DIR [--deals 10000]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from repdesk.storage import desk_file


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def build(path: Path, *, deals: int = 10_000, activities_per_deal: int = 10, seed: int = 3) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    desk_file.prepare(path)
    rng = random.Random(seed)
    now = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    today = now.date()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    stage_ids = [
        r[0] for r in conn.execute("SELECT id FROM stage WHERE kind = 'open' ORDER BY position")
    ]
    won_id, lost_id = (
        conn.execute("SELECT id FROM stage WHERE kind = 'won'").fetchone()[0],
        conn.execute("SELECT id FROM stage WHERE kind = 'lost'").fetchone()[0],
    )
    deal_rows = []
    closed = deals // 2
    for n in range(deals + closed):
        first = today - timedelta(days=rng.randint(5, 500))
        is_open = n < deals
        status = "open" if is_open else rng.choice(("won", "lost"))
        stage = rng.choice(stage_ids) if is_open else (won_id if status == "won" else lost_id)
        closed_on = None if is_open else min(today, first + timedelta(days=rng.randint(5, 120)))
        entered = now - timedelta(days=rng.randint(0, 60))
        deal_rows.append((
            n + 1, f"Deal {n + 1}", f"Company {n % 2000}", f"Contact {n}",
            rng.randint(1, 200) * 50_000,
            "EUR", stage, status, first.isoformat(),
            (today + timedelta(days=rng.randint(0, 120))).isoformat() if is_open else None,
            closed_on.isoformat() if closed_on else None, "price" if status == "lost" else "",
            _ts(entered), _ts(now - timedelta(days=600)), _ts(entered),
        ))  # fmt: skip
    conn.executemany(
        "INSERT INTO deal (id, title, company, contact, value_cents, currency, stage_id, status, "
        "first_contact, expected_close, closed_on, lost_reason, stage_entered_at, created_at, "
        "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        deal_rows,
    )
    conn.executemany(
        "INSERT INTO stage_change (deal_id, from_stage_id, to_stage_id, changed_at) "
        "VALUES (?,?,?,?)",
        ((r[0], None, r[6], r[12]) for r in deal_rows),
    )
    conn.executemany(
        "INSERT INTO activity (deal_id, kind, at, outcome, minutes, text) VALUES (?,?,?,?,?,?)",
        (
            (d, rng.choice(("call", "email", "meeting", "note")),
             _ts(now - timedelta(minutes=rng.randint(0, 60 * 24 * 90))), "connected", 10, "notes")
            for d in range(1, deals + 1)
            for _ in range(activities_per_deal)
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO follow_up (deal_id, due_on, note, created_at) VALUES (?,?,?,?)",
        (
            (d, (today + timedelta(days=rng.randint(-10, 30))).isoformat(), "next step", _ts(now))
            for d in range(1, deals + 1)
            if rng.random() < 0.8
        ),
    )
    conn.executemany(
        "INSERT INTO objection (deal_id, category, said, status, raised_at) VALUES (?,?,?,?,?)",
        ((d, "price", "too expensive", "open", _ts(now)) for d in range(1, deals + 1, 4)),
    )
    conn.execute("INSERT INTO quota (period, amount_cents) VALUES ('2026-11', 6000000000)")
    conn.execute("COMMIT")
    conn.execute("PRAGMA optimize")
    conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--deals", type=int, default=10_000)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    build(args.dir / "desk.sqlite", deals=args.deals)
    print(f"built {args.dir / 'desk.sqlite'}")
