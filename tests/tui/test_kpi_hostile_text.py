"""Hostile text on the KPI pane and the quota strip, and the desk going away under the pane."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.desks import build_small_desk, settings
from tests.tui.drive import until
from tests.tui.test_kpi_screen import kpi_json

from repdesk.services import deals, stages
from repdesk.storage.store import make_engine, write_session
from repdesk.tui.app import RepdeskApp, create_app
from repdesk.tui.screens.kpi import KpiScreen

SIZE = (130, 50)
HOSTILE = [
    "[red]x[/]",
    "\x1b[31mred",
    "nul\x00here",
    "\u202eevil",
    "全角全角全角",
    "[/]",
    "[@click=app.quit]q[/]",
]


def hostile_desk(home: Path) -> Any:
    desk = build_small_desk(home)
    engine = make_engine(home / "desk.sqlite")
    with write_session(engine) as session:
        stage = stages.add_stage(session=session, name="Hostile", probability=30)
        # Named so before stage names were checked (an older desk may hold one): still shown.
        stage.name = "[b]St[/]\x1b[2J全"
        session.add(stage)
    with write_session(engine) as session:
        for n, text in enumerate(HOSTILE):
            deal = deals.create_deal(
                session=session,
                title=text,
                currency="EUR",
                company=text,
                value_cents=10_000 * (n + 1),
                source=text,
                product=text,
                region=text,
            )
            assert deal.id is not None
            if n % 2:
                deals.win_deal(session=session, deal_id=deal.id)
            else:
                deals.lose_deal(session=session, deal_id=deal.id, reason=text, competitor=text)
        # A reason pages long, as a CRM may hold one: cut on the pane, not a flood of lines.
        long = deals.create_deal(session=session, title="Long", currency="EUR", value_cents=10**9)
        assert long.id is not None
        deals.lose_deal(session=session, deal_id=long.id, reason="R" * 5000, from_crm=True)
    engine.dispose()
    return desk


async def test_hostile_names_never_crash_or_style_the_kpi_pane(home: Path) -> None:
    """Deals whose title, company, source, product, region, lost reason, competitor and a stage
    name hold markup, escape codes, NUL, RTL and wide characters: the pane opens, every
    slicing and sort draws, the figures match `repdesk kpi --json`, and the app keeps
    running."""
    app = create_app(hostile_desk(home), settings())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded and app.warmed.is_set())
        await pilot.press("3")
        await until(
            pilot, lambda: isinstance(app.screen, KpiScreen) and app.screen.pane is not None
        )
        screen = app.screen
        assert isinstance(screen, KpiScreen)
        for key in ("b", "b", "b", "b", "s", "s", "s", "s", "s", "p", "y", "m"):
            await pilot.press(key)
            await pilot.pause()
        await until(pilot, lambda: screen.pane is not None
                    and screen.pane.kpis.period == "2026-11")  # fmt: skip
        await pilot.pause(0.3)
        assert screen.pane is not None
        assert screen.pane.kpis.to_json() == kpi_json(home, "2026-11")
        lessons = str(screen.query_one("#kpi-lessons").render())
        assert "[red]x[/]" in lessons
        assert "\x1b" not in lessons and "\x00" not in lessons
        assert "R" * 39 + "…" in lessons and "R" * 40 not in lessons
        strip = screen.query_one("#quota-strip")
        assert strip.render_line(0).text.strip()
        assert app.is_running
    assert app.return_code in (0, None)
    assert not list(home.rglob("crash.log"))


async def test_the_desk_moved_away_and_back_under_the_pane(app: RepdeskApp, home: Path) -> None:
    """The desk file moved away while the app is open on the board, 3 pressed meanwhile, then
    put back: one "gone" line, a "back" line, and the pane then shows the desk's figures."""
    lines: list[str] = []
    original = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        lines.append(message)
        original(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    desk = home / "desk.sqlite"
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.board.loaded and app.warmed.is_set())
        await pilot.pause(1.2)
        desk.rename(home / "elsewhere.sqlite")
        await until(pilot, lambda: any("is gone" in line for line in lines))
        await pilot.press("3")
        await pilot.pause(2.5)
        (home / "elsewhere.sqlite").rename(desk)
        await until(pilot, lambda: any("back" in line for line in lines))
        if not isinstance(app.screen, KpiScreen):
            await pilot.press("3")
        await until(
            pilot, lambda: isinstance(app.screen, KpiScreen) and app.screen.pane is not None
        )
        screen = app.screen
        assert isinstance(screen, KpiScreen)
        assert screen.pane is not None
        assert screen.pane.kpis.to_json() == kpi_json(home, "2026-11")
        assert app.is_running
    gone = [line for line in lines if "is gone" in line]
    assert len(gone) == 1, lines
    assert not list(home.rglob("crash.log"))
