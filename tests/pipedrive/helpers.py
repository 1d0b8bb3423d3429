"""What the sync's tests share: a run against the stand-in, and looks at both sides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from tests.pipedrive.server import TOKEN, Pipedrive

from repdesk.services import deals
from repdesk.storage.store import read_session, write_session
from repdesk.sync.engine import Report, Sync
from repdesk.sync.pipedrive import PipedriveClient


class Waits:
    """The client's sleep, recorded instead of slept."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def sync(engine: Engine, url: str, waits: Waits | None = None, **how: Any) -> Report:
    client = PipedriveClient(url, TOKEN, sleep=waits or Waits())
    try:
        return Sync(engine, client, **how).run()
    finally:
        client.close()


def add_deal(engine: Engine, title: str, **values: Any) -> int:
    with write_session(engine) as session:
        deal = deals.create_deal(session=session, title=title, currency="EUR", **values)
        return deal.id  # type: ignore[return-value]


def get(engine: Engine, model: type, row_id: int) -> Any:
    with read_session(engine) as session:
        return session.get(model, row_id)


def remote_deal(api: Pipedrive, title: str) -> dict[str, Any]:
    found = [d for d in api.objects["deals"].values() if d.get("title") == title]
    assert len(found) == 1, f"{len(found)} deals titled {title!r} in Pipedrive"
    return found[0]


def point_settings_at(home: Path, url: str) -> None:
    """The desk's settings name the stand-in as the company's Pipedrive."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text(f'[pipedrive]\nurl = "{url}"\n', encoding="utf-8")
