"""The roster and routing REST API through the whole web app (no Asterisk): supervisors change
the roster, agents cannot, invalid changes are 4xx JSON that change nothing, changes are audited,
agents change only their own state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient

from ivr.definition import ivr_definition
from tests.conftest import Signed, sign_in

TZ = ZoneInfo("Asia/Bangkok")


def tomorrow() -> str:
    return (datetime.now(TZ).date() + timedelta(days=1)).isoformat()


async def _week(signed: Signed) -> dict[str, Any]:
    r = await signed.get(f"/api/roster/week?start={tomorrow()}")
    assert r.status == 200, await r.text()
    week: dict[str, Any] = await r.json()
    return week


def _cell(week: dict[str, Any], shift: str, day: str) -> dict[str, Any]:
    return next(c for c in week["cells"] if c["shift_id"] == shift and c["day"] == day)


async def test_supervisor_sees_the_seed_roster_by_shift(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    week = await _week(sup)
    assert [s["id"] for s in week["shifts"]] == ["morning", "afternoon", "night"]
    assert len(week["cells"]) == 21
    afternoon = _cell(week, "afternoon", tomorrow())
    assert afternoon["staffed"] == 18 and afternoon["warnings"] == []
    assert "A037" in {a["agent_id"] for a in afternoon["assignments"]}
    assert _cell(week, "night", tomorrow())["staffed"] == 6


async def test_absent_khmer_interpreter_shows_a_warning_and_is_audited(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.write("POST", "/api/roster/absences",
                        json={"agent_id": "A037", "day": tomorrow(), "shift_id": "afternoon",
                              "reason": "training"})
    assert r.status == 201, await r.text()
    warnings = _cell(await _week(sup), "afternoon", tomorrow())["warnings"]
    assert [(w["kind"], w["severity"], w["language"]) for w in warnings] == [
        ("understaffed", "critical", "km")]
    assert "Khmer" in warnings[0]["message"]["en"]
    trail = await (await sup.get("/api/roster/audit")).json()
    entry = trail["entries"][0]
    assert (entry["actor"], entry["action"], entry["after"]["agent_id"]) == (
        "supervisor", "roster.absent", "A037")


async def test_agents_cannot_change_the_roster(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    agent = await sign_in(web_app, "agent1", "agent-pass")
    before = await _week(agent)
    r = await agent.write("POST", "/api/roster/assignments",
                          json={"agent_id": "A001", "shift_id": "night", "day": tomorrow()})
    assert r.status == 403
    assert await _week(agent) == before


async def test_invalid_changes_are_clear_errors_that_change_nothing(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    before = await _week(sup)
    cases = [
        ({"agent_id": "A999", "shift_id": "night", "day": tomorrow()}, 404, "unknown agent"),
        ({"agent_id": "A001", "shift_id": "morning", "day": tomorrow()}, 409, "overlapping"),
        ({"agent_id": "A001", "shift_id": "night", "day": "31-12-2025"}, 400, "invalid request"),
        ({"agent_id": "A001", "day": tomorrow()}, 400, "missing fields"),
    ]
    for body, status, message in cases:
        r = await sup.write("POST", "/api/roster/assignments", json=body)
        answer = await r.json()
        assert (r.status, message in answer["error"]) == (status, True), answer
    r = await sup.write("POST", "/api/roster/shifts",
                        json={"id": "late", "name_th": "ดึก", "name_en": "Late", "start": "25:00",
                              "end": "06:00"})
    assert r.status == 400 and "between 00:00 and 24:00" in (await r.json())["error"]
    assert await _week(sup) == before


async def test_cover_swap_move_and_remove(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    day = tomorrow()
    r = await sup.write("POST", "/api/roster/assignments",
                        json={"agent_id": "A044", "shift_id": "afternoon", "day": day,
                              "covers_agent_id": "A037"})
    cover = await r.json()
    assert r.status == 201 and cover["covers_agent_id"] == "A037"
    week = await _week(sup)
    morning = next(a for a in _cell(week, "morning", day)["assignments"] if a["agent_id"] == "A001")
    r = await sup.write("POST", "/api/roster/swap",
                        json={"first": cover["id"], "second": morning["id"]})
    assert r.status == 200
    assert {a["agent_id"] for a in (await r.json())["assignments"]} == {"A001", "A044"}
    r = await sup.write("POST", f"/api/roster/assignments/{cover['id']}/move",
                        json={"shift_id": "night", "day": day})
    assert r.status == 200 and (await r.json())["shift_id"] == "night"
    r = await sup.write("DELETE", f"/api/roster/assignments/{cover['id']}")
    assert r.status == 200
    assert (await sup.write("DELETE", f"/api/roster/assignments/{cover['id']}")).status == 404


async def test_agent_state_endpoints_own_state_only(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    agent = await sign_in(web_app, "agent1", "agent-pass")
    r = await agent.write("POST", "/api/agents/me/login")
    assert r.status == 200 and (await r.json())["agent_id"] == "A001"
    r = await agent.write("POST", "/api/agents/me/pause", json={"reason": "after_call_work"})
    answer = await r.json()
    assert r.status == 200, answer
    assert answer["agent_id"] == "A001" and answer["pause_reason"] == "after_call_work"
    assert answer["applied"] is False  # no Asterisk in this app: applied on reconnect
    r = await agent.write("POST", "/api/agents/A002/pause", json={"reason": "break"})
    assert r.status == 403
    r = await agent.write("POST", "/api/agents/me/pause", json={"reason": "nap"})
    assert r.status == 400 and (await r.json())["field"] == "reason"
    assert (await agent.write("POST", "/api/agents/me/unpause")).status == 200
    await agent.write("POST", "/api/logout")
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.write("POST", "/api/agents/A002/logout")
    assert r.status == 200 and (await r.json())["applied"] is False


async def test_explain_answers_and_rejects_unknown_languages(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.get("/api/routing/explain?language=km&priority=normal")
    answer = await r.json()
    assert r.status == 200 and answer["queue"]["queue"] == "intl-km"
    assert answer["line"] == "international"
    assert {c["agent_id"] for c in answer["queue"]["candidates"]} >= {"A037"}
    r = await sup.get("/api/routing/explain?language=xx&priority=normal")
    assert r.status == 400 and "known" in await r.json()


async def test_definition_gives_pages_the_menu_labels_of_ivr_toml(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    agent = await sign_in(web_app, "agent1", "agent-pass")
    definition = await (await agent.get("/api/routing/definition")).json()
    menu = definition["menu"]
    assert set(menu) == {o.id for o in ivr_definition().menu}
    assert menu["emergency"]["label"] == {"th": "เหตุฉุกเฉิน", "en": "Emergency"}
    assert menu["counselling"]["digit"] == "2"


async def test_openapi_documents_roster_endpoints_with_roles(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    spec = await (await web_app.get("/api/openapi.json")).json()
    paths = spec["paths"]
    assert paths["/api/roster/assignments"]["post"]["x-roles"] == ["supervisor"]
    assert paths["/api/roster/week"]["get"]["x-roles"] == "any"
    assert paths["/api/agents/{agent_id}/pause"]["post"]["requestBody"]
    assert "/api/routing/explain" in paths and "/api/coverage" in paths


async def test_supervisor_page_is_for_supervisors(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    await sign_in(web_app, "agent1", "agent-pass")
    assert (await web_app.get("/supervisor")).status == 403


async def test_supervisor_creates_an_agent_account_that_signs_in(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    sup = await sign_in(web_app, "supervisor", "sup-pass")
    r = await sup.write("POST", "/api/roster/agents/A037/account", json={})
    answer = await r.json()
    assert r.status == 201 and (answer["username"], answer["agent_id"]) == ("a037", "A037")
    again = await sup.write("POST", "/api/roster/agents/A037/account", json={})
    assert again.status == 409
    await sup.write("POST", "/api/logout")
    khmer = await sign_in(web_app, "a037", answer["password"])
    state = await (await khmer.get("/api/agents/me/state")).json()
    assert state["id"] == "A037"
