"""Plugs the screen-pop into the app: the agent page, its WebSocket, and the feed from the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from call_log.bus import (
    AgentAnswered,
    AgentRingEnded,
    AgentRinging,
    CallArrived,
    CallEnded,
    StubChanged,
)
from call_log.keys import CALL_BUS
from caller_flags.keys import FLAG_STORE
from case_stubs.keys import STUB_SERVICE
from outcomes.taxonomy import taxonomy
from screen_pop.audit import PopAudit
from screen_pop.build import BuildPop
from screen_pop.caller_context import CallerContexts
from screen_pop.desk import Desk
from screen_pop.feed import DRAIN_SECONDS, PopFeed
from screen_pop.hub import PopHub
from screen_pop.keys import POP_FEED, POP_HUB
from screen_pop.ws import agent_socket
from web.accounts import Role
from web.keys import DATABASE
from web.pages import page


def install(app: web.Application) -> None:
    app.router.add_get("/agent", page("agent.html", Role.AGENT, Role.SUPERVISOR))
    app.router.add_get("/ws/agent", agent_socket)
    app.cleanup_ctx.append(_pops)
    app.on_shutdown.append(_close_pages)


async def _pops(app: web.Application) -> AsyncIterator[None]:
    hub = PopHub()
    stubs, flags, db = app[STUB_SERVICE], app[FLAG_STORE], app[DATABASE]
    build = BuildPop(stubs, flags, db, taxonomy())
    pop_audit = PopAudit(db)
    feed = PopFeed(hub, Desk(), build, pop_audit, CallerContexts(stubs, flags, db))
    app[POP_HUB] = hub
    app[POP_FEED] = feed
    subscription = app[CALL_BUS].subscribe(
        feed.on_event,
        CallArrived, AgentRinging, AgentAnswered, AgentRingEnded, CallEnded, StubChanged,
    )
    yield
    await hub.close()  # pages first (1001); then nothing is left to render
    await subscription.aclose(drain_timeout=DRAIN_SECONDS)
    await feed.close()
    await pop_audit.close()  # after the lanes: every pop they built is audited


async def _close_pages(app: web.Application) -> None:
    # on_shutdown runs before cleanup: pages hear 1001 and reconnect to the next server.
    await app[POP_HUB].close()
