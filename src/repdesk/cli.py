"""The shell commands: parse, call a service, print. Exit 2 on bad input, 1 on a desk problem.

Thin over the services. Imports are lazy: `repdesk quota` and `repdesk today` read the desk
with the standard library's sqlite3 (see `repdesk.reports`), so they never import SQLAlchemy
or Textual; only commands that write pay for SQLModel.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import date, time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from repdesk import __version__, clock, desk_file, formatting, paths, problems
from repdesk import settings as settings_mod
from repdesk.dates import DateInputError, Period, PeriodInputError, parse_date, parse_period
from repdesk.dates import parse_when as _parse_when
from repdesk.domain import row_id
from repdesk.errors import RepdeskError
from repdesk.money import AmountInputError, format_money, parse_amount
from repdesk.text import printable

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

EXIT_BAD_INPUT = 2
EXIT_DESK_PROBLEM = 1


class UsageError(Exception):
    """Bad input found while parsing: exit 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the rep sees what was wrong and where to look.
        raise UsageError(f"{message} (see `{self.prog} --help`)")


class Desk:
    """What one command invocation works on: the home, its settings and (lazily) the store."""

    def __init__(self, home: paths.Home) -> None:
        self.home = home
        self.settings = settings_mod.load(home.settings)

    @cached_property
    def engine(self) -> Engine:
        from repdesk import store

        return store.make_engine(self.home.desk)

    @contextmanager
    def write(self) -> Iterator[Session]:
        from repdesk import store

        with store.write_session(self.engine) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        from repdesk import store

        with store.read_session(self.engine) as session:
            yield session

    @contextmanager
    def fast(self) -> Iterator[sqlite3.Connection]:
        """A plain sqlite3 connection for the read-only fast commands."""
        desk_file.prepare(self.home.desk)
        with closing(desk_file.connect(self.home.desk)) as conn:
            conn.execute("BEGIN")  # one consistent snapshot for all the report's queries
            yield conn


# ---------------------------------------------------------------- value parsing


def _when(text: str) -> tuple[date, time | None]:
    return _parse_when(text, today=clock.today())


def _date(text: str) -> date:
    return parse_date(text, today=clock.today())


def _period(text: str | None) -> Period:
    from repdesk.dates import period_containing

    return parse_period(text) if text else period_containing(clock.today(), "month")


def _every(text: str) -> int:
    """'14d', '2w' or '30' -> days between repeats."""
    raw = text.strip().lower()
    unit = 7 if raw.endswith("w") else 1
    number = raw.rstrip("dw")
    if not number.isascii() or not number.isdigit() or len(number) > 3 or int(number) == 0:
        raise UsageError(
            f"every: {text!r} is not valid: use a number of days or weeks, e.g. 30d or 2w"
        )
    return int(number) * unit


def _minutes(text: str) -> int:
    if not text.strip().isascii() or not text.strip().isdigit() or len(text.strip()) > 4:
        raise UsageError(f"minutes: {text!r} is not valid: use a whole number such as 15")
    return int(text)


# ---------------------------------------------------------------- output helpers


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _deal_json(deal: Any, stage_names: dict[int, str]) -> dict[str, Any]:
    from repdesk.kpi import money_json

    return {
        "id": deal.id,
        "title": deal.title,
        "company": deal.company,
        "contact": deal.contact,
        "email": deal.email,
        "phone": deal.phone,
        "value": money_json(deal.value_cents),
        "currency": deal.currency,
        "stage": stage_names[deal.stage_id],
        "status": deal.status,
        "source": deal.source,
        "product": deal.product,
        "region": deal.region,
        "segment": deal.segment,
        "first_contact": deal.first_contact.isoformat(),
        "expected_close": deal.expected_close.isoformat() if deal.expected_close else None,
        "closed_on": deal.closed_on.isoformat() if deal.closed_on else None,
        "lost_reason": deal.lost_reason,
    }


def _deal_line(deal: Any, stage_names: dict[int, str]) -> str:
    return (
        f"#{deal.id} {printable(deal.title)} ({printable(deal.company) or '-'}) · "
        f"{stage_names[deal.stage_id]} · {format_money(deal.value_cents, deal.currency)}"
    )


def _stage_names(session: Session) -> dict[int, str]:
    from repdesk.services import deals

    return {s.id: s.name for s in deals.stages(session=session)}  # type: ignore[misc]


# ---------------------------------------------------------------- commands


def cmd_open(desk: Desk, args: argparse.Namespace) -> int:
    # Refuse a foreign or damaged file before the screen is taken over. (Reading the board in
    # a thread while Textual imports was measured: it slowed the imports more than it saved.)
    desk_file.prepare(desk.home.desk)
    from repdesk.tui.app import run_app

    return run_app(desk.home, desk.settings)


def cmd_demo(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk import demo, store

    home = desk.home.demo
    if args.reset or not demo.demo_is_current(home.desk, clock.today()):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{home.desk}{suffix}").unlink(missing_ok=True)
        engine = store.make_engine(home.desk)
        summary = demo.build_demo(engine, today=clock.today(), now=clock.now())
        engine.dispose()
        demo.mark_built(home.desk, clock.today())
        _out(
            f"Built the demo desk at {home.desk}: {summary.deals} deals "
            f"({summary.open_deals} open), {summary.activities} activities."
        )
    if args.no_open:
        _out(f"Demo desk ready: repdesk --home {home.data_dir}")
        return 0
    demo_desk = Desk(home)
    return cmd_open(demo_desk, args)


def cmd_deal_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    value = parse_amount(args.value) if args.value is not None else 0
    first = _date(args.first_contact) if args.first_contact else None
    expected = _date(args.expected_close) if args.expected_close else None
    with desk.write() as session:
        deal = deals.create_deal(
            session=session,
            title=args.title,
            company=args.company,
            contact=args.contact,
            email=args.email,
            phone=args.phone,
            value_cents=value,
            currency=(args.currency or desk.settings.currency).upper(),
            stage=args.stage,
            source=args.source,
            product=args.product,
            region=args.region,
            segment=args.segment,
            first_contact=first,
            expected_close=expected,
        )
        _out(f"Added {_deal_line(deal, _stage_names(session))}")
    return 0


def cmd_deal_list(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    with desk.read() as session:
        found = deals.list_deals(session=session, status=args.status, stage=args.stage)
        names = _stage_names(session)
        if args.json:
            _json([_deal_json(d, names) for d in found])
            return 0
        for deal in found:
            _out(_deal_line(deal, names) + ("" if deal.status == "open" else f" · {deal.status}"))
        _out(f"{len(found)} deal{'s' if len(found) != 1 else ''}")
    return 0


def cmd_deal_show(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import activities, deals, followups, objections

    with desk.read() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        names = _stage_names(session)
        assert deal.id is not None
        if args.json:
            _json(_deal_json(deal, names))
            return 0
        _out(_deal_line(deal, names) + f" · {deal.status}")
        for label, value in (
            ("contact", deal.contact),
            ("email", deal.email),
            ("phone", deal.phone),
            ("lost reason", deal.lost_reason),
        ):
            if value:
                _out(f"  {label}: {printable(value)}")
        for fu in followups.pending(session=session, deal_id=deal.id):
            _out(
                f"  next: {formatting.when(fu.due_on, fu.due_time)} {printable(fu.note)}"
                f" (follow-up {fu.id})"
            )
        for obj in objections.objections_of(session=session, deal_id=deal.id):
            _out(f"  objection {obj.id} [{obj.category}, {obj.status}]: {printable(obj.said)}")
        for act in activities.timeline_activities(session=session, deal_id=deal.id, limit=10):
            when = clock.local_date(act.at).isoformat()
            _out(f"  {when} {act.kind} {printable(act.outcome)} {printable(act.text)}".rstrip())
    return 0


def _change_deal(
    desk: Desk, ref: str, change: Callable[[Session, int], Any], done: Callable[[Any, str], str]
) -> int:
    """Find DEAL, apply one service change in one write transaction, print `done`'s line."""
    from repdesk.services import deals

    with desk.write() as session:
        found = deals.find_deal(session=session, ref=ref)
        assert found.id is not None
        deal = change(session, found.id)
        _out(done(deal, _deal_line(deal, _stage_names(session))))
    return 0


def cmd_deal_move(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    return _change_deal(
        desk,
        args.deal,
        lambda s, deal_id: deals.move_deal(session=s, deal_id=deal_id, stage=args.stage),
        lambda deal, line: f"Moved {line}",
    )


def cmd_deal_won(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    on = _date(args.on) if args.on else None
    return _change_deal(
        desk,
        args.deal,
        lambda s, deal_id: deals.win_deal(session=s, deal_id=deal_id, on=on),
        lambda deal, line: f"Won {line} on {deal.closed_on}",
    )


def cmd_deal_lost(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    on = _date(args.on) if args.on else None
    return _change_deal(
        desk,
        args.deal,
        lambda s, deal_id: deals.lose_deal(session=s, deal_id=deal_id, reason=args.reason, on=on),
        lambda deal, line: f"Lost {line}: {printable(deal.lost_reason)}",
    )


def cmd_deal_reopen(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    return _change_deal(
        desk,
        args.deal,
        lambda s, deal_id: deals.reopen_deal(session=s, deal_id=deal_id, stage=args.stage),
        lambda deal, line: f"Reopened {line}",
    )


def cmd_log(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import activities, deals

    minutes = _minutes(args.minutes) if args.minutes is not None else None
    next_when = _when(args.next) if args.next else None
    if args.next_note and not next_when:
        raise UsageError("--next-note needs --next WHEN (the date of the next step)")
    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        activity, following = activities.log_activity(
            session=session,
            deal_id=deal.id,  # type: ignore[arg-type]
            kind=args.kind,
            outcome=args.outcome or "",
            minutes=minutes,
            text=args.note or "",
            next_when=next_when,
            next_note=args.next_note or "",
        )
        line = f"Logged {activity.kind} on #{deal.id} {printable(deal.title)}"
        if following is not None:
            line += f"; next step {formatting.when(following.due_on, following.due_time)}"
        _out(line)
    return 0


def cmd_follow_up_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, followups

    when = _when(args.when)
    every = _every(args.every) if args.every else None
    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        fu = followups.add_follow_up(
            session=session,
            deal_id=deal.id,  # type: ignore[arg-type]
            when=when,
            note=args.note or "",
            recur_days=every,
        )
        repeat = f", every {every} days" if every else ""
        _out(
            f"Follow-up {fu.id} on #{deal.id} {printable(deal.title)}: "
            f"{formatting.when(fu.due_on, fu.due_time)}{repeat}"
        )
    return 0


def _id(text: str, what: str) -> int:
    number = row_id(text)
    if number is None:
        raise UsageError(f"{what}: {text!r} is not valid: use the number shown by `repdesk today`")
    return number


def cmd_follow_up_done(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import followups

    next_when = _when(args.next) if args.next else None
    with desk.write() as session:
        done, following = followups.complete_follow_up(
            session=session,
            follow_up_id=_id(args.id, "follow-up"),
            outcome=args.outcome or "",
            next_when=next_when,
            next_note=args.next_note or "",
        )
        line = f"Done: follow-up {done.id}"
        if following is not None:
            next_when = formatting.when(following.due_on, following.due_time)
            line += f"; next {next_when} (follow-up {following.id})"
        _out(line)
    return 0


def cmd_follow_up_snooze(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import followups

    when = _when(args.when)
    with desk.write() as session:
        fu = followups.snooze_follow_up(
            session=session, follow_up_id=_id(args.id, "follow-up"), when=when
        )
        _out(f"Follow-up {fu.id} moved to {formatting.when(fu.due_on, fu.due_time)}")
    return 0


def cmd_objection_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, objections

    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        obj = objections.add_objection(
            session=session,
            deal_id=deal.id,  # type: ignore[arg-type]
            category=args.category,
            said=args.said,
            answer=args.answer or "",
        )
        _out(
            f"Objection {obj.id} ({obj.category}, {obj.status}) on "
            f"#{deal.id} {printable(deal.title)}"
        )
    return 0


def cmd_objection_answer(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import objections

    with desk.write() as session:
        obj = objections.update_objection(
            session=session, objection_id=_id(args.id, "objection"), answer=args.answer
        )
        _out(f"Objection {obj.id} is {obj.status}")
    return 0


def cmd_objection_resolve(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import objections

    with desk.write() as session:
        obj = objections.resolve_objection(session=session, objection_id=_id(args.id, "objection"))
        _out(f"Objection {obj.id} is resolved")
    return 0


def cmd_playbook(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import objections

    with desk.read() as session:
        answers = objections.playbook(session=session, category=args.category, limit=args.limit)
    if args.json:
        _json(
            [
                {
                    "objection_id": a.objection_id,
                    "deal_id": a.deal_id,
                    "deal": a.deal_title,
                    "deal_status": a.deal_status,
                    "said": a.said,
                    "answer": a.answer,
                }
                for a in answers
            ]
        )
        return 0
    if not answers:
        _out(f"No answered {args.category} objections yet.")
    for a in answers:
        mark = "won" if a.deal_status == "won" else a.deal_status
        _out(f"[{mark}] {printable(a.deal_title)}")
        _out(f"  said:   {printable(a.said)}")
        _out(f"  answer: {printable(a.answer)}")
    return 0


def cmd_today(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk import reports

    with desk.fast() as conn:
        queues = reports.day_queues(
            conn,
            today=clock.today(),
            now=clock.now(),
            going_cold_days=desk.settings.going_cold_days,
        )
    if args.json:
        _json(queues.to_json())
        return 0
    today = clock.today()
    for key, label in reports.DayQueues.SECTIONS:
        rows = getattr(queues, key)
        _out(f"{label} ({len(rows)})")
        shown = rows if args.all else rows[: args.limit]
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
            _out(
                f"  {ref:>6} {when:<22} #{row.deal_id} {printable(row.title)} "
                f"({printable(row.company) or '-'}) · {format_money(row.value_cents, row.currency)}"
                f" · {row.stage}{note}"
            )
        if len(rows) > len(shown):
            _out(f"         … and {len(rows) - len(shown)} more (--all shows them)")
    return 0


def _kpis(desk: Desk, period: Period, as_of: date) -> Any:
    from repdesk import reports

    with desk.fast() as conn:
        return reports.kpi_report(conn, period=period, as_of=as_of)


def cmd_quota(desk: Desk, args: argparse.Namespace) -> int:
    words = list(args.words)
    if words and words[0] == "set":
        if len(words) != 3:
            raise UsageError(
                "quota set takes a period and an amount, e.g. `quota set 2026-11 60000`"
            )
        return _quota_set(desk, parse_period(words[1]), parse_amount(words[2]))
    if len(words) > 1:
        raise UsageError(f"quota takes at most one period, got {' '.join(words)!r}")
    period = _period(words[0] if words else None)
    k = _kpis(desk, period, clock.today())
    if args.json:
        _json(k.to_json())
        return 0
    cur = desk.settings.currency
    _out(formatting.quota_short(k, cur) if args.short else formatting.quota_line(k, cur))
    return 0


def _quota_set(desk: Desk, period: Period, amount: int) -> int:
    from repdesk.services import quotas

    with desk.write() as session:
        quotas.set_quota(session=session, period=period, amount_cents=amount)
    _out(f"Quota for {period.label}: {format_money(amount, desk.settings.currency)}")
    return 0


def cmd_kpi(desk: Desk, args: argparse.Namespace) -> int:
    period = _period(args.period)
    as_of = _date(args.as_of) if args.as_of else clock.today()
    k = _kpis(desk, period, as_of)
    if args.json:
        _json(k.to_json())
        return 0
    cur = desk.settings.currency

    def money(v: int | None) -> str:
        return format_money(v, cur)

    rows = [
        ("Period", f"{k.period} ({k.start} to {k.end}), as of {as_of}"),
        ("Won", f"{money(k.won_value)} in {k.won_count} deals"),
        ("Quota", money(k.quota)),
        ("Attainment", formatting.pct(k.attainment)),
        ("Expected by now", money(k.expected_by_now)),
        ("Win rate", f"{formatting.pct(k.win_rate)} ({k.won_count} won, {k.lost_count} lost)"),
        ("Avg cycle", "—" if k.avg_cycle_days is None else f"{k.avg_cycle_days:.1f} days"),
        ("Avg deal size", money(k.avg_deal_size)),
        ("Open pipeline", f"{money(k.open_value)} in {k.open_count} deals"),
        ("Weighted pipeline", money(k.weighted_pipeline)),
        ("Forecast", money(k.forecast)),
        ("Coverage", "—" if k.coverage is None else f"{k.coverage:.2f}x"),
        ("Velocity", "—" if k.velocity_per_day is None else f"{money(k.velocity_per_day)} per day"),
        ("Deals needed", "—" if k.deals_needed is None else str(k.deals_needed)),
        ("Pipeline needed", money(k.pipeline_needed)),
    ]
    for label, value in rows:
        _out(f"{label + ':':<19}{value}")
    return 0


def cmd_import(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io import csv_import

    path = Path(args.file)
    plan = csv_import.read_native(
        path, default_currency=desk.settings.currency, today=clock.today()
    )
    if args.dry_run:
        _out(
            f"Would import {len(plan.rows)} deals from {path} ({plan.summary()}); nothing written."
        )
        return 0
    with desk.write() as session:
        count = csv_import.apply(session=session, plan=plan)
    _out(f"Imported {count} deals from {path} ({plan.summary()}).")
    return 0


def cmd_export_ics(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io import ics

    path = Path(args.file)
    with desk.fast() as conn:
        count = ics.write_ics(conn, path, now=clock.now())
    _out(f"Wrote {count} pending follow-up{'s' if count != 1 else ''} to {path}")
    return 0


# ---------------------------------------------------------------- the parser

Handler = Callable[[Desk, argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="repdesk",
        description="A keyboard-driven terminal desk for one sales rep. Without a command, "
        "opens the app on your desk.",
    )
    parser.add_argument("--home", metavar="DIR", help="keep the desk and settings in DIR")
    parser.add_argument("--version", action="version", version=f"repdesk {__version__}")
    parser.set_defaults(handler=cmd_open)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, handler: Handler, help: str, parent: Any = commands) -> Any:
        sub = parent.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    demo = command("demo", cmd_demo, "open the app on the demo desk (never touches yours)")
    demo.add_argument("--reset", action="store_true", help="rebuild the demo desk from scratch")
    demo.add_argument("--no-open", action="store_true", help="build it but do not open the app")

    deal = command("deal", _missing("deal"), "add, list, show, move, win, lose or reopen deals")
    deals = deal.add_subparsers(title="deal commands", metavar="ACTION", parser_class=_Parser)
    add = command("add", cmd_deal_add, "add a deal", deals)
    add.add_argument("title")
    for flag in ("company", "contact", "email", "phone", "source", "product", "region"):
        add.add_argument(f"--{flag}", default="")
    add.add_argument("--value", help="e.g. 12500, 12,500.50 or 12.5k")
    add.add_argument("--currency", help="three-letter code (default: the desk's)")
    add.add_argument("--stage", help="a stage name (default: the first)")
    add.add_argument("--segment", choices=("new", "existing"), default="new")
    add.add_argument("--first-contact", metavar="DATE")
    add.add_argument("--expected-close", metavar="DATE")
    listing = command("list", cmd_deal_list, "list deals", deals)
    listing.add_argument("--stage")
    listing.add_argument("--status", default="open", help="open, won, lost or all")
    listing.add_argument("--json", action="store_true")
    show = command("show", cmd_deal_show, "show one deal", deals)
    show.add_argument("deal", metavar="DEAL")
    show.add_argument("--json", action="store_true")
    move = command("move", cmd_deal_move, "move a deal to a stage", deals)
    move.add_argument("deal", metavar="DEAL")
    move.add_argument("stage", metavar="STAGE")
    won = command("won", cmd_deal_won, "mark a deal won", deals)
    won.add_argument("deal", metavar="DEAL")
    won.add_argument("--on", metavar="DATE")
    lost = command("lost", cmd_deal_lost, "mark a deal lost", deals)
    lost.add_argument("deal", metavar="DEAL")
    lost.add_argument("--reason", required=True)
    lost.add_argument("--on", metavar="DATE")
    reopen = command("reopen", cmd_deal_reopen, "reopen a won or lost deal", deals)
    reopen.add_argument("deal", metavar="DEAL")
    reopen.add_argument("--stage")

    log = command("log", cmd_log, "log a call, email, meeting or note on a deal")
    log.add_argument("kind", choices=("call", "email", "meeting", "note"))
    log.add_argument("deal", metavar="DEAL")
    log.add_argument("--outcome", help="e.g. connected, left voicemail, meeting booked")
    log.add_argument("--minutes", metavar="N")
    log.add_argument("--note", help="what was said")
    log.add_argument("--next", metavar="WHEN", help="schedule the next step, e.g. fri 10:00")
    log.add_argument("--next-note", metavar="TEXT")

    fu = command("follow-up", _missing("follow-up"), "add, complete or snooze follow-ups")
    fus = fu.add_subparsers(title="follow-up commands", metavar="ACTION", parser_class=_Parser)
    fu_add = command("add", cmd_follow_up_add, "schedule a follow-up on a deal", fus)
    fu_add.add_argument("deal", metavar="DEAL")
    fu_add.add_argument("when", metavar="WHEN")
    fu_add.add_argument("--note", default="")
    fu_add.add_argument("--every", metavar="N", help="repeat every N days (30d) or weeks (2w)")
    fu_done = command("done", cmd_follow_up_done, "complete a follow-up", fus)
    fu_done.add_argument("id", metavar="ID")
    fu_done.add_argument("--outcome", default="")
    fu_done.add_argument("--next", metavar="WHEN", help="schedule the next step in the same go")
    fu_done.add_argument("--next-note", metavar="TEXT")
    fu_snooze = command("snooze", cmd_follow_up_snooze, "move a follow-up to another date", fus)
    fu_snooze.add_argument("id", metavar="ID")
    fu_snooze.add_argument("when", metavar="WHEN")

    ob = command("objection", _missing("objection"), "record and answer objections")
    obs = ob.add_subparsers(title="objection commands", metavar="ACTION", parser_class=_Parser)
    ob_add = command("add", cmd_objection_add, "record an objection on a deal", obs)
    ob_add.add_argument("deal", metavar="DEAL")
    ob_add.add_argument("--category", required=True)
    ob_add.add_argument("--said", required=True)
    ob_add.add_argument("--answer")
    ob_answer = command("answer", cmd_objection_answer, "answer an objection", obs)
    ob_answer.add_argument("id", metavar="ID")
    ob_answer.add_argument("answer")
    ob_resolve = command("resolve", cmd_objection_resolve, "mark an objection resolved", obs)
    ob_resolve.add_argument("id", metavar="ID")

    play = command("playbook", cmd_playbook, "your earlier answers to a kind of objection")
    play.add_argument("category")
    play.add_argument("--limit", type=int, default=10)
    play.add_argument("--json", action="store_true")

    today = command("today", cmd_today, "the day's follow-up queues")
    today.add_argument("--json", action="store_true")
    today.add_argument("--all", action="store_true", help="every row, not the first 10")
    today.add_argument("--limit", type=int, default=10, help=argparse.SUPPRESS)

    quota = command("quota", cmd_quota, "this period against quota, in one line; or `quota set`")
    quota.add_argument("words", nargs="*", metavar="PERIOD | set PERIOD AMOUNT")
    quota.add_argument("--json", action="store_true")
    quota.add_argument("--short", action="store_true", help="compact, for a status bar")

    kpi = command("kpi", cmd_kpi, "every KPI of a period")
    kpi.add_argument("--period", help="2026-11, 2026-Q4 or 2026 (default: this month)")
    kpi.add_argument("--as-of", metavar="DATE")
    kpi.add_argument("--json", action="store_true")

    export = command("export", _missing("export"), "write your desk to a file")
    exports = export.add_subparsers(title="formats", metavar="FORMAT", parser_class=_Parser)
    ics_export = command(
        "ics", cmd_export_ics, "pending follow-ups as an iCalendar file (stable UIDs)", exports
    )
    ics_export.add_argument("file", metavar="FILE")

    imp = command("import", cmd_import, "import deals from a CSV file (native columns)")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    return parser


def _missing(name: str) -> Handler:
    def handler(desk: Desk, args: argparse.Namespace) -> int:
        raise UsageError(f"{name} needs an action (see `repdesk {name} --help`)")

    return handler


# ---------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    desk_path = "the desk"
    try:
        args = build_parser().parse_args(argv)
        home = paths.resolve_home(args.home)
        desk_path = str(home.desk)
        return int(args.handler(Desk(home), args))
    except UsageError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except (DateInputError, PeriodInputError, AmountInputError, RepdeskError) as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except (desk_file.DeskError, settings_mod.SettingsError) as exc:
        return _fail(str(exc), EXIT_DESK_PROBLEM)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `repdesk today | head`: the reader left; that is not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the last line of defence: never a traceback at the rep
        message, code = problems.describe(exc, desk_path)
        return _fail(message, code)


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"repdesk: {printable(message)}\n")
    return code
