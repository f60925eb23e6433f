"""HTTP API of the retention room: the retention preview (periods, labels, the next purge's
dry run)."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from retention.keys import RETENTION
from retention.kinds import labels
from web.accounts import Role
from web.auth import current_user, require
from web.openapi import api_doc

TAGS: Final = ("retention",)


@require(Role.SUPERVISOR)
@api_doc("Retention periods, and what the next purge would remove (a dry run: ids, no numbers); "
         "`labels`: each kind's name in English and Thai", tags=TAGS)
async def retention_preview(request: web.Request) -> web.Response:
    services = request.app[RETENTION]
    report = await services.purge.execute(dry_run=True, actor=current_user(request).username)
    return web.json_response({"policy_days": services.policy.as_json(), "labels": labels(),
                              "dry_run": report.as_json()})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/retention", retention_preview)
