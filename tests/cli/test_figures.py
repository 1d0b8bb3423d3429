"""Figures and queues from the shell that must tell the truth: a period that is over, the
rhythm of a repeating follow-up, a follow-up done with an outcome, a snooze."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.shell import ok


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
