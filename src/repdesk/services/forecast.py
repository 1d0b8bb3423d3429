"""A deal's forecast: its category (the rep's call or the default), its own probability, who it
is up against, how often its close date slipped, and a won customer's score (NPS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from repdesk.core import clock, forecast
from repdesk.core.errors import AlreadyClosed, InvalidInput, RepdeskError
from repdesk.services import history
from repdesk.services.deals import get_deal
from repdesk.storage.models import CloseDateChange, Deal, ForecastChange


@dataclass(frozen=True, slots=True)
class DealForecast:
    """What the deal page and `deal show` say of a deal's forecast."""

    category: str | None  # None: a closed deal, in no forecast
    overridden: bool  # the rep's own call, not the default from the probability
    probability: int
    own_probability: bool  # the deal's own, not its stage's
    slips: int  # times its expected close moved later
    slipped_days: int  # by how many days in all
    close_date_changes: int  # every change (earlier, later, set, cleared)


def deal_forecast(*, session: Session, deal_id: int) -> DealForecast:
    deal = get_deal(session=session, deal_id=deal_id)
    slips, days, changes = 0, 0, 0
    for change in close_date_changes(session=session, deal_id=deal_id):
        changes += 1
        if change.from_date and change.to_date and change.to_date > change.from_date:
            slips += 1
            days += (change.to_date - change.from_date).days
    return DealForecast(
        category=history.category_of(session, deal),
        overridden=deal.forecast is not None,
        probability=history.probability_of(session, deal),
        own_probability=deal.probability is not None,
        slips=slips,
        slipped_days=days,
        close_date_changes=changes,
    )


def close_date_changes(*, session: Session, deal_id: int) -> list[CloseDateChange]:
    return list(
        session.exec(
            select(CloseDateChange)
            .where(CloseDateChange.deal_id == deal_id)
            .order_by(col(CloseDateChange.changed_at), col(CloseDateChange.id))
        )
    )


def forecast_changes(*, session: Session, deal_id: int) -> list[ForecastChange]:
    return list(
        session.exec(
            select(ForecastChange)
            .where(ForecastChange.deal_id == deal_id)
            .order_by(col(ForecastChange.changed_at), col(ForecastChange.id))
        )
    )


def _open_deal(session: Session, deal_id: int, what: str) -> Deal:
    deal = get_deal(session=session, deal_id=deal_id)
    if deal.status != "open":
        raise AlreadyClosed(
            f"deal #{deal.id} is {deal.status}: {what} is for open deals (reopen it first)"
        )
    return deal


def set_forecast(
    *, session: Session, deal_id: int, category: str, now: datetime | None = None
) -> Deal:
    """The rep's call on an open deal: commit, best case, pipeline or omitted as typed (any
    case, "best-case" too); "auto" takes the call back (the default from the probability)."""
    stored = forecast.parse_category(category)
    if stored is None:
        raise InvalidInput("forecast", category, forecast.CATEGORY_FORMS)
    deal = _open_deal(session, deal_id, "a forecast category")
    moment = now or clock.now()
    before = history.category_of(session, deal)
    deal.forecast = None if stored == forecast.AUTO else stored
    deal.updated_at = moment
    session.add(deal)
    history.note_category(session, deal, before, moment)
    return deal


def set_probability(
    *, session: Session, deal_id: int, probability: int | None, now: datetime | None = None
) -> Deal:
    """The deal's own win probability in percent, in place of its stage's (None: its stage's
    again). The weighted pipeline and the default category follow it."""
    if probability is not None and not 0 <= probability <= 100:
        raise InvalidInput("probability", probability, "a whole percentage from 0 to 100")
    deal = _open_deal(session, deal_id, "a probability")
    moment = now or clock.now()
    before = history.category_of(session, deal)
    history.note_probability(
        session, before=deal.probability, after=probability, moment=moment, deal_id=deal_id
    )
    deal.probability = probability
    deal.updated_at = moment
    session.add(deal)
    history.note_category(session, deal, before, moment)
    return deal


def set_nps(
    *,
    session: Session,
    deal_id: int,
    score: int | None,
    on: date | None = None,
    now: datetime | None = None,
) -> Deal:
    """A won customer's answer, 0-10, to "how likely are you to recommend us?" (seed 003),
    given on `on` (default today); None forgets it."""
    if score is not None and not forecast.NPS_LOWEST <= score <= forecast.NPS_HIGHEST:
        raise InvalidInput("score", score, "a whole number from 0 to 10")
    deal = get_deal(session=session, deal_id=deal_id)
    if deal.status != "won":
        raise RepdeskError(
            f"deal #{deal.id} is {deal.status}: a score is a won customer's answer (win it first)"
        )
    moment = now or clock.now()
    today = clock.local_date(moment)
    if score is None:
        deal.nps, deal.nps_on = None, None
    else:
        day = on or today
        if day > today:
            raise InvalidInput(
                "date", day.isoformat(), f"today ({today.isoformat()}) or earlier: the day asked"
            )
        if deal.closed_on is not None and day < deal.closed_on:
            raise InvalidInput(
                "date", day.isoformat(), f"on or after the day it was won ({deal.closed_on})"
            )
        deal.nps, deal.nps_on = score, day
    deal.updated_at = moment
    session.add(deal)
    return deal
