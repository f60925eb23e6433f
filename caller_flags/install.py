"""Plugs caller flags into the app: the API, and stamping flags onto contacts' stubs."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from call_log.bus import CallEnded, CallQueued
from call_log.keys import CALL_BUS
from caller_flags.api import setup_routes
from caller_flags.keys import FLAG_CALLER, FLAG_STORE, LIFT_FLAG
from caller_flags.service import FlagCaller, LiftFlag, StampFlags
from caller_flags.store import FlagStore, utcnow
from case_stubs.keys import STUB_SERVICE
from outcomes.taxonomy import taxonomy
from web.keys import DATABASE


def install(app: web.Application) -> None:
    setup_routes(app)
    app.cleanup_ctx.append(_flags)


async def _flags(app: web.Application) -> AsyncIterator[None]:
    db, stubs, store = app[DATABASE], app[STUB_SERVICE], FlagStore()
    app[FLAG_STORE] = store
    app[FLAG_CALLER] = FlagCaller(db, store, stubs, taxonomy(), utcnow)
    app[LIFT_FLAG] = LiftFlag(db, store)
    subscription = app[CALL_BUS].subscribe(
        StampFlags(db, store, stubs).on_event, CallQueued, CallEnded
    )
    yield
    # Long enough for a stamp under way to commit: cancelled mid-transaction, SQLite stays locked.
    await subscription.aclose(drain_timeout=5.0)
