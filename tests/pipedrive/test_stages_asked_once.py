"""Pipedrive's stages are asked for when the desk needs them, not at every sync: the first
sync (to map them), a stage added on the desk, `repdesk sync stages --reset`. Each request
counts against the company's shared daily budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.pipedrive.helpers import add_deal, point_settings_at, sync
from tests.pipedrive.server import TOKEN, Pipedrive
from tests.shell import ok

from repdesk.storage.store import write_session
from repdesk.sync import state


def _asked(api: Pipedrive, since: int) -> int:
    return sum(1 for _, path in api.log[since:] if path.endswith(("/stages", "/pipelines")))


def test_the_stages_are_asked_for_when_the_mapping_needs_them_only(
    home: Path, crm: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = crm
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    ok("deal", "add", "Fleet rollout")
    ok("sync", "pipedrive")
    assert _asked(api, 0) == 1  # the first sync maps them
    api.stages[2]["name"] = "Qualified (renamed there)"

    before = len(api.log)
    for _ in range(3):
        ok("sync", "pipedrive")
    assert _asked(api, before) == 0

    # Pipedrive has a stage no desk stage stands for yet (two never share one).
    api.stages.append({**api.stages[-1], "id": 107, "order_nr": 7, "name": "Legal"})
    ok("stage", "add", "Proposal Made", "--after", "Qualified", "--probability", "45")
    before = len(api.log)
    assert "1 desk stage matched" in ok("sync", "pipedrive")
    ok("sync", "pipedrive")
    assert _asked(api, before) == 1
    ok("sync", "stages", "--reset")
    before = len(api.log)
    ok("sync", "pipedrive")
    ok("sync", "pipedrive")
    assert _asked(api, before) == 1


def test_a_pipeline_pipedrive_no_longer_shows_is_asked_for_once(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """A desk linked before the mapped pipeline was kept, whose mapped stages Pipedrive no
    longer lists: the pipeline stays unknown, and every sync asked for the stages again."""
    api, url = crm
    add_deal(desk, "Fleet rollout")
    sync(desk, url)
    with write_session(desk) as session:
        state.forget(session, state.PIPELINE_ID)
    api.stages = [{**stage, "id": stage["id"] + 500} for stage in api.stages]

    before = len(api.log)
    for _ in range(3):
        sync(desk, url)

    assert _asked(api, before) == 1
