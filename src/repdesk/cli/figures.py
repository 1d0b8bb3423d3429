"""`repdesk today`, `repdesk quota` and `repdesk kpi`: the fast path.

A status bar runs `repdesk quota --short` every few seconds: these commands read the desk
through repdesk.reports with the standard library's sqlite3 and import nothing of
SQLAlchemy, SQLModel or Textual at any point (tests/cli/test_cli.py checks it). Only
`quota set` writes, through the services, and pays for SQLModel then.
"""

from __future__ import annotations

import sys
from datetime import date

from repdesk.cli import shell
from repdesk.cli.shell import Desk, UsageError
from repdesk.core import clock, formatting
from repdesk.core.dates import Period
from repdesk.core.money import format_money, whole_units
from repdesk.core.text import cut, printable
from repdesk.storage import status_line

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from repdesk.cli.registry import Command

# The widest usual when: "Mon 23 Nov 10:00 (10d late)" (a few more days late still fit).
TODAY_WHEN_WIDTH = len("Mon 23 Nov 10:00 (100d late)")


TODAY_ROWS = 10  # the rows of each queue `repdesk today` shows (--all: every one)


def cmd_today(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.reports import figures

    with desk.fast() as conn:
        queues = figures.day_queues(
            conn,
            today=clock.today(),
            now=clock.now(),
            going_cold_days=desk.settings.going_cold_days,
            limit=None if args.json or args.all else args.limit,
        )
    if args.json:
        shell.print_json(queues.to_json())
        return 0
    today = clock.today()
    for key, label in figures.DayQueues.SECTIONS:
        shown = getattr(queues, key)
        count = queues.count(key)
        shell.out(f"{label} ({count:,})")
        for row in shown:
            if row.due_on is not None:
                when = formatting.when(row.due_on, row.due_time)
                if row.due_on < today:
                    when += f" ({(today - row.due_on).days}d late)"
                ref = f"[{row.follow_up_id}]"
            else:
                when = f"{row.urgency_days}d since touch" if row.last_touch else "never touched"
                ref = ""
            note = f" · {printable(row.note)}" if row.note else ""
            shell.out(
                f"  {ref:>6} {when:<{TODAY_WHEN_WIDTH}} #{row.deal_id} "
                f"{shell.title_and_company(row.title, row.company)} · "
                f"{format_money(row.value_cents, row.currency)} · {printable(row.stage)}{note}"
            )
        if count > len(shown):
            shell.out(f"         … and {count - len(shown):,} more (--all shows them)")
    return 0


def _kpis(desk: Desk, period: Period, as_of: date, *, standing_only: bool = False) -> Any:
    conversion = desk.settings.conversion
    if standing_only:  # the quota lines: reports.standing alone (figures is 4 ms to import)
        from repdesk.reports.standing import quota_standing

        with desk.fast() as conn:
            return quota_standing(conn, period=period, as_of=as_of, conversion=conversion)
    from repdesk.reports.figures import kpi_report

    with desk.fast() as conn:
        return kpi_report(conn, period=period, as_of=as_of, conversion=conversion)


def cmd_quota(desk: Desk, args: argparse.Namespace) -> int:
    words = list(args.words)
    if words and words[0] == "set":
        if len(words) != 3:
            raise UsageError(
                "quota set takes a period and an amount, e.g. `quota set 2026-11 60000`"
            )
        currency = desk.settings.currency
        amount = shell.amount(
            "AMOUNT", words[2], currency=currency, what="a quota", least="above 0"
        )
        return _quota_set(desk, shell.period(words[1], "PERIOD"), amount)
    if words and words[0] == "clear":
        if len(words) != 2:
            raise UsageError("quota clear takes a period, e.g. `quota clear 2026-Q2`")
        return _quota_clear(desk, shell.period(words[1], "PERIOD"))
    if len(words) > 1:
        raise UsageError(f"quota takes at most one period, got {' '.join(words)!r}")
    from repdesk.reports.standing import default_as_of

    # What a status bar asks every few seconds is remembered for the next run (taken before
    # the read: a write during it makes the line stale at once).
    remembered = args.short and not words and not args.json and not desk.on_server
    dirs = (str(desk.home.data_dir), str(desk.home.config_dir))
    state = status_line.desk_state(*dirs) if remembered else b""
    period = shell.period(words[0] if words else None, "PERIOD")
    # The line needs won and quota alone; --json prints every figure.
    k = _kpis(desk, period, default_as_of(period, clock.today()), standing_only=not args.json)
    if args.json:
        shell.print_json(k.to_json())
        return 0
    cur = desk.settings.currency
    line = shell.as_printed(
        formatting.quota_short(k, cur) if args.short else formatting.quota_line(k, cur)
    )
    sys.stdout.write(line)
    if remembered:
        status_line.remember(*dirs, state, line)
    return 0


def _quota_set(desk: Desk, period: Period, amount: int) -> int:
    from repdesk.services import quotas

    with desk.write() as session:
        quotas.set_quota(session=session, period=period, amount_cents=amount)
    shell.out(f"Quota for {period.label}: {format_money(amount, desk.settings.currency)}")
    return 0


def _quota_clear(desk: Desk, period: Period) -> int:
    from repdesk.services import quotas

    with desk.write() as session:
        was = quotas.clear_quota(session=session, period=period)
    if was is None:
        shell.out(f"{period.label} has no quota: nothing to clear")
    else:
        shell.out(
            f"Cleared the quota for {period.label} (it was "
            f"{format_money(was, desk.settings.currency)}): its figures read 'no quota set'"
        )
    return 0


def cmd_kpi(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.reports import figures

    period = shell.period(args.period, "--period")
    # A period that is over reads as it stood at its end, as the KPI pane shows it.
    as_of = (
        # A day that has come: `fri` and `last fri` are the latest Friday, as `--on` takes
        # them (`last fri` was refused here: a hostile test).
        shell.past_day(args.as_of, "--as-of")
        if args.as_of
        else figures.default_as_of(period, clock.today())
    )
    if as_of > clock.today():
        # The desk knows how it stands today, not how it will: a day to come would read as
        # today, under another date.
        raise UsageError(f"--as-of: {as_of.isoformat()} is still to come: give today or earlier")
    k = _kpis(desk, period, as_of)
    if args.json:
        shell.print_json(k.to_json())
        return 0
    cur = desk.settings.currency

    def money(v: int | None) -> str:
        # Whole units, as the KPI pane shows them (it read €5,806.45 here and €5,806 there:
        # a new-user trial); the exact cents are in --json.
        return format_money(whole_units(v), cur)

    rows = [
        ("Period", f"{k.period} ({k.start} to {k.end}), as of {as_of}"),
        ("Won", f"{money(k.won_value)} in {shell.count(k.won_count, 'deal')}"),
        ("Quota", money(k.quota)),
        ("Attainment", formatting.pct(k.attainment)),
        ("Expected by now", money(k.expected_by_now)),
        *([("Result", formatting.outcome(k, cur))] if k.ended and k.quota is not None else []),
        ("Win rate", f"{formatting.pct(k.win_rate)} ({k.won_count:,} won, {k.lost_count:,} lost)"),
        ("Avg cycle", "—" if k.avg_cycle_days is None else f"{k.avg_cycle_days:.1f} days"),
        ("Avg deal size", money(k.avg_deal_size)),
        ("Open pipeline", f"{money(k.open_value)} in {shell.count(k.open_count, 'deal')}"),
        ("Weighted pipeline", money(k.weighted_pipeline)),
        ("Forecast", money(k.forecast) + (" (as it stood on the last day)" if k.ended else "")),
        *forecast_rows(k, cur),
        ("Coverage", "—" if k.coverage is None else f"{k.coverage:.2f}x"),
        ("Velocity", "—" if k.velocity_per_day is None else f"{money(k.velocity_per_day)} per day"),
        ("Deals needed", "—" if k.deals_needed is None else str(k.deals_needed)),
        ("Pipeline needed", money(k.pipeline_needed)),
    ]
    if k.ended:  # what the rest of a period takes: an ended one has no rest
        over = {"Coverage", "Deals needed", "Pipeline needed"}
        rows = [(label, "— (the period is over)" if label in over else v) for label, v in rows]
    rows += lessons_rows(k, cur)
    if k.left_out_deals:
        rows.append(("Left out", formatting.left_out(k)))
    for label, value in rows:
        shell.out(f"{label + ':':<19}{value}")
    return 0


# How a close date moves from the shell (the app's is `e` on a deal).
_NEW_CLOSE = "repdesk deal set DEAL --expected-close DATE"


def forecast_rows(k: Any, currency: str) -> list[tuple[str, str]]:
    """`kpi`'s forecast categories: what is expected to close in the period, and won plus
    commit (plus best case) against the quota."""

    def against(value: int, share: float | None) -> str:
        shown = format_money(whole_units(value), currency)
        return shown if share is None else f"{shown} ({formatting.pct(share)} of quota)"

    sums = k.categories
    return [
        ("Commit", format_money(whole_units(sums.commit), currency)),
        ("Best case", format_money(whole_units(sums.best_case), currency)),
        ("Pipeline", format_money(whole_units(sums.pipeline), currency)),
        ("Won + commit", against(k.won_and_commit, k.commit_attainment)),
        ("+ best case", against(k.won_commit_best_case, k.best_case_attainment)),
        *(
            [("Not forecast", formatting.close_passed(k, currency, _NEW_CLOSE))]
            if k.close_passed_count
            else []
        ),
    ]


def lessons_rows(k: Any, currency: str) -> list[tuple[str, str]]:
    """`kpi`'s lost deals by reason and by competitor, and the won customers' NPS."""

    def groups(found: Any, nobody: str) -> str:
        shown = [
            f"{cut(g.name, LESSON_CHARS) or nobody} {shell.count(g.count, 'deal')} "
            f"{format_money(whole_units(g.value_cents), currency)}"
            for g in found[:LESSONS_SHOWN]
        ]
        more = len(found) - LESSONS_SHOWN
        return " · ".join(shown) + (f" · {more} more (--json)" if more > 0 else "") or "—"

    nps = k.nps
    score = "—" if nps.score is None else f"{nps.score:+.0f}"
    return [
        ("Lost by reason", groups(k.lost_by_reason, "(no reason)")),
        ("Lost to", groups(k.lost_by_competitor, "a competitor, unnamed,")),
        ("NPS", f"{score} ({shell.count(nps.answered, 'won customer')} answered)"),
    ]


LESSONS_SHOWN = 4  # the biggest reasons and competitors in the text; --json has them all
LESSON_CHARS = 40  # of each reason's or competitor's name there (a typed reason is up to 200)


# ---------------------------------------------------------------- the commands


def _rows(text: str) -> int:
    """How many rows of each queue: 1 to 10,000 (SQLite takes no bigger number than 2**63)."""
    try:
        rows = int(text)
    except ValueError:
        rows = 0
    if not 1 <= rows <= 10_000:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not valid: a number of rows, 1 to 10,000")
    return rows


def _today_arguments(today: argparse.ArgumentParser) -> None:
    import argparse

    shell.add_json_flag(today)
    today.add_argument("--all", action="store_true", help=f"every row, not the first {TODAY_ROWS}")
    today.add_argument("--limit", type=_rows, default=TODAY_ROWS, help=argparse.SUPPRESS)


def _quota_arguments(quota: argparse.ArgumentParser) -> None:
    quota.add_argument("words", nargs="*", metavar="PERIOD | set PERIOD AMOUNT | clear PERIOD")
    shell.add_json_flag(quota)
    quota.add_argument("--short", action="store_true", help="compact, for a status bar")


def _kpi_arguments(kpi: argparse.ArgumentParser) -> None:
    kpi.add_argument(
        "--period", type=shell.given, help="2026-11, 2026-Q4 or 2026 (default: this month)"
    )
    kpi.add_argument(
        "--as-of", type=shell.given, metavar="DATE", help="the figures as they stood that day"
    )
    shell.add_json_flag(kpi)


def commands() -> list[Command]:
    # Here, not at the top: `repdesk quota --short` runs cmd_quota with no parser (entry.main).
    from repdesk.cli.registry import Command

    return [
        Command("today", "the day's follow-up queues", cmd_today, _today_arguments),
        Command(
            "quota",
            "this period against quota, in one line; or `quota set`, `quota clear`",
            cmd_quota,
            _quota_arguments,
        ),
        Command("kpi", "every KPI of a period", cmd_kpi, _kpi_arguments),
    ]
