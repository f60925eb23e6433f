"""The case-stub room in the app: its service, the outbox pusher (external store only), routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web

from ami import Backoff
from call_log.keys import CALL_BUS
from case_stubs import api
from case_stubs.agents import AgentDirectory
from case_stubs.keys import OUTBOX, STUB_PUSHER, STUB_SERVICE
from case_stubs.outbox import HttpStubSender, OutboxQueue, StubPusher
from case_stubs.service import CaseStubService, StubWriter
from storage.leases import LeaseKeeper
from web.keys import DATABASE, LEASES, SETTINGS

PUSHER_DUTY = "case-stub-pusher"
# Seconds the pusher may take to finish its pass (one PUT timeout at most) at shutdown.
STOP_GRACE_SECONDS = 12.0


def install(app: web.Application) -> None:
    api.setup_routes(app)
    app.cleanup_ctx.append(_stubs)


async def _stubs(app: web.Application) -> AsyncIterator[None]:
    settings, db = app[SETTINGS], app[DATABASE]
    store = settings.case_store
    queue = OutboxQueue(
        db,
        owner=app[LEASES].holder,  # this controller, as its duty leases name it
        # Longer than one PUT may take, so a live claim never expires under its sender.
        lease=timedelta(seconds=store.timeout * 3 + 5),
    )
    app[OUTBOX] = queue
    http = aiohttp.ClientSession() if store.url else None
    pusher = None
    # With several controllers on one database, the one holding this lease pushes.
    lease = LeaseKeeper(app[LEASES], PUSHER_DUTY) if http is not None else None
    if http is not None and lease is not None:
        backoff = Backoff(initial=store.backoff_initial, maximum=store.backoff_max)
        sender = HttpStubSender(http, store.url, store.token, store.timeout)
        pusher = StubPusher(queue, sender, backoff, may_act=lambda: lease.held)
        lease.on_gained = pusher.wake
        app[STUB_PUSHER] = pusher
    writer = StubWriter(
        db,
        push_enabled=pusher is not None,
        on_queued=pusher.wake if pusher else _nothing,
        bus=app.get(CALL_BUS),
        clock=_utcnow,
        tz=settings.timezone,
    )
    app[STUB_SERVICE] = CaseStubService(db, writer, AgentDirectory(db), tz=settings.timezone)
    tasks = (
        []
        if pusher is None or lease is None
        else [
            asyncio.create_task(lease.run(), name="case-stub-pusher-lease"),
            asyncio.create_task(pusher.run(), name="case-stub-pusher"),
        ]
    )
    yield
    if pusher is not None:
        pusher.stop()
        await asyncio.wait(tasks[1:], timeout=STOP_GRACE_SECONDS)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if http is not None:
        await http.close()


def _nothing() -> None:
    return None


def _utcnow() -> datetime:
    return datetime.now(UTC)
