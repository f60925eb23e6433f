"""The pop hub's bounded per-client outboxes: a slow or dead browser never delays another one's
pops, and is let go (1013, it reconnects and is sent its open contacts again)."""

from __future__ import annotations

import asyncio
import json
import socket
from base64 import b64encode
from typing import Any

from aiohttp import WSCloseCode, WSMsgType

from screen_pop.hub import OUTBOX_SIZE, Outgoing, PopHub
from screen_pop.keys import POP_HUB
from tests.agent_desk.conftest import Desk
from tests.conftest import sign_in
from web.accounts import Role, User

AGENT = User(1, "agent1", "Agent One", Role.AGENT, "A001")


class LiveSink:
    def __init__(self) -> None:
        self.received: list[str] = []
        self.closed_with: int | None = None

    async def send_str(self, data: str, compress: int | None = None) -> None:
        self.received.append(data)

    async def close(self, *, code: int = 1000, message: bytes = b"", drain: bool = True) -> bool:
        self.closed_with = code
        return True


class DeadSink(LiveSink):
    """A browser that stopped reading: every write waits forever."""

    async def send_str(self, data: str, compress: int | None = None) -> None:
        await asyncio.Event().wait()


def pop(n: int) -> Outgoing:
    return Outgoing.of({"type": "pop", "n": n})


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_dead_browser_does_not_hold_up_another_agents_pops() -> None:
    hub = PopHub()
    dead, live = DeadSink(), LiveSink()
    stuck = hub.connect("A001", AGENT, dead)
    hub.connect("A002", User(2, "agent2", "Agent Two", Role.AGENT, "A002"), live)

    for n in range(200):
        hub.deliver("A001", pop(n))
        hub.deliver("A002", pop(n))
        await settle()

    assert len(live.received) == 200
    assert stuck.pending == 0 and stuck.close_code == WSCloseCode.TRY_AGAIN_LATER
    await hub.close()


async def test_a_newer_pop_replaces_the_waiting_one_and_a_full_outbox_lets_go() -> None:
    hub = PopHub(outbox_size=3)
    conn = hub.connect("A001", AGENT, DeadSink())
    hub.deliver("A001", pop(0))
    await settle()  # the sender took it and is stuck writing it to the frozen browser
    hub.deliver("A001", Outgoing.of({"type": "pop", "phase": "ringing"}, key="pop:s1"))
    hub.deliver("A001", Outgoing.of({"type": "ring_ended"}))
    hub.deliver("A001", Outgoing.of({"type": "pop", "phase": "answered"}, key="pop:s1"))

    assert conn.superseded == 1 and conn.pending == 2
    assert [json.loads(m.text).get("phase") for m in conn._outbox] == [None, "answered"]
    hub.deliver("A001", Outgoing.of({"type": "pop"}, key="pop:s2"))
    assert conn.open and conn.pending == 3
    hub.deliver("A001", Outgoing.of({"type": "call_ended"}))  # full of news: let this one go
    assert conn.close_code == WSCloseCode.TRY_AGAIN_LATER and conn.pending == 0
    await hub.close()


async def test_delivering_never_waits_on_a_browser() -> None:
    hub = PopHub()
    conn = hub.connect("A001", AGENT, DeadSink())
    # `deliver` is a plain function: it cannot wait. Many more messages than the outbox holds
    # leave the outbox bounded and the client let go, with nothing queued for it.
    delivered = [hub.deliver("A001", pop(n)) for n in range(OUTBOX_SIZE * 10)]
    assert sum(delivered) == OUTBOX_SIZE
    assert conn.pending == 0 and not conn.open
    await hub.close()


async def test_server_shutdown_closes_pages_with_1001(desk: Desk) -> None:
    await sign_in(desk.client, "agent1", "agent-pass")
    ws = await desk.client.ws_connect("/ws/agent")
    assert (await ws.receive_json())["type"] == "hello"

    await desk.app[POP_HUB].close()
    message = await ws.receive()

    assert message.type is WSMsgType.CLOSE
    assert message.data == WSCloseCode.GOING_AWAY


async def _stalled_socket(desk: Desk) -> socket.socket:
    """A real browser connection that completes the WebSocket handshake, then never reads."""
    cookies = "; ".join(f"{c.key}={c.value}" for c in desk.client.session.cookie_jar)
    server = desk.client.server
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (server.host, server.port))
    key = b64encode(b"line1300-stalled").decode()
    await loop.sock_sendall(sock, (
        f"GET /ws/agent HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Cookie: {cookies}\r\n\r\n"
    ).encode())
    head = await loop.sock_recv(sock, 1024)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_a_stalled_real_socket_is_let_go_while_another_tab_gets_everything(
    desk: Desk,
) -> None:
    await sign_in(desk.client, "agent1", "agent-pass")
    stalled = await _stalled_socket(desk)
    live = await desk.client.ws_connect("/ws/agent")
    hub = desk.app[POP_HUB]
    received: list[dict[str, Any]] = []

    async def read() -> None:
        async for message in live:
            body = message.json()
            if body["type"] == "pop":
                received.append(body)

    reader = asyncio.create_task(read())
    padding = "x" * 8000  # a pop with a long history: the stalled socket's buffers fill quickly
    total = 1500
    for n in range(total):
        hub.deliver("A001", Outgoing.of({"type": "pop", "n": n, "padding": padding}))
        while len(received) < n - OUTBOX_SIZE // 2:  # the pace a healthy page keeps up with
            await asyncio.sleep(0.001)
    async with asyncio.timeout(10):
        while len(received) < total:
            await asyncio.sleep(0.01)

    assert [m["n"] for m in received] == list(range(total))
    codes = [c.close_code for c in hub._by_agent.get("A001", ())]
    assert WSCloseCode.TRY_AGAIN_LATER in codes
    reader.cancel()
    stalled.close()
    await live.close()
