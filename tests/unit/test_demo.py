"""The demo desk: realistic, deterministic, relative to the day it is built."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tests.pinned import EUR, NOW, TODAY

from repdesk.core.dates import period_containing
from repdesk.core.domain import OBJECTION_CATEGORIES
from repdesk.demo import DemoSummary, build_demo, demo_is_current, mark_built
from repdesk.reports import figures
from repdesk.storage.models import ALL_TABLES, SYNC_TABLES
from repdesk.storage.store import make_engine, read_session, write_session

NOW_TEXT = NOW.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _build(path: Path, today: date = TODAY, now: datetime = NOW) -> DemoSummary:
    engine = make_engine(path)
    try:
        return build_demo(engine, today=today, now=now)
    finally:
        engine.dispose()


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in ALL_TABLES}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DemoSummary, float]]:
    path = tmp_path_factory.mktemp("demo") / "desk.sqlite"
    engine = make_engine(path)
    # CPU time of this process: a busy machine (other processes, CI neighbours) stretches the
    # wall clock, not the work the build does (scripts/under-load).
    started = time.process_time()
    summary = build_demo(engine, today=TODAY, now=NOW)
    elapsed = time.process_time() - started
    engine.dispose()
    yield path, summary, elapsed


@pytest.fixture
def conn(demo: tuple[Path, DemoSummary, float]) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(demo[0])
    yield connection
    connection.close()


def _one(conn: sqlite3.Connection, sql: str) -> object:
    return conn.execute(sql).fetchone()[0]


def test_same_inputs_same_rows(tmp_path: Path) -> None:
    _build(tmp_path / "a.sqlite")
    _build(tmp_path / "b.sqlite")
    first, second = _dump(tmp_path / "a.sqlite"), _dump(tmp_path / "b.sqlite")
    assert all(first[t] for t in ALL_TABLES if t not in ("trash", "weekly_review", *SYNC_TABLES))
    assert first["trash"] == []  # a new demo has nothing deleted yet
    assert first["weekly_review"] == []  # a week's review is kept the first time it is read
    assert first == second


def test_another_seed_or_day_gives_another_desk(tmp_path: Path) -> None:
    _build(tmp_path / "a.sqlite")
    _build(tmp_path / "b.sqlite", today=TODAY + timedelta(days=1), now=NOW + timedelta(days=1))
    assert _dump(tmp_path / "a.sqlite")["deal"] != _dump(tmp_path / "b.sqlite")["deal"]


def test_counts_and_build_time(demo: tuple[Path, DemoSummary, float], conn) -> None:  # type: ignore[no-untyped-def]
    _, summary, elapsed = demo
    assert 320 <= summary.deals <= 400
    assert summary.open_deals == 110
    assert summary.won + summary.lost + summary.open_deals == summary.deals
    assert 0.40 <= summary.won / (summary.won + summary.lost) <= 0.50
    assert 8 * summary.deals <= summary.activities <= 15 * summary.deals
    assert 180 <= summary.objections <= 260
    assert summary.follow_ups > summary.deals
    counts = {t: _one(conn, f"SELECT count(*) FROM {t}") for t in ALL_TABLES}
    assert counts["deal"] == summary.deals
    assert counts["activity"] == summary.activities
    assert counts["follow_up"] == summary.follow_ups
    assert counts["objection"] == summary.objections
    assert counts["stage"] == 8
    assert elapsed < 2.0, f"the demo took {elapsed:.2f} s to build"  # ~0.2 s measured


def test_every_stage_populated_fewer_later_and_statuses_match(conn) -> None:  # type: ignore[no-untyped-def]
    per_stage = conn.execute(
        "SELECT s.kind, count(d.id) FROM stage s LEFT JOIN deal d ON d.stage_id = s.id "
        "GROUP BY s.id ORDER BY s.position"
    ).fetchall()
    assert all(count > 0 for _, count in per_stage), per_stage
    open_counts = [count for kind, count in per_stage if kind == "open"]
    assert open_counts == sorted(open_counts, reverse=True)
    assert (
        _one(
            conn,
            "SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id "
            "WHERE d.status != s.kind",
        )
        == 0
    )
    assert (
        _one(conn, "SELECT count(*) FROM deal WHERE status = 'open' AND closed_on IS NOT NULL") == 0
    )
    assert _one(conn, "SELECT count(*) FROM deal WHERE status != 'open' AND closed_on IS NULL") == 0
    assert (
        _one(conn, "SELECT count(*) FROM deal WHERE (status = 'lost') != (lost_reason != '')") == 0
    )


def test_deals_look_real(conn) -> None:  # type: ignore[no-untyped-def]
    assert 120 <= _one(conn, "SELECT count(DISTINCT company) FROM deal") <= 180
    companies = {row[0] for row in conn.execute("SELECT company FROM deal")}
    assert {"Müller & Söhne GmbH", "Łódź Foods", "Société Générale d'Aviation"} <= companies
    assert {r[0] for r in conn.execute("SELECT DISTINCT region FROM deal")} == {
        "Nordics",
        "DACH",
        "Benelux",
        "UK",
        "France",
        "Iberia",
    }
    assert {r[0] for r in conn.execute("SELECT DISTINCT source FROM deal")} == {
        "inbound",
        "referral",
        "outbound",
        "event",
        "partner",
    }
    assert {r[0] for r in conn.execute("SELECT DISTINCT segment FROM deal")} == {"new", "existing"}
    assert 3 <= _one(conn, "SELECT count(DISTINCT product) FROM deal") <= 4
    currencies = dict(conn.execute("SELECT currency, count(*) FROM deal GROUP BY currency"))
    assert set(currencies) == {"EUR", "USD", "GBP"}
    assert currencies["EUR"] > 0.9 * sum(currencies.values())
    low, high, median = conn.execute(
        "SELECT min(value_cents), max(value_cents), "
        "(SELECT value_cents FROM deal ORDER BY value_cents LIMIT 1 OFFSET (SELECT count(*) / 2 "
        "FROM deal)) FROM deal"
    ).fetchone()
    assert low >= 200_000 and high <= 15_000_000 and median < 2_000_000  # skewed: many small
    assert _one(conn, "SELECT count(*) FROM deal WHERE email NOT LIKE '%_@_%._%'") == 0
    assert _one(conn, "SELECT count(*) FROM deal WHERE phone NOT LIKE '+%'") == 0
    reasons = {
        r[0] for r in conn.execute("SELECT DISTINCT lost_reason FROM deal WHERE status = 'lost'")
    }
    assert reasons == {
        "price",
        "chose competitor",
        "no budget",
        "timing",
        "not a fit",
        "went silent",
    }


def test_dates_are_consistent(conn) -> None:  # type: ignore[no-untyped-def]
    assert _one(conn, "SELECT count(*) FROM deal WHERE closed_on < first_contact") == 0
    cycles = conn.execute(
        "SELECT min(julianday(closed_on) - julianday(first_contact)), "
        "max(julianday(closed_on) - julianday(first_contact)) FROM deal WHERE closed_on IS NOT NULL"
    ).fetchone()
    assert cycles[0] >= 10 and cycles[1] <= 120, cycles
    oldest, newest = conn.execute("SELECT min(closed_on), max(closed_on) FROM deal").fetchone()
    assert oldest <= (TODAY - timedelta(days=500)).isoformat() and newest <= TODAY.isoformat()
    assert _one(conn, "SELECT count(*) FROM deal WHERE expected_close < first_contact") == 0
    ahead = conn.execute(
        "SELECT count(*), sum(expected_close BETWEEN :today AND date(:today, '+90 days')), "
        "sum(expected_close BETWEEN :today AND :month_end) FROM deal WHERE status = 'open'",
        {
            "today": TODAY.isoformat(),
            "month_end": period_containing(TODAY, "month").end.isoformat(),
        },
    ).fetchone()
    assert ahead[1] >= 0.8 * ahead[0] and ahead[2] >= 10
    # Nothing happened after `now`.
    for table, column in (
        ("activity", "at"),
        ("stage_change", "changed_at"),
        ("objection", "raised_at"),
        ("objection", "resolved_at"),
        ("follow_up", "done_at"),
        ("follow_up", "created_at"),
        ("deal", "stage_entered_at"),
        ("deal", "created_at"),
    ):
        assert _one(conn, f"SELECT count(*) FROM {table} WHERE {column} > '{NOW_TEXT}'") == 0
    # Activities and objections fall within their deal's life.
    assert (
        _one(
            conn,
            "SELECT count(*) FROM activity a JOIN deal d ON d.id = a.deal_id "
            "WHERE date(a.at) < d.first_contact",
        )
        == 0
    )
    assert (
        _one(
            conn,
            "SELECT count(*) FROM objection o JOIN deal d ON d.id = o.deal_id "
            "WHERE date(o.raised_at) < d.first_contact OR date(o.raised_at) > d.closed_on "
            "OR o.resolved_at < o.raised_at",
        )
        == 0
    )


def test_stage_history_ends_where_the_deal_is(conn) -> None:  # type: ignore[no-untyped-def]
    history: dict[int, list[tuple[int | None, int, str]]] = {}
    for deal_id, source, target, at in conn.execute(
        "SELECT deal_id, from_stage_id, to_stage_id, changed_at FROM stage_change ORDER BY id"
    ):
        history.setdefault(deal_id, []).append((source, target, at))
    positions = dict(conn.execute("SELECT id, position FROM stage"))
    backwards = skips = 0
    for deal_id, stage_id, entered, first_contact in conn.execute(
        "SELECT id, stage_id, stage_entered_at, first_contact FROM deal"
    ):
        changes = history[deal_id]
        assert changes[0][0] is None
        assert changes[0][2][:10] == first_contact
        assert changes[-1][1] == stage_id and changes[-1][2] == entered
        for before, after in itertools.pairwise(changes):
            assert after[0] == before[1] and after[2] > before[2], (deal_id, changes)
            backwards += positions[after[1]] < positions[before[1]]
            skips += positions[after[1]] > positions[before[1]] + 1
    assert 0 < backwards < 0.1 * len(history) and skips > 0


def test_some_open_deals_rot_in_their_stage(conn) -> None:  # type: ignore[no-untyped-def]
    rotting = _one(
        conn,
        "SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.status = 'open' "
        f"AND julianday('{NOW_TEXT}') - julianday(d.stage_entered_at) > s.rot_days",
    )
    assert 10 <= rotting <= 40


def test_activities(conn) -> None:  # type: ignore[no-untyped-def]
    kinds = dict(conn.execute("SELECT kind, count(*) FROM activity GROUP BY kind"))
    assert set(kinds) == {"call", "email", "meeting", "note"}
    outcomes = {
        r[0] for r in conn.execute("SELECT DISTINCT outcome FROM activity WHERE kind = 'call'")
    }
    assert outcomes == {
        "connected",
        "left voicemail",
        "no answer",
        "meeting booked",
        "not interested",
    }
    assert _one(conn, "SELECT count(*) FROM activity WHERE kind != 'call' AND outcome != ''") == 0
    assert (
        _one(
            conn,
            "SELECT count(*) FROM activity WHERE kind IN ('call', 'meeting') AND minutes IS NULL",
        )
        == 0
    )
    assert _one(conn, "SELECT count(*) FROM activity WHERE text = ''") == 0
    monday = TODAY - timedelta(days=TODAY.weekday())
    this_week = _one(conn, f"SELECT count(*) FROM activity WHERE at >= '{monday}'")
    last_week = _one(
        conn,
        f"SELECT count(*) FROM activity WHERE at >= '{monday - timedelta(7)}' AND at < '{monday}'",
    )
    assert this_week > 20 and last_week > 20


def test_follow_ups(conn) -> None:  # type: ignore[no-untyped-def]
    today = TODAY.isoformat()
    pending = conn.execute(
        "SELECT sum(f.due_on < :t), sum(f.due_on = :t),"
        " sum(f.due_on = :t AND f.due_time IS NOT NULL),"
        " sum(f.due_on > :t AND f.due_on <= date(:t, '+7 days')) "
        "FROM follow_up f JOIN deal d ON d.id = f.deal_id "
        "WHERE f.done_at IS NULL AND d.status = 'open'",
        {"t": today},
    ).fetchone()
    assert pending[0] == 12 and pending[1] == 8 and pending[2] >= 1 and pending[3] == 25
    assert (
        _one(
            conn,
            "SELECT count(*) FROM deal d WHERE status = 'open' AND NOT EXISTS "
            "(SELECT 1 FROM follow_up f WHERE f.deal_id = d.id AND f.done_at IS NULL)",
        )
        == 20
    )
    assert (
        _one(
            conn,
            "SELECT count(*) FROM follow_up f JOIN deal d ON d.id = f.deal_id "
            "WHERE f.done_at IS NULL AND d.status = 'lost'",
        )
        == 0
    )
    assert (
        _one(
            conn,
            f"SELECT count(*) FROM follow_up WHERE done_at IS NOT NULL AND (outcome = '' "
            f"OR due_on > '{today}')",
        )
        == 0
    )
    recurring = conn.execute(
        "SELECT DISTINCT f.recur_days, d.status FROM follow_up f JOIN deal d ON d.id = f.deal_id "
        "WHERE f.recur_days IS NOT NULL"
    ).fetchall()
    assert recurring and {status for _, status in recurring} == {"won"}
    assert {days for days, _ in recurring} <= {30, 90}


def test_objections(conn) -> None:  # type: ignore[no-untyped-def]
    categories = {r[0] for r in conn.execute("SELECT DISTINCT category FROM objection")}
    assert categories == set(OBJECTION_CATEGORIES)
    statuses = dict(
        conn.execute(
            "SELECT o.status || '/' || d.status, count(*) FROM objection o "
            "JOIN deal d ON d.id = o.deal_id GROUP BY 1"
        )
    )
    assert statuses.get("open/open", 0) > 0
    resolved_closed = statuses.get("resolved/won", 0) + statuses.get("resolved/lost", 0)
    assert resolved_closed > statuses.get("resolved/open", 0)
    assert (
        _one(conn, "SELECT count(*) FROM objection WHERE (status = 'open') != (answer = '')") == 0
    )
    assert (
        _one(
            conn,
            "SELECT count(*) FROM objection WHERE (status = 'resolved') "
            "!= (resolved_at IS NOT NULL)",
        )
        == 0
    )
    # Several distinct good answers per category, and some seen only on won deals.
    for category in OBJECTION_CATEGORIES:
        answers = _one(
            conn,
            f"SELECT count(DISTINCT answer) FROM objection "
            f"WHERE category = '{category}' AND answer != ''",
        )
        assert answers >= 2, category
    won_only = _one(
        conn,
        "SELECT count(*) FROM (SELECT o.answer FROM objection o JOIN deal d ON d.id = o.deal_id "
        "WHERE o.answer != '' GROUP BY o.answer HAVING min(d.status = 'won') = 1)",
    )
    assert won_only >= 3


def test_quotas_and_the_story(demo: tuple[Path, DemoSummary, float]) -> None:
    engine = make_engine(demo[0])
    with read_session(engine) as session:
        queues = figures.day_queues(session, today=TODAY, now=NOW, going_cold_days=14)
        kpis = {
            kind: figures.kpi_report(
                session, period=period_containing(TODAY, kind), as_of=TODAY, conversion=EUR
            )
            for kind in ("month", "quarter", "year")
        }
    engine.dispose()
    for section in ("overdue", "today", "upcoming", "no_next_step", "going_cold"):
        assert getattr(queues, section), f"the demo has nothing in {section}"
    assert any(row.due_time is not None for row in queues.today)
    month, quarter, year = kpis["month"], kpis["quarter"], kpis["year"]
    assert (month.quota, quarter.quota, year.quota) == (6_000_000, 18_000_000, 72_000_000)
    # This month visibly behind: won is 60-75% of what the quota expects by now.
    assert month.pace_delta is not None and month.pace_delta < 0
    assert month.expected_by_now and 0.55 <= month.won_value / month.expected_by_now <= 0.75
    assert month.won_count >= 2
    # This quarter about on pace.
    assert quarter.pace_delta is not None and abs(quarter.pace_delta) < 0.05 * 18_000_000
    assert month.win_rate is not None and month.avg_cycle_days and month.avg_deal_size


def test_quota_rows(conn) -> None:  # type: ignore[no-untyped-def]
    periods = dict(conn.execute("SELECT period, amount_cents FROM quota"))
    month = period_containing(TODAY, "month")
    expected = {month.label, period_containing(TODAY, "quarter").label, str(TODAY.year)}
    for _ in range(5):
        month = month.prev()
        expected.add(month.label)
    assert (
        set(periods)
        == expected
        == {"2026-11", "2026-Q4", "2026", "2026-10", "2026-09", "2026-08", "2026-07", "2026-06"}
    )


def test_integrity(conn) -> None:  # type: ignore[no-untyped-def]
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2026, 3, 31), date(2024, 2, 29)])
def test_any_day_builds_a_consistent_desk(tmp_path: Path, today: date) -> None:
    now = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=17, minutes=5)
    summary = _build(tmp_path / "desk.sqlite", today=today, now=now)
    assert summary.open_deals == 110 and summary.won > 80 and summary.lost > 80
    engine = make_engine(tmp_path / "desk.sqlite")
    with read_session(engine) as session:
        month = figures.kpi_report(
            session, period=period_containing(today, "month"), as_of=today, conversion=EUR
        )
    engine.dispose()
    assert month.pace_delta is not None and month.pace_delta < 0
    conn = sqlite3.connect(tmp_path / "desk.sqlite")
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert _one(conn, "SELECT count(*) FROM deal WHERE closed_on < first_contact") == 0
        assert (
            _one(conn, f"SELECT count(*) FROM activity WHERE at > '{now:%Y-%m-%d %H:%M:%S}.999999'")
            == 0
        )
    finally:
        conn.close()


def test_refuses_a_desk_that_has_deals(tmp_path: Path) -> None:
    from repdesk.services.deals import create_deal

    engine = make_engine(tmp_path / "desk.sqlite")
    with write_session(engine) as session:
        create_deal(session=session, title="My own deal", currency="EUR", now=NOW)
    with pytest.raises(ValueError, match="empty desk"):
        build_demo(engine, today=TODAY, now=NOW)
    engine.dispose()
    assert _dump(tmp_path / "desk.sqlite")["activity"] == []


def test_the_stamp_says_when_the_demo_was_built(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "desk.sqlite"
    assert not demo_is_current(path, TODAY)
    path.parent.mkdir()
    path.write_bytes(b"")
    assert not demo_is_current(path, TODAY)
    mark_built(path, TODAY)
    assert (path.parent / "demo-built-on.txt").exists()
    assert demo_is_current(path, TODAY)
    assert not demo_is_current(path, TODAY + timedelta(days=1))
    path.unlink()
    assert not demo_is_current(path, TODAY)  # a stamp without its desk is stale


def test_repdesk_demo_never_touches_the_reps_desk(home: Path) -> None:
    from repdesk.cli import main

    assert main(["deal", "add", "My own deal"]) == 0
    before = (home / "desk.sqlite").read_bytes()
    assert main(["demo", "--no-open"]) == 0
    assert (home / "demo" / "desk.sqlite").exists()
    assert (home / "desk.sqlite").read_bytes() == before


def test_the_demo_is_built_again_beside_the_copy_an_upgrade_kept(tmp_path: Path) -> None:
    """An upgrade of an older demo leaves desk.sqlite.pre-vN-*.bak beside it: its rebuild
    deletes the desk first, and a missing desk beside a backup was refused (a review)."""
    import shutil

    from repdesk.demo import ensure_built
    from repdesk.storage.paths import Home

    home = Home(tmp_path, tmp_path)
    assert ensure_built(home, today=TODAY, now=NOW) is not None
    shutil.copyfile(home.desk, tmp_path / f"{home.desk.name}.pre-v11-20261119-100000.bak")
    assert ensure_built(home, today=TODAY, now=NOW, force=True) is not None
    assert not list(tmp_path.glob("*.bak"))


def test_a_rebuild_that_fails_half_way_is_built_again_the_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile test: `demo --reset` killed a second in left an empty desk beside today's
    mark, and every `repdesk demo` that day opened it as built (0 deals)."""
    from repdesk import demo
    from repdesk.storage.paths import Home

    home = Home(tmp_path, tmp_path)
    demo.ensure_built(home, today=TODAY, now=NOW)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as a kill half way through the build

    monkeypatch.setattr(demo, "build_demo", killed)
    with pytest.raises(KeyboardInterrupt):
        demo.ensure_built(home, today=TODAY, now=NOW, force=True)
    monkeypatch.undo()
    assert not demo_is_current(home.desk, TODAY)
    assert demo.ensure_built(home, today=TODAY, now=NOW) is not None  # built again, whole
