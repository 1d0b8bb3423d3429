"""The app keeps a report's result (the quota strip, the KPI pane read ahead) only while it
still holds: a write of the app's own, a write by another program, a new day or new settings
each make it stale (tui/gateway.py, DeskGateway.kept)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.tui.desks import build_small_desk, settings

from repdesk.core.dates import Period, period_containing
from repdesk.reports.figures import month_standing
from repdesk.services import deals
from repdesk.storage.store import make_engine, write_session
from repdesk.tui.gateway import DeskGateway
from repdesk.tui.screens.kpi import KpiScreen, kept_as

NOVEMBER = Period("month", 2026, 11)


def _won(conn: Any) -> int:
    return month_standing(conn, conversion=settings().conversion).won_value


@pytest.fixture
def desk(home: Path) -> Any:
    gateway = DeskGateway(build_small_desk(home), settings())
    yield gateway
    gateway.close()


def _win_from_another_program(home: Path, title: str) -> None:
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        deal = deals.find_deal(session=session, ref=title)
        assert deal.id is not None
        deals.win_deal(session=session, deal_id=deal.id)
    engine.dispose()


def test_a_kept_read_holds_until_the_app_writes(desk: DeskGateway) -> None:
    first = desk.report_keeping("won", _won)
    assert desk.kept("won") == first
    desk.write_now(lambda session: None)  # any write of the app's own
    assert desk.kept("won") is None


def test_a_write_by_another_program_makes_it_stale_at_once(desk: DeskGateway, home: Path) -> None:
    """Not a second later, when the app's timer looks: figures shown right after a
    `repdesk deal won` in the shell must include it."""
    desk.changed_elsewhere()  # the baseline, as the app's timer takes it
    before = desk.report_keeping("won", _won)
    _win_from_another_program(home, "40 seats renewal")
    assert desk.kept("won") is None
    assert desk.report_keeping("won", _won) > before
    # The change is still reported to the app's timer, which reloads the board for it.
    assert desk.changed_elsewhere() is True
    assert desk.changed_elsewhere() is False


def test_a_new_day_or_new_settings_make_it_stale(
    desk: DeskGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.report_keeping("won", _won)
    monkeypatch.setenv("REPDESK_NOW", "2026-11-21T00:00:01+00:00")
    assert desk.kept("won") is None
    desk.report_keeping("won", _won)
    assert desk.kept("won") is not None
    desk.settings = desk.settings.replace(currency="USD")
    assert desk.kept("won") is None


def test_nothing_is_kept_while_the_desk_is_away(desk: DeskGateway) -> None:
    desk.report_keeping("won", _won)
    desk.away = "The desk file is not there."
    assert desk.kept("won") is None


def test_the_kpi_pane_is_read_ahead_once_and_again_after_a_write(desk: DeskGateway) -> None:
    assert period_containing(desk_today(), "month") == NOVEMBER
    KpiScreen.read_ahead(desk)
    deadline = time.monotonic() + 10
    while (pane := desk.kept(kept_as(NOVEMBER))) is None:
        assert time.monotonic() < deadline, "the pane was never read ahead"
        time.sleep(0.01)
    KpiScreen.read_ahead(desk)  # still holds: nothing to read
    assert desk.kept(kept_as(NOVEMBER)) is pane
    desk.write_now(lambda session: None)
    assert desk.kept(kept_as(NOVEMBER)) is None
    KpiScreen.read_ahead(desk)
    while (again := desk.kept(kept_as(NOVEMBER))) is None:
        assert time.monotonic() < deadline, "the pane was not read again"
        time.sleep(0.01)
    assert again is not pane and again.kpis == pane.kpis


def test_a_read_ahead_that_fails_keeps_nothing(desk: DeskGateway, home: Path) -> None:
    desk.report_now(_won)  # the app's first read: the desk is checked (and made if new)
    (home / "desk.sqlite").rename(home / "elsewhere.sqlite")
    KpiScreen.read_ahead(desk)
    deadline = time.monotonic() + 10
    while desk._preparing:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert desk.kept(kept_as(NOVEMBER)) is None
    assert desk.away is not None  # the app's timer says so in its one line


def desk_today() -> Any:
    from repdesk.core import clock

    return clock.today()


def test_what_went_stale_is_dropped_not_kept(desk: DeskGateway) -> None:
    """Paging through months keeps their panes only until the next write: the gateway holds
    no more than what still holds."""
    for key in ("a", "b", "c"):
        desk.report_keeping(key, _won)
    assert set(desk._kept) == {"a", "b", "c"}
    desk.write_now(lambda session: None)
    desk.report_keeping("d", _won)
    assert set(desk._kept) == {"d"}


def test_no_more_than_a_few_reads_are_kept_on_a_quiet_day(desk: DeskGateway) -> None:
    """Every month of the KPI pane paged through is kept until the next write: a day of paging
    with no write keeps the last few, the oldest going first."""
    from repdesk.tui.gateway import KEEP_AT_MOST

    for month in range(KEEP_AT_MOST + 10):
        desk.report_keeping(("kpi-pane", month), _won)
    assert len(desk._kept) == KEEP_AT_MOST
    assert ("kpi-pane", KEEP_AT_MOST + 9) in desk._kept
    assert ("kpi-pane", 0) not in desk._kept


def test_the_queues_first_rows_are_read_ahead_and_kept_until_a_write(
    desk: DeskGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key 2 opens on rows read ahead (FollowUpsScreen.read_ahead): kept until a write or a new
    day, not read again while the desk is quiet (a review found them read every minute, and
    their keys pushing the strip's figures out of what the desk keeps)."""
    from repdesk.tui.screens import followups
    from repdesk.tui.screens.followups import FollowUpsScreen

    desk.report_keeping("quota", _won)

    def kept_now() -> Any:
        deadline = time.monotonic() + 10
        while (rows := desk.kept(followups.KEPT_AS)) is None:
            assert time.monotonic() < deadline, "the rows were never read ahead"
            FollowUpsScreen.read_ahead(desk)
            time.sleep(0.01)
        return rows

    first = kept_now()
    assert first.count("overdue") >= 1
    for minute in range(31, 59):  # a quiet half hour of the app's timer
        monkeypatch.setenv("REPDESK_NOW", f"2026-11-20T09:{minute}:00+00:00")
        FollowUpsScreen.read_ahead(desk)
        assert desk.kept(followups.KEPT_AS) is first
    assert desk.kept("quota") is not None  # still kept beside them
    desk.write_now(lambda session: None)
    assert desk.kept(followups.KEPT_AS) is None
    second = kept_now()
    assert second is not first and second.count("overdue") == first.count("overdue")
    monkeypatch.setenv("REPDESK_NOW", "2026-11-21T08:00:00+00:00")  # a new day
    assert desk.kept(followups.KEPT_AS) is None
    assert kept_now() is not second
