"""A deal in a Pipedrive stage the desk has no mapping for: one of another pipeline, a stage id
Pipedrive does not list, or none at all (a hostile test). It dropped to the desk's first stage
without a word: the weekly review recorded a regression and a forecast change that never
happened, and a later move on the desk sent a stage of the mapped pipeline, which would move
the deal between pipelines in Pipedrive. Now the desk keeps its stage, the summary names the
deal once, and no stage goes to a deal of another pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.pipedrive.helpers import get, point_settings_at, remote_deal, sync
from tests.pipedrive.server import TOKEN, Pipedrive
from tests.shell import ok

from repdesk.services import activities, deals
from repdesk.storage.models import Deal, ForecastChange, StageChange
from repdesk.storage.store import read_session, write_session
from repdesk.sync import state

PROSPECT, DEMO, PROPOSAL = 1, 4, 5  # the desk's stages, mapped to Pipedrive's 101...106

UNMAPPED = pytest.mark.parametrize(
    ("stage", "pipeline", "said"),
    [
        (201, 2, "(stage 201, pipeline 2)"),
        (999, 1, "(stage 999, pipeline 1)"),
        (None, 1, "(no stage, pipeline 1)"),
        (102, 2, "(stage 102, pipeline 2)"),  # what a broken server might say
    ],
    ids=["another-pipeline", "no-such-stage", "no-stage", "pipeline-and-stage-disagree"],
)


@pytest.fixture
def two_pipelines(crm: tuple[Pipedrive, str]) -> tuple[Pipedrive, str]:
    """The company's Pipedrive with a second pipeline beside the one the desk maps to."""
    api, url = crm
    api.stages.append(
        {
            "id": 201,
            "order_nr": 1,
            "name": "Renewal due",
            "pipeline_id": 2,
            "is_deleted": False,
            "deal_probability": 50,
        }
    )
    return api, url


def _allow_a_null_stage(api: Pipedrive, stage: int | None) -> None:
    if stage is None:  # what no document allows (stage_id is no nullable integer)
        api.check = lambda *args: None  # type: ignore[method-assign]


def _count(engine: Engine, model: type) -> int:
    with read_session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _named(notes: list[str], deal: str) -> list[str]:
    return [n for n in notes if deal in n and "has no mapping for" in n]


def _desk_deal(engine: Engine, title: str) -> Any:
    with read_session(engine) as session:
        return session.execute(select(Deal).where(Deal.title == title)).scalar_one()


def _sent(api: Pipedrive, since: int) -> list[tuple[str, str]]:
    return [(m, p) for m, p in api.log[since:] if m in ("POST", "PATCH", "PUT", "DELETE")]


@UNMAPPED
def test_a_deal_moved_there_to_a_stage_with_no_mapping_keeps_its_desk_stage(
    desk: Engine,
    two_pipelines: tuple[Pipedrive, str],
    stage: int | None,
    pipeline: int,
    said: str,
) -> None:
    api, url = two_pipelines
    mover = api.add("deals", title="Mover", stage_id=105, value=5000)
    sync(desk, url)
    deal = _desk_deal(desk, "Mover")
    assert deal.stage_id == PROPOSAL
    history, forecasts = _count(desk, StageChange), _count(desk, ForecastChange)
    _allow_a_null_stage(api, stage)
    api.change("deals", mover["id"], stage_id=stage, pipeline_id=pipeline, value=6000)
    before = len(api.log)

    report = sync(desk, url)

    moved = get(desk, Deal, deal.id)
    assert (moved.stage_id, moved.value_cents) == (PROPOSAL, 600_000)  # the value still came
    assert (_count(desk, StageChange), _count(desk, ForecastChange)) == (history, forecasts)
    [note] = _named(report.notes, f"deal #{deal.id}")
    assert said in note and "kept in Proposal" in note and "`repdesk sync stages`" in note
    assert _sent(api, before) == []  # nothing of the desk's goes over Pipedrive's move
    assert _named(sync(desk, url).notes, "Mover") == []  # named once, not at every sync
    assert remote_deal(api, "Mover")["stage_id"] == stage


@UNMAPPED
def test_a_new_deal_in_a_stage_with_no_mapping_comes_in_at_the_first_stage_and_is_named(
    desk: Engine,
    two_pipelines: tuple[Pipedrive, str],
    stage: int | None,
    pipeline: int,
    said: str,
) -> None:
    api, url = two_pipelines
    _allow_a_null_stage(api, stage)
    api.add("deals", title="Elsewhere", stage_id=stage, pipeline_id=pipeline, value=700)

    report = sync(desk, url)

    assert _desk_deal(desk, "Elsewhere").stage_id == PROSPECT
    [note] = _named(report.notes, "Elsewhere")
    assert said in note and "taken in at Prospect" in note
    before = len(api.log)
    sync(desk, url)
    assert _sent(api, before) == []  # the desk's Prospect is not sent over it


@pytest.mark.parametrize(
    "linked_before", [False, True], ids=["linked-now", "linked-before-the-fix"]
)
def test_a_deal_in_another_pipeline_is_sent_a_desk_change_without_its_stage(
    desk: Engine, two_pipelines: tuple[Pipedrive, str], linked_before: bool
) -> None:
    api, url = two_pipelines
    api.add("deals", title="Elsewhere", stage_id=201, pipeline_id=2, value=700)
    sync(desk, url)
    if linked_before:  # a desk linked before the mapped pipeline was kept: it is asked once
        with write_session(desk) as session:
            state.forget(session, state.PIPELINE_ID)
    elsewhere = _desk_deal(desk, "Elsewhere").id
    with write_session(desk) as session:
        deals.move_deal(session=session, deal_id=elsewhere, stage=DEMO)
        deals.edit_deal(session=session, deal_id=elsewhere, value_cents=90_000)

    report = sync(desk, url)

    there = remote_deal(api, "Elsewhere")
    assert (there["value"], there["stage_id"], there["pipeline_id"]) == (900, 201, 2)
    assert any(f"deal #{elsewhere}" in n and "pipeline 2" in n for n in report.notes)
    assert report.updated == 1


def test_a_desk_move_of_a_deal_in_a_stage_unknown_to_the_mapped_pipeline_is_sent(
    desk: Engine, crm: tuple[Pipedrive, str]
) -> None:
    """The same pipeline: moving it on the desk is the rep's move, and goes."""
    api, url = crm
    api.add("deals", title="Odd stage", stage_id=999, pipeline_id=1, value=700)
    sync(desk, url)
    odd = _desk_deal(desk, "Odd stage").id
    with write_session(desk) as session:
        deals.move_deal(session=session, deal_id=odd, stage=DEMO)

    sync(desk, url)

    assert remote_deal(api, "Odd stage")["stage_id"] == 104


def _not_sent(lines: list[str]) -> list[str]:
    return [line for line in lines if "not sent" in line and "pipeline" in line]


def test_a_stage_that_cannot_be_sent_is_said_once_per_move_not_at_every_change(
    desk: Engine, two_pipelines: tuple[Pipedrive, str]
) -> None:
    """A deal of another pipeline moved on the desk: the line came again at every sync that sent
    the deal for anything else (a value, a call logged), though its stage had not moved since."""
    api, url = two_pipelines
    there = api.add("deals", title="Elsewhere", stage_id=201, pipeline_id=2, value=700)
    sync(desk, url)
    elsewhere = _desk_deal(desk, "Elsewhere").id
    with write_session(desk) as session:
        deals.move_deal(session=session, deal_id=elsewhere, stage=DEMO)
    [said] = _not_sent(sync(desk, url).lines())
    assert said.startswith(f"deal #{elsewhere}: its stage is not sent") and "pipeline 2" in said

    with write_session(desk) as session:
        deals.edit_deal(session=session, deal_id=elsewhere, value_cents=90_000)
        activities.log_activity(session=session, deal_id=elsewhere, kind="call", text="Budget ok")
    api.change("deals", there["id"], title="Elsewhere (renewal)")
    changed = sync(desk, url)
    assert changed.updated >= 1 and changed.taken_changed == 1  # both ways, and not a word:
    assert _not_sent(changed.lines()) == []
    assert _not_sent(sync(desk, url).lines()) == []  # nothing new: nothing said
    with write_session(desk) as session:
        deals.move_deal(session=session, deal_id=elsewhere, stage=PROPOSAL)
    assert len(_not_sent(sync(desk, url).lines())) == 1  # a new move: said again
    assert remote_deal(api, "Elsewhere (renewal)")["stage_id"] == 201


def test_many_stages_that_cannot_be_sent_are_one_line(
    desk: Engine, home: Path, two_pipelines: tuple[Pipedrive, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, url = two_pipelines
    point_settings_at(home, url)
    monkeypatch.setenv("REPDESK_PIPEDRIVE_TOKEN", TOKEN)
    for number in range(7):
        api.add("deals", title=f"Renewal {number}", stage_id=201, pipeline_id=2, value=700)
    ok("sync", "pipedrive")
    with write_session(desk) as session:
        moved = [d.id for d in session.execute(select(Deal).order_by(Deal.id)).scalars()]
        for deal_id in moved:
            deals.move_deal(session=session, deal_id=deal_id, stage=DEMO)

    printed = ok("sync", "pipedrive").splitlines()

    named = ", ".join(f"#{deal_id}" for deal_id in moved[:5])
    assert _not_sent(printed) == [
        "7 deals' stages are not sent: Pipedrive has them in another pipeline than the desk's "
        f"pipeline 1 (a stage of that one would move them there): deals {named} and 2 more"
    ]
    assert _not_sent(ok("sync", "pipedrive").splitlines()) == []
