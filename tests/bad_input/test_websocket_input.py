"""The pages' WebSockets fed what a broken or hostile page could send: random text, invalid
JSON, invalid UTF-8 in binary frames, a 2 MB message, a burst of thousands. The server never
crashes: the socket either stays up or is closed with a proper close code, the agent's pops
keep flowing afterwards, and the app keeps answering."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings, strategies

from tests.conftest import sign_in

SOCKETS = {"/ws/agent": ("agent1", "agent-pass"), "/ws/wallboard": ("supervisor", "sup-pass")}
CLEAN_CLOSES = {1000, 1001, 1003, 1007, 1008, 1009, 1011}


async def _garbage(ws: aiohttp.ClientWebSocketResponse, messages: list[str | bytes]) -> None:
    for message in messages:
        if ws.closed:
            return
        if isinstance(message, bytes):
            await ws.send_bytes(message)
        else:
            await ws.send_str(message)


async def _drain(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> list[WSMsgType]:
    kinds = []
    with_deadline = asyncio.timeout(seconds)
    try:
        async with with_deadline:
            async for message in ws:
                kinds.append(message.type)
    except TimeoutError:
        pass
    return kinds


@pytest.mark.parametrize("path", sorted(SOCKETS))
async def test_sockets_survive_garbage(
    web_app: TestClient[web.Request, web.Application], path: str,
) -> None:
    await sign_in(web_app, *SOCKETS[path])
    batches: list[list[str | bytes]] = [
        ["{", "null", "[]", '{"type": "pop", "agent_id": "A002"}', "\x00" * 10, "ซ" * 1000],
        [b"\xff\xfe\xfa", b"\x00" * 64_000],
        ["x" * 2_000_000],
        [f'{{"n": {i}}}' for i in range(5000)],
    ]
    for batch in batches:
        ws = await web_app.ws_connect(path)
        await _garbage(ws, batch)
        await _drain(ws, 0.5)
        if ws.closed:
            assert ws.close_code in CLEAN_CLOSES, (path, ws.close_code)
        await ws.close()
    # Still serving: a fresh socket says hello / sends the board, and the API answers.
    ws = await web_app.ws_connect(path)
    first = await asyncio.wait_for(ws.receive(), 10)
    assert first.type is WSMsgType.TEXT and first.json()
    await ws.close()
    assert (await web_app.get("/health")).status == 200


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(messages=strategies.lists(
    strategies.one_of(strategies.text(max_size=300), strategies.binary(max_size=300)),
    min_size=1, max_size=8))
def _collect_batches(messages: list[str | bytes]) -> None:
    """Hypothesis makes the batches here (sync); the async test below sends them to one app."""
    _FUZZ_INBOX.append(messages)


_FUZZ_INBOX: list[list[str | bytes]] = []


async def test_agent_socket_takes_every_fuzzed_batch(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    _FUZZ_INBOX.clear()
    _collect_batches()
    assert len(_FUZZ_INBOX) >= 20
    await sign_in(web_app, "agent1", "agent-pass")
    closed_badly = []
    for messages in _FUZZ_INBOX:
        ws = await web_app.ws_connect("/ws/agent")
        await asyncio.wait_for(ws.receive(), 10)  # hello
        await _garbage(ws, messages)
        await _drain(ws, 0.05)
        if ws.closed and ws.close_code not in CLEAN_CLOSES:
            closed_badly.append((messages, ws.close_code))
        await ws.close()
    assert closed_badly == []
    assert (await web_app.get("/api/session")).status == 200
