"""The shell commands: parse, call a service, print. Exit 2 on bad input, 1 on a desk problem.

Thin over the services. Imports are lazy: `repdesk quota` and `repdesk today` read the desk
with the standard library's sqlite3 (see `repdesk.reports.figures`), so they never import SQLAlchemy
or Textual; only commands that write pay for SQLModel.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import date, time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from repdesk import __version__, background
from repdesk import settings as settings_mod
from repdesk.core import clock, formatting
from repdesk.core.currencies import CurrencyInputError, check_code
from repdesk.core.dates import DateInputError, Period, PeriodInputError, parse_date, parse_period
from repdesk.core.dates import parse_when as _parse_when
from repdesk.core.domain import row_id
from repdesk.core.errors import RepdeskError
from repdesk.core.money import AmountInputError, format_money, parse_amount, parse_money
from repdesk.core.text import printable, safe_json
from repdesk.storage import desk_file, paths, problems

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
    """What one command invocation works on: the home, its settings and (lazily) the store.

    The store is the SQLite file in the home, or the PostgreSQL server named by
    REPDESK_DATABASE_URL or the settings' `database_url` (`server=False`: always the file).
    """

    def __init__(self, home: paths.Home, *, server: bool = True) -> None:
        self.home = home
        loaded = settings_mod.load(home.settings)
        url = settings_mod.resolve_database_url(loaded) if server else None
        self.settings = replace(loaded, database_url=url)

    @property
    def on_server(self) -> bool:
        return self.settings.database_url is not None

    @cached_property
    def engine(self) -> Engine:
        from repdesk.storage import store

        return store.desk_engine(self.home.desk, self.settings.database_url)

    def prepare(self) -> None:
        """Refuse a foreign, damaged, newer or unreachable desk (creating or upgrading it)."""
        if self.on_server:
            self.engine.dispose()  # building it checked the server; nothing stays connected
        else:
            desk_file.prepare(self.home.desk)

    @contextmanager
    def write(self) -> Iterator[Session]:
        from repdesk.storage import store

        with store.write_session(self.engine) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        from repdesk.storage import store

        with store.read_session(self.engine) as session:
            yield session

    @contextmanager
    def fast(self, *, verify: bool = False) -> Iterator[sqlite3.Connection | Session]:
        """A plain sqlite3 connection for the read-only fast commands; on a server, a read
        session (the reports take either). `verify`: check the file for damage first."""
        if self.on_server:
            with self.read() as session:
                yield session
            return
        desk_file.prepare(self.home.desk, verify=verify)
        with closing(desk_file.connect(self.home.desk)) as conn:
            conn.execute("BEGIN")  # one consistent snapshot for all the report's queries
            yield conn


# ---------------------------------------------------------------- value parsing


@contextmanager
def _naming(name: str) -> Iterator[None]:
    """A value's message names the option or argument it came from (`--on: ...`)."""
    try:
        yield
    except (DateInputError, PeriodInputError, AmountInputError) as exc:
        raise UsageError(f"{name}: {exc}") from None


def _when(text: str, name: str) -> tuple[date, time | None]:
    with _naming(name):
        return _parse_when(text, today=clock.today())


def _date(text: str, name: str) -> date:
    with _naming(name):
        return parse_date(text, today=clock.today())


def _past_when(text: str, name: str) -> tuple[date, time | None]:
    from repdesk.core.dates import parse_past_when

    with _naming(name):
        return parse_past_when(text, today=clock.today())


def _period(text: str | None, name: str) -> Period:
    from repdesk.core.dates import period_containing

    if text is None:
        return period_containing(clock.today(), "month")
    with _naming(name):
        return parse_period(text)


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


def _amount(name: str, text: str, **how: str) -> int:
    """parse_amount, its message naming the option or argument the amount came from."""
    try:
        return parse_amount(text, **how)
    except AmountInputError as exc:
        raise UsageError(f"{name}: {exc}") from None


def _minutes(text: str) -> int:
    if not text.strip().isascii() or not text.strip().isdigit() or len(text.strip()) > 4:
        raise UsageError(f"minutes: {text!r} is not valid: use a whole number such as 15")
    return int(text)


# ---------------------------------------------------------------- output helpers


def _count(number: int, noun: str) -> str:
    """ "1 deal", "1,200 deals" (formatting.count without the thousands separator)."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _out(line: str = "") -> None:
    # The last line of defence: a field printed without printable() still drives nothing.
    # Fields go through printable() themselves, so that a newline in one shows as ⏎.
    sys.stdout.write(printable(line, multiline=True) + "\n")


def _json(data: Any) -> None:
    sys.stdout.write(safe_json(json.dumps(data, ensure_ascii=False, indent=2)) + "\n")


def _deal_json(deal: Any, stage_names: dict[int, str]) -> dict[str, Any]:
    from repdesk.core.kpi import money_json

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
        "notes": deal.notes,
        "forecast_call": deal.forecast,  # the rep's call; null: the default from the probability
        "own_probability": deal.probability,
        "competitor": deal.competitor,
        "nps": deal.nps,
        "nps_on": deal.nps_on.isoformat() if deal.nps_on else None,
    }


def _title_and_company(title: str, company: str) -> str:
    """`Fleet rollout (Acme)`, or the title alone for a deal without a company."""
    return printable(title) + (f" ({printable(company)})" if company else "")


def _deal_line(deal: Any, stage_names: dict[int, str]) -> str:
    return (
        f"#{deal.id} {_title_and_company(deal.title, deal.company)} · "
        f"{printable(stage_names[deal.stage_id])} · "
        f"{format_money(deal.value_cents, deal.currency)}"
    )


def _stage_names(session: Session) -> dict[int, str]:
    from repdesk.services import deals

    return {s.id: s.name for s in deals.stages(session=session)}  # type: ignore[misc]


# ---------------------------------------------------------------- commands


def cmd_open(desk: Desk, args: argparse.Namespace) -> int:
    return open_app(desk, auto_backup=True)


def open_app(desk: Desk, *, auto_backup: bool, run: Callable[[Any], object] | None = None) -> int:
    """Start the app. `run`: how to run it (the benchmark's is headless; see run_app)."""
    # Refuse a foreign or damaged file before the screen is taken over.
    desk.prepare()
    background.pause_collector()  # until the first frame is out (see resume_collector)
    first = None
    if not desk.on_server:
        # The damage check (desk_file.prepare) and the first frame's read are C code that lets
        # go of the GIL: they run beside the imports below, so the board has its cards (the
        # first of each stage) and the quota strip its figures before the screen is composed.
        first = background.start(lambda: _first_screen(desk), "repdesk-first-read")
        if auto_backup:  # a server keeps its own backups (pg_dump)
            _start_auto_backup(desk.home)
    from repdesk.tui.app import RepdeskApp, run_app

    if first is not None:
        first.result()  # a damaged desk is refused here, the terminal still untouched
    if run is None:  # after the desk's own refusals: they say more than "no terminal"
        _need_a_terminal()
    return run_app(desk.home, desk.settings, verified=True, first=first, run=run or RepdeskApp.run)


def _need_a_terminal() -> None:
    """Textual reads keys from stdin and draws on stderr: without a terminal there it would
    wait for keys that never come. textual-serve runs the app over pipes with a driver of its
    own (TEXTUAL_DRIVER), and so may anyone who names one."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return
    streams = {"stdin": sys.__stdin__, "stderr": sys.__stderr__}
    missing = [name for name, stream in streams.items() if stream is None or not stream.isatty()]
    if missing:
        verb = "is not one" if len(missing) == 1 else "are not"
        raise UsageError(
            f"the app needs a terminal ({' and '.join(missing)} {verb}): run `repdesk` in a "
            "terminal, or use its commands (`repdesk --help`)"
        )


def _first_screen(desk: Desk) -> Any:
    from repdesk.services.board import first_screen

    with desk.fast(verify=True) as conn:
        return first_screen(conn, conversion=desk.settings.conversion)


def _start_auto_backup(home: paths.Home) -> threading.Thread:
    """Today's rotating backup, in a thread beside the app's start so the first paint never
    waits for it (the backup API releases the GIL while it copies pages). Not a daemon: a
    quick quit waits for the copy to finish rather than cut it off."""
    folder = home.backups / "auto"
    failed = folder / "failed.txt"

    def run() -> None:
        try:
            if desk_file.auto_backup(home.desk, folder, today=clock.today().isoformat()):
                failed.unlink(missing_ok=True)
        except Exception as exc:  # the app goes on; the next start tries again
            with contextlib.suppress(OSError):
                folder.mkdir(parents=True, exist_ok=True)
                failed.write_text(f"{clock.now().isoformat()}: {exc}\n", encoding="utf-8")

    thread = threading.Thread(target=run, name="repdesk-auto-backup")
    thread.start()
    return thread


def cmd_demo(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk import demo

    home = desk.home.demo
    summary = demo.ensure_built(home, today=clock.today(), now=clock.now(), force=args.reset)
    if summary is not None:
        _out(
            f"Built the demo desk at {home.desk}: {_count(summary.deals, 'deal')} "
            f"({summary.open_deals} open), {summary.activities} activities."
        )
    if args.no_open:
        _out(f"Demo desk ready: repdesk --home {home.data_dir}")
        return 0
    # The demo never touches a server desk, and needs no backups.
    return open_app(Desk(home, server=False), auto_backup=False)


def cmd_deal_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    currency = check_code(args.currency) if args.currency is not None else None
    value, named = 0, None
    if args.value is not None:
        default = desk.settings.currency
        with _naming("--value"):
            value, named = parse_money(args.value, currency=currency, default_currency=default)
    first = _date(args.first_contact, "--first-contact") if args.first_contact else None
    expected = _date(args.expected_close, "--expected-close") if args.expected_close else None
    with desk.write() as session:
        deal = deals.create_deal(
            session=session,
            title=args.title,
            company=args.company,
            contact=args.contact,
            email=args.email,
            phone=args.phone,
            value_cents=value,
            currency=currency or named or desk.settings.currency,  # "$500" is in USD
            stage=args.stage,
            source=args.source,
            product=args.product,
            region=args.region,
            segment=args.segment,
            first_contact=first,
            expected_close=expected,
        )
        line = f"Added {_deal_line(deal, _stage_names(session))}"
    _out(line)  # only once committed: a full disk fails the commit, not before it
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
        _out(_count(len(found), "deal"))
    return 0


RECENT_ACTIVITIES = 5  # `deal show`: the last few; the app's deal page has the whole timeline


def cmd_deal_show(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import activities, deals, followups, forecast, objections

    with desk.read() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        names = _stage_names(session)
        assert deal.id is not None
        outlook = forecast.deal_forecast(session=session, deal_id=deal.id)
        pending = followups.pending(session=session, deal_id=deal.id)
        heard = objections.objections_of(session=session, deal_id=deal.id)
        recent = activities.timeline_activities(
            session=session, deal_id=deal.id, limit=RECENT_ACTIVITIES
        )
    if args.json:
        _json(
            _deal_json(deal, names)
            | {
                "forecast": outlook.category,
                "probability": outlook.probability,
                "close_date_slips": outlook.slips,
                "slipped_days": outlook.slipped_days,
                "follow_ups": [
                    {
                        "id": fu.id,
                        "due_on": fu.due_on.isoformat(),
                        "due_time": fu.due_time.strftime("%H:%M") if fu.due_time else None,
                        "note": fu.note,
                        "every_days": fu.recur_days,
                    }
                    for fu in pending
                ],
                "objections": [
                    {
                        "id": obj.id,
                        "category": obj.category,
                        "status": obj.status,
                        "said": obj.said,
                        "answer": obj.answer,
                    }
                    for obj in heard
                ],
                "recent_activities": [
                    {
                        "id": act.id,
                        "kind": act.kind,
                        "on": clock.local_date(act.at).isoformat(),
                        "outcome": act.outcome,
                        "minutes": act.minutes,
                        "text": act.text,
                    }
                    for act in recent
                ],
            }
        )
        return 0
    _out(f"#{deal.id} {printable(deal.title)}")
    fields = [
        ("company", deal.company),
        ("contact", deal.contact),
        ("email", deal.email),
        ("phone", deal.phone),
        ("value", format_money(deal.value_cents, deal.currency)),
        ("stage", names[deal.stage_id]),
        ("status", deal.status),
        ("expected close", deal.expected_close.isoformat() if deal.expected_close else ""),
        ("source", deal.source),
        ("product", deal.product),
        ("region", deal.region),
        ("segment", deal.segment),
        ("first contact", deal.first_contact.isoformat()),
    ]
    if deal.closed_on is not None:
        fields.append(("closed on", deal.closed_on.isoformat()))
    if deal.status == "lost":
        fields.append(("lost reason", deal.lost_reason))
    fields += _forecast_fields(deal, outlook, names[deal.stage_id])
    for label, value in fields:
        _out(f"  {label + ':':<15} {printable(value) or '-'}")
    if deal.notes.strip():
        _out("Notes")
        for note_line in deal.notes.strip().splitlines():
            _out(f"  {printable(note_line)}")
    _out(f"Follow-ups ({len(pending)})" + ("" if pending else ": none pending"))
    for fu in pending:
        repeat = f" ↻ every {fu.recur_days} days" if fu.recur_days else ""
        note = f"  {printable(fu.note)}" if fu.note else ""
        _out(f"  [{fu.id}] {formatting.when(fu.due_on, fu.due_time)}{repeat}{note}")
    _out(f"Objections ({len(heard)})" + ("" if heard else ": none"))
    for obj in heard:
        _out(f"  [{obj.id}] {obj.category}, {obj.status}: {printable(obj.said)}")
        if obj.answer:
            _out(f"       answer: {printable(obj.answer)}")
    _out(f"Last activities ({len(recent)})" if recent else "Activities: none yet")
    for act in recent:
        when = clock.local_date(act.at).isoformat()
        minutes = f" {act.minutes} min" if act.minutes else ""
        words = " · ".join(printable(w) for w in (act.outcome, act.text) if w)
        _out(f"  [{act.id}] {when} {act.kind}{minutes}" + (f" · {words}" if words else ""))
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
        line = done(deal, _deal_line(deal, _stage_names(session)))
    _out(line)  # once committed
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

    on = _date(args.on, "--on") if args.on else None
    return _change_deal(
        desk,
        args.deal,
        lambda s, deal_id: deals.win_deal(session=s, deal_id=deal_id, on=on),
        lambda deal, line: f"Won {line} on {deal.closed_on}",
    )


def cmd_deal_lost(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    on = _date(args.on, "--on") if args.on else None
    return _change_deal(
        desk,
        args.deal,
        lambda s, deal_id: deals.lose_deal(
            session=s, deal_id=deal_id, reason=args.reason, on=on, competitor=args.competitor
        ),
        lambda deal, line: (
            f"Lost {line}: {printable(deal.lost_reason)}"
            + (f" (to {printable(deal.competitor)})" if deal.competitor else "")
        ),
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
    next_when = _when(args.next, "--next") if args.next else None
    if args.next_note and not next_when:
        raise UsageError("--next-note needs --next WHEN (the date of the next step)")
    at = activities.happened_at(_past_when(args.at, "--at")) if args.at is not None else None
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
            at=at,
        )
        line = f"Logged {activity.kind} on #{deal.id} {printable(deal.title)}"
        if following is not None:
            line += f"; next step {formatting.when(following.due_on, following.due_time)}"
    _out(line)  # once committed
    return 0


def cmd_follow_up_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, followups

    when = _when(args.when, "WHEN")
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
        line = (
            f"Follow-up {fu.id} on #{deal.id} {printable(deal.title)}: "
            f"{formatting.when(fu.due_on, fu.due_time)}{repeat}"
        )
    _out(line)  # once committed
    return 0


def _id(text: str, what: str, shown_by: str = "repdesk today") -> int:
    number = row_id(text)
    if number is None:
        raise UsageError(f"{what}: {text!r} is not valid: use the number shown by `{shown_by}`")
    return number


def cmd_follow_up_done(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import followups

    next_when = _when(args.next, "--next") if args.next else None
    with desk.write() as session:
        done, following = followups.complete_follow_up(
            session=session,
            follow_up_id=_id(args.id, "follow-up"),
            outcome=args.outcome or "",
            next_when=next_when,
            next_note=args.next_note or "",
            kind=args.kind,
        )
        line = f"Done: follow-up {done.id}"
        if following is not None:
            next_when = formatting.when(following.due_on, following.due_time)
            line += f"; next {next_when} (follow-up {following.id})"
        if done.outcome.strip():
            line += f"; logged a {args.kind}: {printable(done.outcome)}"
    _out(line)  # once committed
    return 0


def cmd_follow_up_snooze(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import followups

    when = _when(args.when, "WHEN")
    with desk.write() as session:
        fu = followups.snooze_follow_up(
            session=session, follow_up_id=_id(args.id, "follow-up"), when=when
        )
        line = f"Follow-up {fu.id} moved to {formatting.when(fu.due_on, fu.due_time)}"
    _out(line)  # once committed
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
        line = (
            f"Objection {obj.id} ({obj.category}, {obj.status}) on "
            f"#{deal.id} {printable(deal.title)}"
        )
    _out(line)  # once committed
    return 0


def cmd_objection_answer(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import objections

    with desk.write() as session:
        obj = objections.update_objection(
            session=session,
            objection_id=_id(args.id, "objection", "repdesk deal show DEAL"),
            answer=args.answer,
        )
    _out(f"Objection {obj.id} is {obj.status}")  # once committed
    return 0


def cmd_objection_resolve(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import objections

    with desk.write() as session:
        obj = objections.resolve_objection(
            session=session, objection_id=_id(args.id, "objection", "repdesk deal show DEAL")
        )
    _out(f"Objection {obj.id} is resolved")  # once committed
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


# The widest usual when: "Mon 23 Nov 10:00 (10d late)" (a few more days late still fit).
TODAY_WHEN_WIDTH = len("Mon 23 Nov 10:00 (100d late)")


def cmd_today(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.reports import figures

    with desk.fast() as conn:
        queues = figures.day_queues(
            conn,
            today=clock.today(),
            now=clock.now(),
            going_cold_days=desk.settings.going_cold_days,
        )
    if args.json:
        _json(queues.to_json())
        return 0
    today = clock.today()
    for key, label in figures.DayQueues.SECTIONS:
        rows = getattr(queues, key)
        _out(f"{label} ({len(rows):,})")
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
                f"  {ref:>6} {when:<{TODAY_WHEN_WIDTH}} #{row.deal_id} "
                f"{_title_and_company(row.title, row.company)} · "
                f"{format_money(row.value_cents, row.currency)} · {printable(row.stage)}{note}"
            )
        if len(rows) > len(shown):
            _out(f"         … and {len(rows) - len(shown):,} more (--all shows them)")
    return 0


def _kpis(desk: Desk, period: Period, as_of: date) -> Any:
    from repdesk.reports import figures

    with desk.fast() as conn:
        return figures.kpi_report(
            conn, period=period, as_of=as_of, conversion=desk.settings.conversion
        )


def cmd_quota(desk: Desk, args: argparse.Namespace) -> int:
    words = list(args.words)
    if words and words[0] == "set":
        if len(words) != 3:
            raise UsageError(
                "quota set takes a period and an amount, e.g. `quota set 2026-11 60000`"
            )
        currency = desk.settings.currency
        amount = _amount("AMOUNT", words[2], currency=currency, what="a quota", least="above 0")
        return _quota_set(desk, _period(words[1], "PERIOD"), amount)
    if len(words) > 1:
        raise UsageError(f"quota takes at most one period, got {' '.join(words)!r}")
    from repdesk.reports import figures

    period = _period(words[0] if words else None, "PERIOD")
    k = _kpis(desk, period, figures.default_as_of(period, clock.today()))
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
    from repdesk.reports import figures

    period = _period(args.period, "--period")
    # A period that is over reads as it stood at its end, as the KPI pane shows it.
    as_of = (
        _date(args.as_of, "--as-of") if args.as_of else figures.default_as_of(period, clock.today())
    )
    if as_of > clock.today():
        # The desk knows how it stands today, not how it will: a day to come would read as
        # today, under another date.
        raise UsageError(f"--as-of: {as_of.isoformat()} is still to come: give today or earlier")
    k = _kpis(desk, period, as_of)
    if args.json:
        _json(k.to_json())
        return 0
    cur = desk.settings.currency

    def money(v: int | None) -> str:
        return format_money(v, cur)

    rows = [
        ("Period", f"{k.period} ({k.start} to {k.end}), as of {as_of}"),
        ("Won", f"{money(k.won_value)} in {_count(k.won_count, 'deal')}"),
        ("Quota", money(k.quota)),
        ("Attainment", formatting.pct(k.attainment)),
        ("Expected by now", money(k.expected_by_now)),
        *([("Result", formatting.outcome(k, cur))] if k.ended and k.quota is not None else []),
        ("Win rate", f"{formatting.pct(k.win_rate)} ({k.won_count:,} won, {k.lost_count:,} lost)"),
        ("Avg cycle", "—" if k.avg_cycle_days is None else f"{k.avg_cycle_days:.1f} days"),
        ("Avg deal size", money(k.avg_deal_size)),
        ("Open pipeline", f"{money(k.open_value)} in {_count(k.open_count, 'deal')}"),
        ("Weighted pipeline", money(k.weighted_pipeline)),
        ("Forecast", money(k.forecast)),
        *_forecast_rows(k, cur),
        ("Coverage", "—" if k.coverage is None else f"{k.coverage:.2f}x"),
        ("Velocity", "—" if k.velocity_per_day is None else f"{money(k.velocity_per_day)} per day"),
        ("Deals needed", "—" if k.deals_needed is None else str(k.deals_needed)),
        ("Pipeline needed", money(k.pipeline_needed)),
    ]
    rows += _lessons_rows(k, cur)
    if k.left_out_deals:
        rows.append(("Left out", formatting.left_out(k)))
    for label, value in rows:
        _out(f"{label + ':':<19}{value}")
    return 0


def _pairs(values: list[str], flag: str, *, split_last: bool) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        left, sep, right = value.rpartition("=") if split_last else value.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise UsageError(f'{flag} {value!r}: expected THEIRS=OURS, e.g. {flag} "Won=Won"')
        pairs.append((left.strip(), right.strip()))
    return pairs


def _import_options(desk: Desk, args: argparse.Namespace) -> Any:
    from repdesk.io.csv_import import ImportOptions
    from repdesk.io.formats import DEAL_FIELDS, normalise

    column_map = {}
    for name, column in _pairs(args.map, "--map", split_last=False):
        if name.lower() not in DEAL_FIELDS:
            raise UsageError(
                f"--map {name}={column}: {name!r} is not a field; fields: {', '.join(DEAL_FIELDS)}"
            )
        column_map[name.lower()] = column
    status_map = {}
    for theirs, ours in _pairs(args.status_map, "--status-map", split_last=True):
        if ours.lower() not in ("open", "won", "lost"):
            raise UsageError(f"--status-map {theirs}={ours}: {ours!r} is not open, won or lost")
        status_map[normalise(theirs)] = ours.lower()
    stage_map = {
        normalise(theirs): ours
        for theirs, ours in _pairs(args.stage_map, "--stage-map", split_last=True)
    }
    if args.date_format is not None:
        from datetime import datetime

        sample = date(2026, 11, 20)
        try:
            readable = datetime.strptime(sample.strftime(args.date_format), args.date_format)
        except ValueError:
            readable = None
        if "%" not in args.date_format or readable is None or readable.date() != sample:
            raise UsageError(
                f"--date-format {args.date_format!r}: expected a format that reads a whole "
                "date, e.g. %m/%d/%Y (3/1/2017 is 1 March) or %d.%m.%Y"
            )
    return ImportOptions(
        family=None if args.source == "auto" else args.source,
        column_map=column_map,
        stage_map=stage_map,
        status_map=status_map,
        date_format=args.date_format,
        create_stages=args.create_stages,
        default_currency=desk.settings.currency,
    )


def _count_table(outcome: Any) -> list[str]:
    keys = set(outcome.created) | set(outcome.updated) | set(outcome.unchanged)
    order = {name: i for i, name in enumerate(outcome.stage_order)}
    rows = sorted(keys, key=lambda k: (order.get(k[0], len(order)), k[1]))
    width = max([len(stage) for stage, _ in rows] + [5])
    lines = [f"  {'stage':<{width}}  status  created  updated  unchanged"]
    for key in rows:
        stage, status = key
        lines.append(
            f"  {printable(stage):<{width}}  {status:<6}  {outcome.created[key]:>7,}  "
            f"{outcome.updated[key]:>7,}  {outcome.unchanged[key]:>9,}"
        )
    return lines


def cmd_import(desk: Desk, args: argparse.Namespace) -> int:
    files = [Path(f) for f in args.files]
    as_json = args.source == "json" or (
        args.source == "auto" and all(f.suffix.lower() == ".json" for f in files)
    )
    if as_json:
        return _import_json(desk, args, files)
    from repdesk.io import csv_import
    from repdesk.io.progress import ProgressBar
    from repdesk.services import transfer

    options = _import_options(desk, args)
    bar = ProgressBar("Importing")
    try:
        plan = csv_import.read_files(files, options, progress=bar)
        for source in plan.sources:
            _out(f"Reading {source.path} as {source.format.name}: {_count(source.rows, 'row')}")
            if args.dry_run and source.unused_columns and source.format.records == "deals":
                _out(f"  not imported: {', '.join(printable(c) for c in source.unused_columns)}")
        with desk.read() if args.dry_run else desk.write() as session:
            outcome = transfer.import_plan(
                session=session,
                plan=plan,
                stage_map=options.stage_map,
                create_stages=options.create_stages,
                today=clock.today(),
                now=clock.now(),
                dry_run=args.dry_run,
                progress=bar,
            )
    finally:
        bar.close()
    created = sum(outcome.created.values())
    updated = sum(outcome.updated.values())
    unchanged = sum(outcome.unchanged.values())
    names = ", ".join(str(s.path) for s in plan.sources if s.format.records == "deals")
    if args.dry_run:
        _out(
            f"Would import {_count(created + updated + unchanged, 'deal')} from {names}: "
            f"{created:,} to create, {updated:,} to update, {unchanged:,} unchanged"
        )
    else:
        _out(
            f"Imported {_count(created + updated + unchanged, 'deal')} from {names}: "
            f"{created:,} created, {updated:,} updated, {unchanged:,} unchanged"
        )
    if created + updated + unchanged:
        for line in _count_table(outcome):
            _out(line)
    if outcome.new_stages:
        verb = "Would add" if args.dry_run else "Added"
        _out(f"{verb} stages: {', '.join(printable(s) for s in outcome.new_stages)}")
    if plan.activities:
        verb = "would add" if args.dry_run else "added"
        line = (
            f"Activities: {outcome.activities_added:,} {verb}, "
            f"{outcome.activities_present:,} already on the desk"
        )
        if outcome.activities_unlinked:
            first = ", ".join(outcome.activities_unlinked[:3])
            line += (
                f"; {len(outcome.activities_unlinked):,} left out, linked to no opportunity "
                f"or account of these deals (first: {first})"
            )
        _out(line)
    if args.dry_run:
        _out("Nothing was written (--dry-run).")
    return 0


def _import_json(desk: Desk, args: argparse.Namespace, files: list[Path]) -> int:
    from repdesk.io import desk_json

    if len(files) != 1:
        raise UsageError("a JSON export is a whole desk: import one file at a time")
    if args.map or args.stage_map or args.status_map or args.date_format or args.create_stages:
        raise UsageError(
            "--map, --stage-map, --status-map, --date-format and --create-stages are for CSV "
            "files; a JSON export goes in as it is"
        )
    tables = desk_json.read_document(files[0])  # a file that is not one changes no desk
    with desk.write() as session:  # one transaction, either engine: all or nothing
        counts = desk_json.import_json(session.connection(), files[0], tables, dry_run=args.dry_run)
    listed = _table_counts(counts)
    if args.dry_run:
        _out(f"Would import the desk in {files[0]}: {listed}. Nothing was written (--dry-run).")
    else:
        _out(f"Imported the desk in {files[0]}: {listed}")
    return 0


def _export_target(desk: Desk, args: argparse.Namespace) -> Path:
    """FILE, checked before the desk is read: never the desk's own files or its backups,
    never a folder or a device, an existing file only with --force."""
    from repdesk.io.files import export_target

    data = desk.home.desk
    # Every file the desk keeps beside it: -wal/-shm/-journal, the copy an upgrade takes
    # (desk.sqlite.pre-vN-...bak), the record of the last full check, and the settings.
    beside = [*data.parent.glob(f"{data.name}*"), *data.parent.glob(f".{data.name}*")]
    own = [data, *(Path(f"{data}{suffix}") for suffix in ("-wal", "-shm", "-journal"))]
    return export_target(
        args.file,
        keep=[*own, *beside, desk.home.settings, desk.home.crash_log],
        keep_folders=[desk.home.backups, desk.home.crash_log.parent],
        force=args.force,
    )


def cmd_export_ics(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io import ics

    path = _export_target(desk, args)
    with desk.fast() as conn:
        count = ics.write_ics(conn, path, now=clock.now())
    _out(f"Wrote {_count(count, 'pending follow-up')} to {path}")
    return 0


def cmd_migrate_to(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.storage import store

    url = settings_mod.normalise_database_url(args.url)
    if url is None:
        raise UsageError(
            f"URL: {settings_mod.display_url(args.url)!r} is not valid: expected "
            f"{settings_mod.SERVER_URL_FORM}"
        )
    source = desk.home.desk
    if not source.exists():
        raise desk_file.DeskError(f"there is no desk at {source} to copy")
    counts = store.copy_desk_to_server(source, url)
    shown = settings_mod.display_url(url)
    _out(f"Copied the desk at {source} to {shown}:")
    width = max(len(name) for name in counts)
    for name, (expected, copied) in counts.items():
        rows = "row" if copied == 1 else "rows"
        _out(f"  {name:<{width}} {copied:>9,} {rows} (the desk has {expected:,})")
    _out("Every table's row count matches. To use the server from now on, set")
    _out(f"  export {settings_mod.DATABASE_URL_ENV}='{shown}'")
    _out(f'or in {desk.home.settings}:  database_url = "{shown}"')
    if shown != url:
        _out("(with your password where *** stands)")
    _out(f"{source} is left as it was; repdesk does not read it while the URL is set.")
    return 0


def cmd_export_csv(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io import csv_export

    path = _export_target(desk, args)
    with desk.fast() as conn:
        count = csv_export.export_csv(conn, path)
    _out(f"Wrote {_count(count, 'deal')} to {path}")
    return 0


# A JSON export's tables, as a rep counts them: "3 deals, 14 stage changes".
_TABLE_WORDS = {
    "stage": ("stage", "stages"),
    "deal": ("deal", "deals"),
    "stage_change": ("stage change", "stage changes"),
    "activity": ("activity", "activities"),
    "follow_up": ("follow-up", "follow-ups"),
    "objection": ("objection", "objections"),
    "quota": ("quota", "quotas"),
    "trash": ("thing in the trash", "things in the trash"),
    "close_date_change": ("close date change", "close date changes"),
    "forecast_change": ("forecast change", "forecast changes"),
    "commitment": ("commitment", "commitments"),
    "weekly_review": ("kept weekly review", "kept weekly reviews"),
}


def _table_counts(counts: dict[str, int]) -> str:
    def words(table: str, n: int) -> str:
        one, many = _TABLE_WORDS.get(table, (table, table))
        return f"{n:,} {one if n == 1 else many}"

    return ", ".join(words(table, n) for table, n in counts.items())


def cmd_export_json(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.io import desk_json

    path = _export_target(desk, args)
    with desk.read() as session:  # one snapshot of every table, either engine
        counts = desk_json.export_json(session.connection(), path, exported_at=clock.now())
    listed = _table_counts(counts)
    _out(f"Wrote the whole desk to {path}: {listed}")
    return 0


def _refuse_on_server(desk: Desk, command: str, instead: str) -> None:
    """backup and restore copy desk files; a server's database is copied by its own tools,
    which know its transactions, roles and sequences. Exit 2: the desk is fine, the command
    does not apply to where it lives, and nothing is touched."""
    if desk.on_server:
        server = settings_mod.display_url(desk.settings.database_url or "")
        libpq = "postgresql://" + server.partition("://")[2]  # the form pg_dump reads
        raise UsageError(
            f"{command}: this desk is on a PostgreSQL server, and `repdesk {command}` works on "
            f"desk files only: {instead.format(url=libpq)}"
        )


def cmd_backup(desk: Desk, args: argparse.Namespace) -> int:
    _refuse_on_server(
        desk,
        "backup",
        "back the database up with pg_dump, e.g. pg_dump --format=custom --file=desk.dump '{url}'",
    )
    if not desk.home.desk.exists():
        raise desk_file.DeskError(f"there is no desk at {desk.home.desk} to back up yet")
    if args.file:
        target = Path(args.file)
        if target.exists():
            raise UsageError(f"{target} already exists: give a new file name")
    else:
        stamp = clock.now().astimezone().strftime("%Y%m%d-%H%M%S")
        target = desk.home.backups / f"desk-{stamp}.sqlite"
        number = 1
        while target.exists():
            number += 1
            target = desk.home.backups / f"desk-{stamp}-{number}.sqlite"
    desk_file.prepare(desk.home.desk)
    desk_file.take_backup(desk.home.desk, target)
    _out(f"Backed up {desk.home.desk} to {target}")
    return 0


def cmd_restore(desk: Desk, args: argparse.Namespace) -> int:
    _refuse_on_server(
        desk,
        "restore",
        "restore a pg_dump backup with pg_restore, e.g. "
        "pg_restore --clean --if-exists --dbname='{url}' desk.dump",
    )
    source = Path(args.file)
    try:
        version, kept = desk_file.restore_desk(desk.home.desk, source, desk.home.backups)
    except desk_file.RestoreRefused as exc:
        raise RepdeskError(f"not restored: {exc}; the desk is unchanged") from None
    line = f"Restored {source} (schema {version}) into {desk.home.desk}"
    if kept is not None:
        line += f"; the desk it replaced is kept at {kept}"
    _out(line)
    return 0


# ---------------------------------------------------------------- mending: delete, trash, merge


def _trashed_line(item: Any) -> str:
    return (
        f"Deleted {printable(item.what)}: in the trash as {item.id} for "
        f"30 days (`repdesk trash restore {item.id}` puts it back)"
    )


def _delete(desk: Desk, kind: str, item_id: int) -> int:
    from repdesk.services import trash

    with desk.write() as session:
        item = trash.delete_item(session=session, kind=kind, item_id=item_id)
    _out(_trashed_line(item))
    return 0


def cmd_deal_delete(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, trash

    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        item = trash.delete_item(session=session, kind="deal", item_id=deal.id)  # type: ignore[arg-type]
    with_rows = f" (with {item.rows - 1:,} rows of its timeline)" if item.rows > 1 else ""
    _out(_trashed_line(item).replace(": in the trash", f"{with_rows}: in the trash", 1))
    return 0


def cmd_activity_delete(desk: Desk, args: argparse.Namespace) -> int:
    return _delete(desk, "activity", _id(args.id, "activity", "repdesk deal show DEAL"))


def cmd_follow_up_delete(desk: Desk, args: argparse.Namespace) -> int:
    return _delete(desk, "follow_up", _id(args.id, "follow-up"))


def cmd_objection_delete(desk: Desk, args: argparse.Namespace) -> int:
    return _delete(desk, "objection", _id(args.id, "objection", "repdesk deal show DEAL"))


def cmd_activity_edit(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import activities

    activity_id = _id(args.id, "activity", "repdesk deal show DEAL")
    minutes = _minutes(args.minutes) if args.minutes is not None else None
    at = activities.happened_at(_past_when(args.at, "--at")) if args.at is not None else None
    if all(v is None for v in (args.kind, args.outcome, minutes, args.note, at)):
        raise UsageError(
            "activity edit: nothing to change: give --kind, --outcome, --minutes, --note or --at"
        )
    with desk.write() as session:
        act = activities.edit_activity(
            session=session,
            activity_id=activity_id,
            kind=args.kind,
            outcome=args.outcome,
            minutes=minutes,
            text=args.note,
            at=at,
        )
        when = act.at.astimezone().strftime("%Y-%m-%d %H:%M")
        words = " · ".join(printable(w) for w in (act.outcome, act.text) if w)
        _out(f"Activity {act.id}: {act.kind} {when}" + (f" · {words}" if words else ""))
    return 0


def cmd_deal_notes(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals

    if args.text is None:
        with desk.read() as session:
            deal = deals.find_deal(session=session, ref=args.deal)
        sys.stdout.write("".join(printable(line) + "\n" for line in deal.notes.splitlines()))
        return 0
    text = sys.stdin.read() if args.text == "-" else args.text.replace("\\n", "\n")
    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        deals.edit_deal(session=session, deal_id=deal.id, notes=text)  # type: ignore[arg-type]
        lines = len(text.splitlines())
        _out(
            f"Notes of #{deal.id} {printable(deal.title)}: "
            + (formatting.count(lines, "line") if lines else "cleared")
        )
    return 0


def _percent(text: str) -> int:
    raw = text.strip().removesuffix("%")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 3:
        raise UsageError(f"probability: {text!r} is not valid: use a percentage such as 40")
    return int(raw)


def _rot_days(text: str) -> int | None:
    raw = text.strip().lower().removesuffix("d")
    if raw in ("none", "off", "never"):
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 4:
        raise UsageError(f"rot: {text!r} is not valid: use a number of days such as 21, or none")
    return int(raw)


def _stage_line(info: Any) -> str:
    rot = f"rots after {info.rot_days} days" if info.rot_days else "never rots"
    kind = f" · {info.kind}" if info.kind != "open" else f" · {rot}"
    deals_there = formatting.count(info.open_deals, "open deal") if info.kind == "open" else ""
    return f"  {info.number}. {printable(info.name)} (id {info.id}) · {info.probability}%{kind}" + (
        f" · {deals_there}" if deals_there else ""
    )


def cmd_stage_list(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    with desk.read() as session:
        found = stages.list_stages(session=session)
    if args.json:
        _json(
            [
                {
                    "id": s.id,
                    "number": s.number,
                    "name": s.name,
                    "kind": s.kind,
                    "probability": s.probability,
                    "rot_days": s.rot_days,
                    "open_deals": s.open_deals,
                }
                for s in found
            ]
        )
        return 0
    _out("Your pipeline:")
    for info in found:
        _out(_stage_line(info))
    return 0


def _stage_done(desk: Desk, change: Callable[[Session], Any], line: Callable[[Any], str]) -> int:
    from repdesk.services import stages

    with desk.write() as session:
        result = change(session)
        _out(line(result))
        for info in stages.list_stages(session=session):
            _out(_stage_line(info))
    return 0


def cmd_stage_add(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    probability = _percent(args.probability)
    rot = _rot_days(args.rot) if args.rot is not None else None
    return _stage_done(
        desk,
        lambda s: stages.add_stage(
            session=s, name=args.name, probability=probability, rot_days=rot, after=args.after
        ),
        lambda stage: f"Added the stage {printable(stage.name)} (id {stage.id}):",
    )


def cmd_stage_rename(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    return _stage_done(
        desk,
        lambda s: stages.rename_stage(session=s, stage=args.stage, name=args.name),
        lambda stage: f"Renamed to {printable(stage.name)}; its history reads the new name:",
    )


def cmd_stage_move(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    if not args.position.isascii() or not args.position.isdigit() or len(args.position) > 3:
        raise UsageError(f"position: {args.position!r} is not valid: use a place such as 2")
    return _stage_done(
        desk,
        lambda s: stages.move_stage(session=s, stage=args.stage, number=int(args.position)),
        lambda stage: f"Moved {printable(stage.name)}:",
    )


def cmd_stage_set(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    if args.probability is None and args.rot is None:
        raise UsageError("stage set: nothing to change: give --probability or --rot")
    probability = _percent(args.probability) if args.probability is not None else None
    extra = {"rot_days": _rot_days(args.rot)} if args.rot is not None else {}
    return _stage_done(
        desk,
        lambda s: stages.set_stage(session=s, stage=args.stage, probability=probability, **extra),
        lambda stage: f"Set {printable(stage.name)}:",
    )


def cmd_stage_remove(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import stages

    def line(result: Any) -> str:
        name, moved, into = result
        where = f"; {formatting.count(moved, 'deal')} moved to {printable(into)}" if moved else ""
        return f"Removed the stage {printable(name)}{where}:"

    return _stage_done(
        desk,
        lambda s: stages.remove_stage(session=s, stage=args.stage, into=args.into),
        line,
    )


def cmd_trash(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import trash

    with desk.read() as session:
        items = trash.list_trash(session=session)
    if args.json:
        _json([item.as_json() for item in items])
        return 0
    if not items:
        _out("The trash is empty.")
        return 0
    _out(f"In the trash ({len(items):,}; each kept {trash.KEEP_DAYS} days):")
    for item in items:
        deleted = item.deleted_at.astimezone().strftime("%Y-%m-%d %H:%M")
        _out(
            f"  [{item.id}] {item.word}: {printable(item.label)} · deleted {deleted}, "
            f"kept until {item.expires_on().isoformat()}"
        )
    _out("Put one back with `repdesk trash restore ID`.")
    return 0


def cmd_trash_restore(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import trash

    trash_id = _id(args.id, "trash id", "repdesk trash")
    with desk.write() as session:
        back = trash.restore(session=session, trash_id=trash_id)
    line = f"Restored {printable(back.what)}"
    if back.item_id != back.old_id:
        line += f" as {'#' if back.kind == 'deal' else ''}{back.item_id} (its old id is taken)"
    if back.note:
        line += f"; {back.note}"
    _out(line)
    return 0


def cmd_trash_empty(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import trash

    with desk.write() as session:
        count = trash.empty_trash(session=session)
    _out(f"Emptied the trash: {count:,} thing{'s' if count != 1 else ''} gone for good")
    return 0


def cmd_deal_merge(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, merge

    with desk.write() as session:
        keep = deals.find_deal(session=session, ref=args.keep)
        gone = deals.find_deal(session=session, ref=args.gone)
        gone_line = f"#{gone.id} {_title_and_company(gone.title, gone.company)}"
        merged = merge.merge_deals(session=session, keep_id=keep.id, gone_id=gone.id)  # type: ignore[arg-type]
        line = _deal_line(merged.keep, _stage_names(session))
    moved = _table_counts({t: merged.moved[t] for t in ("activity", "follow_up", "objection")})
    _out(
        f"Merged {gone_line} into {line}: {moved} and its stage history moved; "
        f"#{merged.gone_id} is in the trash as {merged.trash_id}"
    )
    return 0


# ---------------------------------------------------------------- forecast, weekly review


def _forecast_fields(deal: Any, outlook: Any, stage: str) -> list[tuple[str, str]]:
    """`deal show`'s forecast lines: category, probability, slips, competitor, score."""
    from repdesk.core import forecast

    fields = []
    if outlook.category is not None:
        call = " (your call)" if outlook.overridden else " (from the probability)"
        fields.append(("forecast", forecast.label(outlook.category) + call))
        whose = "its own" if outlook.own_probability else f"{stage}'s"
        fields.append(("probability", f"{outlook.probability}% ({whose})"))
    if outlook.slips:
        times = "once" if outlook.slips == 1 else f"{outlook.slips} times"
        fields.append(("slipped", f"{times}, by {_count(outlook.slipped_days, 'day')}"))
    elif deal.expected_close or outlook.close_date_changes:
        fields.append(("slipped", "never"))
    if deal.competitor:
        fields.append(("competitor", deal.competitor))
    if deal.nps is not None:
        fields.append(("NPS", f"{deal.nps} ({deal.nps_on.isoformat() if deal.nps_on else '-'})"))
    return fields


def _forecast_rows(k: Any, currency: str) -> list[tuple[str, str]]:
    """`kpi`'s forecast categories: what is expected to close in the period, and won plus
    commit (plus best case) against the quota."""

    def against(value: int, share: float | None) -> str:
        shown = format_money(value, currency)
        return shown if share is None else f"{shown} ({formatting.pct(share)} of quota)"

    sums = k.categories
    return [
        ("Commit", format_money(sums.commit, currency)),
        ("Best case", format_money(sums.best_case, currency)),
        ("Pipeline", format_money(sums.pipeline, currency)),
        ("Won + commit", against(k.won_and_commit, k.commit_attainment)),
        ("+ best case", against(k.won_commit_best_case, k.best_case_attainment)),
    ]


def _lessons_rows(k: Any, currency: str) -> list[tuple[str, str]]:
    """`kpi`'s lost deals by reason and by competitor, and the won customers' NPS."""

    def groups(found: Any, nobody: str) -> str:
        shown = [
            f"{printable(g.name) or nobody} {_count(g.count, 'deal')} "
            f"{format_money(g.value_cents, currency)}"
            for g in found[:LESSONS_SHOWN]
        ]
        more = len(found) - LESSONS_SHOWN
        return " · ".join(shown) + (f" · {more} more (--json)" if more > 0 else "") or "—"

    nps = k.nps
    score = "—" if nps.score is None else f"{nps.score:+.0f}"
    return [
        ("Lost by reason", groups(k.lost_by_reason, "(no reason)")),
        ("Lost to", groups(k.lost_by_competitor, "a competitor, unnamed,")),
        ("NPS", f"{score} ({_count(nps.answered, 'won customer')} answered)"),
    ]


LESSONS_SHOWN = 4  # the biggest reasons and competitors in the text; --json has them all


def cmd_deal_set(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import forecast

    if args.forecast is None and args.probability is None and args.competitor is None:
        raise UsageError("deal set needs --forecast, --probability or --competitor")
    probability = None
    if args.probability is not None and args.probability.strip().lower() not in STAGE_WORDS:
        probability = _percent(args.probability)

    shown: list[Any] = []  # what the change left, for the line printed once committed

    def change(session: Session, deal_id: int) -> Any:
        deal = None
        if args.forecast is not None:
            deal = forecast.set_forecast(session=session, deal_id=deal_id, category=args.forecast)
        if args.probability is not None:
            deal = forecast.set_probability(
                session=session, deal_id=deal_id, probability=probability
            )
        if args.competitor is not None:
            deal = forecast.set_competitor(
                session=session, deal_id=deal_id, competitor=args.competitor
            )
        shown.append(forecast.deal_forecast(session=session, deal_id=deal_id))
        return deal

    def done(deal: Any, line: str) -> str:
        outlook = shown[-1]
        words = []
        if outlook.category is not None:
            call = "your call" if outlook.overridden else "from the probability"
            words.append(f"forecast {_category_label(outlook.category)} ({call})")
            whose = "its own" if outlook.own_probability else "the stage's"
            words.append(f"probability {outlook.probability}% ({whose})")
        if args.competitor is not None:
            words.append(f"competitor {printable(deal.competitor) or 'none'}")
        return f"Set {line}: " + ", ".join(words)

    return _change_deal(desk, args.deal, change, done)


STAGE_WORDS = ("stage", "none", "auto")  # `--probability stage`: the stage's again


def _category_label(category: str) -> str:
    from repdesk.core import forecast

    return forecast.label(category)


def cmd_deal_nps(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import forecast

    raw = args.score.strip().lower()
    score = None
    if raw not in ("none", "clear"):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 2:
            raise UsageError(
                f"score: {args.score!r} is not valid: a whole number from 0 to 10, or none"
            )
        score = int(raw)
    on = _date(args.on, "--on") if args.on else None

    def done(deal: Any, line: str) -> str:
        if deal.nps is None:
            return f"Cleared the score of {line}"
        return f"Score of {line}: {deal.nps} on {deal.nps_on}"

    return _change_deal(
        desk,
        args.deal,
        lambda s, deal_id: forecast.set_nps(session=s, deal_id=deal_id, score=score, on=on),
        done,
    )


def _week(desk: Desk, text: str | None) -> Any:
    from repdesk.core.weeks import WeekInputError, parse_week

    try:
        return parse_week(
            text or "this", today=clock.today(), week_start=desk.settings.week_start_index
        )
    except WeekInputError as exc:
        raise UsageError(f"--week: {exc}") from None


def cmd_review(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.core.review import SECTIONS
    from repdesk.services import review

    week, conversion = _week(desk, args.week), desk.settings.conversion
    with desk.read() as session:
        keeping = review.to_keep(session=session, week=week)
        if not keeping:  # nothing to store: a read-only desk reads its review too
            page = review.weekly_review(
                session=session, week=week, conversion=conversion, keep=False
            )
    if keeping:
        with desk.write() as session:  # a week that is over is kept the first time it is read
            page = review.weekly_review(session=session, week=week, conversion=conversion)
    if args.json:
        _json(page.to_json())
        return 0
    r, cur = page.review, desk.settings.currency
    span = f"{r.start:%a %d %b} to {r.end:%a %d %b %Y}"
    if r.frozen_at is not None:
        state = f"as it ended (kept {r.frozen_at.astimezone():%Y-%m-%d %H:%M})"
    else:
        state = "as it ended" if r.closed else "so far"
    _out(f"Week {r.week} ({span}), {state}")
    for key, title in SECTIONS:
        lines = r.section(key)
        total = ""
        if key in ("won", "lost") and lines:
            total = ": " + format_money(
                r.won_value_cents if key == "won" else r.lost_value_cents, cur
            )
        _out(f"{title} ({len(lines)}){total}" if lines else f"{title}: none")
        for line in lines:
            _out(f"  {_review_line(key, line)}")
    activity = " · ".join(f"{a.kind}s {a.this_week} ({a.week_before})" for a in r.activity)
    _out(f"Activity, against the week before: {activity}")
    _out(f"Commitments for {r.week} ({len(page.commitments)})" if page.commitments else (
        f"Commitments for {r.week}: none (`repdesk review commit DEAL TEXT`)"
    ))  # fmt: skip
    for commitment in page.commitments:
        _out(f"  {_commitment_line(commitment)}")
    if page.last_week:
        _out(f"Commitments for {page.last_week_label}, the week before ({len(page.last_week)}):")
        for commitment in page.last_week:
            _out(f"  {_commitment_line(commitment)}")
        if any(c.judged == "open" for c in page.last_week):
            _out("  Mark each: `repdesk review kept ID` or `repdesk review missed ID`")
    return 0


def _review_line(key: str, line: Any) -> str:
    head = (
        f"#{line.deal_id} {_title_and_company(line.title, line.company)} · "
        f"{format_money(line.value_cents, line.currency)}"
    )
    if key in ("advanced", "regressed", "forecast"):
        return f"{head}: {printable(line.was or '-')} → {printable(line.now or '-')}"
    if key == "slipped" and line.note == "passed":
        return f"{head}: expected {line.was}, passed while open"
    if key == "slipped":
        return f"{head}: {line.was} → {line.now}"
    if key == "won":
        return f"{head} · {line.now}"
    if key == "lost":
        return f"{head} · {line.now}: {printable(line.note)}"
    return f"{head} · {printable(line.note)}" if line.note else head


_MARKS = {"kept": "✓ kept", "missed": "✗ missed", "open": "? open"}


def _commitment_line(commitment: Any) -> str:
    return (
        f"[{commitment.id}] {_MARKS.get(commitment.judged, commitment.judged)} · "
        f"#{commitment.deal_id} {printable(commitment.title)}: {printable(commitment.text)} "
        f"(since: {printable(commitment.since)})"
    )


def cmd_review_commit(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import deals, review

    week = _week(desk, args.week)
    with desk.write() as session:
        deal = deals.find_deal(session=session, ref=args.deal)
        made = review.add_commitment(
            session=session,
            deal_id=deal.id,
            text=args.text,
            week=week,  # type: ignore[arg-type]
        )
        line = (
            f"Commitment [{made.id}] for {made.week}: #{deal.id} {printable(deal.title)}: "
            f"{printable(made.text)}"
        )
    _out(line)
    return 0


def _mark(desk: Desk, args: argparse.Namespace, outcome: str) -> int:
    from repdesk.services import review

    commitment_id = _id(args.id, "commitment id", "repdesk review")
    with desk.write() as session:
        marked = review.mark_commitment(
            session=session,
            commitment_id=commitment_id,
            outcome=outcome,
            week_start=desk.settings.week_start_index,
        )
        line = f"Commitment [{marked.id}] of {marked.week}: {outcome}: {printable(marked.text)}"
    _out(line)
    return 0


def cmd_review_kept(desk: Desk, args: argparse.Namespace) -> int:
    return _mark(desk, args, "kept")


def cmd_review_missed(desk: Desk, args: argparse.Namespace) -> int:
    return _mark(desk, args, "missed")


def cmd_review_drop(desk: Desk, args: argparse.Namespace) -> int:
    from repdesk.services import review

    commitment_id = _id(args.id, "commitment id", "repdesk review")
    with desk.write() as session:
        text = review.drop_commitment(
            session=session,
            commitment_id=commitment_id,
            week_start=desk.settings.week_start_index,
        )
    _out(f"Dropped commitment [{commitment_id}]: {printable(text)}")
    return 0


# ---------------------------------------------------------------- the parser


def _given(text: str) -> str:
    """An option given an empty value is refused: taken as not given, `--on ""` closed a deal
    today and `--home ""` opened the default desk."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is empty: give a value or leave it out")
    return text


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use a number from 1 to 65535")
    return int(text)


def cmd_serve(desk: Desk, args: argparse.Namespace) -> int:
    """The app in a browser (textual-serve): each browser tab runs its own `repdesk` process
    on this desk. Only a page opened with the printed token gets in (see serve_guard)."""
    import shlex

    from repdesk import serve_guard

    guard = serve_guard.make_guard(
        args.host, args.port, certfile=args.certfile, keyfile=args.keyfile
    )
    desk_file.prepare(desk.home.desk)  # a foreign or damaged desk is refused here, not per tab
    command = [sys.executable, "-m", "repdesk"]
    if args.home:
        command += ["--home", str(desk.home.data_dir)]
    serve_guard.GuardedServer(shlex.join(command), guard=guard, title="repdesk").serve()
    return 0


Handler = Callable[[Desk, argparse.Namespace], int]


class _Unused:
    """Stands in for the parsers of commands not being run: takes any call and does nothing."""

    def __getattr__(self, _name: str) -> Callable[..., _Unused]:
        return lambda *args, **kwargs: self


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, just that command's part (building every parser
    costs a `repdesk quota` in a status bar more than its query). A name that is no command
    gets the whole parser, for its help and its error."""
    parser = _Parser(
        prog="repdesk",
        description="A keyboard-driven terminal desk for one sales rep. Without a command, "
        "opens the app on your desk.",
    )
    parser.add_argument(
        "--home", type=_given, metavar="DIR", help="keep the desk and settings in DIR"
    )
    parser.add_argument("--version", action="version", version=f"repdesk {__version__}")
    parser.set_defaults(handler=cmd_open)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    built: list[str] = []

    def command(name: str, handler: Handler, help: str, parent: Any = commands) -> Any:
        if isinstance(parent, _Unused) or (parent is commands and only not in (None, name)):
            return _Unused()
        sub = parent.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        if parent is commands:
            built.append(name)
        return sub

    demo = command("demo", cmd_demo, "open the app on the demo desk (never touches yours)")
    demo.add_argument("--reset", action="store_true", help="rebuild the demo desk from scratch")
    demo.add_argument("--no-open", action="store_true", help="build it but do not open the app")

    deal = command(
        "deal", _missing("deal"), "add, list, show, move, win, lose, reopen, delete or merge deals"
    )
    deals = deal.add_subparsers(title="deal commands", metavar="ACTION", parser_class=_Parser)
    add = command("add", cmd_deal_add, "add a deal", deals)
    add.add_argument("title")
    for flag in ("company", "contact", "email", "phone", "source", "product", "region"):
        add.add_argument(f"--{flag}", default="")
    add.add_argument("--value", type=_given, help="e.g. 12500, 12,500.50 or 12.5k")
    add.add_argument("--currency", type=_given, help="three-letter code (default: the desk's)")
    add.add_argument("--stage", type=_given, help="a stage name (default: the first)")
    add.add_argument("--segment", choices=("new", "existing"), default="new")
    add.add_argument("--first-contact", type=_given, metavar="DATE")
    add.add_argument("--expected-close", type=_given, metavar="DATE")
    listing = command("list", cmd_deal_list, "list deals", deals)
    listing.add_argument("--stage", type=_given)
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
    won.add_argument("--on", type=_given, metavar="DATE")
    lost = command("lost", cmd_deal_lost, "mark a deal lost", deals)
    lost.add_argument("deal", metavar="DEAL")
    lost.add_argument("--reason", required=True)
    lost.add_argument("--on", type=_given, metavar="DATE")
    lost.add_argument("--competitor", metavar="NAME", help="who it went to")
    reopen = command("reopen", cmd_deal_reopen, "reopen a won or lost deal", deals)
    reopen.add_argument("deal", metavar="DEAL")
    reopen.add_argument("--stage", type=_given)
    deal_delete = command("delete", cmd_deal_delete, "move a deal to the trash (30 days)", deals)
    deal_delete.add_argument("deal", metavar="DEAL")
    deal_merge = command(
        "merge", cmd_deal_merge, "move GONE's timeline to KEEP and GONE to the trash", deals
    )
    deal_merge.add_argument("keep", metavar="KEEP")
    deal_merge.add_argument("gone", metavar="GONE")
    deal_notes = command("notes", cmd_deal_notes, "print a deal's notes, or replace them", deals)
    deal_notes.add_argument("deal", metavar="DEAL")
    deal_notes.add_argument(
        "text", metavar="TEXT", nargs="?", help="the new notes (\\n for a new line; - reads stdin)"
    )
    deal_set = command(
        "set", cmd_deal_set, "set a deal's forecast category, own probability or competitor", deals
    )
    deal_set.add_argument("deal", metavar="DEAL")
    deal_set.add_argument(
        "--forecast", metavar="CATEGORY", help="commit, best-case, pipeline, omitted or auto"
    )
    deal_set.add_argument(
        "--probability", metavar="PERCENT", help="its own win probability, or stage (its stage's)"
    )
    deal_set.add_argument("--competitor", metavar="NAME", help="who it is up against ('' for none)")
    deal_nps = command("nps", cmd_deal_nps, "a won customer's score, 0-10 (NPS)", deals)
    deal_nps.add_argument("deal", metavar="DEAL")
    deal_nps.add_argument("score", metavar="SCORE", help="0 to 10, or none to clear it")
    deal_nps.add_argument("--on", type=_given, metavar="DATE", help="the day asked (today)")

    log = command("log", cmd_log, "log a call, email, meeting or note on a deal")
    log.add_argument("kind", choices=("call", "email", "meeting", "note"))
    log.add_argument("deal", metavar="DEAL")
    log.add_argument("--outcome", help="e.g. connected, left voicemail, meeting booked")
    log.add_argument("--minutes", type=_given, metavar="N")
    log.add_argument("--note", help="what was said")
    log.add_argument(
        "--next", type=_given, metavar="WHEN", help="schedule the next step, e.g. fri 10:00"
    )
    log.add_argument("--next-note", metavar="TEXT")
    log.add_argument(
        "--at", type=_given, metavar="WHEN", help="when it happened, e.g. 'yesterday 15:00'"
    )

    act = command("activity", _missing("activity"), "correct or delete a logged activity")
    acts = act.add_subparsers(title="activity commands", metavar="ACTION", parser_class=_Parser)
    act_edit = command("edit", cmd_activity_edit, "correct a logged activity", acts)
    act_edit.add_argument("id", metavar="ID")
    act_edit.add_argument("--kind", choices=("call", "email", "meeting", "note"))
    act_edit.add_argument("--outcome")
    act_edit.add_argument("--minutes", type=_given, metavar="N")
    act_edit.add_argument("--note", help="what was said")
    act_edit.add_argument(
        "--at", type=_given, metavar="WHEN", help="when it happened, e.g. 'mon 10:00'"
    )
    act_delete = command("delete", cmd_activity_delete, "move an activity to the trash", acts)
    act_delete.add_argument("id", metavar="ID")

    fu = command("follow-up", _missing("follow-up"), "add, complete or snooze follow-ups")
    fus = fu.add_subparsers(title="follow-up commands", metavar="ACTION", parser_class=_Parser)
    fu_add = command("add", cmd_follow_up_add, "schedule a follow-up on a deal", fus)
    fu_add.add_argument("deal", metavar="DEAL")
    fu_add.add_argument("when", metavar="WHEN")
    fu_add.add_argument("--note", default="")
    fu_add.add_argument(
        "--every", type=_given, metavar="N", help="repeat every N days (30d) or weeks (2w)"
    )
    fu_done = command("done", cmd_follow_up_done, "complete a follow-up", fus)
    fu_done.add_argument("id", metavar="ID")
    fu_done.add_argument("--outcome", default="", help="logged as a call (or --kind) on the deal")
    fu_done.add_argument("--kind", choices=("call", "email", "meeting", "note"), default="call")
    fu_done.add_argument(
        "--next", type=_given, metavar="WHEN", help="schedule the next step in the same go"
    )
    fu_done.add_argument("--next-note", metavar="TEXT")
    fu_snooze = command("snooze", cmd_follow_up_snooze, "move a follow-up to another date", fus)
    fu_snooze.add_argument("id", metavar="ID")
    fu_snooze.add_argument("when", metavar="WHEN")
    fu_delete = command("delete", cmd_follow_up_delete, "move a follow-up to the trash", fus)
    fu_delete.add_argument("id", metavar="ID")

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
    ob_delete = command("delete", cmd_objection_delete, "move an objection to the trash", obs)
    ob_delete.add_argument("id", metavar="ID")

    st = command("stage", _missing("stage"), "your pipeline's stages: list, add, rename, move...")
    sts = st.add_subparsers(title="stage commands", metavar="ACTION", parser_class=_Parser)
    st_list = command("list", cmd_stage_list, "the stages in pipeline order", sts)
    st_list.add_argument("--json", action="store_true")
    st_add = command("add", cmd_stage_add, "add an open stage", sts)
    st_add.add_argument("name", metavar="NAME")
    st_add.add_argument("--probability", required=True, metavar="PERCENT")
    st_add.add_argument("--rot", metavar="DAYS", help="days in it before a deal rots (or none)")
    st_add.add_argument("--after", metavar="STAGE", help="default: after the last open stage")
    st_rename = command("rename", cmd_stage_rename, "rename a stage (its history follows)", sts)
    st_rename.add_argument("stage", metavar="STAGE")
    st_rename.add_argument("name", metavar="NAME")
    st_move = command("move", cmd_stage_move, "put an open stage at another place", sts)
    st_move.add_argument("stage", metavar="STAGE")
    st_move.add_argument("position", metavar="PLACE")
    st_set = command("set", cmd_stage_set, "set a stage's probability or rot limit", sts)
    st_set.add_argument("stage", metavar="STAGE")
    st_set.add_argument("--probability", metavar="PERCENT")
    st_set.add_argument("--rot", metavar="DAYS", help="a number of days, or none")
    st_remove = command("remove", cmd_stage_remove, "remove a stage, its deals moved first", sts)
    st_remove.add_argument("stage", metavar="STAGE")
    st_remove.add_argument("--into", metavar="STAGE", help="where its open deals go first")

    bin_ = command("trash", cmd_trash, "what was deleted (kept 30 days); restore or empty it")
    bin_.add_argument("--json", action="store_true")
    bins = bin_.add_subparsers(title="trash commands", metavar="ACTION", parser_class=_Parser)
    bin_restore = command("restore", cmd_trash_restore, "put a deleted thing back", bins)
    bin_restore.add_argument("id", metavar="ID")
    command("empty", cmd_trash_empty, "forget everything in the trash for good", bins)

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
    kpi.add_argument("--period", type=_given, help="2026-11, 2026-Q4 or 2026 (default: this month)")
    kpi.add_argument("--as-of", type=_given, metavar="DATE")
    kpi.add_argument("--json", action="store_true")

    rev = command("review", cmd_review, "the weekly review: what changed, and commitments")
    rev.add_argument("--week", type=_given, help="2026-W48, last, this (default) or a day in it")
    rev.add_argument("--json", action="store_true")
    revs = rev.add_subparsers(title="review commands", metavar="ACTION", parser_class=_Parser)
    rev_commit = command("commit", cmd_review_commit, "commit to what will happen on a deal", revs)
    rev_commit.add_argument("deal", metavar="DEAL")
    rev_commit.add_argument("text", metavar="TEXT", help="what will happen, e.g. 'signed order'")
    rev_commit.add_argument("--week", type=_given, help="this (default) or next")
    for word, handler, help_text in (
        ("kept", cmd_review_kept, "mark a commitment kept"),
        ("missed", cmd_review_missed, "mark a commitment missed"),
        ("drop", cmd_review_drop, "take back a commitment of a week still running"),
    ):
        marking = command(word, handler, help_text, revs)
        marking.add_argument("id", metavar="ID")

    export = command("export", _missing("export"), "write your desk to a file")
    exports = export.add_subparsers(title="formats", metavar="FORMAT", parser_class=_Parser)
    ics_export = command(
        "ics", cmd_export_ics, "pending follow-ups as an iCalendar file (stable UIDs)", exports
    )
    csv_export = command("csv", cmd_export_csv, "every deal in the native CSV columns", exports)
    json_export = command("json", cmd_export_json, "the whole desk as one JSON file", exports)
    for one_format in (ics_export, csv_export, json_export):
        one_format.add_argument("file", metavar="FILE")
        one_format.add_argument("--force", action="store_true", help="replace FILE if it exists")

    serve = command("serve", cmd_serve, "serve the app to a browser (loopback only by default)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (8000)")
    serve.add_argument("--certfile", metavar="FILE",
                       help="TLS certificate (PEM); any --host but loopback needs it")  # fmt: skip
    serve.add_argument("--keyfile", metavar="FILE", help="the certificate's private key (PEM)")

    migrate = command(
        "migrate-to",
        cmd_migrate_to,
        "copy this desk into an empty PostgreSQL database and check every table's rows",
    )
    migrate.add_argument("url", metavar="URL", help="postgresql+psycopg://USER@HOST:PORT/DB")

    imp = command(
        "import",
        cmd_import,
        "import deals from CSV (native, Pipedrive, HubSpot, Salesforce, any CSV with --map) "
        "or a desk from a JSON export",
    )
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument(
        "--from",
        dest="source",
        default="auto",
        choices=("auto", "native", "pipedrive", "hubspot", "salesforce", "csv", "json"),
        help="the file's format (default: recognised by its headers; .json files as exports)",
    )
    imp.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                     help="take FIELD from COLUMN (repeatable)")  # fmt: skip
    imp.add_argument("--stage-map", action="append", default=[], metavar="THEIRS=OURS",
                     help="their stage to one of the desk's (repeatable)")  # fmt: skip
    imp.add_argument("--status-map", action="append", default=[], metavar="THEIRS=STATUS",
                     help="their status word to open, won or lost (repeatable)")  # fmt: skip
    imp.add_argument("--date-format", metavar="FMT",
                     help="dates that are not ISO, e.g. %%m/%%d/%%Y (never guessed)")  # fmt: skip
    imp.add_argument("--create-stages", action="store_true",
                     help="add the file's unknown stages to the pipeline")  # fmt: skip
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")

    backup = command("backup", cmd_backup, "a consistent copy of the desk, safe while it is open")
    backup.add_argument("file", metavar="FILE", nargs="?",
                        help="default: backups/desk-TIME.sqlite in the data directory")  # fmt: skip
    restore = command("restore", cmd_restore, "put a backup in place of the desk (kept first)")
    restore.add_argument("file", metavar="FILE")
    if only is not None and only not in built:
        return build_parser()
    return parser


def _missing(name: str) -> Handler:
    def handler(desk: Desk, args: argparse.Namespace) -> int:
        raise UsageError(f"{name} needs an action (see `repdesk {name} --help`)")

    return handler


# ---------------------------------------------------------------- entry point


def _quiet_libraries() -> None:
    """Nothing but repdesk's own one line reaches stderr: SQLAlchemy logs a traceback when a
    dropped server connection cannot be reset, and warns (SAWarning) in several lines.
    Python's last-resort handler would print either. Warnings stay on under `python -W`."""
    import logging
    import warnings

    library = logging.getLogger("sqlalchemy")
    library.addHandler(logging.NullHandler())
    library.propagate = False
    if not sys.warnoptions:
        warnings.simplefilter("ignore")


def main(argv: Sequence[str] | None = None) -> int:
    desk_path = "the desk"
    crash_log = None  # before the home is known: REPDESK_HOME's, else the user's log folder
    _quiet_libraries()
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        for word in words:
            _utf8(word)
        args = build_parser(only=words[0] if words else None).parse_args(words)
        home = paths.resolve_home(args.home)
        desk_path, crash_log = str(home.desk), home.crash_log
        if (blocked := paths.not_a_folder(home)) is not None:
            raise desk_file.DeskError(
                f"{blocked} is a file, not a folder: give --home (or REPDESK_HOME) a folder"
            )
        return int(args.handler(Desk(home), args))
    except UsageError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except (DateInputError, PeriodInputError, AmountInputError, RepdeskError) as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except CurrencyInputError as exc:
        return _fail(f"--currency: {exc}", EXIT_BAD_INPUT)
    except (desk_file.DeskError, settings_mod.SettingsError) as exc:
        return _fail(str(exc), EXIT_DESK_PROBLEM)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `repdesk today | head`: the reader left; that is not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the last line of defence: never a traceback at the rep
        message, code = problems.describe(exc, desk_path, crash_log=crash_log)
        return _fail(message, code)


def _utf8(word: str) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates (PEP 383), which no desk, no
    terminal and no PostgreSQL can hold: refused here, in one line, not a crash later."""
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        shown = word.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise UsageError(
            f"{shown!r} is not UTF-8 text: set your terminal to UTF-8 and type it again"
        ) from None


def _fail(message: str, code: int) -> int:
    # Line by line: an import lists one problem per line.
    lines = (printable(line) for line in message.split("\n"))
    sys.stderr.write(f"repdesk: {chr(10).join(lines)}\n")
    return code
