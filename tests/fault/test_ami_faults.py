"""An AMI action that is never answered (an Asterisk whose manager thread hangs on one action):
each times out on its deadline, nothing stays pending, and memory stays flat over thousands of
them (tracemalloc of the whole process: the growth over a second round of the same size)."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from ami import ActionTimeout, AmiLink, Backoff
from tests.ami.fake_ami import FakeAmi

ROUNDS = 5000
BATCH = 100  # actions waiting at once


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = await FakeAmi().start()
    server.hold = {"originate"}  # received, never answered
    yield server
    await server.stop()


async def _unanswered(link: AmiLink, fake: FakeAmi, count: int) -> tuple[int, int]:
    """(timed out, received by the server): the fake's own log of what it received is emptied
    as it goes, so that only the link's memory is measured."""
    timed_out = received = 0
    for start in range(0, count, BATCH):
        results = await asyncio.gather(
            *(link.send({"Action": "Originate", "Channel": f"PJSIP/agent-{i % 80 + 1:03d}",
                         "Application": "Wait", "Data": "1"}, timeout=0.02)
              for i in range(start, min(count, start + BATCH))),
            return_exceptions=True)
        timed_out += sum(isinstance(r, ActionTimeout) for r in results)
        received += fake.count("originate")
        fake.received.clear()
    return timed_out, received


async def test_unanswered_actions_time_out_and_leave_nothing_behind(fake: FakeAmi) -> None:
    link = AmiLink(fake.host, fake.port, fake.username, fake.secret, action_timeout=1.0,
                   ping_interval=60.0, ping_timeout=1.0, backoff=Backoff(0.01, 0.05))
    await link.start()
    await link.wait_connected(5)
    try:
        tracemalloc.start()
        # The last batch's futures and timers outlive it a little: a first round of the same
        # size leaves the same residue, so the second round's growth is what accumulates.
        assert await _unanswered(link, fake, ROUNDS) == (ROUNDS, ROUNDS)
        gc.collect()
        before = tracemalloc.take_snapshot()
        timed_out, received = await _unanswered(link, fake, ROUNDS)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        growth = sum(s.size_diff for s in after.compare_to(before, "filename"))
        stats = link.stats
        answer = await link.send({"Action": "Ping"}, timeout=2)  # the session still works
    finally:
        await link.close()
    print(f"\n[fault] unanswered actions: {timed_out} timed out of {ROUNDS} "
          f"({BATCH} waiting at once); pending afterwards {stats.actions_pending}, queued "
          f"{stats.actions_queued}; memory growth {growth / 1024:.1f} KiB "
          f"({growth / ROUNDS:.1f} B per action); reconnects {stats.sessions - 1}")
    assert timed_out == ROUNDS
    assert stats.actions_pending == 0 and stats.actions_queued == 0
    assert stats.sessions == 1 and answer.ok
    assert received == ROUNDS  # each was really sent, once
    assert growth < 64 * 1024, f"memory grew {growth} bytes over {ROUNDS} timeouts"
