"""Read API of the embedded case store, and the outbox as supervisors see it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from case_stubs.keys import OUTBOX, STUB_PUSHER, STUB_SERVICE
from case_stubs.models import OutboxState
from case_stubs.schema import schema
from case_stubs.service import StubNotFound
from storage import audit
from web.accounts import Role
from web.auth import current_user, json_error, require
from web.keys import DATABASE, SETTINGS
from web.openapi import api_doc

LIST_LIMIT_MAX = 500
STUB_ID = {"type": "string", "format": "uuid"}


def _stub_id(request: web.Request) -> str:
    raw = request.match_info["stub_id"]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise json_error(web.HTTPBadRequest, "not a stub id (a UUID)", stub_id=raw[:64]) from None


def _since(request: web.Request) -> datetime:
    raw = request.query.get("since", "")
    if not raw:
        raise json_error(web.HTTPBadRequest, "give since= (RFC 3339 time)", field="since")
    try:
        since = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise json_error(
            web.HTTPBadRequest,
            "since must be an RFC 3339 time with its offset",
            field="since",
            value=raw[:64],
        ) from None
    if since.tzinfo is None:
        raise json_error(web.HTTPBadRequest, "since needs a UTC offset", field="since")
    return since.astimezone(UTC)


def _limit(request: web.Request, default: int = 200) -> int:
    raw = request.query.get("limit", str(default))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= LIST_LIMIT_MAX:
        raise json_error(
            web.HTTPBadRequest,
            f"limit must be 1 to {LIST_LIMIT_MAX}",
            field="limit",
            value=raw[:16],
        )
    return int(raw)


@require()
@api_doc(
    "One case stub (caller numbers masked unless you handled the contact or supervise); "
    "every view is audited; the body follows GET /api/case-stubs/schema",
    tags=("case stubs",),
    responses={404: "no such stub"},
)
async def get_stub(request: web.Request) -> web.Response:
    stub_id = _stub_id(request)
    try:
        body = await request.app[STUB_SERVICE].get(stub_id, current_user(request))
    except StubNotFound:
        raise json_error(web.HTTPNotFound, "no such stub", stub_id=stub_id) from None
    return web.json_response(body)


@require(Role.SUPERVISOR)
@api_doc(
    "Stubs changed since a time, oldest change first; page with the last updated_at",
    tags=("case stubs",),
    query={
        "since": {"type": "string", "format": "date-time"},
        "limit": {"type": "integer", "minimum": 1, "maximum": LIST_LIMIT_MAX},
    },
)
async def list_stubs(request: web.Request) -> web.Response:
    since, limit = _since(request), _limit(request)
    stubs = await request.app[STUB_SERVICE].list_since(since, current_user(request), limit)
    return web.json_response({"stubs": stubs, "count": len(stubs)})


@require()
@api_doc("The JSON Schema every stub is validated against (contracts/)", tags=("case stubs",))
async def stub_schema(request: web.Request) -> web.Response:
    return web.json_response(dict(schema()))


@require(Role.SUPERVISOR)
@api_doc(
    "Delivery to the case store: pending and parked counts, the parked stubs",
    tags=("case stubs",),
)
async def outbox(request: web.Request) -> web.Response:
    url = request.app[SETTINGS].case_store.url
    summary: dict[str, Any] = await request.app[OUTBOX].summary()
    summary["mode"] = "external" if url else "embedded"
    summary["case_store"] = url.split("://", 1)[-1].split("/", 1)[0] if url else None
    return web.json_response(summary)


@require(Role.SUPERVISOR)
@api_doc(
    "Send a parked stub again (after the case store's operator fixed the cause)",
    tags=("case stubs",),
    responses={404: "no such stub in the outbox", 409: "not parked"},
)
async def retry_parked(request: web.Request) -> web.Response:
    stub_id = _stub_id(request)
    found = await request.app[OUTBOX].requeue(stub_id)
    if found is None:
        raise json_error(web.HTTPNotFound, "this stub is not in the outbox", stub_id=stub_id)
    previous, revision = found
    if previous != OutboxState.PARKED.value:
        raise json_error(web.HTTPConflict, "only a parked stub can be retried", state=previous)
    async with request.app[DATABASE].session() as session:
        await audit.record(
            session,
            current_user(request).username,
            "outbox_retry",
            "case_stub",
            stub_id,
            after={"revision": revision},
        )
    pusher = request.app.get(STUB_PUSHER)
    if pusher is not None:
        pusher.wake()
    return web.json_response(
        {"stub_id": stub_id, "revision": revision, "state": OutboxState.PENDING.value}
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/case-stubs", list_stubs)
    app.router.add_get("/api/case-stubs/schema", stub_schema)
    app.router.add_get("/api/case-stubs/{stub_id}", get_stub)
    app.router.add_get("/api/outbox", outbox)
    app.router.add_post("/api/outbox/{stub_id}/retry", retry_parked)
