"""The read queries the reports need, each written once.

The same SQL runs through a SQLAlchemy session (the app and the services, on any engine) and
through the standard library's sqlite3 (the fast `repdesk quota` and `repdesk today`, which
must not pay for importing SQLAlchemy). Dialect differences are tokens filled in here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

_DIALECT_TOKENS = {
    "sqlite": {"days_between": "(julianday({a}) - julianday({b}))"},
    "postgresql": {"days_between": "(({a}) - ({b}))"},
}

# The open deals as the desk stood at the end of :as_of (a day; :as_of_end is the instant its
# night begins): first contacted by then, and not yet closed then (a deal closed later was
# open), each in the stage it was in then. That stage is where the deal's first move after
# :as_of_end came from (or, for a deal made later, the stage it was made in), else where it is
# now. Before that night has come no move can be later: the `_now` statements skip the history
# (reading it doubles the cost of today's figures, which the first frame waits for).
_OPEN_AS_OF = """
    SELECT d.id, d.currency, d.value_cents, d.expected_close, {stage} AS stage_id
    FROM deal d
    WHERE (d.status = 'open' OR d.closed_on > :as_of) AND d.first_contact <= :as_of
"""
_STAGE_THEN = """COALESCE(
        (SELECT COALESCE(c.from_stage_id, c.to_stage_id) FROM stage_change c
         WHERE c.deal_id = d.id AND c.changed_at >= :as_of_end
         ORDER BY c.changed_at, c.id LIMIT 1),
        d.stage_id)"""
_OPEN_THEN = _OPEN_AS_OF.format(stage=_STAGE_THEN)
_OPEN_NOW = _OPEN_AS_OF.format(stage="d.stage_id")

_SQL = {
    # Closed deals of a period by currency: won value and count, lost count, summed cycle days.
    # Only deals closed by :as_of: on a past day, a deal closed later was still open.
    "closed_in_period": """
        SELECT currency,
            COALESCE(SUM(CASE WHEN status = 'won' THEN value_cents END), 0),
            COUNT(CASE WHEN status = 'won' THEN 1 END),
            COUNT(CASE WHEN status = 'lost' THEN 1 END),
            COALESCE(SUM({days_between:closed_on:first_contact}), 0)
        FROM deal
        WHERE status IN ('won', 'lost') AND closed_on >= :start AND closed_on <= :end
              AND closed_on <= :as_of
        GROUP BY currency
    """,
    # Won value per close day of a period (up to :as_of), for the cumulative chart.
    "won_by_day": """
        SELECT closed_on, currency, SUM(value_cents)
        FROM deal
        WHERE status = 'won' AND closed_on >= :start AND closed_on <= :end
              AND closed_on <= :as_of
        GROUP BY closed_on, currency
        ORDER BY closed_on
    """,
    # How far each deal had got by :as_of_end (the furthest stage position it entered, Lost
    # aside), counted per position: stage-to-stage conversion follows from these counts.
    "furthest_reached": """
        SELECT furthest, COUNT(*) FROM (
            SELECT c.deal_id, MAX(s.position) AS furthest
            FROM stage_change c JOIN stage s ON s.id = c.to_stage_id
            WHERE s.kind != 'lost' AND c.changed_at < :as_of_end
            GROUP BY c.deal_id
        ) AS reached
        GROUP BY furthest
    """,
    # Calls, emails, meetings and notes logged this week so far and in the same days of the
    # week before (a Monday morning is not measured against a whole week).
    "activity_weeks": """
        SELECT kind,
               COUNT(CASE WHEN at >= :this_start THEN 1 END),
               COUNT(CASE WHEN at < :last_end THEN 1 END)
        FROM activity
        WHERE (at >= :last_start AND at < :last_end) OR (at >= :this_start AND at < :this_end)
        GROUP BY kind
    """,
    "quota_of_period": "SELECT amount_cents FROM quota WHERE period = :period",
    # Per objection category: how many, how many open, and the decided deals that had one.
    "objection_stats": """
        SELECT o.category, COUNT(*),
               COUNT(CASE WHEN o.status = 'open' THEN 1 END),
               COUNT(DISTINCT CASE WHEN d.status = 'won' THEN d.id END),
               COUNT(DISTINCT CASE WHEN d.status = 'lost' THEN d.id END)
        FROM objection o JOIN deal d ON d.id = o.deal_id
        GROUP BY o.category
    """,
    "decided_deals": """
        SELECT COUNT(CASE WHEN status = 'won' THEN 1 END),
               COUNT(CASE WHEN status = 'lost' THEN 1 END)
        FROM deal
    """,
    # A removed stage stays for the history naming it (services/stages.py), in no list.
    "stages": "SELECT id, name, position, probability, kind, rot_days FROM stage "
    "WHERE kind != 'removed' ORDER BY position",
    "stage_rot_limits": "SELECT rot_days FROM stage WHERE kind = 'open' AND rot_days IS NOT NULL",
    # Pending follow-ups due up to a horizon, on deals that are not lost (post-sale ones count).
    "pending_follow_ups": """
        SELECT f.id, f.deal_id, f.due_on, f.due_time, f.note, f.recur_days,
               d.title, d.company, d.value_cents, d.currency, s.name, s.probability, d.status,
               (SELECT MAX(a.at) FROM activity a WHERE a.deal_id = d.id)
        FROM follow_up f
        JOIN deal d ON d.id = f.deal_id
        JOIN stage s ON s.id = d.stage_id
        WHERE f.done_at IS NULL AND f.due_on <= :horizon AND d.status != 'lost'
    """,
    # How many pending follow-ups are overdue and due :today, as pending_follow_ups sorts
    # them into the queues: the app's launch notice needs the two numbers, not the rows.
    "due_counts": """
        SELECT COUNT(CASE WHEN f.due_on < :today THEN 1 END),
               COUNT(CASE WHEN f.due_on = :today THEN 1 END)
        FROM follow_up f JOIN deal d ON d.id = f.deal_id
        WHERE f.done_at IS NULL AND f.due_on <= :today AND d.status != 'lost'
    """,
    # Open deals that may need attention: no pending follow-up, or untouched since
    # :touch_cutoff (the shortest going-cold limit; the caller applies each stage's own).
    "open_deal_touches": """
        SELECT * FROM (
            SELECT d.id, d.title, d.company, d.value_cents, d.currency, s.name, s.probability,
                   s.rot_days, d.created_at,
                   (SELECT MAX(a.at) FROM activity a WHERE a.deal_id = d.id) AS last_touch,
                   EXISTS (SELECT 1 FROM follow_up f
                           WHERE f.deal_id = d.id AND f.done_at IS NULL) AS has_pending
            FROM deal d JOIN stage s ON s.id = d.stage_id
            WHERE d.status = 'open'
        ) AS touches
        WHERE NOT has_pending OR COALESCE(last_touch, created_at) < :touch_cutoff
    """,
    # Board cards: one row per deal with its earliest pending follow-up and open objections.
    # Correlated subqueries ride the (deal_id, done_at) and (deal_id) indexes. NULLS FIRST: an
    # all-day step comes first on both engines (PostgreSQL's default puts NULL last).
    "board_cards": """
        SELECT d.id, d.title, d.company, d.contact, d.value_cents, d.currency, d.stage_id,
               d.stage_entered_at, s.rot_days,
               (SELECT f.due_on FROM follow_up f WHERE f.deal_id = d.id AND f.done_at IS NULL
                ORDER BY f.due_on, f.due_time NULLS FIRST LIMIT 1),
               (SELECT f.due_time FROM follow_up f WHERE f.deal_id = d.id AND f.done_at IS NULL
                ORDER BY f.due_on, f.due_time NULLS FIRST LIMIT 1),
               (SELECT COUNT(*) FROM objection o WHERE o.deal_id = d.id AND o.status = 'open'),
               d.status, d.closed_on, d.lost_reason
        FROM deal d JOIN stage s ON s.id = d.stage_id
        WHERE d.status = 'open' OR :include_closed = 1
    """,
    # The board's first screenful: the first :per_stage cards of each stage in the board's
    # default order (overdue, then next step, then value; see board.sort_key). Then, in rows
    # whose id is NULL, each stage's open deals per currency (count and value), so the column
    # totals convert every deal, not only the first ones. One statement: the first frame reads
    # it before anything else. Everything below the fold comes with the full read after.
    # The open deals are read once (`due`, used twice, so materialized) and their next steps
    # in one grouped pass: a third less CPU than a subquery per deal and a second scan.
    "board_window": """
        WITH due AS (
            SELECT d.id, d.stage_id, d.value_cents, d.currency, p.due_on
            FROM deal d LEFT JOIN (
                SELECT f.deal_id, MIN(f.due_on) AS due_on FROM follow_up f
                WHERE f.done_at IS NULL GROUP BY f.deal_id
            ) p ON p.deal_id = d.id
            WHERE d.status = 'open'
        ), ranked AS (
            SELECT id, due_on,
                   ROW_NUMBER() OVER (PARTITION BY stage_id
                       ORDER BY due_on IS NULL, due_on, value_cents DESC, id) AS place
            FROM due
        )
        SELECT d.id, d.title, d.company, d.contact, d.value_cents, d.currency,
               d.stage_id AS stage_id, d.stage_entered_at, s.rot_days, r.due_on,
               (SELECT f.due_time FROM follow_up f WHERE f.deal_id = d.id AND f.done_at IS NULL
                ORDER BY f.due_on, f.due_time NULLS FIRST LIMIT 1),
               (SELECT COUNT(*) FROM objection o WHERE o.deal_id = d.id AND o.status = 'open'),
               r.place AS place, NULL
        FROM ranked r JOIN deal d ON d.id = r.id JOIN stage s ON s.id = d.stage_id
        WHERE r.place <= :per_stage
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, SUM(value_cents), currency, stage_id, NULL, NULL, NULL,
               NULL, NULL, 0, COUNT(*)
        FROM due
        GROUP BY stage_id, currency
        ORDER BY stage_id, place
    """,
    # `repdesk export csv`: every deal in the native columns' order (io.formats.NATIVE_COLUMNS).
    "deals_for_export": """
        -- A deal made on the desk goes out as repdesk:ID, which a re-import recognises.
        SELECT COALESCE(NULLIF(d.source_id, ''), 'repdesk:' || d.id), d.title, d.company,
               d.contact, d.email, d.phone, d.value_cents,
               d.currency, s.name, d.status, d.source, d.product, d.region, d.segment,
               d.first_contact, d.expected_close, d.closed_on, d.lost_reason
        FROM deal d JOIN stage s ON s.id = d.stage_id
        ORDER BY d.id
    """,
}


# Open pipeline by currency as of :as_of: all open deals, and the part expected to close in
# the period.
_OPEN_PIPELINE = """
        SELECT d.currency,
            COUNT(*),
            COALESCE(SUM(d.value_cents), 0),
            COALESCE(SUM(CASE WHEN d.expected_close >= :start AND d.expected_close <= :end
                              THEN d.value_cents * s.probability END), 0),
            COALESCE(SUM(CASE WHEN d.expected_close >= :start AND d.expected_close <= :end
                              THEN d.value_cents END), 0)
        FROM ({open}) AS d JOIN stage s ON s.id = d.stage_id
        WHERE s.kind = 'open'
        GROUP BY d.currency
    """
# The open pipeline as of :as_of stage by stage (empty stages too), for the funnel.
_OPEN_BY_STAGE = """
        SELECT s.id, s.name, s.position, d.currency, COUNT(d.id), COALESCE(SUM(d.value_cents), 0)
        FROM stage s LEFT JOIN ({open}) AS d ON d.stage_id = s.id
        WHERE s.kind = 'open'
        GROUP BY s.id, s.name, s.position, d.currency
        ORDER BY s.position
    """
for _suffix, _open in (("", _OPEN_THEN), ("_now", _OPEN_NOW)):
    _SQL[f"open_pipeline{_suffix}"] = _OPEN_PIPELINE.format(open=_open)
    _SQL[f"open_by_stage{_suffix}"] = _OPEN_BY_STAGE.format(open=_open)

SLICE_DIMENSIONS = ("source", "product", "region", "segment")

# Closed deals of a period per slice value and currency: the closed_in_period figures, split.
for _dimension in SLICE_DIMENSIONS:
    _SQL[f"closed_by_{_dimension}"] = f"""
        SELECT {_dimension}, currency,
            COALESCE(SUM(CASE WHEN status = 'won' THEN value_cents END), 0),
            COUNT(CASE WHEN status = 'won' THEN 1 END),
            COUNT(CASE WHEN status = 'lost' THEN 1 END),
            COALESCE(SUM({{days_between:closed_on:first_contact}}), 0)
        FROM deal
        WHERE status IN ('won', 'lost') AND closed_on >= :start AND closed_on <= :end
              AND closed_on <= :as_of
        GROUP BY {_dimension}, currency
    """


def sql_for(name: str, dialect: str) -> str:
    """The statement `name` for a dialect, with its tokens filled in."""
    statement = _SQL[name]
    tokens = _DIALECT_TOKENS[dialect]
    # {days_between:a:b} -> the dialect's day difference between columns a and b.
    while "{days_between:" in statement:
        start = statement.index("{days_between:")
        stop = statement.index("}", start)
        _, a, b = statement[start + 1 : stop].split(":")
        statement = (
            statement[:start] + tokens["days_between"].format(a=a, b=b) + statement[stop + 1 :]
        )
    return statement


def fetch(conn: Any, name: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run query `name` on a sqlite3 connection or a SQLAlchemy session/connection."""
    return list(rows(conn, name, **params))


def rows(conn: Any, name: str, **params: Any) -> Iterator[tuple[Any, ...]]:
    """`fetch`, one row at a time: a caller that turns each row into something else never
    holds every row and everything made of them at once (the board's 100,000 cards)."""
    if isinstance(conn, sqlite3.Connection):
        plain = {k: _sqlite_param(v) for k, v in params.items()}
        yield from conn.execute(sql_for(name, "sqlite"), plain)
        return
    from sqlalchemy import text  # only the slow path pays for SQLAlchemy

    dialect = conn.get_bind().dialect.name
    if dialect == "sqlite":
        params = {k: _sqlite_param(v) for k, v in params.items()}
    for row in conn.execute(text(sql_for(name, dialect)), params):
        yield tuple(row)


def _sqlite_param(value: Any) -> Any:
    # SQLite stores dates as ISO text and instants as naive UTC text (see models.UTCDateTime).
    if isinstance(value, datetime):
        # Always with microseconds, as SQLAlchemy stores them: text comparison must line up.
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def as_time(value: Any) -> time | None:
    if value is None or isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


def as_instant(value: Any) -> datetime | None:
    """An instant from either engine, aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        # SQLite's naive UTC text. Parsing it with the offset appended is several times faster
        # than .replace(tzinfo=...), and `repdesk today` reads thousands of these.
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            value = datetime.fromisoformat(value)  # text that carries its own offset
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
