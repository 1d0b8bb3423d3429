"""What the sync needs from a CRM: a small interface a HubSpot or Salesforce connector could
implement too. Objects travel as plain dicts in the CRM's own shape; the mapping to desk rows
lives in mapping.py. Every failure a rep must read is a SyncError with one line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from repdesk.core.errors import RepdeskError

Obj = dict[str, Any]


class SyncError(RepdeskError):
    """The sync stopped; the message is one line a rep can act on. What was sent stays sent."""


class AuthRefused(SyncError):
    """The token is revoked or wrong (401), or lacks a scope (403)."""


class Forbidden(AuthRefused):
    """The token's user lacks the permission for this request (403): others may still go."""


class Refused(SyncError):
    """The CRM refused this one request as it was sent (a 4xx other than 401, 403, 404)."""


class NoToken(SyncError):
    """No API token anywhere the sync looks (src/repdesk/sync/secrets.py)."""


class Unreachable(SyncError):
    """The CRM cannot be reached: offline, or its address is wrong."""


class RateLimited(SyncError):
    """The CRM's rate limit is reached and its wait is too long to sit out."""


class SyncBusy(SyncError):
    """Another sync runs on the desk (the app's, a shell's): this one did nothing."""


def short_reason(exc: BaseException) -> str:
    """Why a sync could not run, in the few words the app's top line has room for."""
    if isinstance(exc, NoToken):
        return "no API token"
    if isinstance(exc, Unreachable):
        return "offline"
    if isinstance(exc, AuthRefused):
        return "token refused"
    if isinstance(exc, RateLimited):
        return "rate limit reached"
    if isinstance(exc, SyncBusy):
        return "another sync is under way"
    return "failed"


class Unanswered(SyncError):
    """A create went out but its answer never came (a timeout, a dropped connection, a 5xx):
    the CRM may have made the object. Never sent again blindly: the sync looks for it first."""


class NotThere(SyncError):
    """The object is gone on the CRM's side (404/410): a delete already done, a deal deleted."""


@dataclass(frozen=True, slots=True)
class RemoteStage:
    id: int
    name: str
    order: int
    pipeline_id: int


class Connector(Protocol):
    name: str  # "Pipedrive"

    def whoami(self) -> int:
        """The rep's user id in the CRM (their own deals are synced by default)."""
        ...

    def stages(self) -> list[RemoteStage]: ...

    # Pulls: objects changed at or after `since` (an RFC 3339 instant; None: all), page by page.
    def changed(
        self, remote_type: str, *, since: str | None, owner_id: int | None, deleted: bool = False
    ) -> Iterator[Obj]: ...

    def by_ids(self, remote_type: str, ids: list[int]) -> list[Obj]: ...

    def notes(self, *, since: str | None, user_id: int | None) -> Iterator[Obj]:
        """Notes changed at or after `since` (None: all), by `user_id` (None: anyone's)."""
        ...

    def notes_of_deal(self, deal_id: int) -> list[Obj]: ...

    # Pushes: the CRM's answer (the object as it now is), or NotThere.
    def create(self, remote_type: str, values: Obj) -> Obj: ...

    def update(self, remote_type: str, remote_id: int, values: Obj) -> Obj: ...

    def delete(self, remote_type: str, remote_id: int) -> None: ...

    def merge_deals(self, gone_id: int, into_id: int) -> None:
        """Merge deal `gone_id` into deal `into_id`: its activities, notes and people move
        there, and it is deleted (the desk's `deal merge`); NotThere when either is gone."""
        ...

    def close(self) -> None: ...
