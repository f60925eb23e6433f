"""Plugs the reports into the app: routes, the report services, the wallboard feed and the
recorder of agents' logged-in and paused time (both on the AMI link when there is one)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

import structlog
from aiohttp import web

from agent_routing.http import ROUTING
from agent_routing.presence import PAUSE_REASONS
from agent_routing.skills import routing
from ami import AmiError, AmiLink, LinkState, StateChange
from outcomes.taxonomy import taxonomy
from reports import http
from reports.activity import EVENT_NAMES as ACTIVITY_EVENTS
from reports.activity import ActivityStore, RecordAgentActivity
from reports.facts import RefreshContactFacts
from reports.kpis import ComputeKpis
from reports.monthly import BuildMonthlyReport
from reports.provincial import BuildProvincialReport
from reports.wallboard.feed import WallboardFeed
from reports.wallboard.hub import WallboardHub
from reports.wallboard.live import LiveQueues
from web.keys import AMI, DATABASE, SETTINGS

log = structlog.get_logger(__name__)

# The roster's pause reason for after-call work: counted as handling time, not as a pause.
AFTER_CALL_WORK: Final = "after_call_work"
# Contact facts are also refreshed in the background, so a report rarely waits for them.
FACTS_REFRESH_SECONDS: Final = 60.0


def install(app: web.Application) -> None:
    http.add_routes(app)
    app.cleanup_ctx.append(_reports)
    app.on_shutdown.append(_close_screens)


async def _reports(app: web.Application) -> AsyncIterator[None]:
    settings, db, definition = app[SETTINGS], app[DATABASE], routing()
    acw = frozenset({AFTER_CALL_WORK}) & frozenset(PAUSE_REASONS)
    kpis = ComputeKpis(
        db, definition, settings.timezone, threshold=settings.service_level_seconds,
        wrapup_seconds=settings.routing.wrapup_seconds, acw_reasons=acw,
    )
    refresh = RefreshContactFacts(db)
    app[http.REPORTS] = http.ReportServices(
        monthly=BuildMonthlyReport(db, taxonomy(), settings.timezone, refresh),
        provincial=BuildProvincialReport(db, taxonomy(), settings.timezone, refresh),
        kpis=kpis, taxonomy=taxonomy(), definition=definition, tz=settings.timezone,
    )
    live = LiveQueues(
        definition.queues, definition.languages,
        critical_priority=definition.ivr.critical_priority,
        default_wrapup=settings.routing.wrapup_seconds, wrapup_reasons=acw,
    )
    routing_services = app.get(ROUTING)
    hub = WallboardHub()
    feed = WallboardFeed(
        live, kpis, hub, settings.timezone,
        coverage=routing_services.floor.warnings if routing_services else None,
    )
    app[http.WALLBOARD_HUB], app[http.WALLBOARD_FEED] = hub, feed
    link = app.get(AMI)
    if link is not None:
        feed.attach(link)
        recorder = RecordAgentActivity(ActivityStore(db))
        link.subscribe(recorder.on_event, *ACTIVITY_EVENTS)
        link.on_state(_snapshot_on_connect(link, recorder))
    tasks = [
        asyncio.create_task(feed.run(), name="wallboard-feed"),
        asyncio.create_task(_refresh_facts(refresh), name="report-facts"),
    ]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _close_screens(app: web.Application) -> None:
    # on_shutdown runs before cleanup: screens hear 1001 and reconnect to the next server.
    await app[http.WALLBOARD_HUB].close_all()


async def _refresh_facts(refresh: RefreshContactFacts) -> None:
    while True:
        try:
            await refresh.execute()
        except Exception:  # the next round retries; a report refreshes before it counts anyway
            log.exception("report facts refresh failed")
        await asyncio.sleep(FACTS_REFRESH_SECONDS)


def _snapshot_on_connect(
    link: AmiLink, recorder: RecordAgentActivity
) -> Callable[[StateChange], Awaitable[None]]:
    """After every (re)login, agent intervals follow QueueStatus: what was missed is settled."""

    async def on_state(change: StateChange) -> None:
        if change.state is not LinkState.CONNECTED:
            return
        try:
            answer = await link.send({"Action": "QueueStatus"})
        except AmiError as exc:
            log.warning("agent activity snapshot failed", error=str(exc))
            return
        await recorder.on_snapshot(e for e in answer.events if e.name == "QueueMember")

    return on_state
