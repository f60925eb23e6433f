"""HTTP API of caller flags: list (supervisors), flag a caller, lift a flag."""

from __future__ import annotations

from aiohttp import web

from caller_flags.keys import FLAG_CALLER, FLAG_STORE, LIFT_FLAG
from caller_flags.service import REASON_MAX, FlagNotAllowed, FlagNotFound
from case_stubs.service import StubNotFound
from outcomes.errors import Invalid
from outcomes.taxonomy import taxonomy
from web.accounts import Role
from web.auth import current_user, json_error, require
from web.keys import DATABASE
from web.openapi import api_doc
from web.pages import read_json

FLAG_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "reason"],
    "properties": {
        "kind": {"type": "string", "enum": list(taxonomy().caller_flags.ids)},
        "reason": {"type": "string", "minLength": 1, "maxLength": REASON_MAX},
        "days": {"type": "integer", "minimum": 1},
        "stub_id": {"type": "string", "description": "flag the caller of this contact"},
        "number": {"type": "string", "description": "supervisors only: the number itself"},
    },
}


@require(Role.SUPERVISOR)
@api_doc("Active caller flags (full numbers), newest first. No number filter on purpose: a "
         "caller's number never goes into a URL (access logs, proxies)", tags=("caller flags",),
         query={"kind": {"type": "string", "enum": list(taxonomy().caller_flags.ids)}})
async def list_flags(request: web.Request) -> web.Response:
    viewer = current_user(request)
    async with request.app[DATABASE].session() as session:
        flags = await request.app[FLAG_STORE].active(session, request.query.get("kind") or None)
    return web.json_response({"flags": [f.as_json(viewer, taxonomy()) for f in flags]})


@require()
@api_doc("Flag a caller as repeat, test or abusive, with a reason and an expiry (days; default "
         "per kind). Agents flag the caller of a contact they handled (stub_id); supervisors may "
         "give the number", tags=("caller flags",), request_schema=FLAG_SCHEMA,
         responses={201: "flagged", 404: "no such stub"})
async def create_flag(request: web.Request) -> web.Response:
    actor = current_user(request)
    body = await read_json(request)
    try:
        flag = await request.app[FLAG_CALLER](body, actor)
    except Invalid as exc:
        raise exc.as_http() from None
    except StubNotFound:
        raise json_error(
            web.HTTPNotFound, "no such case stub", stub_id=body.get("stub_id")
        ) from None
    except FlagNotAllowed as exc:
        raise json_error(web.HTTPForbidden, str(exc)) from None
    return web.json_response({"flag": flag.as_json(actor, taxonomy())}, status=201)


@require()
@api_doc("Lift a caller flag before it expires (a supervisor, or whoever set it)",
         tags=("caller flags",), responses={404: "no such active flag"})
async def lift_flag(request: web.Request) -> web.Response:
    actor = current_user(request)
    raw = request.match_info["flag_id"]
    # isascii: "²" passes isdigit() but not int(); the bound: ids are INTEGER columns.
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**31:
        raise json_error(web.HTTPBadRequest, "a flag id is a whole number", flag_id=raw[:32])
    try:
        await request.app[LIFT_FLAG](int(raw), actor)
    except FlagNotFound:
        raise json_error(web.HTTPNotFound, "no such active flag", flag_id=int(raw)) from None
    except FlagNotAllowed as exc:
        raise json_error(web.HTTPForbidden, str(exc)) from None
    return web.json_response({"ok": True, "flag_id": int(raw)})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/caller-flags", list_flags)
    app.router.add_post("/api/caller-flags", create_flag)
    app.router.add_delete("/api/caller-flags/{flag_id}", lift_flag)
