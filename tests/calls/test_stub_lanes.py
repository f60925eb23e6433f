"""Stub changes on per-call lanes: in order within a call, calls never wait for each other."""

from __future__ import annotations

import asyncio

from call_log.stub_lanes import StubLanes


async def test_one_calls_changes_run_in_order_and_drain_waits_for_them() -> None:
    lanes, done = StubLanes(), []
    gate = asyncio.Event()

    async def job(name: str, wait: bool = False) -> None:
        if wait:
            await gate.wait()
        done.append(name)

    lanes.put("1.1", lambda: job("queued", wait=True))
    lanes.put("1.1", lambda: job("answered"))
    drained = asyncio.create_task(lanes.drain())
    await asyncio.sleep(0.01)
    assert done == [] and not drained.done()
    gate.set()
    await drained
    assert done == ["queued", "answered"] and lanes.busy == 0


async def test_a_slow_call_does_not_hold_up_another() -> None:
    lanes, done = StubLanes(), []
    gate = asyncio.Event()

    async def slow() -> None:
        await gate.wait()
        done.append("slow")

    async def quick() -> None:
        done.append("quick")

    lanes.put("1.1", slow)
    lanes.put("2.2", quick)
    async with asyncio.timeout(1):
        while done != ["quick"]:
            await asyncio.sleep(0.01)
    assert lanes.busy == 1  # the slow call is still on its lane
    gate.set()
    await lanes.drain()
    assert done == ["quick", "slow"]


async def test_a_failed_change_is_reported_and_the_lane_goes_on() -> None:
    failures: list[int] = []
    lanes, done = StubLanes(on_failure=lambda: failures.append(1)), []

    async def broken() -> None:
        raise ConnectionError("database gone")

    async def next_one() -> None:
        done.append("next")

    lanes.put("1.1", broken)
    lanes.put("1.1", next_one)
    await lanes.drain()
    assert failures == [1] and done == ["next"]
