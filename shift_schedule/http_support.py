"""Request checking shared by the roster and routing APIs: the JSON Schema documented in OpenAPI
is the one that validates the body, and RosterError becomes the project's 4xx JSON shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from functools import wraps
from typing import Any

import jsonschema
from aiohttp import web

from shift_schedule.model import RosterError
from web.auth import json_error
from web.pages import read_json

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_STATUS: Mapping[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict,
}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "YYYY-MM-DD"}
TIME = {"type": "string", "pattern": r"^\d{2}:\d{2}$", "description": "HH:MM, 00:00-24:00"}


def roster_errors(handler: Handler) -> Handler:
    """Turns a RosterError raised by a use case into {"error": ..., **details} with its status."""

    @wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except RosterError as exc:
            raise json_error(_STATUS.get(exc.status, web.HTTPBadRequest), exc.message,
                             **exc.details) from None

    return wrapped


async def checked_body(request: web.Request, schema: Mapping[str, Any]) -> dict[str, Any]:
    body = await read_json(request, required=tuple(schema.get("required", ())))
    try:
        jsonschema.validate(body, schema)
    except jsonschema.ValidationError as exc:
        field = ".".join(str(p) for p in exc.absolute_path) or None
        raise json_error(web.HTTPBadRequest, "invalid request body", field=field,
                         problem=exc.message) from None
    return body


def parse_day(value: object, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise json_error(web.HTTPBadRequest, "not a date (YYYY-MM-DD)", field=field,
                         value=str(value)) from None


# Row ids are INTEGER columns: anything larger cannot exist, and would overflow the database.
MAX_ID = 2**31 - 1
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def path_int(request: web.Request, name: str) -> int:
    value = request.match_info[name]
    # isdigit() alone also takes "²" and "١٢", which int() then refuses or reads as 12.
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
        raise json_error(web.HTTPBadRequest, f"{name} must be a whole number from 1 to {MAX_ID}",
                         value=value[:32])
    return int(value)
