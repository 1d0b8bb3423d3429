"""The read queries the reports need, each written once.

The same SQL runs through a SQLAlchemy session (the app and the services, on any engine) and
through the standard library's sqlite3 (the fast `repdesk quota` and `repdesk today`, which
must not pay for importing SQLAlchemy). Dialect differences are tokens filled in here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# {unindexed:col}: a filter on `col` no index is to serve. The closed deals of a period are
# found by their close date's index; SQLite, which keeps no statistics here, preferred the
# status index (an equality beats a range) and read every won or lost deal: the quota strip's
# standing took 47 ms on the ten-times desk instead of 7 (issue 17). A unary plus is SQLite's
# way to say so; PostgreSQL plans from its own statistics.
_DIALECT_TOKENS = {
    "sqlite": {"days_between": "(julianday({a}) - julianday({b}))", "unindexed": "+{a}"},
    "postgresql": {"days_between": "(({a}) - ({b}))", "unindexed": "{a}"},
}

# The open deals as the desk stood at the end of :as_of (a day; :as_of_end is the instant its
# night begins): first contacted by then, and not yet closed then (a deal closed later was
# open), each in the stage it was in then. That stage is where the deal's first move after
# :as_of_end came from (or, for a deal made later, the stage it was made in), else where it is
# now. The expected close and the forecast category then come the same way from their own
# histories (schema v5): what the first change after that night changed from, else today's
# (category_then NULL: today's, worked out from the rep's call and the probability, see
# core/forecast.py). Before that night has come nothing can have changed since: the `_now`
# statements skip the histories (reading them doubles the cost of today's figures, which the
# first frame waits for).
_OPEN_AS_OF = """
    SELECT d.id, d.currency, d.value_cents, {expected} AS expected_close, {stage} AS stage_id,
           d.forecast, {probability} AS probability, {category} AS category_then
    FROM deal d {joins}
    WHERE (d.status = 'open' OR d.closed_on > :as_of) AND d.first_contact <= :as_of
"""
_STAGE_THEN = """COALESCE(
        (SELECT COALESCE(c.from_stage_id, c.to_stage_id) FROM stage_change c
         WHERE c.deal_id = d.id AND c.changed_at >= :as_of_end
         ORDER BY c.changed_at, c.id LIMIT 1),
        d.stage_id)"""


def _first_after(
    column: str, table: str, alias: str, owner: str = "deal_id", on: str = "d.id"
) -> str:
    """Each deal's (or, with `owner` and `on`, each stage's) first change in a history after
    that night, read in one pass over the history (joined) rather than looked up one by one:
    most have none."""
    return f"""
    LEFT JOIN (SELECT {owner}, {column},
                      ROW_NUMBER() OVER (PARTITION BY {owner} ORDER BY changed_at, id) AS nth
               FROM {table} WHERE {owner} IS NOT NULL AND changed_at >= :as_of_end) AS {alias}
           ON {alias}.{owner} = {on} AND {alias}.nth = 1"""


_CLOSE_THEN = _first_after("from_date", "close_date_change", "close_then")
_EXPECTED_THEN = (
    "CASE WHEN close_then.deal_id IS NULL THEN d.expected_close ELSE close_then.from_date END"
)
# The probabilities then (schema v12): a deal's own, and a stage's, each from its first change
# after that night (what it changed from), else today's.
_OPEN_THEN = _OPEN_AS_OF.format(
    stage=_STAGE_THEN,
    expected=_EXPECTED_THEN,
    probability=(
        "CASE WHEN probability_then.deal_id IS NULL THEN d.probability "
        "ELSE probability_then.from_probability END"
    ),
    category="category_then.from_category",
    joins=_CLOSE_THEN
    + _first_after("from_category", "forecast_change", "category_then")
    + _first_after("from_probability", "probability_change", "probability_then"),
)
_OPEN_NOW = _OPEN_AS_OF.format(
    stage="d.stage_id",
    expected="d.expected_close",
    probability="d.probability",
    category="CAST(NULL AS VARCHAR)",
    joins="",
)

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
        WHERE {unindexed:status} IN ('won', 'lost') AND closed_on >= :start AND closed_on <= :end
              AND closed_on <= :as_of
        GROUP BY currency
    """,
    # Won value per close day of a period (up to :as_of), for the cumulative chart.
    "won_by_day": """
        SELECT closed_on, currency, SUM(value_cents)
        FROM deal
        WHERE {unindexed:status} = 'won' AND closed_on >= :start AND closed_on <= :end
              AND closed_on <= :as_of
        GROUP BY closed_on, currency
        ORDER BY closed_on
    """,
    # How far each deal had got by :as_of_end (the furthest stage position it entered, Lost
    # aside), counted per position and currency: stage-to-stage conversion follows from these
    # counts, leaving out a currency with no rate as every other figure does.
    "furthest_reached": """
        SELECT reached.furthest, d.currency, COUNT(*) FROM (
            SELECT c.deal_id, MAX(s.position) AS furthest
            FROM stage_change c JOIN stage s ON s.id = c.to_stage_id
            WHERE s.kind != 'lost' AND c.changed_at < :as_of_end
            GROUP BY c.deal_id
        ) AS reached JOIN deal d ON d.id = reached.deal_id
        GROUP BY reached.furthest, d.currency
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
    # The palette's won and lost deals: plain rows, as many as the desk holds, read at once.
    "closed_deal_names": """
        SELECT id, title, company, value_cents, currency, status FROM deal
        WHERE status IN ('won', 'lost') ORDER BY id DESC
    """,
    # What lost deals teach: the period's lost deals by reason, and those that went to (or
    # met) a competitor by its name ('' when only a competitor objection says one was there).
    "lost_by_reason": """
        SELECT lost_reason, currency, COUNT(*), COALESCE(SUM(value_cents), 0)
        FROM deal
        WHERE {unindexed:status} = 'lost' AND closed_on >= :start AND closed_on <= :end
              AND closed_on <= :as_of
        GROUP BY lost_reason, currency
    """,
    "lost_by_competitor": """
        SELECT d.competitor, d.currency, COUNT(*), COALESCE(SUM(d.value_cents), 0)
        FROM deal d
        WHERE {unindexed:d.status} = 'lost' AND d.closed_on >= :start AND d.closed_on <= :end
              AND d.closed_on <= :as_of
              AND (d.competitor != '' OR EXISTS (
                  SELECT 1 FROM objection o WHERE o.deal_id = d.id AND o.category = 'competitor'))
        GROUP BY d.competitor, d.currency
    """,
    # The scores of the customers won in the period who had answered by :as_of.
    "nps_scores": """
        SELECT nps, COUNT(*)
        FROM deal
        WHERE {unindexed:status} = 'won' AND closed_on >= :start AND closed_on <= :end
              AND closed_on <= :as_of AND nps IS NOT NULL AND nps_on <= :as_of
        GROUP BY nps
    """,
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
    "all_stage_names": "SELECT id, name FROM stage",
    # Any deal at all, open or closed (the welcome leaves once one arrives).
    "has_deals": "SELECT 1 FROM deal LIMIT 1",
    # Pending follow-ups due up to a horizon, on deals that are not lost (post-sale ones count).
    "pending_follow_ups": """
        SELECT f.id, f.deal_id, f.due_on, f.due_time, f.note, f.recur_days,
               d.title, d.company, d.value_cents, d.currency, s.name,
               COALESCE(d.probability, s.probability), d.status, d.last_touch_at
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
    # How many pending follow-ups each of the day's first three queues has (overdue, due
    # :today, coming up to :horizon): `repdesk today` shows the first ten rows of each and
    # these counts, so the other rows are counted here instead of read.
    "pending_counts": """
        SELECT COUNT(CASE WHEN f.due_on < :today THEN 1 END),
               COUNT(CASE WHEN f.due_on = :today THEN 1 END),
               COUNT(CASE WHEN f.due_on > :today THEN 1 END)
        FROM follow_up f JOIN deal d ON d.id = f.deal_id
        WHERE f.done_at IS NULL AND f.due_on <= :horizon AND d.status != 'lost'
    """,
    # Open deals that may need attention: no pending follow-up, or untouched since
    # :touch_cutoff (the shortest going-cold limit; the caller applies each stage's own).
    # Only what ranks them, all of it in the index of schema step 11 (no table row is read);
    # `deal_names` reads the titles of those kept, the stage's facts come from `stage_facts`.
    "open_deal_touches": """
        SELECT * FROM (
            SELECT d.id, d.value_cents, d.currency, d.stage_id, d.probability, d.created_at,
                   d.last_touch_at AS last_touch,
                   EXISTS (SELECT 1 FROM follow_up f
                           WHERE f.deal_id = d.id AND f.done_at IS NULL) AS has_pending
            FROM deal d
            WHERE d.status = 'open'
        ) AS touches
        WHERE NOT has_pending OR COALESCE(last_touch, created_at) < :touch_cutoff
    """,
    "deal_names": "SELECT id, title, company FROM deal WHERE id IN ({ids})",
    "stage_facts": "SELECT id, name, probability, rot_days, kind FROM stage",
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
    # The board's first screenful (services/board.py, board_window): the open deals' pending
    # follow-ups in due order, read from the pending index (no sort) and only as far as
    # each stage's first cards need; the deals with no next step of a stage, by value; the
    # chosen cards; and each stage's open deals per currency (count and value), so the column
    # totals convert every deal, not only the first ones. A tenth of one statement that ranked
    # every open deal (about 100 ms on 10,000 deals, which the first frame waited for).
    "board_due_order": """
        SELECT f.deal_id, f.due_on, d.stage_id, d.value_cents
        FROM follow_up f JOIN deal d ON d.id = f.deal_id
        WHERE f.done_at IS NULL AND d.status = 'open'
        ORDER BY f.due_on
    """,
    "board_unscheduled": """
        SELECT d.id FROM deal d
        WHERE d.status = 'open' AND d.stage_id = :stage_id
          AND NOT EXISTS (SELECT 1 FROM follow_up f WHERE f.deal_id = d.id AND f.done_at IS NULL)
        ORDER BY d.value_cents DESC, d.id
        LIMIT :limit
    """,
    "board_chosen_cards": """
        SELECT d.id, d.title, d.company, d.contact, d.value_cents, d.currency, d.stage_id,
               d.stage_entered_at, s.rot_days,
               (SELECT f.due_on FROM follow_up f WHERE f.deal_id = d.id AND f.done_at IS NULL
                ORDER BY f.due_on, f.due_time NULLS FIRST LIMIT 1),
               (SELECT f.due_time FROM follow_up f WHERE f.deal_id = d.id AND f.done_at IS NULL
                ORDER BY f.due_on, f.due_time NULLS FIRST LIMIT 1),
               (SELECT COUNT(*) FROM objection o WHERE o.deal_id = d.id AND o.status = 'open')
        FROM deal d JOIN stage s ON s.id = d.stage_id
        WHERE d.id IN ({ids})
    """,
    "board_sizes": """
        SELECT stage_id, currency, COUNT(*), SUM(value_cents) FROM deal
        WHERE status = 'open'
        GROUP BY stage_id, currency
    """,
    # Every company with its deals, open deals, contacts and last touch (`company list`).
    "companies": """
        SELECT c.id, c.name, c.touch_every_days,
               (SELECT COUNT(*) FROM deal d WHERE d.company_id = c.id),
               (SELECT COUNT(*) FROM deal d WHERE d.company_id = c.id AND d.status = 'open'),
               (SELECT COUNT(*) FROM contact p WHERE p.company_id = c.id),
               (SELECT MAX(a.at) FROM activity a JOIN deal d ON d.id = a.deal_id
                WHERE d.company_id = c.id)
        FROM company c
        ORDER BY LOWER(c.name), c.id
    """,
    "company_won": """
        SELECT company_id, currency, SUM(value_cents) FROM deal
        WHERE status = 'won' AND company_id IS NOT NULL
        GROUP BY company_id, currency
    """,
    # Won customers with a "stay in touch" rhythm (issue 19): the company, its rhythm, its last
    # touch on any of its deals, and its latest won deal (the queue row opens it; a call logged
    # there is the touch that resets the rhythm).
    "stay_in_touch": """
        SELECT c.id, c.name, c.touch_every_days,
               (SELECT MAX(a.at) FROM activity a JOIN deal x ON x.id = a.deal_id
                WHERE x.company_id = c.id) AS last_touch,
               d.id, d.title, d.value_cents, d.currency, s.name, s.probability, d.closed_on
        FROM company c
        JOIN deal d ON d.id = (SELECT w.id FROM deal w WHERE w.company_id = c.id
                               AND w.status = 'won' ORDER BY w.closed_on DESC, w.id DESC LIMIT 1)
        JOIN stage s ON s.id = d.stage_id
        WHERE c.touch_every_days IS NOT NULL
    """,
    # `repdesk export contacts`: every contact, their addresses and numbers, and their deals.
    "contacts_for_export": """
        SELECT c.id, c.name, c.title, COALESCE(co.name, '')
        FROM contact c LEFT JOIN company co ON co.id = c.company_id
        ORDER BY c.id
    """,
    "contact_emails_for_export": """
        SELECT contact_id, address FROM contact_email ORDER BY contact_id, position, id
    """,
    "contact_phones_for_export": """
        SELECT contact_id, number FROM contact_phone ORDER BY contact_id, position, id
    """,
    "contact_deals_for_export": """
        SELECT l.contact_id, COALESCE(NULLIF(d.source_id, ''), 'repdesk:' || d.id), l.role
        FROM deal_contact l JOIN deal d ON d.id = l.deal_id
        ORDER BY l.contact_id, l.position, l.id
    """,
    # `repdesk export csv`: every deal in the native columns' order (io.formats.NATIVE_COLUMNS).
    "deals_for_export": """
        -- A deal made on the desk goes out as repdesk:ID, which a re-import recognises.
        SELECT COALESCE(NULLIF(d.source_id, ''), 'repdesk:' || d.id), d.title, d.company,
               d.contact, d.email, d.phone, d.value_cents,
               d.currency, s.name, d.status, d.source, d.product, d.region, d.segment,
               d.first_contact, d.expected_close, d.closed_on, d.lost_reason,
               s.position, s.probability,
               d.forecast, d.probability, d.competitor, d.nps, d.nps_on
        FROM deal d JOIN stage s ON s.id = d.stage_id
        ORDER BY d.id
    """,
}


# Open pipeline as of :as_of: all open deals, and the part expected to close in the period
# (weighted by the deal's own probability, else its stage's), by currency and by what decides
# the forecast category (the rep's call, the probability, the category then); and those still
# open whose expected close is before the period (in no period's forecast: said, not hidden).
_OPEN_PIPELINE = """
        SELECT d.currency, d.forecast, COALESCE(d.probability, {stage_probability}),
            d.category_then,
            COUNT(*),
            COALESCE(SUM(d.value_cents), 0),
            COALESCE(SUM(CASE WHEN d.expected_close >= :start AND d.expected_close <= :end
                              THEN d.value_cents * COALESCE(d.probability, {stage_probability})
                              END), 0),
            COALESCE(SUM(CASE WHEN d.expected_close >= :start AND d.expected_close <= :end
                              THEN d.value_cents END), 0),
            COUNT(CASE WHEN d.expected_close < :passed_before THEN 1 END),
            COALESCE(SUM(CASE WHEN d.expected_close < :passed_before THEN d.value_cents END), 0)
        FROM ({open}) AS d JOIN stage s ON s.id = d.stage_id {stage_joins}
        WHERE s.kind = 'open'
        GROUP BY d.currency, d.forecast, COALESCE(d.probability, {stage_probability}),
            d.category_then
    """
# The open pipeline as of :as_of stage by stage (empty stages too), for the funnel. The open
# deals are summed first and the stages joined to the sums: joined the other way round, SQLite
# built a temporary index over the open deals on every read.
_OPEN_BY_STAGE = """
        SELECT s.id, s.name, s.position, d.currency, COALESCE(d.deals, 0), COALESCE(d.value, 0)
        FROM stage s LEFT JOIN (
            SELECT o.stage_id, o.currency, COUNT(*) AS deals, SUM(o.value_cents) AS value
            FROM ({open}) AS o
            GROUP BY o.stage_id, o.currency
        ) AS d ON d.stage_id = s.id
        WHERE s.kind = 'open'
        ORDER BY s.position, d.currency
    """
_STAGE_THEN_JOIN = _first_after(
    "from_probability", "probability_change", "stage_then", owner="stage_id", on="s.id"
)
for _suffix, _open, _stage_probability, _stage_joins in (
    ("", _OPEN_THEN, "COALESCE(stage_then.from_probability, s.probability)", _STAGE_THEN_JOIN),
    ("_now", _OPEN_NOW, "s.probability", ""),
):
    _SQL[f"open_pipeline{_suffix}"] = _OPEN_PIPELINE.format(
        open=_open, stage_probability=_stage_probability, stage_joins=_stage_joins
    )
    _SQL[f"open_by_stage{_suffix}"] = _OPEN_BY_STAGE.format(open=_open)

# The weekly review (reports/review.py): what changed between the instants :start_at and
# :end_at (local midnights), and how the desk stood at :as_of_end (the week's end, or now;
# :as_of is that instant's day). Each row starts with the deal it is about.
_REVIEW_DEAL = "d.id, d.title, d.company, d.value_cents, d.currency"
_BROUGHT_IN = "d.source_id IS NOT NULL AND d.first_contact < :start_day"
_OPEN_AT = """d.created_at < :as_of_end AND (d.status = 'open' OR d.closed_on > :as_of)"""
_SQL |= {
    # In the stage they were in at :as_of_end: a deal won the week after was no win yet.
    "review_new_deals": f"""
        SELECT {_REVIEW_DEAL}, s.name
        FROM deal d JOIN stage s ON s.id = {_STAGE_THEN}
        WHERE d.created_at >= :start_at AND d.created_at < :end_at AND NOT ({_BROUGHT_IN})
        ORDER BY d.created_at, d.id
    """,
    # Deals an import or a sync brought onto the desk in the week, worked before it (their
    # first contact earlier): counted, not listed as new (50 imported deals, won in 2023
    # among them, hid the week's real news: a new-user trial).
    "review_brought_in": f"""
        SELECT COUNT(*) FROM deal d
        WHERE d.created_at >= :start_at AND d.created_at < :end_at AND {_BROUGHT_IN}
    """,
    # Won or lost on a day before the week, recorded in it, where the week of its close was
    # kept before then: it is in no other review (a week kept later has it; listed here too,
    # it was in two: a hostile test). A deal imported this week too (a new user's first week).
    "review_closed_late": f"""
        SELECT {_REVIEW_DEAL}, d.status, d.closed_on, d.lost_reason, d.competitor
        FROM deal d
        WHERE {{unindexed:d.status}} IN ('won', 'lost') AND d.closed_on < :start_day
              AND EXISTS (
                  SELECT 1 FROM stage_change c JOIN stage s ON s.id = c.to_stage_id
                  JOIN weekly_review w ON w.starts_on <= d.closed_on AND w.ends_on >= d.closed_on
                  WHERE c.deal_id = d.id AND s.kind = d.status
                        AND c.changed_at >= :start_at AND c.changed_at < :end_at
                        AND w.frozen_at < c.changed_at)
        ORDER BY d.closed_on, d.id
    """,
    "review_stage_moves": f"""
        SELECT {_REVIEW_DEAL}, c.from_stage_id, c.to_stage_id
        FROM stage_change c JOIN deal d ON d.id = c.deal_id
        WHERE c.changed_at >= :start_at AND c.changed_at < :end_at
              AND c.from_stage_id IS NOT NULL
        ORDER BY c.changed_at, c.id
    """,
    "review_closed": f"""
        SELECT {_REVIEW_DEAL}, d.status, d.closed_on, d.lost_reason, d.competitor
        FROM deal d
        WHERE {{unindexed:d.status}} IN ('won', 'lost') AND d.closed_on >= :start_day
              AND d.closed_on <= :as_of
        ORDER BY d.closed_on, d.id
    """,
    "review_close_date_changes": f"""
        SELECT {_REVIEW_DEAL}, x.from_date, x.to_date
        FROM close_date_change x JOIN deal d ON d.id = x.deal_id
        WHERE x.changed_at >= :start_at AND x.changed_at < :end_at
        ORDER BY x.changed_at, x.id
    """,
    # Open deals whose expected close (as it stood then) passed in the week: from its first
    # day up to the day before :passed_before.
    "review_close_passed": f"""
        SELECT * FROM (
            SELECT {_REVIEW_DEAL}, {_EXPECTED_THEN} AS expected_then
            FROM deal d {_CLOSE_THEN}
            WHERE {_OPEN_AT}
        ) AS open_then
        WHERE expected_then >= :start_day AND expected_then < :passed_before
        ORDER BY expected_then, id
    """,
    "review_forecast_changes": f"""
        SELECT {_REVIEW_DEAL}, f.from_category, f.to_category
        FROM forecast_change f JOIN deal d ON d.id = f.deal_id
        WHERE f.changed_at >= :start_at AND f.changed_at < :end_at
        ORDER BY f.changed_at, f.id
    """,
    # Open deals with no follow-up pending at :as_of_end (made by then, not done by then).
    "review_no_next_step": f"""
        SELECT {_REVIEW_DEAL}, s.name
        FROM deal d JOIN stage s ON s.id = {_STAGE_THEN}
        WHERE {_OPEN_AT}
              AND NOT EXISTS (
                  SELECT 1 FROM follow_up f
                  WHERE f.deal_id = d.id AND f.created_at < :as_of_end
                        AND (f.done_at IS NULL OR f.done_at >= :as_of_end))
        ORDER BY d.value_cents DESC, d.id
    """,
}

# The first :limit rows of one of the day's first three queues, in the queue's own order (the
# one figures.day_queues sorts by: overdue most late first, then bigger, then likelier; today
# and upcoming in time order, an all-day step first), ties by id; with the deal's last touch
# looked up for those rows only, where `pending_follow_ups` looks it up for every row: in
# `repdesk today` the pending rows were read in full to show ten of each.
_MIDNIGHT = "'00:00:00.000000'"  # an all-day step sorts as midnight (its Python key does too)
_PENDING_SECTIONS = {
    "overdue": (
        "f.due_on < :today",
        f"f.due_on, d.value_cents DESC, chance DESC, COALESCE(f.due_time, {_MIDNIGHT}), f.id",
    ),
    "today": (
        "f.due_on = :today",
        f"f.due_time IS NOT NULL, COALESCE(f.due_time, {_MIDNIGHT}), d.value_cents DESC, "
        "chance DESC, f.id",
    ),
    "upcoming": (
        "f.due_on > :today AND f.due_on <= :horizon",
        f"f.due_on, f.due_time IS NOT NULL, COALESCE(f.due_time, {_MIDNIGHT}), "
        "d.value_cents DESC, chance DESC, f.id",
    ),
}
for _section, (_where, _order) in _PENDING_SECTIONS.items():
    _SQL[f"pending_first_{_section}"] = f"""
        WITH kept AS MATERIALIZED (
            SELECT f.id, f.deal_id, f.due_on, f.due_time, f.note, f.recur_days,
                   d.title, d.company, d.value_cents, d.currency, s.name,
                   COALESCE(d.probability, s.probability) AS chance, d.status
            FROM follow_up f
            JOIN deal d ON d.id = f.deal_id
            JOIN stage s ON s.id = d.stage_id
            WHERE f.done_at IS NULL AND d.status != 'lost' AND {_where}
            ORDER BY {_order}
            LIMIT :limit
        )
        SELECT kept.*, (SELECT MAX(a.at) FROM activity a WHERE a.deal_id = kept.deal_id)
        FROM kept
    """

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
        WHERE {{unindexed:status}} IN ('won', 'lost') AND closed_on >= :start AND closed_on <= :end
              AND closed_on <= :as_of
        GROUP BY {_dimension}, currency
    """


def sql_for(name: str, dialect: str) -> str:
    """The statement `name` for a dialect, with its tokens filled in."""
    statement = _SQL[name]
    tokens = _DIALECT_TOKENS[dialect]
    # {days_between:a:b} -> the dialect's day difference between columns a and b;
    # {unindexed:a} -> column a, kept from the indexes (see _DIALECT_TOKENS).
    for token in ("days_between", "unindexed"):
        while f"{{{token}:" in statement:
            start = statement.index(f"{{{token}:")
            stop = statement.index("}", start)
            _, a, *rest = statement[start + 1 : stop].split(":")
            filled = tokens[token].format(a=a, b=rest[0] if rest else "")
            statement = statement[:start] + filled + statement[stop + 1 :]
    return statement


def fetch(conn: Any, name: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run query `name` on a sqlite3 connection or a SQLAlchemy session/connection.

    A session's statement goes to its driver as written here (`exec_driver_sql`), so this
    module never imports SQLAlchemy, not even lazily: the import contracts in pyproject.toml
    hold it to that."""
    return list(rows(conn, name, **params))


def rows(
    conn: Any, name: str, *, ids: Iterable[int] = (), **params: Any
) -> Iterator[tuple[Any, ...]]:
    """`fetch`, one row at a time: a caller that turns each row into something else never
    holds every row and everything made of them at once (the board's 100,000 cards).
    `ids`: the list the statement's `{ids}` stands for (whole numbers, written into it)."""
    listed = ", ".join(str(int(i)) for i in ids) or "NULL"
    if isinstance(conn, sqlite3.Connection):
        plain = {k: _sqlite_param(v) for k, v in params.items()}
        yield from conn.execute(sql_for(name, "sqlite").replace("{ids}", listed), plain)
        return
    # A Session hands out its Connection (in the session's transaction); a Connection is one.
    connection = conn if hasattr(conn, "exec_driver_sql") else conn.connection()
    dialect = connection.dialect.name
    statement = sql_for(name, dialect).replace("{ids}", listed)
    if dialect == "sqlite":
        # sqlite3 takes :name placeholders with a dict whatever paramstyle SQLAlchemy declares.
        params = {k: _sqlite_param(v) for k, v in params.items()}
    else:
        statement = _as_pyformat(statement)  # psycopg's style
    for row in connection.exec_driver_sql(statement, params):
        yield tuple(row)


# The placeholders SQLAlchemy's text() finds (the pattern of its TextClause), so a
# statement reads the same here: `:name`, not `::cast`, not `'repdesk:' || id`.
_PLACEHOLDER = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])")


def _as_pyformat(statement: str) -> str:
    """`:name` placeholders as `%(name)s`, with a literal % doubled."""
    return _PLACEHOLDER.sub(r"%(\1)s", statement.replace("%", "%%"))


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
