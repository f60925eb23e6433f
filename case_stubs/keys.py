"""Typed application state of the case stubs (aiohttp AppKey)."""

from __future__ import annotations

from aiohttp import web

from case_stubs.outbox import OutboxQueue, StubPusher
from case_stubs.service import CaseStubService

STUB_SERVICE: web.AppKey[CaseStubService] = web.AppKey("stub_service", CaseStubService)
OUTBOX: web.AppKey[OutboxQueue] = web.AppKey("stub_outbox", OutboxQueue)
# Absent in embedded mode (no [case_store] url): nothing is pushed anywhere.
STUB_PUSHER: web.AppKey[StubPusher] = web.AppKey("stub_pusher", StubPusher)
