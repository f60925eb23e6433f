"""The wallboard's WebSocket clients: each has a small queue and its own sender task.

Every message is a whole board, so when a slow screen falls behind its oldest board is dropped:
it skips to the newest one and never holds up the other screens or the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from aiohttp import WSCloseCode, web

log = structlog.get_logger(__name__)

CLIENT_QUEUE = 4


class Client:
    def __init__(self, ws: web.WebSocketResponse, name: str) -> None:
        self.ws = ws
        self.name = name
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=CLIENT_QUEUE)
        self.dropped = 0

    def offer(self, message: dict[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)

    async def send_forever(self) -> None:
        while True:
            message = await self.queue.get()
            await self.ws.send_json(message)


class WallboardHub:
    """Fans each board out to every connected screen."""

    def __init__(self) -> None:
        self._clients: set[Client] = set()
        self.latest: dict[str, Any] | None = None

    @property
    def clients(self) -> int:
        return len(self._clients)

    def publish(self, message: dict[str, Any]) -> None:
        self.latest = message
        for client in self._clients:
            client.offer(message)

    async def serve(self, ws: web.WebSocketResponse, name: str) -> None:
        """Stream boards to one screen until it goes away (or the server stops)."""
        client = Client(ws, name)
        if self.latest is not None:
            client.offer(self.latest)
        self._clients.add(client)
        sender = asyncio.create_task(client.send_forever(), name=f"wallboard:{name}")
        try:
            async for _ in ws:  # screens send nothing; this notices them closing
                pass
        finally:
            self._clients.discard(client)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await sender
            log.info("wallboard screen left", user=name, boards_skipped=client.dropped)

    async def close_all(self) -> None:
        """Server shutdown: tell every screen 1001 (going away) so it reconnects to the next run."""
        await asyncio.gather(
            *(c.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
              for c in list(self._clients)),
            return_exceptions=True,
        )
