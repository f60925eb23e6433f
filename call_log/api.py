"""Call records for supervisors: a time range, one call with its steps, the calls going on now."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from aiohttp import web

from call_log.keys import CALL_STORE, CALL_TRACKER, RECONCILER
from call_log.record import CallSnapshot, StepEntry
from web.accounts import Role
from web.auth import json_error, require
from web.keys import SETTINGS
from web.openapi import api_doc

LIMIT_MAX = 5000
_TIMES = ("received_at", "queued_at", "answered_at", "ended_at")


def call_json(call: CallSnapshot, tz: tzinfo) -> dict[str, Any]:
    """A call with its times in the centre's zone and offset (RFC 3339)."""
    body = asdict(call)
    for name in _TIMES:
        moment = getattr(call, name)
        body[name] = moment.astimezone(tz).isoformat(timespec="milliseconds") if moment else None
    body["ivr_path"] = list(call.ivr_path)
    body["ringing_agents"] = list(call.ringing_agents)
    body["transfers"] = list(call.transfers)
    body["related_stub_id"] = call.related_stub_id
    return body


def _step_json(step: StepEntry, tz: tzinfo) -> dict[str, Any]:
    return {
        "at": step.at.astimezone(tz).isoformat(timespec="milliseconds"),
        "step": step.step,
        **step.detail,
    }


def _time(request: web.Request, name: str, default: datetime | None) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise json_error(
            web.HTTPBadRequest, f"{name} must be an RFC 3339 time", field=name, value=raw[:64]
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=request.app[SETTINGS].timezone)
    return moment.astimezone(UTC)


@require(Role.SUPERVISOR)
@api_doc(
    "Calls received in a time range (default: the last 24 hours), oldest first",
    tags=("calls",),
    query={
        "since": {"type": "string", "format": "date-time"},
        "until": {"type": "string", "format": "date-time"},
        "limit": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX},
    },
)
async def list_calls(request: web.Request) -> web.Response:
    since = _time(request, "since", datetime.now(UTC) - timedelta(days=1))
    until = _time(request, "until", None)
    raw_limit = request.query.get("limit", "1000")
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= LIMIT_MAX:
        raise json_error(web.HTTPBadRequest, f"limit must be 1 to {LIMIT_MAX}", field="limit")
    assert since is not None
    calls = await request.app[CALL_STORE].between(since, until, int(raw_limit))
    tz = request.app[SETTINGS].timezone
    return web.json_response({"calls": [call_json(c, tz) for c in calls], "count": len(calls)})


@require(Role.SUPERVISOR)
@api_doc("Calls going on now, as the tracker sees them", tags=("calls",))
async def live_calls(request: web.Request) -> web.Response:
    tz = request.app[SETTINGS].timezone
    calls = request.app[CALL_TRACKER].live_calls
    return web.json_response({"calls": [call_json(c, tz) for c in calls]})


@require(Role.SUPERVISOR)
@api_doc(
    "One call and its steps (IVR choices, queue, rings, answer, transfers, end)",
    tags=("calls",),
    responses={404: "no such call"},
)
async def get_call(request: web.Request) -> web.Response:
    linkedid = request.match_info["linkedid"][:64]
    store = request.app[CALL_STORE]
    call = await store.get(linkedid)
    if call is None:
        raise json_error(web.HTTPNotFound, "no such call", linkedid=linkedid)
    tz = request.app[SETTINGS].timezone
    steps = [_step_json(s, tz) for s in await store.steps(linkedid)]
    return web.json_response({**call_json(call, tz), "steps": steps})


@require(Role.SUPERVISOR)
@api_doc("Reconcile now with Asterisk's CEL and queue_log (normally automatic)", tags=("calls",))
async def reconcile_now(request: web.Request) -> web.Response:
    report = await request.app[RECONCILER].reconcile()
    return web.json_response({**asdict(report), "rebuilt": list(report.rebuilt)})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/live", live_calls)
    app.router.add_get("/api/calls/{linkedid}", get_call)
    app.router.add_post("/api/calls/reconcile", reconcile_now)
