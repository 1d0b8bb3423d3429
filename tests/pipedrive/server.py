"""A small Pipedrive on 127.0.0.1 for the sync's tests: the endpoints the connector uses, kept
in memory, and every request it receives and every response it gives checked against
Pipedrive's OpenAPI documents (tests/pipedrive/openapi/). A drift from the real API is a
contract error in `server.errors`, which the tests' fixture fails on.

Faults are queued by the tests: `server.fail(status, times=N, when=...)` answers N matching
requests with that status (429 with Retry-After, 500, 401); `server.hang_on_create = N`
keeps the Nth create's answer forever (the object is made; the client never hears it);
`server.bad_gateway_after_create = N` makes the next N creates' objects, then answers 502 (a
proxy that lost the answer); `server.bad_gateway_after_merge = N` the same for merges;
`server.merge(gone, into)` is a merge made in Pipedrive's own screens;
`server.send_raw(body, ...)` answers with bytes no document allows (a hostile or broken
server: the contract is not checked for them).
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from repdesk.core import clock

HERE = Path(__file__).parent / "openapi"
TOKEN = "test-token-0123456789"
ME = 7


def _load(name: str) -> OpenAPI:
    data = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    data.pop("x-shared", None)  # anchors resolved; the block itself is not part of the API
    version = "v1" if name.startswith("v1") else "v2"
    data["servers"] = [{"url": f"http://127.0.0.1/api/{version}"}]
    return OpenAPI.from_dict(data)


_SPECS: dict[str, OpenAPI] = {}


def specs() -> dict[str, OpenAPI]:
    if not _SPECS:
        _SPECS["v1"] = _load("v1-excerpt.yaml")
        _SPECS["v2"] = _load("v2-excerpt.yaml")
    return _SPECS


def _now() -> str:
    # The desk's clock (REPDESK_NOW pins it in tests): `updated_since` compares with it.
    return clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_v1() -> str:
    # API v1 writes its times without the T and the zone (UTC): `2026-11-20 10:00:00`.
    return clock.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Fault:
    status: int
    times: int
    when: Callable[[str, str], bool]
    headers: dict[str, str]
    body: bytes | None = None


class Pipedrive:
    def __init__(self) -> None:
        self.objects: dict[str, dict[int, dict[str, Any]]] = {
            "deals": {},
            "persons": {},
            "organizations": {},
            "activities": {},
            "notes": {},
        }
        self.deleted_deals: set[int] = set()
        self.merges: list[tuple[int, int]] = []  # (gone, kept) of every merge asked for
        self.stages = [
            {
                "id": 101 + i,
                "order_nr": i + 1,
                "name": name,
                "pipeline_id": 1,
                "is_deleted": False,
                "deal_probability": 10 * (i + 1),
            }
            for i, name in enumerate(
                [
                    "Lead In",
                    "Contact Made",
                    "Qualified",
                    "Demo Scheduled",
                    "Proposal Made",
                    "Negotiations Started",
                ]
            )
        ]
        self.next_id = 1000
        self.errors: list[str] = []
        self.log: list[tuple[str, str]] = []  # (method, path) of every request
        self.faults: list[Fault] = []
        self.raw: list[Fault] = []
        self.creates = 0
        self.hang_on_create: int | None = None
        self.bad_gateway_after_create = 0
        self.bad_gateway_after_merge = 0  # merges carried out, then answered 502
        self.hanging = threading.Event()
        self.release = threading.Event()
        self.token = TOKEN
        self.page_size_cap = 500
        self.lock = threading.Lock()
        # Whether GET /activities lists deleted activities (marked `is_deleted`): the
        # documents allow both readings, and the sync must notice a deletion either way.
        self.lists_deleted_activities = False
        # Cleared: every request waits until it is set again (a slow network, for the app's
        # tests: the screen must go on meanwhile).
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Event()  # set by the first request that reaches the server

    # ------------------------------------------------------------ test helpers

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        when: Callable[[str, str], bool] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.faults.append(Fault(status, times, when or (lambda m, p: True), headers or {}))

    def send_raw(
        self,
        body: bytes,
        *,
        status: int = 200,
        times: int = 1,
        when: Callable[[str, str], bool] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer matching requests with these bytes as they are (JSON of the wrong shape, a
        page that never ends, a redirect): what a broken server or a proxy might send."""
        self.raw.append(Fault(status, times, when or (lambda m, p: True), headers or {}, body))

    def raw_answer(self, method: str, path: str) -> Fault | None:
        for fault in self.raw:
            if fault.times > 0 and fault.when(method, urlsplit(path).path):
                fault.times -= 1
                return fault
        return None

    def add(self, collection: str, **values: Any) -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            stamp = _now_v1() if collection == "notes" else _now()
            item = {"id": self.next_id, "add_time": stamp, "update_time": stamp, **values}
            if collection == "notes":
                item.setdefault("active_flag", True)
                item.setdefault("user_id", ME)
            if collection in ("deals", "activities", "persons", "organizations"):
                item.setdefault("owner_id", ME)
                item.setdefault("is_deleted", False)
            if collection == "deals":
                item.setdefault("status", "open")
                item.setdefault("stage_id", 101)
                item.setdefault("pipeline_id", 1)
                item.setdefault("currency", "EUR")
                item.setdefault("value", 0)
            self.objects[collection][item["id"]] = item
            return item

    def change(self, collection: str, item_id: int, **values: Any) -> None:
        with self.lock:
            stamp = _now_v1() if collection == "notes" else _now()
            self.objects[collection][item_id].update(values, update_time=stamp)

    def remove_activity(self, activity_id: int) -> None:
        """As DELETE /v2/activities/{id} does: "Marks an activity as deleted"."""
        self.change("activities", activity_id, is_deleted=True)

    def remove_deal(self, deal_id: int) -> None:
        with self.lock:
            self.objects["deals"][deal_id].update(
                is_deleted=True, status="deleted", update_time=_now()
            )

    def merge(self, gone_id: int, into_id: int) -> None:
        """A merge made in Pipedrive's own screens (as PUT /v1/deals/{id}/merge does it)."""
        status, answer, _ = self._merge(gone_id, into_id)
        assert status == 200, answer

    def count(self, collection: str, **match: Any) -> int:
        return sum(
            1
            for item in self.objects[collection].values()
            if not item.get("is_deleted") and all(item.get(k) == v for k, v in match.items())
        )

    # ------------------------------------------------------------ the API

    def handle(
        self, method: str, raw_path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        parts = urlsplit(raw_path)
        path, query = parts.path, dict(parse_qsl(parts.query))
        self.log.append((method, path))
        for fault in self.faults:
            if fault.times > 0 and fault.when(method, path):
                fault.times -= 1
                return fault.status, {"success": False, "error": "injected"}, fault.headers
        if headers.get("x-api-token") != self.token:
            return 401, {"success": False, "error": "unauthorized access", "errorCode": 401}, {}
        payload = json.loads(body) if body else {}
        segments = path.strip("/").split("/")  # api, v2, deals[, id]
        version, collection = segments[1], segments[2]
        item_id = int(segments[3]) if len(segments) > 3 and segments[3].isdigit() else None
        if collection == "users":
            return 200, {"success": True, "data": {"id": ME, "name": "Rep", "is_you": True}}, {}
        if collection == "stages":
            return 200, {"success": True, "data": self.stages}, {}
        store = self.objects[collection]
        if method == "PUT" and collection == "deals" and segments[-1] == "merge":
            return self._merge(item_id, payload.get("merge_with_id"))
        if method == "GET" and version == "v1":  # notes
            return 200, self._notes(query), {}
        if method == "GET":
            return 200, self._list(collection, query), {}
        if method == "POST":
            self.creates += 1
            made = self.add(collection, **payload)
            if self.hang_on_create is not None and self.creates == self.hang_on_create:
                self.hanging.set()
                self.release.wait(60)
                return 599, {}, {}
            if self.bad_gateway_after_create > 0:
                self.bad_gateway_after_create -= 1
                return 502, {"success": False, "error": "Bad Gateway"}, {}
            return 200, {"success": True, "data": made}, {}
        if item_id is None or item_id not in store or store[item_id].get("is_deleted"):
            return 404, {"success": False, "error": "Entity was not found"}, {}
        if method in ("PATCH", "PUT"):
            self.change(collection, item_id, **payload)
            return 200, {"success": True, "data": store[item_id]}, {}
        if method == "DELETE":
            if collection == "deals":
                self.remove_deal(item_id)
            elif collection == "activities":
                self.remove_activity(item_id)
            else:
                del store[item_id]
            data: Any = True if version == "v1" else {"id": item_id}
            return 200, {"success": True, "data": data}, {}
        return 405, {"success": False, "error": "method"}, {}

    def _merge(
        self, gone_id: int | None, into_id: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """PUT /v1/deals/{id}/merge as Pipedrive's tutorial "Merging two deals" tells it: the
        deal of `merge_with_id` keeps its fields (an empty one takes the other's), the
        activities and notes of the deal in the path move to it, and that deal is removed."""
        deals = self.objects["deals"]
        live = {i for i, d in deals.items() if not d.get("is_deleted")}
        if gone_id not in live or into_id not in live or gone_id == into_id:
            return 404, {"success": False, "error": "Deal not found"}, {}
        assert gone_id is not None
        self.merges.append((gone_id, into_id))
        if self.bad_gateway_after_merge > 0:
            self.bad_gateway_after_merge -= 1
            self._merge_now(gone_id, into_id)
            return 502, {"success": False, "error": "Bad Gateway"}, {}
        keep = self._merge_now(gone_id, into_id)
        data = {
            k: keep[k]
            for k in ("id", "title", "value", "currency", "status", "stage_id", "pipeline_id")
        }
        return 200, {"success": True, "data": {**data, "user_id": keep["owner_id"]}}, {}

    def _merge_now(self, gone_id: int, into_id: int) -> dict[str, Any]:
        deals = self.objects["deals"]
        gone, keep = deals[gone_id], deals[into_id]
        filled = {
            k: v for k, v in gone.items() if keep.get(k) in (None, "") and v not in (None, "")
        }
        self.change("deals", into_id, **filled)
        for collection in ("activities", "notes"):
            for item in list(self.objects[collection].values()):
                if item.get("deal_id") == gone_id:
                    self.change(collection, item["id"], deal_id=into_id)
        self.remove_deal(gone_id)
        return keep

    def _list(self, collection: str, query: dict[str, str]) -> dict[str, Any]:
        items = sorted(self.objects[collection].values(), key=lambda i: (i["update_time"], i["id"]))
        if "ids" in query:
            wanted = {int(i) for i in query["ids"].split(",")}
            items = [i for i in items if i["id"] in wanted]
        if "owner_id" in query:
            items = [i for i in items if i.get("owner_id") == int(query["owner_id"])]
        if "updated_since" in query:
            items = [i for i in items if i["update_time"] >= query["updated_since"]]
        if collection == "deals":
            deleted = query.get("status") == "deleted"
            items = [i for i in items if bool(i.get("is_deleted")) == deleted]
        elif not (collection == "activities" and self.lists_deleted_activities):
            items = [i for i in items if not i.get("is_deleted")]
        start = int(base64.b64decode(query["cursor"])) if query.get("cursor") else 0
        limit = min(int(query.get("limit", 100)), self.page_size_cap)
        page = items[start : start + limit]
        answer: dict[str, Any] = {"success": True, "data": page}
        if start + limit < len(items):
            answer["additional_data"] = {
                "next_cursor": base64.b64encode(str(start + limit).encode()).decode()
            }
        return answer

    def _notes(self, query: dict[str, str]) -> dict[str, Any]:
        """GET /v1/notes: by deal or user, sorted as `sort` says, `start`/`limit` pages."""
        items = list(self.objects["notes"].values())
        for name in ("deal_id", "user_id"):
            if name in query:
                items = [n for n in items if n.get(name) == int(query[name])]
        field, _, direction = query.get("sort", "id ASC").partition(" ")
        items.sort(key=lambda n: (n.get(field) or "", n["id"]), reverse=direction == "DESC")
        start = int(query.get("start", 0))
        limit = min(int(query.get("limit", 100)), self.page_size_cap)
        more = start + limit < len(items)
        page: dict[str, Any] = {"start": start, "limit": limit, "more_items_in_collection": more}
        if more:
            page["next_start"] = start + limit
        return {
            "success": True,
            "data": items[start : start + limit],
            "additional_data": {"pagination": page},
        }

    # ------------------------------------------------------------ the contract

    def check(
        self,
        method: str,
        raw_path: str,
        body: bytes,
        headers: dict[str, str],
        status: int,
        answer: dict[str, Any],
    ) -> None:
        parts = urlsplit(raw_path)
        version = parts.path.split("/")[2]
        spec = specs()[version]
        request = MockRequest(
            "http://127.0.0.1",
            method,
            parts.path,
            args=dict(parse_qsl(parts.query)),
            headers=headers,
            data=body or None,
        )
        try:
            spec.validate_request(request)
        except Exception as exc:
            self.errors.append(f"request {method} {raw_path}: {_why(exc)}")
            return
        if status == 599:
            return
        response = MockResponse(json.dumps(answer).encode(), status_code=status)
        try:
            spec.validate_response(request, response)
        except Exception as exc:
            if "Unknown response" in type(exc).__name__ or "ResponseNotFound" in type(exc).__name__:
                # Not in the documents (429, 5xx, most 4xx): the common error shape.
                if answer.get("success") is not False or not isinstance(answer.get("error"), str):
                    self.errors.append(f"response {status} to {method} {raw_path}: {answer}")
                return
            self.errors.append(f"response {status} to {method} {raw_path}: {_why(exc)}")


def _why(exc: Exception) -> str:
    causes = [str(exc)]
    inner = exc.__cause__
    while inner is not None:
        causes.append(str(inner)[:300])
        inner = inner.__cause__
    for attr in ("schema_errors", "errors"):
        for error in getattr(exc.__cause__, attr, None) or []:
            causes.append(str(getattr(error, "message", error))[:300])
    return " | ".join(causes)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Keep-alive, as Pipedrive serves it: a client that opened a connection per request
    # would pass here and crawl there.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, the second waits for
    # the client's delayed ACK (~40 ms a response on Linux), a wait Pipedrive does not have.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        api = self.server.api
        api.arrived.set()  # before the gate: a request is on its way
        api.gate.wait(60)
        if (raw := api.raw_answer(self.command, self.path)) is not None:
            api.log.append((self.command, urlsplit(self.path).path))
            self.send_response(raw.status)
            for name, value in raw.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(raw.body or b"")))
            self.end_headers()
            self.wfile.write(raw.body or b"")
            return
        status, answer, extra = api.handle(self.command, self.path, body, headers)
        api.check(self.command, self.path, body, headers, status, answer)
        if status == 599:
            self.close_connection = True
            return
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (the sync giving up on a slow or endless answer, as
    some tests make it) is no error of the server's: socketserver would print a traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Server(QuietServer):
    api: Pipedrive


def start() -> tuple[_Server, Pipedrive, str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.api = Pipedrive()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, server.api, f"http://127.0.0.1:{server.server_address[1]}"
