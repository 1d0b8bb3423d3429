"""The demo desk: realistic, deterministic, relative to the day it is built."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.pinned import NOW, TODAY

from repdesk import reports
from repdesk.dates import period_containing
from repdesk.demo import build_demo, demo_is_current, mark_built
from repdesk.models import ALL_TABLES
from repdesk.store import make_engine, read_session


def _build(path: Path) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(path)
    build_demo(engine, today=TODAY, now=NOW)
    engine.dispose()
    conn = sqlite3.connect(path)
    rows = {t: conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in ALL_TABLES}
    conn.close()
    return rows


def test_same_day_same_desk(tmp_path: Path) -> None:
    assert _build(tmp_path / "a.sqlite") == _build(tmp_path / "b.sqlite")


def test_a_realistic_desk_with_every_stage_and_a_story(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    engine = make_engine(path)
    summary = build_demo(engine, today=TODAY, now=NOW)
    assert 300 <= summary.deals <= 400 and 90 <= summary.open_deals <= 130
    assert summary.won > 80 and summary.lost > 80
    assert summary.activities > 2500 and summary.objections > 150

    with read_session(engine) as session:
        queues = reports.day_queues(session, today=TODAY, now=NOW, going_cold_days=14)
        month = reports.kpi_report(session, period=period_containing(TODAY, "month"), as_of=TODAY)
        quarter = reports.kpi_report(
            session, period=period_containing(TODAY, "quarter"), as_of=TODAY
        )
    for section in ("overdue", "today", "upcoming", "no_next_step", "going_cold"):
        assert getattr(queues, section), f"the demo has nothing in {section}"
    assert month.quota and month.pace_delta is not None and month.pace_delta < 0  # behind
    assert quarter.attainment is not None and quarter.pace_delta is not None
    assert abs(quarter.pace_delta) < 0.1 * quarter.quota  # type: ignore[operator]
    engine.dispose()

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    stage_counts = conn.execute(
        "SELECT s.name, count(d.id) FROM stage s LEFT JOIN deal d ON d.stage_id = s.id "
        "GROUP BY s.id"
    ).fetchall()
    assert all(count > 0 for _, count in stage_counts), stage_counts
    assert conn.execute(
        "SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.status != s.kind"
    ).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM deal WHERE closed_on < first_contact").fetchone() == (
        0,
    )
    # Every deal's history ends in the stage it is in, entered when the deal says.
    assert conn.execute(
        "SELECT count(*) FROM deal d WHERE d.stage_id != (SELECT c.to_stage_id FROM stage_change c "
        "WHERE c.deal_id = d.id ORDER BY c.changed_at DESC, c.id DESC LIMIT 1)"
    ).fetchone() == (0,)
    categories = {r[0] for r in conn.execute("SELECT DISTINCT category FROM objection")}
    assert len(categories) == 8
    assert conn.execute("SELECT count(*) FROM deal WHERE lost_reason = '' AND status = 'lost'")\
        .fetchone() == (0,)  # fmt: skip


def test_the_stamp_says_when_the_demo_was_built(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    path.write_bytes(b"")
    assert not demo_is_current(path, TODAY)
    mark_built(path, TODAY)
    assert demo_is_current(path, TODAY)
    assert not demo_is_current(path, TODAY.replace(day=21))


def test_repdesk_demo_never_touches_the_reps_desk(home: Path) -> None:
    from repdesk.cli import main

    assert main(["deal", "add", "My own deal"]) == 0
    before = (home / "desk.sqlite").read_bytes()
    assert main(["demo", "--no-open"]) == 0
    assert (home / "demo" / "desk.sqlite").exists()
    assert (home / "desk.sqlite").read_bytes() == before
