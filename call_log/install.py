"""The call-log room in the app: the bus, the tracker on the AMI link, the reconciler, routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from ami import LinkState, StateChange
from call_log import api
from call_log.asterisk_records import (
    CEL_FILE,
    QUEUE_LOG_FILE,
    CelReader,
    QueueLogReader,
    records_dir,
)
from call_log.bus import CallBus
from call_log.keys import CALL_BUS, CALL_STORE, CALL_TRACKER, RECONCILER
from call_log.reconcile import CallbackTable, Reconciler
from call_log.store import CallStore
from call_log.tracker import CallTracker
from case_stubs.agents import AgentDirectory
from case_stubs.keys import STUB_SERVICE
from web.keys import AMI, DATABASE, SETTINGS


def install(app: web.Application) -> None:
    app[CALL_BUS] = CallBus()  # now: other rooms subscribe while they install
    api.setup_routes(app)
    app.cleanup_ctx.append(_tracking)


async def _tracking(app: web.Application) -> AsyncIterator[None]:
    settings, db, bus = app[SETTINGS], app[DATABASE], app[CALL_BUS]
    store = CallStore(db)
    stubs = app[STUB_SERVICE]
    app[CALL_STORE] = store
    tracker = CallTracker(store, stubs, bus, AgentDirectory(db))
    app[CALL_TRACKER] = tracker
    folder = records_dir(settings)
    reconciler = Reconciler(
        CelReader(folder / CEL_FILE, settings.timezone),
        QueueLogReader(folder / QUEUE_LOG_FILE),
        store,
        stubs,
        CallbackTable(db),
    )
    app[RECONCILER] = reconciler
    tracker.on_failure = reconciler.trigger
    link = app.get(AMI)
    task = None
    if link is not None:  # without AMI (web-only runs) there is no Asterisk to follow
        tracker.attach(link)
        link.on_state(_reconcile_on_reconnect(reconciler))
        task = asyncio.create_task(reconciler.run(), name="call-reconciler")
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await tracker.close()
    await bus.close()


def _reconcile_on_reconnect(reconciler: Reconciler) -> Callable[[StateChange], None]:
    def on_state(change: StateChange) -> None:
        if change.state is LinkState.CONNECTED:
            reconciler.trigger()

    return on_state
