"""Typed application state of the call log (aiohttp AppKey)."""

from __future__ import annotations

from aiohttp import web

from call_log.bus import CallBus
from call_log.reconcile import Reconciler
from call_log.store import CallStore
from call_log.tracker import CallTracker

CALL_BUS: web.AppKey[CallBus] = web.AppKey("call_bus", CallBus)
CALL_STORE: web.AppKey[CallStore] = web.AppKey("call_store", CallStore)
CALL_TRACKER: web.AppKey[CallTracker] = web.AppKey("call_tracker", CallTracker)
RECONCILER: web.AppKey[Reconciler] = web.AppKey("call_reconciler", Reconciler)
