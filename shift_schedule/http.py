"""The roster REST API: the week by shift, shifts, agents, assignments (add / cover, move,
swap, remove) and absences. Reading is open to every signed-in user; changing is for supervisors.
Every change is audited by its use case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from aiohttp import web
from sqlalchemy import or_, select

from shift_schedule.catalog import CreateAgentAccount, SaveAgent, SaveShift
from shift_schedule.clock import Clock
from shift_schedule.editing import (
    AddAssignment,
    CancelAbsence,
    MarkAbsent,
    MoveAssignment,
    RemoveAssignment,
    SwapAssignments,
)
from shift_schedule.http_support import (
    DATE,
    ID,
    TIME,
    checked_body,
    parse_day,
    path_int,
    roster_errors,
)
from shift_schedule.model import Agent, ShiftDef, parse_minute
from shift_schedule.queries import ReadWeek
from shift_schedule.store import RosterStore
from storage import Database
from storage.audit import AuditEntry
from web.accounts import Role
from web.auth import current_user, require
from web.openapi import api_doc

TAGS = ("roster",)
# Audit actions shown as the roster's trail.
AUDITED = ("roster.", "agent.", "account.")


@dataclass(frozen=True)
class RosterServices:
    db: Database
    clock: Clock
    tz: tzinfo
    read_week: ReadWeek
    add: AddAssignment
    remove: RemoveAssignment
    move: MoveAssignment
    swap: SwapAssignments
    absent: MarkAbsent
    cancel_absence: CancelAbsence
    save_shift: SaveShift
    save_agent: SaveAgent
    create_account: CreateAgentAccount


ROSTER: web.AppKey[RosterServices] = web.AppKey("roster", RosterServices)

ASSIGN_SCHEMA = {
    "type": "object", "required": ["agent_id", "shift_id", "day"], "additionalProperties": False,
    "properties": {"agent_id": {"type": "string"}, "shift_id": {"type": "string"}, "day": DATE,
                   "covers_agent_id": {"type": ["string", "null"]}},
}
MOVE_SCHEMA = {
    "type": "object", "required": ["shift_id", "day"], "additionalProperties": False,
    "properties": {"shift_id": {"type": "string"}, "day": DATE},
}
SWAP_SCHEMA = {
    "type": "object", "required": ["first", "second"], "additionalProperties": False,
    "properties": {"first": ID, "second": ID},
}
ABSENCE_SCHEMA = {
    "type": "object", "required": ["agent_id", "day", "reason"], "additionalProperties": False,
    "properties": {"agent_id": {"type": "string"}, "day": DATE,
                   "shift_id": {"type": ["string", "null"], "description": "null: the whole day"},
                   "reason": {"type": "string", "minLength": 1, "maxLength": 200},
                   "cover_agent_id": {"type": ["string", "null"]}},
}
SHIFT_SCHEMA = {
    "type": "object", "required": ["name_th", "name_en", "start", "end"],
    "additionalProperties": False,
    "properties": {"id": {"type": "string"}, "name_th": {"type": "string", "minLength": 1},
                   "name_en": {"type": "string", "minLength": 1}, "start": TIME, "end": TIME},
}
AGENT_SCHEMA = {
    "type": "object", "required": ["name", "endpoint", "languages", "skills"],
    "additionalProperties": False,
    "properties": {"id": {"type": "string"}, "name": {"type": "string", "maxLength": 200},
                   "endpoint": {"type": "string"},
                   "languages": {"type": "array", "items": {"type": "string"}},
                   "skills": {"type": "array", "items": {"type": "string"}},
                   "active": {"type": "boolean"}},
}
NEW_SHIFT_SCHEMA = {**SHIFT_SCHEMA, "required": ["id", "name_th", "name_en", "start", "end"]}
NEW_AGENT_SCHEMA = {**AGENT_SCHEMA, "required": ["id", "name", "endpoint", "languages", "skills"]}
ACCOUNT_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {"username": {"type": "string", "pattern": "^[a-z0-9._-]{2,64}$"}},
}


def _services(request: web.Request) -> RosterServices:
    return request.app[ROSTER]


def _actor(request: web.Request) -> str:
    return current_user(request).username


@require()
@api_doc("The roster of seven days from `start` (default: today), by shift, with coverage "
         "warnings", tags=TAGS, query={"start": DATE})
@roster_errors
async def week(request: web.Request) -> web.Response:
    s = _services(request)
    start = request.query.get("start")
    first = parse_day(start, "start") if start else s.clock.now().astimezone(s.tz).date()
    return web.json_response(await s.read_week.execute(first))


@require()
@api_doc("Shift definitions", tags=TAGS)
async def list_shifts(request: web.Request) -> web.Response:
    async with _services(request).db.session() as session:
        shifts = await RosterStore(session).shifts()
    return web.json_response({"shifts": [s.as_json() for s in shifts]})


@require(Role.SUPERVISOR)
@api_doc("Create a shift definition (start/end within 00:00-24:00; end not after start = "
         "crosses midnight)", tags=TAGS, request_schema=SHIFT_SCHEMA, responses={409: "id exists"})
@roster_errors
async def create_shift(request: web.Request) -> web.Response:
    body = await checked_body(request, NEW_SHIFT_SCHEMA)
    saved = await _services(request).save_shift.execute(_actor(request), _shift(body["id"], body),
                                                       create=True)
    return web.json_response(saved.as_json(), status=201)


@require(Role.SUPERVISOR)
@api_doc("Change a shift's names or hours; refused if it would make an agent's assignments "
         "overlap", tags=TAGS, request_schema=SHIFT_SCHEMA, responses={404: "unknown shift",
                                                                      409: "overlap"})
@roster_errors
async def update_shift(request: web.Request) -> web.Response:
    body = await checked_body(request, SHIFT_SCHEMA)
    shift = _shift(request.match_info["shift_id"], body)
    saved = await _services(request).save_shift.execute(_actor(request), shift, create=False)
    return web.json_response(saved.as_json())


@require()
@api_doc("Agents: languages, skills, phone endpoint", tags=TAGS)
async def list_agents(request: web.Request) -> web.Response:
    async with _services(request).db.session() as session:
        agents = await RosterStore(session).agents()
    return web.json_response({"agents": [a.as_json() for a in agents.values()]})


@require(Role.SUPERVISOR)
@api_doc("Create an agent", tags=TAGS, request_schema=AGENT_SCHEMA, responses={409: "id exists"})
@roster_errors
async def create_agent(request: web.Request) -> web.Response:
    body = await checked_body(request, NEW_AGENT_SCHEMA)
    saved = await _services(request).save_agent.execute(_actor(request), _agent(body["id"], body),
                                                       create=True)
    return web.json_response(saved.as_json(), status=201)


@require(Role.SUPERVISOR)
@api_doc("Change an agent (name, endpoint, languages, skills, active)", tags=TAGS,
         request_schema=AGENT_SCHEMA, responses={404: "unknown agent"})
@roster_errors
async def update_agent(request: web.Request) -> web.Response:
    body = await checked_body(request, AGENT_SCHEMA)
    agent = _agent(request.match_info["agent_id"], body)
    saved = await _services(request).save_agent.execute(_actor(request), agent, create=False)
    return web.json_response(saved.as_json())


@require(Role.SUPERVISOR)
@api_doc("Create the agent's web account; the generated password is in this answer only",
         tags=TAGS, request_schema=ACCOUNT_SCHEMA, responses={409: "account exists"})
@roster_errors
async def create_account(request: web.Request) -> web.Response:
    body = await checked_body(request, ACCOUNT_SCHEMA)
    agent_id = request.match_info["agent_id"]
    username = str(body.get("username") or agent_id.lower())
    user, password = await _services(request).create_account.execute(_actor(request), agent_id,
                                                                      username)
    return web.json_response({"username": user.username, "agent_id": user.agent_id,
                              "password": password}, status=201)


@require(Role.SUPERVISOR)
@api_doc("Put an agent on a shift (extra staff, or cover with covers_agent_id)", tags=TAGS,
         request_schema=ASSIGN_SCHEMA,
         responses={404: "unknown agent or shift", 409: "overlapping assignment, or shift over"})
@roster_errors
async def add_assignment(request: web.Request) -> web.Response:
    body = await checked_body(request, ASSIGN_SCHEMA)
    added = await _services(request).add.execute(
        _actor(request), body["agent_id"], body["shift_id"], parse_day(body["day"], "day"),
        body.get("covers_agent_id"),
    )
    return web.json_response(added.as_json(), status=201)


@require(Role.SUPERVISOR)
@api_doc("Take an agent off a shift", tags=TAGS, responses={404: "unknown assignment"})
@roster_errors
async def remove_assignment(request: web.Request) -> web.Response:
    removed = await _services(request).remove.execute(_actor(request),
                                                      path_int(request, "assignment_id"))
    return web.json_response({"removed": removed.as_json()})


@require(Role.SUPERVISOR)
@api_doc("Move an assignment to another shift and/or day", tags=TAGS, request_schema=MOVE_SCHEMA,
         responses={404: "unknown assignment or shift", 409: "overlap, or shift over"})
@roster_errors
async def move_assignment(request: web.Request) -> web.Response:
    body = await checked_body(request, MOVE_SCHEMA)
    moved = await _services(request).move.execute(
        _actor(request), path_int(request, "assignment_id"), body["shift_id"],
        parse_day(body["day"], "day"),
    )
    return web.json_response(moved.as_json())


@require(Role.SUPERVISOR)
@api_doc("Swap the agents of two assignments", tags=TAGS, request_schema=SWAP_SCHEMA,
         responses={404: "unknown assignment", 409: "overlap, or shift over"})
@roster_errors
async def swap(request: web.Request) -> web.Response:
    body = await checked_body(request, SWAP_SCHEMA)
    first, second = await _services(request).swap.execute(_actor(request), body["first"],
                                                          body["second"])
    return web.json_response({"assignments": [first.as_json(), second.as_json()]})


@require(Role.SUPERVISOR)
@api_doc("Mark an agent absent (a shift, or the whole day), optionally with a cover agent",
         tags=TAGS, request_schema=ABSENCE_SCHEMA,
         responses={404: "unknown agent", 409: "not rostered, already absent, overlap"})
@roster_errors
async def mark_absent(request: web.Request) -> web.Response:
    body = await checked_body(request, ABSENCE_SCHEMA)
    absence, cover = await _services(request).absent.execute(
        _actor(request), body["agent_id"], parse_day(body["day"], "day"), body.get("shift_id"),
        body["reason"], body.get("cover_agent_id"),
    )
    return web.json_response({"absence": absence.as_json(),
                              "cover": cover.as_json() if cover else None}, status=201)


@require(Role.SUPERVISOR)
@api_doc("Cancel an absence (the agent works after all)", tags=TAGS,
         responses={404: "unknown absence"})
@roster_errors
async def cancel_absence(request: web.Request) -> web.Response:
    absence = await _services(request).cancel_absence.execute(_actor(request),
                                                              path_int(request, "absence_id"))
    return web.json_response({"cancelled": absence.as_json()})


@require(Role.SUPERVISOR)
@api_doc("The roster's audit trail: who changed what, when, before and after", tags=TAGS,
         query={"limit": {"type": "integer", "minimum": 1, "maximum": 1000}})
async def audit_trail(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "100")
    limit = min(int(raw), 1000) if raw.isascii() and raw.isdigit() and int(raw) > 0 else 100
    query = (select(AuditEntry).where(or_(*(AuditEntry.action.like(f"{p}%") for p in AUDITED)))
             .order_by(AuditEntry.id.desc()).limit(limit))
    async with _services(request).db.session() as session:
        entries = list((await session.execute(query)).scalars())
    return web.json_response({"entries": [
        {"at": e.at.isoformat(), "actor": e.actor, "action": e.action,
         "subject_type": e.subject_type, "subject_id": e.subject_id, "before": e.before,
         "after": e.after} for e in entries
    ]})


def _shift(shift_id: str, body: dict[str, Any]) -> ShiftDef:
    return ShiftDef(shift_id, body["name_th"], body["name_en"], parse_minute(body["start"]),
                    parse_minute(body["end"]))


def _agent(agent_id: str, body: dict[str, Any]) -> Agent:
    return Agent(agent_id, body["name"], body["endpoint"], frozenset(body["languages"]),
                 frozenset(body["skills"]), bool(body.get("active", True)))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/roster/week", week)
    r.add_get("/api/roster/shifts", list_shifts)
    r.add_post("/api/roster/shifts", create_shift)
    r.add_put("/api/roster/shifts/{shift_id}", update_shift)
    r.add_get("/api/roster/agents", list_agents)
    r.add_post("/api/roster/agents", create_agent)
    r.add_put("/api/roster/agents/{agent_id}", update_agent)
    r.add_post("/api/roster/agents/{agent_id}/account", create_account)
    r.add_post("/api/roster/assignments", add_assignment)
    r.add_delete("/api/roster/assignments/{assignment_id}", remove_assignment)
    r.add_post("/api/roster/assignments/{assignment_id}/move", move_assignment)
    r.add_post("/api/roster/swap", swap)
    r.add_post("/api/roster/absences", mark_absent)
    r.add_delete("/api/roster/absences/{absence_id}", cancel_absence)
    r.add_get("/api/roster/audit", audit_trail)
