"""The whole web app (every room's routes, no AMI) served on a real port from a thread of its own,
for clients that are not asyncio (schemathesis drives `requests`), with signed-in sessions."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from aiohttp import web

from controller.wiring import build_app
from settings import Settings
from tests.calls.receiver import free_port
from web.accounts import Role, create_user
from web.keys import DATABASE

USERS = {"supervisor": "sup-pass", "agent1": "agent-pass"}


@dataclass
class LiveApp:
    base: str
    app: web.Application
    loop: asyncio.AbstractEventLoop

    def session(self, username: str | None) -> requests.Session:
        """A `requests` session signed in as `username` (None: nobody), sending the CSRF header
        on every request."""
        http = requests.Session()
        if username is not None:
            r = http.post(f"{self.base}/api/login",
                          json={"username": username, "password": USERS[username]}, timeout=10)
            r.raise_for_status()
            http.headers["X-CSRF-Token"] = r.json()["csrf"]
        return http

    def run(self, coro: object) -> object:
        """Run a coroutine on the app's loop (to reach its services) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)  # type: ignore[arg-type]


@contextmanager
def live_app(settings: Settings) -> Iterator[LiveApp]:
    os.environ["LINE1300_SUPERVISOR_PASSWORD"] = USERS["supervisor"]
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        app = build_app(settings, with_ami=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        async with app[DATABASE].session() as session:
            await create_user(session, "agent1", "Agent One", Role.AGENT, USERS["agent1"],
                              agent_id="A001")
        holder.update(app=app, runner=runner, stop=asyncio.Event())
        started.set()
        await holder["stop"].wait()  # type: ignore[attr-defined]
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not started.wait(60):
        raise RuntimeError("the app did not start")
    try:
        yield LiveApp(f"http://127.0.0.1:{port}", holder["app"], loop)  # type: ignore[arg-type]
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)  # type: ignore[attr-defined]
        thread.join(30)
        loop.close()
