"""HTTP API of the outcome form: the taxonomy, saving an outcome, recording a non-call contact."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from case_stubs.service import Stub, StubNotFound, view_for
from outcomes.errors import Invalid
from outcomes.keys import RECORD_CONTACT, SAVE_OUTCOME, TAXONOMY
from outcomes.schemas import contact_schema, outcome_schema
from outcomes.service import NotYours
from outcomes.taxonomy import taxonomy
from web.accounts import User
from web.auth import current_user, json_error, require
from web.openapi import api_doc
from web.pages import read_json

STUB_RESPONSE = {"type": "object", "properties": {"stub": {"type": "object"}}}


@require()
@api_doc("The Ministry's contact taxonomy (categories, problem types, target groups, referral "
         "urgency and destinations, provinces, intake channels, caller flag kinds), Thai and "
         "English labels", tags=("outcomes",))
async def get_taxonomy(request: web.Request) -> web.Response:
    return web.json_response(request.app[TAXONOMY].as_json())


@require()
@api_doc("Save the agent's outcome of a contact: validated against the taxonomy, stored as a new "
         "stub revision and pushed to the case store. Agents may save only contacts they handled.",
         tags=("outcomes",), request_schema=outcome_schema(taxonomy()),
         response_schema=STUB_RESPONSE,
         responses={404: "no such stub", 403: "the contact was handled by another agent"})
async def save_outcome(request: web.Request) -> web.Response:
    actor = current_user(request)
    stub_id = request.match_info["stub_id"]
    body = await read_json(request)
    try:
        stub = await request.app[SAVE_OUTCOME](stub_id, body, actor)
    except Invalid as exc:
        raise exc.as_http() from None
    except StubNotFound:
        raise json_error(web.HTTPNotFound, "no such case stub", stub_id=stub_id) from None
    except NotYours:
        raise json_error(
            web.HTTPForbidden, "this contact was handled by another agent", stub_id=stub_id
        ) from None
    return web.json_response({"stub": _shown(stub, actor)})


@require()
@api_doc("Record a contact that did not come in by phone (walk-in, LINE, social media, ESS Help "
         "Me, OSCC web site, operations centre or agency referral); it becomes a case stub like a "
         "call, with the outcome when given", tags=("outcomes",),
         request_schema=contact_schema(taxonomy()), response_schema=STUB_RESPONSE,
         responses={201: "created"})
async def record_contact(request: web.Request) -> web.Response:
    actor = current_user(request)
    body = await read_json(request)
    try:
        stub = await request.app[RECORD_CONTACT](body, actor)
    except Invalid as exc:
        raise exc.as_http() from None
    return web.json_response({"stub": _shown(stub, actor)}, status=201)


def _shown(stub: Stub, viewer: User) -> dict[str, Any]:
    return view_for(viewer, stub.body, stub.handled_by)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/taxonomy", get_taxonomy)
    app.router.add_put("/api/case-stubs/{stub_id}/outcome", save_outcome)
    app.router.add_post("/api/contacts", record_contact)
