"""Sign-in, sign-out, the session API and the page shell every room's page is served through."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from storage import audit
from web.accounts import Role, authenticate
from web.auth import (
    USER_KEY,
    Handler,
    csrf_token,
    current_user,
    end_session,
    json_error,
    public,
    require,
    start_session,
)
from web.keys import DATABASE, LOOP_LAG
from web.openapi import api_doc, openapi_json

STATIC = Path(__file__).resolve().parent / "static"
MAX_JSON_BODY = 1_000_000
HOME = {Role.AGENT: "/agent", Role.SUPERVISOR: "/supervisor"}

LOGIN_SCHEMA = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 64},
        "password": {"type": "string", "minLength": 1, "maxLength": 200},
    },
}


def page(filename: str, *roles: Role) -> Handler:
    """A handler serving one HTML page to signed-in users of `roles`; others go to sign-in."""
    path = STATIC / filename

    async def serve(request: web.Request) -> web.StreamResponse:
        user = request.get(USER_KEY)
        if user is None:
            raise web.HTTPFound(f"/login?next={request.path}")
        if roles and user.role not in roles:
            raise web.HTTPForbidden(text="Your role may not open this page.")
        return web.FileResponse(path, headers={"Cache-Control": "no-store"})

    serve.__qualname__ = f"page:{filename}"
    serve.line1300_roles = roles or ()  # type: ignore[attr-defined]
    serve.line1300_page = True  # type: ignore[attr-defined]
    return serve


@public
async def login_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "login.html")


@public
@api_doc(
    "Sign in; sets the session cookie and returns the CSRF token",
    tags=("session",),
    request_schema=LOGIN_SCHEMA,
)
async def login(request: web.Request) -> web.Response:
    body = await read_json(request, required=("username", "password"))
    username, password = str(body["username"]), str(body["password"])
    async with request.app[DATABASE].session() as session:
        user = await authenticate(session, username[:64], password[:200])
        await audit.record(
            session, username[:64], "login" if user else "login_failed", "user", username[:64]
        )
    if user is None:
        raise json_error(web.HTTPUnauthorized, "wrong user name or password")
    response = web.json_response({"user": _user_json(user), "home": HOME[user.role]})
    csrf = await start_session(request, response, user)
    response.text = json.dumps(
        {"user": _user_json(user), "csrf": csrf, "home": HOME[user.role]}, ensure_ascii=False
    )
    return response


@require()
@api_doc("Sign out", tags=("session",))
async def logout(request: web.Request) -> web.Response:
    response = web.json_response({"ok": True})
    await end_session(request, response)
    return response


@require()
@api_doc("Who is signed in, and the CSRF token for writes", tags=("session",))
async def session_info(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response(
        {"user": _user_json(user), "csrf": csrf_token(request), "home": HOME[user.role]}
    )


@public
async def health(request: web.Request) -> web.Response:
    """Up, and how late its event loop ran things in the last minute (controller.loop_lag)."""
    body: dict[str, object] = {"status": "ok"}
    lag = request.app.get(LOOP_LAG)
    if lag is not None:
        body["event_loop_lag"] = lag.figures().as_json()
        body["gc_pauses"] = lag.gc.figures().as_json()
    return web.json_response(body)


@public
async def root(request: web.Request) -> web.StreamResponse:
    user = request.get(USER_KEY)
    raise web.HTTPFound(HOME[user.role] if user else "/login")


async def read_json(request: web.Request, required: tuple[str, ...] = ()) -> dict[str, object]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_JSON_BODY,
            actual_size=request.content_length,
            text=json.dumps({"error": "request body over 1 MB", "max_size": MAX_JSON_BODY}),
            content_type="application/json",
        )
    try:
        body = await request.json()
    except ValueError:
        raise json_error(web.HTTPBadRequest, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise json_error(web.HTTPBadRequest, "the body must be a JSON object")
    missing = [name for name in required if name not in body]
    if missing:
        raise json_error(web.HTTPBadRequest, "missing fields", fields=missing)
    return body


def _user_json(user: object) -> dict[str, object]:
    from web.accounts import User

    assert isinstance(user, User)
    return {
        "id": user.id,
        "username": user.username,
        "name": user.display_name,
        "role": str(user.role),
        "agent_id": user.agent_id,
    }


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/health", health)
    app.router.add_get("/login", login_page)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/session", session_info)
    app.router.add_get("/api/openapi.json", openapi_json)
    app.router.add_static("/static", STATIC, name="static")
