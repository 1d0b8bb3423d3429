"""Small, fixed desks for the app's tests and snapshots (pinned clock: tests/pinned.py)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import date, time, timedelta
from pathlib import Path

from tests.pinned import NOW, TODAY

from repdesk.core.dates import parse_period
from repdesk.services import activities, deals, followups, objections, quotas
from repdesk.settings import Settings
from repdesk.storage.paths import Home
from repdesk.storage.store import make_engine, write_session

DEALS = [
    # title, company, contact, value (cents), stage, days ago created
    ("Fleet tracking rollout", "Acme Logistics", "Ana Ruiz", 4_500_000, "Proposal", 30),
    ("40 seats renewal", "Nordwind Bank", "Ole Berg", 1_200_000, "Negotiation", 20),
    ("Warehouse pilot", "Müller & Söhne GmbH", "Jonas Müller", 800_000, "Demo", 40),
    ("[bold]ACME[/] expansion [", "Lone [ Bracket Ltd", "Eve", 300_000, "Prospect", 5),
    ("Route planning", "Łódź Foods", "Piotr Nowak", 2_000_000, "Qualified", 12),
    ("Cold lead", "Iberia Tiles", "Lucía Gómez", 150_000, "Contacted", 50),
]


_built: Path | None = None


def build_small_desk(home: Path) -> Home:
    """Six open deals across the stages, one won, one lost, follow-ups of every kind.

    Built once per test process and copied into each test's home: the same file every time
    (the clock is pinned), without each of some two hundred tests running every migration
    and write again."""
    global _built
    if _built is None:
        template = Path(tempfile.mkdtemp(prefix="repdesk-small-desk-"))
        atexit.register(shutil.rmtree, template, True)
        _build(template)
        _built = template
    home.mkdir(parents=True, exist_ok=True)
    for path in _built.iterdir():
        if path.is_file():
            shutil.copyfile(path, home / path.name)
    return Home(data_dir=home, config_dir=home)


def _build(home: Path) -> None:
    engine = make_engine(home / "desk.sqlite")
    ids: dict[str, int] = {}
    with write_session(engine) as session:
        for title, company, contact, value, stage, ago in DEALS:
            created = NOW - timedelta(days=ago)
            deal = deals.create_deal(
                session=session,
                title=title,
                company=company,
                contact=contact,
                value_cents=value,
                currency="EUR",
                stage=stage,
                first_contact=created.date(),
                expected_close=TODAY + timedelta(days=8),
                now=created,
            )
            assert deal.id is not None
            ids[title] = deal.id
        won = deals.create_deal(
            session=session,
            title="Support contract",
            company="Nordwind Bank",
            value_cents=900_000,
            currency="EUR",
            first_contact=date(2026, 10, 1),
            now=NOW - timedelta(days=50),
        )
        deals.win_deal(session=session, deal_id=won.id, on=date(2026, 11, 5), now=NOW)  # type: ignore[arg-type]
        lost = deals.create_deal(
            session=session,
            title="Kiosk screens",
            company="Iberia Tiles",
            value_cents=400_000,
            currency="EUR",
            first_contact=date(2026, 9, 1),
            now=NOW - timedelta(days=80),
        )
        deals.lose_deal(session=session, deal_id=lost.id, reason="price", on=date(2026, 11, 2))  # type: ignore[arg-type]
        f = followups.add_follow_up
        f(
            session=session,
            deal_id=ids["Fleet tracking rollout"],
            when=(TODAY - timedelta(2), None),
            note="Chase the signature",
            now=NOW - timedelta(3),
        )  # scheduled before it fell due
        f(session=session, deal_id=ids["40 seats renewal"], when=(TODAY, time(10, 0)),
          note="Call the CFO", now=NOW)  # fmt: skip
        f(session=session, deal_id=ids["Warehouse pilot"], when=(TODAY + timedelta(3), None),
          note="Demo follow-up", now=NOW)  # fmt: skip
        f(session=session, deal_id=ids["Route planning"], when=(TODAY + timedelta(12), None),
          now=NOW)  # fmt: skip
        activities.log_activity(
            session=session,
            deal_id=ids["Fleet tracking rollout"],
            kind="call",
            outcome="connected",
            minutes=20,
            text="Asked for 10% off",
            at=NOW - timedelta(days=5),
            now=NOW - timedelta(days=5),
        )
        objections.add_objection(
            session=session,
            deal_id=ids["Fleet tracking rollout"],
            category="price",
            said="Too expensive compared to last year",
            now=NOW - timedelta(days=5),
        )
        objections.add_objection(
            session=session,
            deal_id=won.id,  # type: ignore[arg-type]
            category="price",
            said="Over budget",
            answer="Split the licence over two budget years",
            now=NOW - timedelta(days=20),
        )
        quotas.set_quota(session=session, period=parse_period("2026-11"), amount_cents=6_000_000)
    engine.dispose()


def settings() -> Settings:
    return Settings()
