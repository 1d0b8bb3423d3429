"""This month against quota, read on its own: the quota strip on every screen (the app's
first frame among them) and `repdesk quota`. The full KPIs (repdesk.reports.figures) add the
open pipeline, the lessons and the scores, and sum the closed deals with `closed_sums` too,
so the two never disagree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from repdesk.core import clock
from repdesk.core.dates import Period, period_containing
from repdesk.core.money import Conversion
from repdesk.core.standing import QuotaStanding, standing, whole_cents
from repdesk.reports import queries

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Converter:
    """Sums money of many currencies in the desk's, remembering what it had to leave out."""

    def __init__(self, conversion: Conversion) -> None:
        self.conversion = conversion
        self.left_out_deals = 0
        self.left_out_currencies: set[str] = set()

    def cents(self, amount: Any, currency: str, deals: int) -> Decimal | None:
        converted = self.conversion.cents(int(amount), currency)
        if converted is None and deals:
            self.left_out_deals += deals
            self.left_out_currencies.add(currency)
        return converted


# The report's sums in whole cents, rounded as the KPIs round (core/standing.py).
whole = whole_cents


def default_as_of(period: Period, today: date) -> date:
    """The day a period's figures are read on unless told: today, or the last day of a period
    that is over (the desk as it stood when the period ended)."""
    return min(today, period.end)


def closed_sums(rows: list[tuple[Any, ...]], money: Converter) -> tuple[Decimal, int, int, float]:
    """Sum closed_in_period-shaped rows (currency, won value, won, lost, cycle days): the won
    value in the desk's currency, the won and lost counts and the summed cycle days, leaving
    out (and counting in `money`) the deals whose currency has no rate."""
    won_value, won, lost, cycle = Decimal(0), 0, 0, 0.0
    for currency, value, won_count, lost_count, cycle_sum in rows:
        converted = money.cents(value, currency, int(won_count) + int(lost_count))
        if converted is None:
            continue
        won_value += converted
        won, lost, cycle = won + int(won_count), lost + int(lost_count), cycle + float(cycle_sum)
    return won_value, won, lost, cycle


def end_of_day(day: date) -> datetime:
    """The instant `day` ends where the rep is (local midnight after it), aware."""
    if day >= date.max:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1), time()).astimezone(UTC)


def as_of_params(as_of: date) -> dict[str, Any]:
    """What the queries need to read the desk as it stood at the end of `as_of`."""
    return {"as_of": as_of, "as_of_end": end_of_day(as_of)}


def quota_standing(
    conn: Any, *, period: Period, as_of: date, conversion: Conversion
) -> QuotaStanding:
    """Won in `period` against its quota as the desk stood at the end of `as_of`: the same
    figures as `kpi_report`'s, from two of its queries (the open pipeline, by far the dearest
    on a big desk, is not read)."""
    won_value, *_ = closed_sums(
        queries.fetch(
            conn, "closed_in_period", start=period.start, end=period.end, **as_of_params(as_of)
        ),
        Converter(conversion),
    )
    return standing(
        period=period.label,
        end=period.end,
        days_in_period=period.days,
        days_elapsed=period.days_elapsed(as_of),
        quota_cents=quota_of(conn, period),
        won_value_cents=whole(won_value),
        ended=period_over(period, as_of),
    )


def quota_of(conn: Any, period: Period) -> int | None:
    """The quota set for `period`, in cents; None when none is."""
    rows = queries.fetch(conn, "quota_of_period", period=period.label)
    return int(rows[0][0]) if rows else None


def period_over(period: Period, as_of: date) -> bool:
    """Over once its last day has ended: read on that day or later, and today is past it."""
    return as_of >= period.end and period.end < clock.today()


def month_standing(conn: Any, *, conversion: Conversion) -> QuotaStanding:
    """This month so far against its quota: the quota strip on every screen."""
    today = clock.today()
    return quota_standing(
        conn, period=period_containing(today, "month"), as_of=today, conversion=conversion
    )
