"""The call-log and case-stub HTTP APIs on the whole app (embedded case store, no AMI)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web
from aiohttp.test_utils import TestClient

from call_log.keys import CALL_TRACKER
from case_stubs.keys import STUB_SERVICE
from storage import audit
from tests.calls.conftest import recorded_events
from tests.conftest import sign_in
from web.accounts import Role, User
from web.keys import DATABASE

WALK_IN_AGENT = User(99, "agent1", "Agent One", Role.AGENT, "A001")


async def answered_call(web_app: TestClient[web.Request, web.Application]) -> str:
    tracker = web_app.app[CALL_TRACKER]
    for event in recorded_events("answered.ami"):
        await tracker.on_event(event)
    await tracker.flush()
    return "1795591196.0"


async def test_stub_view_masks_for_other_agents_and_is_audited(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    stub = await web_app.app[STUB_SERVICE].create_contact(
        channel="line",
        dialed="LINE @1300",
        caller_number="+66812345678",
        language="th",
        priority="normal",
        actor=User(5, "agent5", "Agent Five", Role.AGENT, "A005"),
    )
    agent = await sign_in(web_app, "agent1", "agent-pass")
    r = await agent.get(f"/api/case-stubs/{stub.id}")
    assert r.status == 200
    body = await r.json()
    assert body["caller"]["number"] == "+6681****5678"
    assert body["revision"] == 1 and body["channel"] == "line"
    async with web_app.app[DATABASE].session() as s:
        [view] = [e for e in await audit.entries(s, subject_id=stub.id) if e.action == "view"]
    assert view.actor == "agent1"


async def test_stub_view_errors(web_app: TestClient[web.Request, web.Application]) -> None:
    assert (await web_app.get("/api/case-stubs/00000000-0000-4000-8000-000000000000")).status == 401
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.get("/api/case-stubs/not-a-uuid")
    assert r.status == 400 and (await r.json())["stub_id"] == "not-a-uuid"
    r = await sup.get("/api/case-stubs/00000000-0000-4000-8000-000000000000")
    assert r.status == 404 and "no such stub" in (await r.json())["error"]


async def test_supervisor_lists_stubs_changed_since(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    await answered_call(web_app)
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.get("/api/case-stubs?since=" + quote("2000-01-01T00:00:00+07:00"))
    body = await r.json()
    assert r.status == 200 and body["count"] == 1
    assert body["stubs"][0]["caller"]["number"] == "+66812345678"
    assert (await sup.get("/api/case-stubs")).status == 400
    bad = await sup.get("/api/case-stubs?since=yesterday")
    assert bad.status == 400 and (await bad.json())["field"] == "since"
    web_app.session.cookie_jar.clear()
    agent = await sign_in(web_app, "agent1", "agent-pass")
    assert (await agent.get("/api/case-stubs?since=2000-01-01T00:00:00Z")).status == 403


async def test_outbox_in_embedded_mode(web_app: TestClient[web.Request, web.Application]) -> None:
    await answered_call(web_app)
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    body = await (await sup.get("/api/outbox")).json()
    assert body["mode"] == "embedded"
    assert (body["pending"], body["parked"]) == (0, 0), "nothing to push without a case store"
    r = await sup.write("POST", "/api/outbox/00000000-0000-4000-8000-000000000000/retry")
    assert r.status == 404


async def test_calls_api_shows_the_record_with_bangkok_times(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    linkedid = await answered_call(web_app)
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.get("/api/calls?since=" + quote("2026-11-25T00:00:00+07:00"))
    [call] = (await r.json())["calls"]
    assert call["linkedid"] == linkedid and call["disposition"] == "answered"
    assert call["received_at"] == "2026-11-25T14:19:56.498+07:00"
    one = await (await sup.get(f"/api/calls/{linkedid}")).json()
    assert [s["step"] for s in one["steps"]][:3] == ["entered", "menu", "queued"]
    assert (await sup.get("/api/calls/nope")).status == 404
    web_app.session.cookie_jar.clear()
    agent = await sign_in(web_app, "agent1", "agent-pass")
    assert (await agent.get(f"/api/calls/{linkedid}")).status == 403


async def test_schema_is_served(web_app: TestClient[web.Request, web.Application]) -> None:
    agent = await sign_in(web_app, "agent1", "agent-pass")
    schema = await (await agent.get("/api/case-stubs/schema")).json()
    assert schema["$schema"].endswith("2020-12/schema")
    assert "revision" in schema["required"]
