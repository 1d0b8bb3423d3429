"""What every shell command shares: the desk it works on, the one-line usage error, the
parser that raises it, the value parsers whose messages name the option a value came from,
and the output helpers that keep every printed field printable.

Standard library and repdesk.core only at import time: the fast path (see cli/figures.py)
imports this module and must not pay for SQLAlchemy (see tests/cli/test_cli.py).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import date, time
from functools import cached_property

from repdesk import settings as settings_mod
from repdesk.core import clock, quantities
from repdesk.core.dates import DateInputError, Period, PeriodInputError, parse_date, parse_period
from repdesk.core.dates import parse_when as _parse_when
from repdesk.core.domain import row_id
from repdesk.core.money import AmountInputError, format_money, parse_amount
from repdesk.core.quantities import QuantityInputError
from repdesk.core.text import cut, printable, safe_json
from repdesk.storage import desk_file, paths

# typing for the type checker only: the shell's fast commands never import it (2 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from sqlalchemy import Engine
    from sqlmodel import Session


EXIT_BAD_INPUT = 2
EXIT_DESK_PROBLEM = 1


class UsageError(Exception):
    """Bad input found while parsing: exit 2 with one line."""


class Desk:
    """What one command invocation works on: the home, its settings and (lazily) the store.

    The store is the SQLite file in the home, or the PostgreSQL server named by
    REPDESK_DATABASE_URL or the settings' `database_url` (`server=False`: always the file).
    """

    def __init__(self, home: paths.Home, *, server: bool = True) -> None:
        self.home = home
        loaded = settings_mod.load(home.settings)
        url = settings_mod.resolve_database_url(loaded) if server else None
        self.settings = loaded.replace(database_url=url)

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
def naming(name: str) -> Iterator[None]:
    """A value's message names the option or argument it came from (`--on: ...`)."""
    try:
        yield
    except (DateInputError, PeriodInputError, AmountInputError, QuantityInputError) as exc:
        raise UsageError(f"{name}: {exc}") from None


def when(text: str, name: str) -> tuple[date, time | None]:
    with naming(name):
        return _parse_when(text, today=clock.today())


def day(text: str, name: str) -> date:
    with naming(name):
        return parse_date(text, today=clock.today())


def past_day(text: str, name: str) -> date:
    """A day that has come (won or lost on it): `fri` is the latest Friday (today on a
    Friday) and `last fri` the one before today, as the app's form takes them (the shell
    refused `last fri`, and `fri` was the next one: a new-user trial)."""
    from repdesk.core.dates import parse_past_day

    with naming(name):
        return parse_past_day(text, today=clock.today())


def past_when(text: str, name: str) -> tuple[date, time | None]:
    from repdesk.core.dates import parse_past_when

    with naming(name):
        return parse_past_when(text, today=clock.today())


def period(text: str | None, name: str) -> Period:
    from repdesk.core.dates import period_containing

    if text is None:
        return period_containing(clock.today(), "month")
    with naming(name):
        return parse_period(text)


def every(text: str, name: str = "every") -> int:
    """'14d', '2w' or '30' -> days between repeats."""
    with naming(name):
        return quantities.parse_repeat(text)


def amount(name: str, text: str, **how: str) -> int:
    """parse_amount, its message naming the option or argument the amount came from."""
    try:
        return parse_amount(text, **how)
    except AmountInputError as exc:
        raise UsageError(f"{name}: {exc}") from None


def minutes(text: str) -> int:
    with naming("minutes"):
        return quantities.parse_minutes(text)


def item_id(text: str, what: str, shown_by: str = "repdesk today") -> int:
    number = row_id(text)
    if number is None:
        raise UsageError(f"{what}: {text!r} is not valid: use the number shown by `{shown_by}`")
    return number


def percent(text: str, name: str = "probability") -> int:
    with naming(name):
        return quantities.parse_percent(text)


def rot_days(text: str) -> int | None:
    with naming("rot"):
        return quantities.parse_rot_days(text)


def given(text: str) -> str:
    """An option given an empty value is refused: taken as not given, `--on ""` closed a deal
    today and `--home ""` opened the default desk."""
    if not text.strip():
        import argparse  # only here: `repdesk quota --short` never parses (see entry.main)

        raise argparse.ArgumentTypeError(f"{text!r} is empty: give a value or leave it out")
    return text


# ---------------------------------------------------------------- output helpers


def count(number: int, noun: str) -> str:
    """ "1 deal", "1,200 deals" (formatting.count without the thousands separator)."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def out(line: str = "") -> None:
    if sys.stdout is None:  # started with stdout closed (`>&-`): nowhere to say it
        return
    sys.stdout.write(as_printed(line))


def as_printed(line: str) -> str:
    # The last line of defence: a field printed without printable() still drives nothing.
    # Fields go through printable() themselves, so that a newline in one shows as ⏎.
    return printable(line, multiline=True) + "\n"


# Help shared by the commands that take the same option.
OUTCOME_HELP = "e.g. connected, left voicemail, meeting booked"
NEXT_NOTE_HELP = "what the next step is for"
PROBABILITY_HELP = "the chance a deal in it is won, 0 to 100"


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """`--json`, with the same help on every command that has it."""
    parser.add_argument(
        "--json", action="store_true", help="the answer as JSON, for scripts and other tools"
    )


def print_json(data: Any) -> None:
    import json  # only here: `repdesk quota --short` never prints JSON

    sys.stdout.write(safe_json(json.dumps(data, ensure_ascii=False, indent=2)) + "\n")


def deal_json(deal: Any, stage_names: dict[int, str]) -> dict[str, Any]:
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


def title_and_company(title: str, company: str) -> str:
    """`Fleet rollout (Acme)`, or the title alone for a deal without a company; each cut to a
    line's worth (a 10,000-character company took 90 lines of `today` and `review`: a hostile
    test). `deal show` and `--json` give them whole."""
    return cut(title, TITLE_CHARS) + (f" ({cut(company, COMPANY_CHARS)})" if company else "")


TITLE_CHARS, COMPANY_CHARS = 100, 60


def cut_title(title: str) -> str:
    """A deal's title in a line the shell prints: a line's worth (`log call` on a deal titled
    with 10,000 characters printed them all: a hostile test)."""
    return cut(title, TITLE_CHARS)


def deal_line(deal: Any, stage_names: dict[int, str]) -> str:
    return (
        f"#{deal.id} {title_and_company(deal.title, deal.company)} · "
        f"{printable(stage_names[deal.stage_id])} · "
        f"{format_money(deal.value_cents, deal.currency)}"
    )


def stage_names(session: Session) -> dict[int, str]:
    from repdesk.services import deals
    from repdesk.storage.models import saved_id

    return {saved_id(s): s.name for s in deals.stages(session=session)}


def change_deal(
    desk: Desk, ref: str, change: Callable[[Session, int], Any], done: Callable[[Any, str], str]
) -> int:
    """Find DEAL, apply one service change in one write transaction, print `done`'s line.

    The deal commands (cli/deals.py) and `deal set`/`deal nps` (cli/forecast.py) share it."""
    from repdesk.services import deals

    with desk.write() as session:
        found = deals.find_deal(session=session, ref=ref)
        assert found.id is not None
        deal = change(session, found.id)
        line = done(deal, deal_line(deal, stage_names(session)))
    out(line)  # once committed
    return 0


# A JSON export's tables, as a rep counts them: "3 deals, 14 stage changes".
TABLE_WORDS = {
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
    "probability_change": ("probability change", "probability changes"),
    "commitment": ("commitment", "commitments"),
    "weekly_review": ("kept weekly review", "kept weekly reviews"),
    "company": ("company", "companies"),
    "contact": ("contact", "contacts"),
    "contact_email": ("contact email", "contact emails"),
    "contact_phone": ("contact phone", "contact phones"),
    "deal_contact": ("contact on a deal", "contacts on deals"),
    "captured": (
        "mail, meeting or CRM task taken in once",
        "mails, meetings and CRM tasks taken in once",
    ),
    "sync_state": ("sync setting", "sync settings"),
    "sync_link": ("link to the CRM", "links to the CRM"),
    "sync_outbox": ("change waiting to sync", "changes waiting to sync"),
    "sync_conflict": ("sync conflict", "sync conflicts"),
}
# Listed only when they hold rows: a desk never synced has none, and says nothing of them.
_QUIET_WHEN_EMPTY = frozenset({"sync_state", "sync_link", "sync_outbox", "sync_conflict"})


def table_counts(counts: dict[str, int]) -> str:
    def words(table: str, n: int) -> str:
        one, many = TABLE_WORDS.get(table, (table, table))
        return f"{n:,} {one if n == 1 else many}"

    # The deal's own tables first, in the order a rep has always read them; people after.
    order = list(TABLE_WORDS)
    shown = sorted(
        counts.items(), key=lambda pair: order.index(pair[0]) if pair[0] in order else 99
    )
    return ", ".join(words(table, n) for table, n in shown if n or table not in _QUIET_WHEN_EMPTY)
