"""The agent desk under test: the whole app (every room) with a case store that records what it
is sent, and the app's own call tracker fed AMI events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ami import Event
from call_log.keys import CALL_TRACKER
from call_log.tracker import CallTracker
from case_stubs.keys import OUTBOX
from settings import Settings, load_settings
from storage import Database
from tests.conftest import Signed, sign_in

# The telephony tests' Asterisk fixtures (test_pop_asterisk.py): a session instance on free ports.
from tests.integration.conftest import (  # noqa: F401
    asterisk_runtime,
    asterisk_settings,
    queue_asterisk,
)
from web.accounts import Role, create_user
from web.keys import DATABASE


@dataclass
class CaseStore:
    """A stand-in for the Ministry's case store: keeps the highest revision of each stub."""

    url: str = ""
    stubs: dict[str, dict[str, Any]] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def put(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        known = self.stubs.get(request.match_info["stub_id"])
        if known is not None and known["revision"] >= body["revision"]:
            return web.json_response({}, status=409)
        self.stubs[body["id"]] = body
        self.arrived.set()
        return web.json_response({})

    async def wait_for(
        self, stub_id: str, accept: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while not (stub_id in self.stubs and accept(self.stubs[stub_id])):
                self.arrived.clear()
                await self.arrived.wait()
        return self.stubs[stub_id]


@dataclass
class Desk:
    """The running app, a client, the case store it pushes to, and the tracker behind the pops."""

    app: web.Application
    client: TestClient[web.Request, web.Application]
    case_store: CaseStore

    @property
    def db(self) -> Database:
        return self.app[DATABASE]

    @property
    def tracker(self) -> CallTracker:
        return self.app[CALL_TRACKER]

    async def sign_in(self, username: str, password: str) -> Signed:
        """Sign in as `username`, leaving any earlier session of this client behind."""
        self.client.session.cookie_jar.clear()
        return await sign_in(self.client, username, password)

    async def feed(self, *events: Event | list[Event]) -> None:
        for item in events:
            for event in item if isinstance(item, list) else [item]:
                await self.tracker.on_event(event)
        await self.tracker.flush()  # its stub and record writes too (behind the events)


@pytest.fixture
async def case_store() -> AsyncIterator[CaseStore]:
    store = CaseStore()
    app = web.Application()
    app.router.add_put("/case-stubs/{stub_id}", store.put)
    server = TestServer(app)
    await server.start_server()
    store.url = str(server.make_url("")).rstrip("/")
    yield store
    await server.close()


@pytest.fixture
async def desk(
    state_dir: Path, db_url: str, case_store: CaseStore, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Desk]:
    from controller.wiring import build_app

    monkeypatch.setenv("LINE1300_SUPERVISOR_PASSWORD", "sup-pass")
    settings: Settings = load_settings(env={
        "LINE1300_GENERAL_STATE_DIR": str(state_dir), "LINE1300_DATABASE_URL": db_url,
        "LINE1300_CASE_STORE_URL": case_store.url, "LINE1300_CASE_STORE_BACKOFF_INITIAL": "0.05",
    })
    app = build_app(settings, with_ami=False)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    await client.start_server()
    async with app[DATABASE].session() as session:
        await create_user(session, "agent1", "Agent One", Role.AGENT, "agent-pass", agent_id="A001")
        await create_user(session, "agent2", "Agent Two", Role.AGENT, "agent-pass", agent_id="A002")
    yield Desk(app, client, case_store)
    await _quiesce(app)
    await client.close()


async def _quiesce(app: web.Application) -> None:
    """Let the app push what the test produced before it shuts down: the case-stub pusher is
    cancelled on shutdown, and cancelled in the middle of a transaction it leaves SQLite locked
    for the busy timeout (30 s) — reported to the case_stubs room."""
    async with asyncio.timeout(10):
        while (await app[OUTBOX].summary())["pending"]:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # the pusher settles its last row and goes back to sleep


async def receive_until(
    ws: Any, accept: Callable[[dict[str, Any]], bool], timeout: float = 5.0
) -> dict[str, Any]:
    """The first JSON message `accept` takes (others are skipped), or TimeoutError."""
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive_json()
            if accept(message):
                return message  # type: ignore[no-any-return]
