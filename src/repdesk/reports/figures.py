"""Read-only reports shared by the app, the services and the fast shell path.

Each function takes `conn`: a SQLAlchemy session or a plain sqlite3 connection (see
`queries.fetch`). They read, they never write, and they import nothing heavy.
"""

from __future__ import annotations

import heapq
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from operator import itemgetter

from repdesk.core import clock, formatting
from repdesk.core.dates import Period, period_containing
from repdesk.core.domain import OBJECTION_CATEGORIES
from repdesk.core.money import Conversion
from repdesk.core.standing import avg_cycle_days, avg_deal_size, win_rate
from repdesk.core.values import Record, Value
from repdesk.reports import queries

# Defined apart (the first frame reads the quota strip alone), and part of the reports here.
from repdesk.reports.standing import Converter as Converter
from repdesk.reports.standing import as_of_params as as_of_params
from repdesk.reports.standing import closed_sums as closed_sums
from repdesk.reports.standing import default_as_of as default_as_of
from repdesk.reports.standing import end_of_day as end_of_day
from repdesk.reports.standing import month_standing as month_standing
from repdesk.reports.standing import period_over as period_over
from repdesk.reports.standing import quota_of as quota_of
from repdesk.reports.standing import quota_standing as quota_standing
from repdesk.reports.standing import whole as whole

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from repdesk.core import kpi

# The KPI maths (repdesk.core.kpi, repdesk.core.forecast) is imported where it is used:
# `repdesk today` reads its queues here and defines none of the KPIs' classes (some 5 ms).


class ClosedFigures(Value):
    """Deals closed in a period (or one slice of them), in the desk's currency."""

    _fields = ("won_value_cents", "won_count", "lost_count", "cycle_days_sum")
    __slots__ = _fields
    won_value_cents: int
    won_count: int
    lost_count: int
    cycle_days_sum: float

    def __init__(
        self,
        won_value_cents: int = 0,
        won_count: int = 0,
        lost_count: int = 0,
        cycle_days_sum: float = 0.0,
    ) -> None:
        self._set(
            won_value_cents=won_value_cents,
            won_count=won_count,
            lost_count=lost_count,
            cycle_days_sum=cycle_days_sum,
        )

    @property
    def win_rate(self) -> float | None:
        return win_rate(self.won_count, self.lost_count)

    @property
    def avg_cycle_days(self) -> float | None:
        return avg_cycle_days(self.cycle_days_sum, self.won_count + self.lost_count)

    @property
    def avg_deal_size(self) -> int | None:
        return avg_deal_size(self.won_value_cents, self.won_count)


def closed_figures(rows: list[tuple[Any, ...]], money: Converter) -> ClosedFigures:
    """Sum closed_in_period-shaped rows (currency, won value, won, lost, cycle days)."""
    won_value, won, lost, cycle = closed_sums(rows, money)
    return ClosedFigures(whole(won_value), won, lost, cycle)


def open_statement(name: str, as_of: date) -> str:
    """`open_pipeline` / `open_by_stage` for `as_of`: the stage history is read only for a
    night that has come (before it, no deal can have moved since)."""
    return name if end_of_day(as_of) <= clock.now() else f"{name}_now"


def kpi_report(conn: Any, *, period: Period, as_of: date, conversion: Conversion) -> kpi.Kpis:
    """The KPIs of `period` as the desk stood at the end of `as_of` (the domain page's
    formulas, see repdesk.core.kpi): a deal closed after that day still counts as open, in the
    stage it was in then; a deal first contacted after it does not count at all.

    Deals in other currencies count at the rep's rates; those with no rate are left out of
    every figure and counted in `left_out_deals`.
    """
    from repdesk.core import forecast, kpi

    money = Converter(conversion)
    when = as_of_params(as_of)
    closed = closed_figures(
        queries.fetch(conn, "closed_in_period", start=period.start, end=period.end, **when),
        money,
    )
    open_count, open_value, weighted, in_period = 0, Decimal(0), Decimal(0), Decimal(0)
    passed_count, passed_value = 0, Decimal(0)
    by_category = dict.fromkeys(forecast.CATEGORIES, Decimal(0))
    for (currency, override, probability, category_then, count, value, weighted_x100,
         value_in_period, count_passed, value_passed) in queries.fetch(
        conn, open_statement("open_pipeline", as_of), start=period.start, end=period.end,
        # In no forecast: expected to close before the period and already passed on `as_of`
        # (a future period's count took in this month's deals, which this month forecasts: a
        # hostile test).
        passed_before=min(period.start, period_containing(as_of, period.kind).start), **when,
    ):  # fmt: skip
        factor = money.cents(1, currency, int(count))
        if factor is None:
            continue
        open_count += int(count)
        open_value += factor * int(value)
        weighted += factor * int(weighted_x100)
        in_period += factor * int(value_in_period)
        passed_count += int(count_passed)
        passed_value += factor * int(value_passed)
        category = category_then or forecast.category(override, int(probability))
        by_category[category] = by_category.get(category, Decimal(0)) + factor * int(
            value_in_period
        )
    span = {"start": period.start, "end": period.end, **when}
    # Their own converter: the lost deals left out for want of a rate are counted once, by
    # closed_in_period above, not again per reason and per competitor.
    lessons = Converter(conversion)
    return kpi.compute(
        kpi.KpiInputs(
            period=period.label,
            start=period.start,
            end=period.end,
            days_in_period=period.days,
            days_elapsed=period.days_elapsed(as_of),
            quota_cents=quota_of(conn, period),
            won_value_cents=closed.won_value_cents,
            won_count=closed.won_count,
            lost_count=closed.lost_count,
            cycle_days_sum=closed.cycle_days_sum,
            open_count=open_count,
            open_value_cents=whole(open_value),
            weighted_x100=whole(weighted),
            open_in_period_cents=whole(in_period),
            close_passed_count=passed_count,
            close_passed_cents=whole(passed_value),
            left_out_deals=money.left_out_deals,
            left_out_currencies=tuple(sorted(money.left_out_currencies)),
            ended=period_over(period, as_of),
            categories=kpi.ForecastSums(
                **{name: whole(by_category.get(name, Decimal(0))) for name in forecast.CATEGORIES}
            ),
            lost_by_reason=_lost_groups(queries.fetch(conn, "lost_by_reason", **span), lessons),
            lost_by_competitor=_lost_groups(
                queries.fetch(conn, "lost_by_competitor", **span), lessons
            ),
            nps=forecast.Nps.of(
                {int(score): int(n) for score, n in queries.fetch(conn, "nps_scores", **span)}
            ),
        )
    )


def _lost_groups(rows: list[tuple[Any, ...]], money: Converter) -> tuple[kpi.LostGroup, ...]:
    """lost_by_* rows (name, currency, count, value) summed per name in the desk's currency.

    A name is one however it is typed ("Rival", "rival", a full-width "Ｒｉｖａｌ"), as a
    company's is; the group shows the spelling most of its deals have."""
    from repdesk.core import kpi

    counts: dict[str, int] = {}
    values: dict[str, Decimal] = {}
    spellings: dict[str, dict[str, int]] = {}
    for name, currency, count, value in rows:
        converted = money.cents(value, currency, int(count))
        if converted is None:
            continue
        key = _folded(name or "")
        counts[key] = counts.get(key, 0) + int(count)
        values[key] = values.get(key, Decimal(0)) + converted
        typed = spellings.setdefault(key, {})
        typed[name or ""] = typed.get(name or "", 0) + int(count)
    return tuple(
        kpi.LostGroup(_most_typed(spellings[key]), counts[key], whole(values[key]))
        for key in counts
    )


def _folded(name: str) -> str:
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


def _most_typed(spellings: dict[str, int]) -> str:
    return min(spellings, key=lambda spelled: (-spellings[spelled], spelled))


# A record, not a frozen value: a frozen one sets each field through object.__setattr__, and
# `repdesk today --json` and the follow-ups screen build thousands of these.
class QueueRow(Record):
    """One line of a follow-up queue: a pending follow-up, or a deal that needs one."""

    _fields = (
        "deal_id", "title", "company", "value_cents", "currency", "stage", "probability",
        "last_touch", "urgency_days", "follow_up_id", "due_on", "due_time", "note", "recurring",
    )  # fmt: skip
    __slots__ = _fields
    deal_id: int
    title: str
    company: str
    value_cents: int
    currency: str
    stage: str
    probability: int
    last_touch: datetime | None  # the last logged activity, None if never touched
    urgency_days: int  # days overdue (negative: days until due) or days since the last touch
    follow_up_id: int | None
    due_on: date | None
    due_time: time | None
    note: str
    recurring: bool

    def __init__(
        self,
        deal_id: int,
        title: str,
        company: str,
        value_cents: int,
        currency: str,
        stage: str,
        probability: int,
        last_touch: datetime | None,
        urgency_days: int,
        follow_up_id: int | None = None,
        due_on: date | None = None,
        due_time: time | None = None,
        note: str = "",
        recurring: bool = False,
    ) -> None:
        self.deal_id = deal_id
        self.title = title
        self.company = company
        self.value_cents = value_cents
        self.currency = currency
        self.stage = stage
        self.probability = probability
        self.last_touch = last_touch
        self.urgency_days = urgency_days
        self.follow_up_id = follow_up_id
        self.due_on = due_on
        self.due_time = due_time
        self.note = note
        self.recurring = recurring

    @property
    def rank_key(self) -> tuple[int, int, int, time]:
        """Most urgent first: later/colder first, then bigger, then likelier to close."""
        return (-self.urgency_days, -self.value_cents, -self.probability, self.due_time or time())

    @property
    def time_key(self) -> tuple[date, bool, time, int, int]:
        """In time order: by day, an all-day step first, then by time, then bigger first."""
        return (
            self.due_on or date.max,
            self.due_time is not None,
            self.due_time or time(),
            -self.value_cents,
            -self.probability,
        )

    def to_json(self) -> dict[str, Any]:
        from repdesk.core import kpi

        data = self.as_dict()
        for key in ("due_on", "due_time", "last_touch"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        data["value"] = kpi.money_json(data.pop("value_cents"))
        return data


class DayQueues(Value):
    _fields = ("overdue", "today", "upcoming", "no_next_step", "going_cold", "counts")
    __slots__ = _fields
    overdue: list[QueueRow]
    today: list[QueueRow]
    upcoming: list[QueueRow]
    no_next_step: list[QueueRow]
    going_cold: list[QueueRow]
    # How many rows each section has, when only its first ones were kept (`day_queues`'
    # `limit`); else each section's length.
    counts: dict[str, int]

    def __init__(
        self,
        overdue: list[QueueRow] | None = None,
        today: list[QueueRow] | None = None,
        upcoming: list[QueueRow] | None = None,
        no_next_step: list[QueueRow] | None = None,
        going_cold: list[QueueRow] | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        self._set(
            overdue=overdue or [],
            today=today or [],
            upcoming=upcoming or [],
            no_next_step=no_next_step or [],
            going_cold=going_cold or [],
            counts=counts or {},
        )

    SECTIONS = (
        ("overdue", "Overdue"),
        ("today", "Today"),
        ("upcoming", "Upcoming, next 7 days"),
        ("no_next_step", "No next step"),
        ("going_cold", "Going cold"),
    )

    def count(self, key: str) -> int:
        """How many rows the section `key` has, kept or not."""
        return self.counts.get(key, len(getattr(self, key)))

    def to_json(self) -> dict[str, Any]:
        return {
            key: {"count": self.count(key), "items": [row.to_json() for row in rows]}
            for key, rows in ((key, getattr(self, key)) for key, _ in self.SECTIONS)
        }


UPCOMING_DAYS = 7


def day_queues(
    conn: Any, *, today: date, now: datetime, going_cold_days: int, limit: int | None = None
) -> DayQueues:
    """The day's queues: overdue, today, upcoming (7 days), no next step, going cold.

    With `limit`, each section keeps only its first `limit` rows (in its own order) and
    `counts` says how many it has: `repdesk today` shows ten of each. The pending follow-ups
    are then counted and cut in SQL (`pending_first_*`), the rest read as without a limit:
    the same rows either way (tests/unit/test_services.py compares them). Ties go by id.
    """
    # Each section as (sort key, row maker) pairs; the rows are made for what is kept.
    found = {key: _Section(limit) for key, _ in DayQueues.SECTIONS}
    no_time = time()
    horizon = today + timedelta(UPCOMING_DAYS)
    counts: dict[str, int] = {}
    if limit is None:
        pending = queries.rows(conn, "pending_follow_ups", horizon=horizon)
    else:
        ((overdue, due_today, upcoming),) = queries.fetch(
            conn, "pending_counts", today=today, horizon=horizon
        )
        counts = {"overdue": int(overdue), "today": int(due_today), "upcoming": int(upcoming)}
        pending = (
            row
            for key in counts
            for row in queries.fetch(
                conn, f"pending_first_{key}", today=today, horizon=horizon, limit=limit
            )
        )
    for row in pending:
        (fid, deal_id, due_on, due_time, note, recur, title, company, value, currency, stage,
         probability, _status, last_touch) = row  # fmt: skip
        due = queries.as_date(due_on)
        assert due is not None
        at = queries.as_time(due_time)
        urgency, cents, chance = (today - due).days, int(value), int(probability)
        deal = (deal_id, title, company, cents, currency, stage, chance)
        about = {
            "urgency_days": urgency, "follow_up_id": fid, "due_on": due, "due_time": at,
            "note": note, "recurring": bool(recur), "last_touch": last_touch,
        }  # fmt: skip
        make = partial(_pending_row, deal, about)
        if due < today:  # what is late: most urgent first (QueueRow.rank_key)
            found["overdue"].add((-urgency, -cents, -chance, at or no_time, fid), make)
        else:  # the day ahead, in time order (QueueRow.time_key)
            in_time = (due, at is not None, at or no_time, -cents, -chance, fid)
            found["today" if due == today else "upcoming"].add(in_time, make)
    facts = queries.fetch(conn, "stage_facts")
    stages = {int(stage_id): (name, int(chance), rot) for stage_id, name, chance, rot, _ in facts}
    # Read as far back as the shortest going-cold limit, the open stages' own among them.
    rot_limits = [int(rot) for *_, rot, kind in facts if kind == "open" and rot is not None]
    # Days since a touch are calendar days where the rep is (a call yesterday evening was
    # "today" in 24-hour days: an audit); cold at N days is touched on or before the day N
    # days ago, so before the end of that day.
    cutoff = end_of_day(today - timedelta(days=min([going_cold_days, *rot_limits])))
    names: dict[int, tuple[str, str]] = {}  # the kept rows' titles and companies, read last
    no_next_step, going_cold = found["no_next_step"], found["going_cold"]
    as_instant = queries.as_instant
    # `repdesk today` reads thousands of these rows to keep ten of each queue: a row that is
    # not kept costs its key and its count, nothing made of it.
    for row in queries.rows(conn, "open_deal_touches", touch_cutoff=cutoff):
        deal_id, value, currency, stage_id, probability, created_at, last_touch, has_pending = row
        stage, stage_chance, rot_days = stages[int(stage_id)]
        touched = as_instant(last_touch)
        since = clock.days_since(touched or as_instant(created_at) or now, today)
        cents = int(value)
        chance = stage_chance if probability is None else int(probability)
        urgent = (-since, -cents, -chance, no_time, deal_id)
        needs_step = not has_pending and no_next_step.counts_in(urgent)
        cold = since >= (rot_days or going_cold_days) and going_cold.counts_in(urgent)
        if needs_step or cold:
            columns = (deal_id, cents, currency, stage, chance)
            make = partial(_touch_row, names, columns, touched, since)
            if needs_step:
                no_next_step.keep(urgent, make)
            if cold:
                going_cold.keep(urgent, make)
    for item in _stay_in_touch(conn, today):
        found["going_cold"].add((*item.rank_key, item.deal_id), partial(_as_made, item))
    kept = {key: section.first() for key, section in found.items()}
    # Each of these two sections' keys ends with its deal's id (the stay-in-touch rows too,
    # which carry their names already: read again, harmlessly).
    wanted = {key[-1] for section in ("no_next_step", "going_cold") for key, _ in kept[section]}
    if wanted:
        names.update(
            (int(deal_id), (title, company))
            for deal_id, title, company in queries.rows(conn, "deal_names", ids=sorted(wanted))
        )
    sections = {key: [make() for _, make in first] for key, first in kept.items()}
    if limit is not None:
        counts = {key: section.count for key, section in found.items()} | counts
    return DayQueues(**sections, counts=counts)


def _touch_row(
    names: dict[int, tuple[str, str]],
    deal: tuple[Any, ...],
    last_touch: datetime | None,
    since: int,
) -> QueueRow:
    """A "no next step" or "going cold" row, once its deal's title and company are read."""
    deal_id, cents, currency, stage, chance = deal
    title, company = names[deal_id]
    return _queue_row(
        (deal_id, title, company, cents, currency, stage, chance),
        last_touch=last_touch,
        urgency_days=since,
    )


if TYPE_CHECKING:
    _Entry = tuple[tuple[Any, ...], Callable[[], QueueRow]]


class _Kept:
    """An entry in a section's bounded heap: the heap's top is the last of those kept."""

    __slots__ = ("entry",)

    def __init__(self, entry: _Entry) -> None:
        self.entry = entry

    def __lt__(self, other: _Kept) -> bool:
        return self.entry[0] > other.entry[0]


class _Section:
    """A queue's entries as they are read: every one, or (with `limit`) the first `limit` by
    key and how many came. With a limit the section never holds the rest: on 100,000 deals
    "no next step" and "going cold" are tens of thousands of rows, and holding them all to
    keep a hundred raised the app's peak memory by 18 MB (its read ahead of the queues)."""

    __slots__ = ("count", "entries", "limit")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.entries: list[Any] = []  # entries, or a heap of _Kept with a limit
        self.count = 0

    def add(self, key: tuple[Any, ...], make: Callable[[], QueueRow]) -> None:
        if self.counts_in(key):
            self.keep(key, make)

    def counts_in(self, key: tuple[Any, ...]) -> bool:
        """Count an entry of `key`; True when it is among those kept so far: `keep` it then."""
        self.count += 1
        entries = self.entries
        return (
            self.limit is None
            or len(entries) < self.limit
            or (bool(entries) and key < entries[0].entry[0])
        )

    def keep(self, key: tuple[Any, ...], make: Callable[[], QueueRow]) -> None:
        """Keep an entry `counts_in` let in (the last of those kept goes, with a limit)."""
        if self.limit is None:
            self.entries.append((key, make))
        elif len(self.entries) < self.limit:
            heapq.heappush(self.entries, _Kept((key, make)))
        else:
            heapq.heapreplace(self.entries, _Kept((key, make)))

    def first(self) -> list[_Entry]:
        """The entries kept, in key order (the first `limit` when there is one)."""
        if self.limit is None:
            return sorted(self.entries, key=itemgetter(0))
        return sorted((kept.entry for kept in self.entries), key=itemgetter(0))


def _as_made(row: QueueRow) -> QueueRow:
    return row


def _pending_row(deal: tuple[Any, ...], about: dict[str, Any]) -> QueueRow:
    about["last_touch"] = queries.as_instant(about["last_touch"])
    return _queue_row(deal, **about)


def _stay_in_touch(conn: Any, today: date) -> list[QueueRow]:
    """Won customers with a "stay in touch" rhythm whose last touch (on any of their deals) is
    that many days ago or more; before any touch, counted from the day the deal was won."""
    found = []
    for row in queries.fetch(conn, "stay_in_touch"):
        (_company_id, company, every, last_touch, deal_id, title, value, currency, stage,
         probability, closed_on) = row  # fmt: skip
        touched = queries.as_instant(last_touch)
        won_on = queries.as_date(closed_on)
        if touched is not None:
            since = clock.days_since(touched, today)
        else:
            since = (today - won_on).days if won_on is not None else 0
        if since < int(every):
            continue
        found.append(
            _queue_row(
                (deal_id, title, company, value, currency, stage, probability),
                last_touch=touched,
                urgency_days=since,
                note=f"stay in touch {formatting.every(int(every))}",
            )
        )
    return found


def _queue_row(deal: tuple[Any, ...], **about: Any) -> QueueRow:
    """A queue's row from its deal's columns as every queue query selects them (id, title,
    company, value, currency, stage, probability) and what the queue says about it."""
    deal_id, title, company, value, currency, stage, probability = deal
    return QueueRow(
        deal_id=deal_id,
        title=title,
        company=company,
        value_cents=int(value),
        currency=currency,
        stage=stage,
        probability=int(probability),
        **about,
    )


def due_counts(conn: Any, *, today: date) -> tuple[int, int]:
    """How many follow-ups are overdue and due today: `day_queues`' first two sections
    counted, without reading their rows."""
    overdue, due_today = queries.fetch(conn, "due_counts", today=today)[0]
    return int(overdue), int(due_today)


class ObjectionStats(Value):
    """One category of objection: how often, how many still open, and how deals that had it
    ended, against all decided deals."""

    _fields = ("category", "count", "open", "won_deals", "lost_deals")
    __slots__ = _fields
    category: str
    count: int
    open: int
    won_deals: int
    lost_deals: int

    def __init__(
        self, category: str, count: int, open: int, won_deals: int, lost_deals: int
    ) -> None:
        self._set(
            category=category, count=count, open=open, won_deals=won_deals, lost_deals=lost_deals
        )

    @property
    def win_rate(self) -> float | None:
        decided = self.won_deals + self.lost_deals
        return self.won_deals / decided if decided else None


def objection_stats(conn: Any) -> tuple[list[ObjectionStats], float | None]:
    """Every category (the quiet ones too), lowest win rate first, and the overall win rate."""
    found = {row[0]: row for row in queries.fetch(conn, "objection_stats")}
    stats = [
        ObjectionStats(category, *(int(v) for v in found.get(category, (category, 0, 0, 0, 0))[1:]))
        for category in OBJECTION_CATEGORIES
    ]
    won, lost = queries.fetch(conn, "decided_deals")[0]
    overall = won / (won + lost) if won + lost else None
    stats.sort(key=lambda s: (s.win_rate is None, s.win_rate or 0.0, -s.count))
    return stats, overall
