"""OpenAPI description built from the routes themselves, so the document cannot drift.

Handlers declare what they take and give with `@api_doc(...)`; `GET /api/openapi.json` walks
the router. Fuzzing (schemathesis) and the role test read the same description.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from web.auth import Handler, public

DocDecorator = Callable[[Handler], Handler]


def api_doc(
    summary: str,
    *,
    tags: tuple[str, ...] = (),
    request_schema: dict[str, Any] | None = None,
    query: dict[str, dict[str, Any]] | None = None,
    response_schema: dict[str, Any] | None = None,
    responses: dict[int, str] | None = None,
) -> DocDecorator:
    def decorate(handler: Handler) -> Handler:
        handler.line1300_doc = {  # type: ignore[attr-defined]
            "summary": summary,
            "tags": list(tags),
            "request_schema": request_schema,
            "query": query or {},
            "response_schema": response_schema,
            "responses": responses or {},
        }
        return handler

    return decorate


def build_spec(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        doc = getattr(route.handler, "line1300_doc", None)
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if doc is None or path is None or route.method == "HEAD":
            continue
        paths.setdefault(path, {})[route.method.lower()] = _operation(path, doc, route.handler)
    return {
        "openapi": "3.0.3",
        "info": {"title": "1300 line server", "version": "1"},
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "line1300_session"}
            }
        },
        "security": [{"session": []}],
        "paths": paths,
    }


def _operation(path: str, doc: dict[str, Any], handler: Any) -> dict[str, Any]:
    roles = getattr(handler, "line1300_roles", None)
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", path)
    ] + [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in doc["query"].items()
    ]
    op: dict[str, Any] = {
        "summary": doc["summary"],
        "tags": doc["tags"],
        "parameters": params,
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": doc["response_schema"] or {}}},
            },
            "400": {"description": "invalid input, with {error, details}"},
            "401": {"description": "not signed in"},
            "403": {"description": "role not allowed, or CSRF header missing"},
            **{str(code): {"description": text} for code, text in doc["responses"].items()},
        },
        "x-roles": [str(r) for r in roles] if roles else ("any" if roles == () else "public"),
    }
    if doc["request_schema"] is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": doc["request_schema"]}},
        }
    return op


@public
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(build_spec(request.app))
