"""Per-agent WebSocket connections, each with a bounded outbox and its own sender task.

Delivering never waits on a browser: `deliver()` only appends to each connection's outbox. A slow
or dead browser fills its own outbox and nobody else's. A newer pop of a contact replaces its
older one still waiting in the outbox (the page wants the contact as it is now). An outbox that is
still full is a browser that stopped reading: it is closed with 1013 (try again later), the page
reconnects by itself and the hub replays the agent's open contacts, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import structlog
from aiohttp import WSCloseCode

from web.accounts import User

log = structlog.get_logger(__name__)

OUTBOX_SIZE: Final = 32
SEND_TIMEOUT: Final = 10.0
CLOSE_TIMEOUT: Final = 2.0
STUCK_CLOSE_TIMEOUT: Final = 0.2


class Sink(Protocol):
    """What a connection writes to (aiohttp's WebSocketResponse; a fake in unit tests)."""

    async def send_str(self, data: str, compress: int | None = None) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ..., drain: bool = ...) -> bool: ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message on its way to a browser; a later message with the same `key` replaces it."""

    kind: str
    text: str
    key: str | None = None

    @classmethod
    def of(cls, body: dict[str, Any], *, key: str | None = None) -> Outgoing:
        return cls(str(body["type"]), json.dumps(body, ensure_ascii=False), key)


@dataclass(eq=False)
class Connection:
    agent_id: str
    user: User
    sink: Sink
    limit: int = OUTBOX_SIZE
    send_timeout: float = SEND_TIMEOUT
    sent: int = 0
    superseded: int = 0
    close_code: int | None = None
    stuck: bool = False
    _outbox: deque[Outgoing] = field(default_factory=deque)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _shut: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._outbox)

    @property
    def open(self) -> bool:
        return self.close_code is None

    def offer(self, message: Outgoing) -> bool:
        """Queue a message without waiting; False when this client had to be let go."""
        if not self.open:
            return False
        if message.key is not None:
            self._drop_superseded(message.key)
        if len(self._outbox) >= self.limit:
            self.shut(WSCloseCode.TRY_AGAIN_LATER, "too slow: reconnect")
            return False
        self._outbox.append(message)
        self._wake.set()
        return True

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._send_loop(), name=f"screen-pop-sender:{self.agent_id}"
        )

    def shut(self, code: int, reason: str) -> None:
        """Stop this client from the hub's side; the close itself runs in the sender task."""
        if not self.open:
            return
        self.close_code = code
        self._outbox.clear()
        log.info("screen_pop.client_closed", agent_id=self.agent_id, code=code, reason=reason)
        self._shut.set()
        self._wake.set()

    async def wait_closed(self, timeout: float = SEND_TIMEOUT + CLOSE_TIMEOUT) -> None:
        """Wait for the sender to finish; one that cannot is cancelled."""
        if self._task is None:
            return
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        if not done:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _drop_superseded(self, key: str) -> None:
        kept = deque(m for m in self._outbox if m.key != key)
        self.superseded += len(self._outbox) - len(kept)
        self._outbox = kept

    async def _send_loop(self) -> None:
        while self.open:
            await self._wake.wait()
            self._wake.clear()
            while self._outbox and self.open:
                if not await self._send(self._outbox.popleft()):
                    break
        await self._close_sink()

    async def _send(self, message: Outgoing) -> bool:
        """Write one frame; give up on it when the hub lets this client go or it takes too long."""
        write = asyncio.ensure_future(self.sink.send_str(message.text))
        aborted = asyncio.ensure_future(self._shut.wait())
        done, _ = await asyncio.wait(
            {write, aborted}, timeout=self.send_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        aborted.cancel()
        if write in done and write.exception() is None:
            self.sent += 1
            return True
        write.cancel()
        self.stuck = True
        if self.open:  # timed out or the socket failed, not shut by the hub
            self.shut(WSCloseCode.POLICY_VIOLATION, "browser not reading")
        return False

    async def _close_sink(self) -> None:
        # A browser that stopped reading will not read a close frame either: its socket is
        # dropped after a moment instead of holding the shutdown up.
        timeout = STUCK_CLOSE_TIMEOUT if self.stuck else CLOSE_TIMEOUT
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.sink.close(code=self.close_code or WSCloseCode.GOING_AWAY, message=b""),
                timeout,
            )


class PopHub:
    """Open agent-page connections by agent id."""

    def __init__(self, outbox_size: int = OUTBOX_SIZE, send_timeout: float = SEND_TIMEOUT) -> None:
        self.outbox_size = outbox_size
        self.send_timeout = send_timeout
        self._by_agent: dict[str, set[Connection]] = {}
        self.closing = False
        self.closed: Counter[int] = Counter()  # close codes of past connections (1013: too slow)

    def connect(self, agent_id: str, user: User, sink: Sink) -> Connection:
        conn = Connection(agent_id, user, sink, self.outbox_size, self.send_timeout)
        self._by_agent.setdefault(agent_id, set()).add(conn)
        conn.start()
        return conn

    def disconnect(self, conn: Connection) -> None:
        self.closed[conn.close_code or WSCloseCode.OK] += 1
        conns = self._by_agent.get(conn.agent_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._by_agent[conn.agent_id]
        conn.shut(WSCloseCode.OK, "page closed")

    def connections(self, agent_id: str) -> list[Connection]:
        return [c for c in self._by_agent.get(agent_id, ()) if c.open]

    def viewers(self, agent_id: str) -> dict[int, User]:
        """Distinct signed-in users watching this agent's pops (one stub read each)."""
        return {c.user.id: c.user for c in self.connections(agent_id)}

    def deliver(self, agent_id: str, message: Outgoing, user_id: int | None = None) -> int:
        """Queue `message` to the agent's connections (of one user when given); never waits."""
        targets = [c for c in self.connections(agent_id) if user_id in (None, c.user.id)]
        return sum(conn.offer(message) for conn in targets)

    async def close(self) -> None:
        """Server shutdown: every page is told 1001 (going away) and will reconnect."""
        self.closing = True
        conns = [c for group in self._by_agent.values() for c in group]
        for conn in conns:
            conn.shut(WSCloseCode.GOING_AWAY, "server shutting down")
        await asyncio.gather(
            *(c.wait_closed(CLOSE_TIMEOUT + 1) for c in conns), return_exceptions=True
        )
        self._by_agent.clear()
