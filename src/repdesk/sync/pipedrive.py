"""Pipedrive over HTTP (httpx), as its published OpenAPI documents describe it (a copy of the
parts used is in tests/pipedrive/openapi/ and the test server checks every exchange).

API v2 where it has the endpoint: deals, persons, organizations, activities and stages, with
`updated_since` and cursor pages of up to 500. API v1 for the rest: notes and the rep's own
user (`/users/me`). The token goes in the `x-api-token` header (the documents' `api_key`
scheme), never in a URL that a log or an error message could show.

The daily token budget is the whole company's: the client honours 429 (waiting Retry-After,
or the rate-limit window's reset) and slows down by itself when `x-ratelimit-remaining`
reaches 0, and it retries a 5xx or a dropped connection a few times with a growing pause.
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from repdesk.sync.connector import (
    AuthRefused,
    Forbidden,
    NotThere,
    Obj,
    RateLimited,
    Refused,
    RemoteStage,
    SyncError,
    Unanswered,
    Unreachable,
)
from repdesk.sync.mapping import instant

PAGE = 500  # the largest page v2 serves
DEFAULT_URL = "https://api.pipedrive.com"
# The v2 path of each object; notes are v1 only.
_V2 = {
    "deal": "deals",
    "person": "persons",
    "organization": "organizations",
    "activity": "activities",
}
RETRIES = 5
MAX_WAIT = 120.0  # seconds: a longer Retry-After stops the sync with a line instead
ANSWER_WITHIN = 300.0  # seconds for one whole answer, however it trickles in
MAX_ANSWER = 256 * 2**20  # bytes of one answer (decompressed)


def _seconds(raw: str) -> float | None:
    """A Retry-After (or rate-limit reset) value as seconds to wait: a number of seconds or an
    HTTP date (RFC 9110 allows both); None for anything else (`inf`, `nan`, words)."""
    try:
        seconds = float(raw)
    except ValueError:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # an HTTP date is GMT
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


# A request that never left: sent again safely, a create included.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _in(seconds: float) -> str:
    """How long until a retry, in words of a sane size: `Retry-After: 1e308` printed a number
    of minutes 300 digits long (a trial)."""
    minutes = max(1, round(min(seconds, 1e9) / 60))
    if minutes < 120:
        return f"in {minutes} min"
    if minutes <= 24 * 60:
        return f"in {round(minutes / 60)} h"
    return "in more than a day"


def _unanswered(path: str, why: str) -> Unanswered:
    """A create may have been made even though its answer failed: sent again, it could be
    made twice (found by an audit). The sync looks for it instead (engine.py, _create)."""
    return Unanswered(
        f"Pipedrive did not answer the create {path} ({why}); the next sync looks for what it "
        "may have made before sending it again"
    )


def _wait_seconds(response: httpx.Response, attempt: int) -> float:
    for header in ("retry-after", "x-ratelimit-reset"):
        seconds = _seconds(response.headers.get(header, "").strip())
        if seconds is not None:
            return seconds
    return min(2.0**attempt, 30.0)


class PipedriveClient:
    name = "Pipedrive"

    def __init__(
        self,
        url: str,
        token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        answer_within: float = ANSWER_WITHIN,
    ) -> None:
        _refuse_plain_http(url)
        self._sleep = sleep
        self._answer_within = answer_within
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"x-api-token": token, "accept": "application/json"},
            timeout=timeout,
        )
        self.requests = 0  # how many were sent, for the summary line

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------ one request, politely

    def _call(
        self, method: str, path: str, *, params: Obj | None = None, body: Obj | None = None
    ) -> Any:
        attempt = 0
        while True:
            try:
                response, raw = self._exchange(method, path, params, body)
            except httpx.TransportError as exc:
                if method == "POST" and not isinstance(exc, _NOT_SENT):
                    raise _unanswered(path, str(exc) or type(exc).__name__) from None
                attempt += 1
                # Not even a first connection: offline (or a wrong address). Said at once; a
                # connection lost in the middle of a sync is tried again.
                first = self.requests == 0 and isinstance(exc, httpx.ConnectError)
                if first or attempt > RETRIES:
                    where = self._http.base_url.host or str(self._http.base_url)
                    raise Unreachable(
                        f"Pipedrive cannot be reached at {where} (offline?): {exc}"
                    ) from None
                self._sleep(min(2.0**attempt, 30.0))
                continue
            except httpx.HTTPError as exc:
                # An answer httpx cannot read (a body that is no gzip though it says so): it was
                # "unexpected error" and a crash log, as for a bug.
                raise SyncError(_shape(path, f"an answer that cannot be read ({exc})")) from None
            self.requests += 1
            status = response.status_code
            if status >= 500 and method == "POST":
                raise _unanswered(path, f"{status} {response.reason_phrase}")
            if status == 429 or status >= 500:  # a 429 was not carried out: sent again
                attempt += 1
                wait = _wait_seconds(response, attempt)
                if attempt > RETRIES or wait > MAX_WAIT:
                    if status == 429:
                        raise RateLimited(
                            "Pipedrive's rate limit is reached (the company's daily budget is "
                            f"shared); try again {_in(wait)}"
                        )
                    raise SyncError(
                        f"Pipedrive answered {status} {response.reason_phrase} "
                        f"{RETRIES} times; nothing lost, try again later"
                    )
                self._sleep(wait)
                continue
            if status == 401:
                raise AuthRefused(
                    "Pipedrive refused the API token (revoked or wrong): set a new one in "
                    "REPDESK_PIPEDRIVE_TOKEN or `repdesk sync token`"
                )
            if status == 403:
                raise Forbidden(
                    f"Pipedrive refused {method} {path.split('?')[0]}: the token's user lacks "
                    "the permission (scope) for it; ask the company's Pipedrive admin"
                )
            if status in (404, 410):
                if method == "POST":  # a create: what it hangs on is gone (its deal)
                    raise NotThere(
                        f"Pipedrive refused {method} {path}: {status} {_error(response, raw)}"
                    )
                raise NotThere(f"{path} is gone in Pipedrive")
            if status >= 400:
                raise Refused(
                    f"Pipedrive refused {method} {path}: {status} {_error(response, raw)}"
                )
            if 300 <= status < 400:
                # Never followed (httpx's default): the token would go to wherever it points.
                where = urlsplit(response.headers.get("location", "")).netloc or "elsewhere"
                raise SyncError(
                    f"Pipedrive's address answered {path} with a redirect ({status}) to "
                    f"{where[:80]}: check [pipedrive] url in settings.toml"
                )
            self._slow_down(response)
            answer = _json(raw)
            if answer is _NOT_JSON:
                raise SyncError(f"Pipedrive sent something that is not JSON for {path}")
            if not isinstance(answer, dict):
                raise SyncError(_shape(path, "an answer that is not a JSON object"))
            return answer

    def _exchange(
        self, method: str, path: str, params: Obj | None, body: Obj | None
    ) -> tuple[httpx.Response, bytes]:
        """One request and its whole answer, read as it comes: an answer that trickles in (a
        byte now and then never trips the read timeout) is given up after `answer_within`
        seconds, and one larger than MAX_ANSWER (a page of 500 deals is a few MB) is refused
        before it fills the memory."""
        request = self._http.build_request(method, path, params=params, json=body)
        response = self._http.send(request, stream=True)
        deadline = time.monotonic() + self._answer_within
        parts: list[bytes] = []
        size = 0
        try:
            for part in response.iter_bytes():
                size += len(part)
                parts.append(part)
                if size > MAX_ANSWER:
                    raise SyncError(
                        f"Pipedrive's answer for {path} is larger than "
                        f"{MAX_ANSWER / 2**20:g} MB: the sync stopped there; try again later"
                    )
                if time.monotonic() > deadline:
                    raise SyncError(
                        f"Pipedrive sent its answer for {path} too slowly ({size:,} bytes in "
                        f"{self._answer_within:.0f} s): the sync stopped there; try again later"
                    )
        finally:
            response.close()
        return response, b"".join(parts)

    def _slow_down(self, response: httpx.Response) -> None:
        """The window's budget is spent: wait for its reset before the next request."""
        if response.headers.get("x-ratelimit-remaining", "").strip() == "0":
            wait = _wait_seconds(response, 1)
            self._sleep(min(wait, MAX_WAIT))

    # ------------------------------------------------------------ reads

    def whoami(self) -> int:
        path = "/api/v1/users/me"
        return _id_of(self._call("GET", path).get("data"), path)

    def stages(self) -> list[RemoteStage]:
        found = []
        for item in self._pages("/api/v2/stages", {}):
            if item.get("is_deleted"):
                continue
            found.append(
                RemoteStage(
                    id=int(item["id"]),
                    name=str(item.get("name", "")),
                    order=_whole(item.get("order_nr"), "order_nr", "/api/v2/stages"),
                    pipeline_id=_whole(item.get("pipeline_id"), "pipeline_id", "/api/v2/stages"),
                )
            )
        return found

    def _pages(self, path: str, params: Obj) -> Iterator[Obj]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            query = {**params, "limit": PAGE}
            if cursor:
                query["cursor"] = cursor
            answer = self._call("GET", path, params=query)
            items = _items(answer, path)
            yield from items
            # The documents: next_cursor is null (or absent) on the last page.
            cursor = _more(answer).get("next_cursor")
            if not cursor:
                return
            # An empty page that promises more, or a cursor given before: read for ever.
            if not items or not isinstance(cursor, str) or cursor in seen:
                raise SyncError(_going_round(path))
            seen.add(cursor)

    def changed(
        self, remote_type: str, *, since: str | None, owner_id: int | None, deleted: bool = False
    ) -> Iterator[Obj]:
        params: Obj = {"sort_by": "update_time", "sort_direction": "asc"}
        if since:
            params["updated_since"] = since
        if owner_id is not None:
            params["owner_id"] = owner_id
        if deleted:
            params["status"] = "deleted"
        return self._pages(f"/api/v2/{_V2[remote_type]}", params)

    def by_ids(self, remote_type: str, ids: list[int]) -> list[Obj]:
        found: list[Obj] = []
        for start in range(0, len(ids), 100):  # `ids` takes up to 100
            chunk = ",".join(str(i) for i in ids[start : start + 100])
            found.extend(self._pages(f"/api/v2/{_V2[remote_type]}", {"ids": chunk}))
        return found

    def notes(self, *, since: str | None, user_id: int | None) -> Iterator[Obj]:
        """Notes changed at or after `since` (None: all), newest change first. API v1 has no
        `updated_since` for notes; it sorts by `update_time`, so the pages are read until a
        note older than `since` comes."""
        cutoff = instant(since) if since else None
        start = 0
        while True:
            params: Obj = {"sort": "update_time DESC", "start": start, "limit": PAGE}
            if user_id is not None:
                params["user_id"] = user_id
            answer = self._call("GET", "/api/v1/notes", params=params)
            items = _items(answer, "/api/v1/notes")
            for note in items:
                changed = instant(note.get("update_time"))
                if cutoff is not None and changed is not None and changed < cutoff:
                    return
                yield note
            page = _pagination(answer)
            if not page.get("more_items_in_collection"):
                return
            start = _next_start(page, start, items)

    def notes_of_deal(self, deal_id: int) -> list[Obj]:
        notes: list[Obj] = []
        start = 0
        while True:
            answer = self._call(
                "GET", "/api/v1/notes", params={"deal_id": deal_id, "start": start, "limit": PAGE}
            )
            items = _items(answer, "/api/v1/notes")
            notes.extend(items)
            page = _pagination(answer)
            if not page.get("more_items_in_collection"):
                return notes
            start = _next_start(page, start, items)

    # ------------------------------------------------------------ writes

    def create(self, remote_type: str, values: Obj) -> Obj:
        path = "/api/v1/notes" if remote_type == "note" else f"/api/v2/{_V2[remote_type]}"
        return _object(self._call("POST", path, body=values).get("data"), path)

    def update(self, remote_type: str, remote_id: int, values: Obj) -> Obj:
        if remote_type == "note":
            path = f"/api/v1/notes/{remote_id}"
            answer = self._call("PUT", path, body=values)
        else:
            path = f"/api/v2/{_V2[remote_type]}/{remote_id}"
            answer = self._call("PATCH", path, body=values)
        return _object(answer.get("data"), path)

    def delete(self, remote_type: str, remote_id: int) -> None:
        if remote_type == "note":
            self._call("DELETE", f"/api/v1/notes/{remote_id}")
        else:
            self._call("DELETE", f"/api/v2/{_V2[remote_type]}/{remote_id}")

    def merge_deals(self, gone_id: int, into_id: int) -> None:
        # API v1 only (v2 has no merge). The deal of `merge_with_id` keeps its fields; the
        # one in the path is removed, its activities, notes and participants moved over.
        path = f"/api/v1/deals/{gone_id}/merge"
        _object(self._call("PUT", path, body={"merge_with_id": into_id}).get("data"), path)


# The largest id a desk keeps (SQLite's and PostgreSQL's 64-bit integers).
_MAX_ID = 2**63 - 1


def _refuse_plain_http(url: str) -> None:
    """The token goes in a header of every request: over plain http anyone on the way reads
    it (`http://192.0.2.2:18800` sent it so: a trial). Only this machine may be spoken to
    without TLS (a proxy or a test server on loopback), as `repdesk serve` allows."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http":
        return
    host = (parts.hostname or "").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SyncError(
            f"settings.toml: [pipedrive] url {url[:80]!r} is plain http: the API token would "
            "cross the network readable; use https:// (plain http only to 127.0.0.1, ::1 or "
            "localhost); nothing was sent"
        )


def _shape(path: str, what: str) -> str:
    return (
        f"Pipedrive sent {what} for {path}: nothing of it was taken in; try again later, and "
        "tell the company's Pipedrive admin if it stays"
    )


def _going_round(path: str) -> str:
    return (
        f"Pipedrive sent the same page again for {path} (its pages go round in a circle): "
        "the sync stopped there; try again later"
    )


def _id_of(item: Any, path: str) -> int:
    """An object's id as the documents have it: a positive integer (JSON true is no id)."""
    found = item.get("id") if isinstance(item, dict) else None
    if type(found) is not int or not 0 < found <= _MAX_ID:
        raise SyncError(_shape(path, f"an object whose id is {str(found)[:40]!r}"))
    return found


def _whole(value: Any, name: str, path: str) -> int:
    """A stage's order or pipeline: an integer (missing: 0). int() of what a broken server sent
    there ("x", a list) raised ValueError or TypeError: "unexpected error" and a crash log."""
    if value is None:
        return 0
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or abs(value) > _MAX_ID:
        raise SyncError(_shape(path, f"a stage whose {name} is {str(value)[:40]!r}"))
    return value


def _object(item: Any, path: str) -> Obj:
    _id_of(item, path)
    return dict(item)


def _items(answer: Obj, path: str) -> list[Obj]:
    """A page's objects, each with a usable id; a page of another shape stops the sync."""
    data = answer.get("data")
    if data is None:
        return []
    if not isinstance(data, list):
        raise SyncError(_shape(path, "a page whose data is not a list"))
    for item in data:
        if not isinstance(item, dict):
            raise SyncError(_shape(path, "a page with something that is not an object"))
        _id_of(item, path)
    return data


def _more(answer: Obj) -> Obj:
    more = answer.get("additional_data")
    return more if isinstance(more, dict) else {}


def _pagination(answer: Obj) -> Obj:
    page = _more(answer).get("pagination")
    return page if isinstance(page, dict) else {}


def _next_start(page: Obj, start: int, items: list[Obj]) -> int:
    """API v1's next page: `next_start`, which must move on (a server that sends the same
    start again, or empty pages that promise more, would be read for ever)."""
    found = page.get("next_start")
    following = start + PAGE if found is None else found
    if not items or type(following) is not int or following <= start:
        raise SyncError(_going_round("/api/v1/notes"))
    return following


_NOT_JSON = object()


def _json(raw: bytes) -> Any:
    """An answer's JSON, or _NOT_JSON. Nested deeper than Python's recursion limit (10 KB of
    `[` is enough), valid JSON cannot be read either: json.loads raised RecursionError, and
    the sync stopped with "unexpected error" and a crash log (a hostile test)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _error(response: httpx.Response, raw: bytes) -> str:
    body = _json(raw)
    if body is _NOT_JSON:
        return response.reason_phrase
    text = body.get("error") if isinstance(body, dict) else None
    return str(text or response.reason_phrase)[:200].replace("\n", " ")
