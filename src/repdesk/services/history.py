"""The histories a deal keeps beside its stage history (schema v5): every change of its
expected close, and every change of its forecast category; and (schema v12) every change of a
deal's own win probability and of a stage's.

The services that change what these follow call in here (deals.edit_deal, deals.move_deal,
forecast.set_forecast and set_probability, stages.set_stage), each through the session, so the
app's undo takes the history row back with the change (services/changes.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from repdesk.core import forecast
from repdesk.storage.models import (
    CloseDateChange,
    Deal,
    ForecastChange,
    ProbabilityChange,
    Stage,
    saved_id,
)


def probability_of(session: Session, deal: Deal) -> int:
    """The deal's win probability: its own when set, else its stage's."""
    if deal.probability is not None:
        return deal.probability
    stage = session.get(Stage, deal.stage_id)
    return stage.probability if stage is not None else 0


def category_of(session: Session, deal: Deal) -> str | None:
    """The open deal's forecast category; None for a closed deal (it is in no forecast)."""
    if deal.status != "open":
        return None
    return forecast.category(deal.forecast, probability_of(session, deal))


def note_category(session: Session, deal: Deal, before: str | None, moment: datetime) -> None:
    """Record the change when the deal's category is no longer `before` (both open)."""
    after = category_of(session, deal)
    if before is None or after is None or before == after:
        return
    session.add(
        ForecastChange(
            deal_id=saved_id(deal),
            from_category=before,
            to_category=after,
            changed_at=moment,
        )
    )


def note_close_date(session: Session, deal: Deal, before: date | None, moment: datetime) -> None:
    """Record the change when the deal's expected close is no longer `before`."""
    if deal.expected_close == before:
        return
    session.add(
        CloseDateChange(
            deal_id=saved_id(deal),
            from_date=before,
            to_date=deal.expected_close,
            changed_at=moment,
        )
    )


def note_probability(
    session: Session,
    *,
    before: int | None,
    after: int | None,
    moment: datetime,
    deal_id: int | None = None,
    stage_id: int | None = None,
) -> None:
    """Record a deal's own probability (None: its stage's) or a stage's moving from `before`
    to `after`, when it moved."""
    if before == after:
        return
    session.add(
        ProbabilityChange(
            deal_id=deal_id,
            stage_id=stage_id,
            from_probability=before,
            to_probability=after,
            changed_at=moment,
        )
    )
