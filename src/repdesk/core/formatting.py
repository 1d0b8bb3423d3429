"""Words and numbers for people, shared by the shell and the app so they read the same."""

from __future__ import annotations

from datetime import date, time

from repdesk.core import clock
from repdesk.core.money import format_money, whole_units
from repdesk.core.text import cut

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:  # the strip's module: the app's first frame does not define the full KPIs
    from collections.abc import Sequence
    from typing import Any

    from repdesk.core.kpi import Kpis
    from repdesk.core.standing import QuotaStanding

    # What the quota line reads: the full KPIs, or the standing alone (the strip,
    # `repdesk quota`).
    Standing = QuotaStanding | Kpis


def pct(value: float | None) -> str:
    if value is None:
        return "—"
    # 99.6% of quota is not "100%": a share short of the whole never rounds up to it.
    return "99%" if 0.995 <= value < 1 else f"{value * 100:.0f}%"


def count(number: int, noun: str) -> str:
    """ "1 deal", "3 deals": a count with its noun in the right number (regular plurals)."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def every(days: int) -> str:
    """A repeat as words: "every day", "every 14 days" (never "every 1 days")."""
    return "every day" if days == 1 else f"every {days} days"


# A day this far from today, or further, carries its year: "+9999w" showed as this July.
YEAR_SHOWN_FROM_DAYS = 183


def when(day: date | None, at: time | None = None) -> str:
    """A day (and time) as the rep reads it: "Fri 20 Nov", "Wed 22 Jul 2218" half a year or
    more away."""
    if day is None:
        return "-"
    text = day.strftime("%a %d %b")
    if abs((day - clock.today()).days) >= YEAR_SHOWN_FROM_DAYS:
        text = f"{text} {day.year}"
    return f"{text} {at.strftime('%H:%M')}" if at else text


def step_words(step: Any) -> str:
    """`Fri 04 Dec: Find the decision maker`: a next step (a follow-up row) as a rep names
    it, the note cut short."""
    note = cut(step.note, 40) if step.note else "no note"
    return f"{when(step.due_on, step.due_time)}: {note}"


def steps_with_the_win(steps: Sequence[Any]) -> str:
    """`its step Sun 06 Dec: Call procurement done with the win`, or of several the first;
    "" for none."""
    if not steps:
        return ""
    if len(steps) == 1:
        return f"its step {step_words(steps[0])} done with the win"
    return f"its {len(steps)} steps done with the win (first {step_words(steps[0])})"


def outcome(k: Standing, currency: str) -> str:
    """How a period that is over ended: "missed by €10,000", "made, €2,000 over", "made"."""
    delta = k.won_value - (k.quota or 0)
    whole = whole_units(abs(delta))  # half up, as every figure (round() is half to even)
    amount = format_money(whole or abs(delta), currency)
    if delta < 0:
        return f"missed by {amount}"
    return "made" if delta == 0 else f"made, {amount} over"


def made(k: Standing) -> bool:
    return k.quota is not None and k.won_value >= k.quota


_HALF_UNIT = 50  # cents


def behind_pace(k: Standing) -> bool:
    """Behind pace by half a unit of money or more: less is on pace (it read "▼0" and
    "€0 behind pace")."""
    return k.pace_delta is not None and k.pace_delta <= -_HALF_UNIT


def on_pace(k: Standing) -> bool:
    return not k.ended and k.pace_delta is not None and abs(k.pace_delta) < _HALF_UNIT


def pace_arrow(k: Standing) -> str:
    """The mark before the pace: ▲ ahead (or made), ▼ behind (or missed), none on pace."""
    if on_pace(k):
        return ""
    return "▲" if (made(k) if k.ended else not behind_pace(k)) else "▼"


def pace(k: Standing, currency: str) -> str:
    """Ahead of or behind pace; for a period that is over, made or missed."""
    delta = k.pace_delta
    if delta is None:
        return "no quota"
    if k.ended:
        return outcome(k, currency)
    if on_pace(k):
        return "on pace"
    # Whole units ("€3,100 behind pace") read at a glance; the cents live in `kpi --json`.
    whole = (abs(delta) + _HALF_UNIT) // 100 * 100  # half up, as the compact form rounds
    return f"{format_money(whole, currency)} " + ("ahead of pace" if delta > 0 else "behind pace")


def left_out(k: Kpis) -> str:
    """Why some deals are missing from the sums: "3 deals in USD (no rate in settings)"."""
    deals = "1 deal" if k.left_out_deals == 1 else f"{k.left_out_deals} deals"
    return f"{deals} in {', '.join(k.left_out_currencies)} (no rate in settings)"


def quota_line(k: Standing, currency: str) -> str:
    """The one line a rep reads at a glance: won, quota, attainment, pace, days left."""
    won = format_money(k.won_value, currency)
    left = f"ended {k.end:%d %b %Y}" if k.ended else f"{k.days_left} days left"
    if k.quota is None:
        return (
            f"{k.period}: won {won} · no quota set (repdesk quota set {k.period} AMOUNT) · {left}"
        )
    return (
        f"{k.period}: won {won} of {format_money(k.quota, currency)} ({pct(k.attainment)}) · "
        f"{pace(k, currency)} · {left}"
    )


def quota_short(k: Standing, currency: str, *, days: bool = True) -> str:
    """A status-bar form: "€12k/€60k 20% ▼28k 10d"; without the days left where they are
    said beside it (the app's top line)."""
    won = format_money(k.won_value, currency, compact=True)
    if k.quota is None:
        return f"{k.period} {won} won, no quota"
    if k.ended:
        over = k.won_value - k.quota
        result = "made" if over >= 0 else "missed"
        by = format_money(abs(over), "", compact=True)
        # Missed by 40 cents read "missed -0": a difference that rounds to nothing is not said.
        by = "" if by == "0" else f" {'+' if over > 0 else '-'}{by}"
        quota = format_money(k.quota, currency, compact=True)
        return f"{won}/{quota} {pct(k.attainment)} {result}{by}"
    delta = k.pace_delta or 0
    shown = "on pace" if on_pace(k) else pace_arrow(k) + format_money(abs(delta), "", compact=True)
    return (
        f"{won}/{format_money(k.quota, currency, compact=True)} {pct(k.attainment)} {shown}"
    ) + (f" {k.days_left}d" if days else "")


def close_passed(k: Kpis, currency: str, how: str = "e on a deal") -> str:
    """The open deals whose expected close is before the period: in no period's forecast, which
    read €0 beside €27m of open deals without a word (a new-user trial on an imported desk)."""
    deals = "1 open deal" if k.close_passed_count == 1 else f"{k.close_passed_count:,} open deals"
    return (
        f"{deals} ({format_money(whole_units(k.close_passed_value), currency)}) expected to "
        "close before "
        f"this period: in no forecast until their close date moves ({how})"
    )
