"""The rep's own pipeline (issue 14): add, rename, reorder, remove, set; history keeps its
meaning. On both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.pinned import EUR, NOW, TODAY

from repdesk.core.dates import parse_period
from repdesk.core.errors import InvalidInput
from repdesk.reports import figures
from repdesk.services import board, deals, stages
from repdesk.storage.store import read_session, write_session


def _names(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with read_session(engine) as session:
        return [s.name for s in stages.list_stages(session=session)]


def test_add_rename_move_and_set_keep_won_and_lost_last(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        deal = deals.create_deal(session=session, title="X", currency="EUR", stage="Demo", now=NOW)
        stages.add_stage(session=session, name=" Trial ", probability=45, rot_days=10, after="demo")
        stages.rename_stage(session=session, stage="Demo", name="Live demo")
        stages.move_stage(session=session, stage="Trial", number=1)
        stages.set_stage(session=session, stage="trial", probability=50, rot_days=None)
    assert _names(engine) == [
        "Trial", "Prospect", "Contacted", "Qualified", "Live demo", "Proposal", "Negotiation",
        "Won", "Lost",
    ]  # fmt: skip
    with read_session(engine) as session:
        trial = deals.find_stage(session=session, name="trial")
        assert (trial.probability, trial.rot_days, trial.position) == (50, None, 1)
        # History refers to the stage by id: the rename reads through it.
        assert deals.history(session=session, deal_id=deal.id)[0].to_stage == "Live demo"  # type: ignore[arg-type]
        board_stages, _ = board.load_board(session)
        assert [s.name for s in board_stages][:2] == ["Trial", "Prospect"]


def test_bad_stage_changes_are_refused_by_field(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        with pytest.raises(InvalidInput, match=r"name: 'demo'.*Demo exists"):
            stages.add_stage(session=session, name="demo", probability=10)
        with pytest.raises(InvalidInput, match="probability"):
            stages.add_stage(session=session, name="Trial", probability=101)
        with pytest.raises(InvalidInput, match="rot"):
            stages.set_stage(session=session, stage="Demo", rot_days=0)
        with pytest.raises(InvalidInput, match="an open stage"):
            stages.set_stage(session=session, stage="Won", probability=50)
        with pytest.raises(InvalidInput, match="position"):
            stages.move_stage(session=session, stage="Demo", number=9)
        with pytest.raises(InvalidInput, match="name"):
            stages.rename_stage(session=session, stage="Demo", name="  ")


def test_remove_moves_the_deals_first_and_history_keeps_its_meaning(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        deal = deals.create_deal(
            session=session, title="X", currency="EUR", stage="Demo", value_cents=100_000,
            first_contact=TODAY - timedelta(days=3), now=NOW - timedelta(days=1),
        )  # fmt: skip
        unused = stages.add_stage(session=session, name="Unused", probability=5)
    with write_session(engine) as session, pytest.raises(InvalidInput, match=r"into:.*1 open deal"):
        stages.remove_stage(session=session, stage="Demo")
    with write_session(engine) as session:
        assert stages.remove_stage(session=session, stage="Demo", into="Proposal", now=NOW) == (
            "Demo",
            1,
            "Proposal",
        )
        assert stages.remove_stage(session=session, stage="Unused") == ("Unused", 0, None)
    assert "Demo" not in _names(engine) and "Unused" not in _names(engine)
    with read_session(engine) as session:
        steps = [
            (h.from_stage, h.to_stage) for h in deals.history(session=session, deal_id=deal.id)
        ]  # type: ignore[arg-type]
        assert steps == [(None, "Demo (removed)"), ("Demo (removed)", "Proposal")]
        assert deals.get_deal(session=session, deal_id=deal.id).stage_id == (  # type: ignore[arg-type]
            deals.find_stage(session=session, name="Proposal").id
        )
        with pytest.raises(InvalidInput):
            deals.find_stage(session=session, name="Demo (removed)")
        assert session.get(type(unused), unused.id) is None  # nothing named it: gone
        month = figures.kpi_report(session, period=parse_period("2026-11"), as_of=TODAY,
                                   conversion=EUR)  # fmt: skip
        assert month.open_count == 1
    with write_session(engine) as session:
        stages.add_stage(session=session, name="Demo", probability=40)  # the name is free again
        for name in ("Prospect", "Contacted", "Qualified", "Demo", "Proposal"):
            stages.remove_stage(session=session, stage=name, into="Negotiation")
        with pytest.raises(InvalidInput, match="needs an open stage"):
            stages.remove_stage(session=session, stage="Negotiation")


@pytest.mark.parametrize(
    "lookalike",
    [
        "Pro\u200dposal",  # a zero-width joiner between Latin letters
        "Pro\u200cposal",  # a zero-width non-joiner
        "Pro\u034fposal",  # the combining grapheme joiner
        "Proposal\ufe0f",  # a variation selector
    ],
)
def test_a_stage_that_looks_like_proposal_is_refused_as_taken(engine, lookalike: str) -> None:  # type: ignore[no-untyped-def]
    """A review: the joiners pass name_problem (emoji and Persian names need them), and a
    stage that looked exactly like Proposal was added; `deal move X Proposal` never found it."""
    with write_session(engine) as session, pytest.raises(InvalidInput, match="Proposal exists"):
        stages.add_stage(session=session, name=lookalike, probability=10)
