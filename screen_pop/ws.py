"""The agent page's WebSocket: `/ws/agent` streams the signed-in agent's own pops.

The agent is the session's user (`User.agent_id`), never a parameter, so nobody can watch
another agent's pops. A page that connects is first sent the agent's open contacts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from screen_pop.hub import Outgoing
from screen_pop.keys import POP_FEED, POP_HUB
from web.auth import current_user, json_error, require
from web.openapi import api_doc

# aiohttp pings every HEARTBEAT seconds and drops a page that does not answer within half that:
# a dead browser stops costing an outbox long before TCP notices.
HEARTBEAT: Final = 20.0


@require()
@api_doc("WebSocket of the signed-in agent's screen-pops (JSON messages: hello, pop, ring_ended, "
         "call_ended, closed)", tags=("screen-pop",),
         responses={101: "switching to WebSocket", 400: "not a WebSocket handshake",
                    409: "account not linked to an agent id"})
async def agent_socket(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    _check_origin(request)
    if user.agent_id is None:
        raise json_error(web.HTTPConflict, "this account is not linked to an agent id; "
                         "ask a supervisor to link it", username=user.username)
    hub, feed = request.app[POP_HUB], request.app[POP_FEED]
    if hub.closing:
        raise json_error(web.HTTPServiceUnavailable, "the server is shutting down")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT)
    if not ws.can_prepare(request).ok:
        raise json_error(web.HTTPBadRequest, "this endpoint is a WebSocket: connect with "
                         "'Connection: Upgrade' and 'Upgrade: websocket'")
    await ws.prepare(request)
    conn = hub.connect(user.agent_id, user, ws)
    conn.offer(Outgoing.of({
        "type": "hello", "agent_id": user.agent_id, "server_time": datetime.now(UTC).isoformat(),
    }))
    feed.replay(conn)
    try:
        async for message in ws:
            if message.type is WSMsgType.ERROR:
                break  # the page sends nothing we act on; reading keeps pings and close flowing
    finally:
        hub.disconnect(conn)
        await conn.wait_closed()
    return ws


def _check_origin(request: web.Request) -> None:
    """Browsers send cookies on cross-site WebSocket handshakes; only our own pages may connect."""
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise json_error(web.HTTPForbidden, "WebSocket from another site refused", origin=origin)
