"""Every path parameter of every route, every documented query parameter and body field, given the
values
random fuzzing rarely finds: numbers too big for any column, digits that are not ASCII ("²",
"١٢", Thai "๑๒"), negative and zero ids, NUL bytes, traversal, SQL, a 4 KB value. No 5xx, every
refusal a JSON error."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import sign_in

NASTY = ["1" + "0" * 30, "²", "١٢", "๑๒", "-1", "0", "%00", "..%2F..%2Fetc%2Fpasswd",
         "' OR 1=1 --", "NaN", "ซ", "a" * 4000, "1e3", " 1", "9" * 19]


async def test_nasty_path_parameters_are_refused_clearly(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    app = web_app.app
    supervisor = await sign_in(web_app, "supervisor", "sup-pass")
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter")
        if template and route.method != "HEAD" and template != "/api/logout":
            routes.append((route.method, template))
    assert len(routes) >= 15
    server_errors, unclear = [], []
    for method, template in routes:
        for value in NASTY:
            raw = value if "%" in value else quote(value, safe="")
            path = re.sub(r"{(\w+)(?::[^}]*)?}", raw, template)
            body: dict[str, object] | None = None if method in ("GET", "DELETE") else {}
            r = await supervisor.write(method, path, json=body)
            text = await r.text()
            where = f"{method} {path[:80]} -> {r.status} {text[:100]}"
            if r.status >= 500 and not (r.status == 503 and '"error"' in text):
                server_errors.append(where)
            elif 400 <= r.status < 500 and not _json_error(text):
                unclear.append(where)
    assert server_errors == [], "\n".join(server_errors)
    assert unclear == [], "\n".join(unclear)


def _json_error(text: str) -> bool:
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return isinstance(body, dict) and bool(body.get("error"))


async def test_nasty_query_parameters_are_refused_clearly(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    supervisor = await sign_in(web_app, "supervisor", "sup-pass")
    spec = await (await supervisor.get("/api/openapi.json")).json()
    tried, server_errors, unclear = 0, [], []
    for path, operations in spec["paths"].items():
        if "{" in path:
            continue
        for method, operation in operations.items():
            names = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
            for name in names:
                for value in NASTY:
                    r = await supervisor.write(method.upper(), path, params={name: value},
                                               json=None if method == "get" else {})
                    tried += 1
                    text = await r.text()
                    where = f"{method.upper()} {path}?{name}={value[:30]} -> {r.status} {text[:90]}"
                    if r.status >= 500 and not (r.status == 503 and '"error"' in text):
                        server_errors.append(where)
                    elif 400 <= r.status < 500 and not _json_error(text):
                        unclear.append(where)
    assert tried >= 100
    assert server_errors == [], "\n".join(server_errors)
    assert unclear == [], "\n".join(unclear)


async def test_nasty_body_fields_are_refused_clearly(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    """Each documented body field alone, then all of them at once, set to each nasty value."""
    supervisor = await sign_in(web_app, "supervisor", "sup-pass")
    spec = await (await supervisor.get("/api/openapi.json")).json()
    tried, server_errors, unclear = 0, [], []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            schema = operation.get("requestBody", {}).get("content", {}).get(
                "application/json", {}).get("schema", {})
            names = list(schema.get("properties", {}))
            if not names or path == "/api/logout":
                continue
            target = re.sub(r"{(\w+)(?::[^}]*)?}", "1", path)
            for value in NASTY:
                for body in [{name: value} for name in names] + [dict.fromkeys(names, value)]:
                    r = await supervisor.write(method.upper(), target, json=body)
                    tried += 1
                    text = await r.text()
                    where = f"{method.upper()} {target} {str(body)[:60]} -> {r.status} {text[:90]}"
                    if r.status >= 500 and not (r.status == 503 and '"error"' in text):
                        server_errors.append(where)
                    elif 400 <= r.status < 500 and not _json_error(text):
                        unclear.append(where)
    assert tried >= 100
    assert server_errors == [], "\n".join(server_errors)
    assert unclear == [], "\n".join(unclear)
