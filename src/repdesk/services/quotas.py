"""Quotas: the amount the rep must win in a month, quarter or year."""

from __future__ import annotations

from sqlmodel import Session, select

from repdesk.core.dates import Period
from repdesk.core.errors import InvalidInput
from repdesk.storage.models import Quota


def _quota_of(session: Session, period: Period) -> Quota | None:
    return session.exec(select(Quota).where(Quota.period == period.label)).first()


def set_quota(*, session: Session, period: Period, amount_cents: int) -> Quota:
    if amount_cents <= 0:
        raise InvalidInput("amount", amount_cents, "a quota above 0")
    quota = _quota_of(session, period)
    if quota is None:
        quota = Quota(period=period.label, amount_cents=amount_cents)
    quota.amount_cents = amount_cents
    session.add(quota)
    return quota


def get_quota(*, session: Session, period: Period) -> int | None:
    quota = _quota_of(session, period)
    return None if quota is None else quota.amount_cents


def clear_quota(*, session: Session, period: Period) -> int | None:
    """Take away a period's quota (set on the wrong period, or no longer given): its figures
    read "no quota" again. Returns the amount it was, or None when there was none."""
    quota = _quota_of(session, period)
    if quota is None:
        return None
    session.delete(quota)
    session.flush()
    return quota.amount_cents
