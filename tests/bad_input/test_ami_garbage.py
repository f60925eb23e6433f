"""Malformed AMI frames end to end: a real call's recorded AMI stream sent over a socket to the
controller's AmiLink and call tracker, with garbage between its frames (no Event/Response,
duplicate keys, a 64 KB header, invalid UTF-8, a frame missing its blank line, lines without a
colon, a flood of blank lines). The parser's own cases are in tests/ami; here the question is
whether the controller keeps its one session and records the call exactly as without garbage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ami import AmiLink, Backoff, Chunk, load_recording
from storage import Database
from tests.ami.fake_ami import FakeAmi
from tests.calls.conftest import FIXTURES, build_calls
from tests.calls.dbview import call_rows, step_names, stub_rows

LINKEDID = "1795591196.0"
GARBAGE = [
    b"Foo: bar\r\nBaz: qux\r\n\r\n",  # neither Event nor Response
    b"Event: Foo\r\nEvent: Bar\r\nX: 1\r\n\r\n",  # the identity key twice
    b"Event: VarSet\r\nLinkedid: " + LINKEDID.encode() + b"\r\nUniqueid: " + LINKEDID.encode()
    + b"\r\nVariable: A\r\nVariable: B\r\nValue: 1\r\n\r\n",  # duplicate keys on the real call
    b"Event: UserEvent\r\nUserEvent: Line1300Ivr\r\nLinkedid: " + LINKEDID.encode()
    + b"\r\nStep: " + b"x" * 65536 + b"\r\n\r\n",  # a 64 KB header on the real call
    b"Event: DTMFBegin\r\nLinkedid: " + LINKEDID.encode() + b"\r\nDigit: \xff\xfe\xc3\x28\r\n\r\n",
    b"Event: Cdr\r\nSource: 0812345678\r\n",  # its blank line is missing: merges with the next
    b"Event: Noise\r\nthis line has no colon\r\n\r\n",
    b"\r\n" * 1000,
]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = await FakeAmi().start()
    yield server
    await server.stop()


def _with_garbage(chunks: list[Chunk]) -> list[Chunk]:
    """The recording's chunks with one piece of garbage after every few of them."""
    mixed: list[Chunk] = []
    step = max(1, len(chunks) // len(GARBAGE))
    for i, chunk in enumerate(chunks):
        mixed.append(chunk)
        if i % step == step - 1 and i // step < len(GARBAGE):
            mixed.append(Chunk(chunk.at, GARBAGE[i // step]))
    return mixed


async def test_garbage_between_frames_costs_nothing(fake: FakeAmi, database: Database) -> None:
    calls = build_calls(database)
    link = AmiLink(fake.host, fake.port, fake.username, fake.secret, action_timeout=2.0,
                   ping_interval=0.5, ping_timeout=1.0, backoff=Backoff(0.05, 0.2))
    calls.tracker.attach(link)
    await link.start()
    await link.wait_connected(5)
    recorded = [c for c in load_recording(FIXTURES / "answered.ami") if c.direction == "in"]
    # The recording starts with Asterisk's banner and login answer: the session has its own.
    body = [c for c in recorded if not c.data.startswith(b"Asterisk Call Manager")]
    mixed = _with_garbage(body)
    assert sum(c.data in GARBAGE for c in mixed) == len(GARBAGE)
    await fake.replay(mixed)
    async with asyncio.timeout(20):
        while not [s for s in await stub_rows(database) if s.body.get("ended_at")]:
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.2)  # two more pings over the same session
    stats = link.stats
    await link.close()
    await calls.bus.close()

    assert stats.sessions == 1 and stats.disconnects == 0, "garbage cost a reconnect"
    assert stats.malformed_frames >= 4
    assert stats.internal_errors == 0 and calls.tracker.stats.errors == 0
    assert stats.ping_failures == 0
    [call] = await call_rows(database)
    assert (call.linkedid, call.disposition, call.agent_id) == (LINKEDID, "answered", "A001")
    assert call.wait_seconds == pytest.approx(1.008, abs=0.001)
    assert await step_names(database, LINKEDID) == [
        "entered", "menu", "queued", "queue_joined", "agent_ringing", "queue_left", "answered",
        "agent_complete", "ended",
    ]
