"""A real case-store receiver for the tests: an aiohttp server implementing the contract's
PUT /case-stubs/{id} (keeps the highest revision, 409 for an older one), which can be told to
fail with a status, answer slowly, or be stopped and started again on the same port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class CaseStore:
    token: str = "store-token"
    port: int = field(default_factory=free_port)
    # status to answer instead of storing (None: behave), chosen per (stub id, revision)
    fail: Callable[[str, int], int | None] = lambda _id, _rev: None
    delay: float = 0.0
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepted: list[tuple[str, int]] = field(default_factory=list)  # 2xx answers that stored
    requests: list[tuple[str, int, int]] = field(default_factory=list)  # (id, revision, status)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> CaseStore:
        app = web.Application()
        app.router.add_put("/case-stubs/{stub_id}", self._put)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _put(self, request: web.Request) -> web.Response:
        stub_id = request.match_info["stub_id"]
        body = await request.json()
        revision = int(body["revision"])
        status = self._answer(request, stub_id, body)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.requests.append((stub_id, revision, status))
        if status in (200, 201):
            self.stored[stub_id] = body
            self.accepted.append((stub_id, revision))
        return web.json_response({"status": status}, status=status)

    def _answer(self, request: web.Request, stub_id: str, body: dict[str, Any]) -> int:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 401
        if body.get("id") != stub_id:
            return 422
        failure = self.fail(stub_id, int(body["revision"]))
        if failure is not None:
            return failure
        known = self.stored.get(stub_id)
        if known is not None and known["revision"] >= body["revision"]:
            return 409
        return 201 if known is None else 200
