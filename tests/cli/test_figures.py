"""Figures and queues from the shell that must tell the truth: a period that is over, the
rhythm of a repeating follow-up, a follow-up done with an outcome, a snooze."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from tests.pinned import NOW
from tests.shell import ok, run

from repdesk.services import followups
from repdesk.storage.store import make_engine, write_session


@pytest.fixture
def october(home: Path) -> Path:
    """October 2026 is over (the clock is pinned to 20 November): a €60,000 quota."""
    ok("quota", "set", "2026-10", "60000")
    ok("deal", "add", "Fleet rollout", "--value", "50000", "--first-contact", "2026-09-01")
    ok("deal", "won", "fleet", "--on", "2026-10-20")
    return home


def test_a_period_that_is_over_reads_missed_by_not_behind_pace(october: Path) -> None:
    line = ok("quota", "2026-10").strip()
    assert line == "2026-10: won €50,000 of €60,000 (83%) · missed by €10,000 · ended 31 Oct 2026"
    assert ok("quota", "2026-10", "--short").strip() == "€50k/€60k 83% missed -10k"
    assert "Result:            missed by €10,000" in ok("kpi", "--period", "2026-10")
    ok("deal", "add", "Seats", "--value", "12000", "--first-contact", "2026-09-01")
    ok("deal", "won", "seats", "--on", "2026-10-30")
    assert "made, €2,000 over · ended 31 Oct 2026" in ok("quota", "2026-10")
    # This month is not over: pace, and the days left.
    ok("quota", "set", "2026-11", "1000")
    assert "behind pace · 10 days left" in ok("quota")


def test_a_follow_up_done_from_the_shell_is_logged_and_keeps_its_rhythm(home: Path) -> None:
    ok("deal", "add", "Support contract", "--first-contact", "2026-09-01")
    # Every week from Monday 16 Nov (scheduled the week before); done on Friday the 20th, four
    # days late: the next is Monday the 23rd, not a week from today.
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        followups.add_follow_up(session=session, deal_id=1, when=(date(2026, 11, 16), time(9, 30)),
                                recur_days=7, now=NOW - timedelta(days=10))  # fmt: skip
    engine.dispose()
    out = ok("follow-up", "done", "1", "--outcome", "all fine", "--kind", "meeting")
    assert "next Mon 23 Nov 09:30" in out and "logged a meeting: all fine" in out
    shown = ok("deal", "show", "support")
    assert "meeting" in shown and "all fine" in shown


def test_snooze_from_the_shell_keeps_the_time_of_day(home: Path) -> None:
    ok("deal", "add", "Fleet rollout")
    ok("follow-up", "add", "fleet", "today 15:00")
    assert "moved to Mon 23 Nov 15:00" in ok("follow-up", "snooze", "1", "mon")
    assert "moved to Tue 24 Nov 09:00" in ok("follow-up", "snooze", "1", "tue 09:00")


def test_a_deal_added_in_a_currency_with_no_rate_says_it_counts_in_no_figure(home: Path) -> None:
    code, out, err = run("deal", "add", "Seats expansion", "--value", "£8,000")
    assert code == 0 and out.startswith("Added #1 Seats expansion")
    assert err == (
        "Warning: this deal in GBP is left out of every KPI until the settings have a rate for "
        "GBP: add under [rates] in settings.toml: GBP = RATE, with RATE what one unit of it is "
        "worth in the desk's currency\n"
    )
    # With a rate, or in the desk's own currency: nothing to say.
    (home / "settings.toml").write_text("[rates]\nGBP = 1.15\n", encoding="utf-8")
    assert run("deal", "add", "More seats", "--value", "£2,000")[2] == ""
    assert run("deal", "add", "Euro deal", "--value", "2000")[2] == ""


def test_a_status_bar_amount_below_a_thousand_is_whole_units(home: Path) -> None:
    # It read "▼666.67": cents in a line made to be short, where the long form said "€667".
    ok("quota", "set", "2026-11", "1000")
    assert ok("quota", "--short").strip() == "€0/€1k 0% ▼667 10d"
    assert "€667 behind pace" in ok("quota")


def test_a_period_missed_by_cents_says_missed_without_a_minus_nought(home: Path) -> None:
    # "€60k/€60k 99% missed -0", and "made +0" over by 40 cents (a hostile test).
    ok("quota", "set", "2026-10", "60000")
    ok("deal", "add", "Nearly", "--value", "59999.60", "--first-contact", "2026-09-01")
    ok("deal", "won", "nearly", "--on", "2026-10-15")
    assert ok("quota", "2026-10", "--short").strip() == "€60k/€60k 99% missed"
    ok("deal", "add", "Cents", "--value", "0.80", "--first-contact", "2026-09-01")
    ok("deal", "won", "cents", "--on", "2026-10-15")
    assert ok("quota", "2026-10", "--short").strip() == "€60k/€60k 100% made"
