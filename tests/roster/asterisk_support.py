"""Helpers of the real-Asterisk roster tests: independent reads of Asterisk's own state (as the
sandbox admin, not through the code under test) and the room built against an instance."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from agent_routing.install import Room, build_room
from ami import AmiLink
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance
from settings import Settings
from shift_schedule.clock import Clock
from storage import Database

Member = tuple[str, str, str, str, int]  # queue, member name, interface, state interface, penalty


async def admin(instance: AsteriskInstance) -> MiniAmi:
    a = instance.config.admin
    return await MiniAmi.connect("127.0.0.1", instance.ports.ami, a.username, a.secret)


def controller_link(instance: AsteriskInstance) -> AmiLink:
    c = instance.config.controller
    return AmiLink("127.0.0.1", instance.ports.ami, c.username, c.secret,
                   ping_interval=1.0, ping_timeout=2.0)


async def queue_members(client: MiniAmi) -> list[dict[str, str]]:
    return [e for e in await client.list_action("QueueStatus") if e.get("Event") == "QueueMember"]


def member_set(entries: list[dict[str, str]]) -> set[Member]:
    return {(e["Queue"], e["Name"] if "Name" in e else e["MemberName"],
             e.get("Interface") or e["Location"], e["StateInterface"], int(e["Penalty"]))
            for e in entries}


async def remove_all_members(client: MiniAmi) -> None:
    for e in await queue_members(client):
        await client.action("QueueRemove", Queue=e["Queue"],
                            Interface=e.get("Interface") or e["Location"])


async def channels(client: MiniAmi) -> list[dict[str, str]]:
    return [e for e in await client.list_action("CoreShowChannels")
            if e.get("Event") == "CoreShowChannel"]


async def eventually(check: Callable[[], object], timeout: float, step: float = 0.05) -> float:
    """Seconds until `await check()` is truthy; AssertionError after `timeout`."""
    started = time.monotonic()
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true after {timeout} s")
        await asyncio.sleep(step)


async def started_room(settings: Settings, db: Database, link: AmiLink, clock: Clock) -> Room:
    room = build_room(settings, db, link, clock)
    await link.start()
    await link.wait_connected(timeout=10)
    await room.start()
    return room
