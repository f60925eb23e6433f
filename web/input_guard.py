"""Refuse text no database can store before any handler sees it.

PostgreSQL rejects a NUL character in any string parameter (SQLite stores it), so an id such as
"%00" in a path or query reached the database and came back as a 500 on PostgreSQL only. One
middleware answers 400 for every endpoint instead of each handler guarding itself.
"""

from __future__ import annotations

from aiohttp import web

from web.auth import Handler, json_error


@web.middleware
async def refuse_nul(request: web.Request, handler: Handler) -> web.StreamResponse:
    for where, values in (("path", request.match_info.values()), ("query", request.query.values())):
        if any("\x00" in value for value in values):
            raise json_error(web.HTTPBadRequest, f"the {where} contains a NUL character")
    return await handler(request)
