"""Sign-in, sessions, CSRF and the role guard on the shared web skeleton."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import sign_in


async def test_login_wrong_password_is_401_with_message(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    r = await web_app.post("/api/login", json={"username": "supervisor", "password": "nope"})
    assert r.status == 401
    assert "wrong" in (await r.json())["error"]


async def test_login_missing_field_is_400_naming_it(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    r = await web_app.post("/api/login", json={"username": "supervisor"})
    assert r.status == 400
    assert (await r.json())["fields"] == ["password"]


async def test_session_requires_login_then_works(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    assert (await web_app.get("/api/session")).status == 401
    signed = await sign_in(web_app, "supervisor", "sup-pass")
    r = await signed.get("/api/session")
    body = await r.json()
    assert body["user"]["role"] == "supervisor"
    assert body["csrf"] == signed.csrf


async def test_write_without_csrf_header_is_refused(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    await sign_in(web_app, "agent1", "agent-pass")
    r = await web_app.post("/api/logout")
    assert r.status == 403
    assert "CSRF" in (await r.json())["error"]


async def test_logout_ends_session(web_app: TestClient[web.Request, web.Application]) -> None:
    signed = await sign_in(web_app, "agent1", "agent-pass")
    assert (await signed.write("POST", "/api/logout")).status == 200
    assert (await web_app.get("/api/session")).status == 401


async def test_openapi_lists_login(web_app: TestClient[web.Request, web.Application]) -> None:
    spec = await (await web_app.get("/api/openapi.json")).json()
    assert "post" in spec["paths"]["/api/login"]
    assert spec["paths"]["/api/session"]["get"]["x-roles"] == "any"


async def test_oversized_json_body_is_413_with_message(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    r = await web_app.post(
        "/api/login", data=b"{" + b" " * 1_100_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status == 413
    assert "1 MB" in (await r.json())["error"]
