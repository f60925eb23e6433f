"""The routing REST API and the supervisor page.

Agent state endpoints (for the agent page's buttons): `POST /api/agents/{agent_id}/login`,
`/logout`, `/pause` `{"reason": "break"|"training"|"meeting"|"after_call_work"}`, `/unpause`,
and `GET /api/agents/me/state`. `{agent_id}` may be `me`. An agent may change only their own
state (403 otherwise); a supervisor anyone's.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from agent_routing.agent_states import LogAgentIn, LogAgentOut, PauseAgent, UnpauseAgent
from agent_routing.apply import ApplyRoster
from agent_routing.asterisk_queues import AsteriskQueues
from agent_routing.callback_store import OPEN_STATUSES, Callback, CallbackStore
from agent_routing.callbacks import CancelCallback
from agent_routing.explain import ExplainRouting
from agent_routing.floor import ReadFloor
from agent_routing.presence import PAUSE_REASONS
from agent_routing.skills import RoutingDefinition
from ami import AmiError
from ivr.definition import ivr_definition
from shift_schedule.http_support import checked_body, roster_errors
from storage import Database
from web.accounts import Role
from web.auth import current_user, json_error, require
from web.openapi import api_doc
from web.pages import page

TAGS = ("routing",)
STATE_TAGS = ("agent state",)
CLOSED = ("answered", "unanswered", "cancelled")


@dataclass(frozen=True)
class RoutingServices:
    db: Database
    definition: RoutingDefinition
    floor: ReadFloor
    explain: ExplainRouting
    login: LogAgentIn
    logout: LogAgentOut
    pause: PauseAgent
    unpause: UnpauseAgent
    cancel_callback: CancelCallback
    apply: ApplyRoster | None  # None without AMI (web-only runs)
    queues: AsteriskQueues | None


ROUTING: web.AppKey[RoutingServices] = web.AppKey("routing", RoutingServices)

PAUSE_SCHEMA = {
    "type": "object", "required": ["reason"], "additionalProperties": False,
    "properties": {"reason": {"type": "string", "enum": list(PAUSE_REASONS)}},
}


def _services(request: web.Request) -> RoutingServices:
    return request.app[ROUTING]


def _agent_id(request: web.Request) -> str:
    wanted = request.match_info.get("agent_id", "me")
    if wanted != "me":
        return wanted
    own = current_user(request).agent_id
    if own is None:
        raise json_error(web.HTTPNotFound, "your account is not linked to an agent")
    return own


@require(Role.SUPERVISOR)
@api_doc("Who is on shift now, their state and time in state, and coverage warnings", tags=TAGS)
async def floor(request: web.Request) -> web.Response:
    return web.json_response(await _services(request).floor.execute())


@require()
@api_doc("Coverage warnings now (roster and live): also the wallboard's feed", tags=TAGS)
async def coverage(request: web.Request) -> web.Response:
    warnings = await _services(request).floor.warnings()
    return web.json_response({"warnings": [w.as_json() for w in warnings]})


@require()
@api_doc("The routing definition: languages, skills, queues, pause reasons", tags=TAGS)
async def definition(request: web.Request) -> web.Response:
    d = _services(request).definition
    return web.json_response({
        "languages": {c: {"name_en": lang.name_en, "name_native": lang.name_native}
                      for c, lang in d.languages.items()},
        "skills": {s.id: {"name_en": s.name_en, "name_th": s.name_th} for s in d.skills.values()},
        "queues": [{"name": q.name, "family": q.family, "language": q.language, "skill": q.skill,
                    "overflow": dict(q.overflow)} for q in d.queues],
        "pause_reasons": {k: dict(v) for k, v in PAUSE_REASONS.items()},
        "menu": {o.id: {"digit": o.digit, "label": dict(o.label)} for o in ivr_definition().menu},
    })


@require()
@api_doc("My agent state (status, pause reason, time in state)", tags=STATE_TAGS)
async def my_state(request: web.Request) -> web.Response:
    agent_id = _agent_id(request)
    mine = await _services(request).floor.agent(agent_id)
    if mine is None:
        raise json_error(web.HTTPNotFound, "unknown or deactivated agent", agent_id=agent_id)
    return web.json_response(mine)


@require()
@api_doc("Log an agent in to the phone (own state, or any as supervisor)", tags=STATE_TAGS)
@roster_errors
async def login(request: web.Request) -> web.Response:
    change = await _services(request).login.execute(current_user(request), _agent_id(request))
    return web.json_response(change.as_json())


@require()
@api_doc("Log an agent out of the phone: out of every queue", tags=STATE_TAGS)
@roster_errors
async def logout(request: web.Request) -> web.Response:
    change = await _services(request).logout.execute(current_user(request), _agent_id(request))
    return web.json_response(change.as_json())


@require()
@api_doc("Pause an agent with a reason (break, training, meeting, after_call_work)",
         tags=STATE_TAGS, request_schema=PAUSE_SCHEMA, responses={409: "not logged in"})
@roster_errors
async def pause(request: web.Request) -> web.Response:
    body = await checked_body(request, PAUSE_SCHEMA)
    change = await _services(request).pause.execute(current_user(request), _agent_id(request),
                                                    body["reason"])
    return web.json_response(change.as_json())


@require()
@api_doc("Unpause an agent", tags=STATE_TAGS)
@roster_errors
async def unpause(request: web.Request) -> web.Response:
    change = await _services(request).unpause.execute(current_user(request), _agent_id(request))
    return web.json_response(change.as_json())


@require(Role.SUPERVISOR)
@api_doc("Who would get a call in this language with this priority right now, and why",
         tags=TAGS, query={"language": {"type": "string"},
                           "priority": {"type": "string", "enum": ["critical", "urgent", "normal"]},
                           "line": {"type": "string", "enum": ["domestic", "international"]}})
@roster_errors
async def explain(request: web.Request) -> web.Response:
    q = request.query
    found = await _services(request).explain.execute(
        q.get("language", "th"), q.get("priority", "normal"), q.get("line") or None)
    return web.json_response(found.as_json())


@require(Role.SUPERVISOR)
@api_doc("Asterisk's queue membership now (QueueStatus) and the last roster application",
         tags=TAGS, responses={503: "no AMI link"})
async def queues(request: web.Request) -> web.Response:
    s = _services(request)
    if s.queues is None or s.apply is None:
        raise json_error(web.HTTPServiceUnavailable, "this server runs without Asterisk")
    try:
        found = await s.queues.members(list(s.definition.queue_names))
    except (AmiError, TimeoutError) as exc:
        raise json_error(web.HTTPServiceUnavailable, "Asterisk did not answer",
                         detail=str(exc)) from None
    by_queue: dict[str, list[dict[str, object]]] = {name: [] for name in s.definition.queue_names}
    for m in found:
        entry = {**m.spec.as_json(), "in_call": m.in_call, "status": m.status}
        by_queue[m.spec.queue].append(entry)
    last = s.apply.last.as_json() if s.apply.last else None
    return web.json_response({"queues": by_queue, "last_apply": last})


@require(Role.SUPERVISOR)
@api_doc("Apply the roster to Asterisk now (normally automatic) and report the changes",
         tags=TAGS, responses={503: "no AMI link"})
async def apply_now(request: web.Request) -> web.Response:
    s = _services(request)
    if s.apply is None:
        raise json_error(web.HTTPServiceUnavailable, "this server runs without Asterisk")
    try:
        report = await s.apply.execute()
    except (AmiError, TimeoutError) as exc:
        raise json_error(web.HTTPServiceUnavailable, "Asterisk did not answer",
                         detail=str(exc)) from None
    return web.json_response(report.as_json())


@require(Role.SUPERVISOR)
@api_doc("Callbacks with their attempts", tags=("callbacks",),
         query={"status": {"type": "string", "enum": ["open", "closed", "all"]}})
async def list_callbacks(request: web.Request) -> web.Response:
    wanted = request.query.get("status", "open")
    statuses = {"open": OPEN_STATUSES, "closed": CLOSED}.get(wanted, OPEN_STATUSES + CLOSED)
    async with _services(request).db.session() as session:
        store = CallbackStore(session)
        found = [(c, await store.attempts(c.id)) for c in await store.listing(statuses)]
    return web.json_response({"callbacks": [
        {**_callback_json(c), "attempt_log": [a.as_json() for a in attempts]}
        for c, attempts in found
    ]})


@require(Role.SUPERVISOR)
@api_doc("Cancel a waiting callback", tags=("callbacks",),
         responses={404: "unknown callback", 409: "not waiting"})
@roster_errors
async def cancel_callback(request: web.Request) -> web.Response:
    cancelled = await _services(request).cancel_callback.execute(
        current_user(request).username, request.match_info["callback_id"])
    return web.json_response(_callback_json(cancelled))


def _callback_json(c: Callback) -> dict[str, object]:
    return {
        "id": c.id, "call_id": c.linkedid, "line": c.line, "language": c.language,
        "number": c.number, "message": c.message, "status": c.status, "attempts": c.attempts,
        "next_attempt_at": c.next_attempt_at.isoformat(),
        "requested_at": c.requested_at.isoformat(),
        "finished_at": c.finished_at.isoformat() if c.finished_at else None,
    }


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/supervisor", page("supervisor.html", Role.SUPERVISOR))
    r.add_get("/api/floor", floor)
    r.add_get("/api/coverage", coverage)
    r.add_get("/api/routing/definition", definition)
    r.add_get("/api/routing/explain", explain)
    r.add_get("/api/routing/queues", queues)
    r.add_post("/api/routing/apply", apply_now)
    r.add_get("/api/agents/me/state", my_state)
    r.add_post("/api/agents/{agent_id}/login", login)
    r.add_post("/api/agents/{agent_id}/logout", logout)
    r.add_post("/api/agents/{agent_id}/pause", pause)
    r.add_post("/api/agents/{agent_id}/unpause", unpause)
    r.add_get("/api/callbacks", list_callbacks)
    r.add_post("/api/callbacks/{callback_id}/cancel", cancel_callback)
