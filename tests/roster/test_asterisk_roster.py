"""The roster applied to a real Asterisk (clock injected, never waited for): QueueStatus shows
exactly the expected members and penalties; the 14:00 and 22:00 boundaries (her call goes on);
a roster edit reconciled within 2 s; pause/unpause; membership restored after a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agent_routing.agent_states import LogAgentOut
from agent_routing.apply import ApplyRoster
from agent_routing.asterisk_queues import AsteriskQueues
from agent_routing.membership import desired_members
from agent_routing.presence import members
from agent_routing.situations import SituationReader
from agent_routing.skills import routing
from ami import AmiLink
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance
from settings import Settings
from shift_schedule.clock import FixedClock
from sip_traffic.runner import SippProcess, start_sipp
from sip_traffic.scenarios import agent_scenario, caller_scenario
from storage import Database
from web.accounts import Role, User

from .asterisk_support import (
    admin,
    channels,
    controller_link,
    eventually,
    member_set,
    queue_members,
    remove_all_members,
    started_room,
)
from .conftest import KHMER, TUESDAY, at

pytestmark = pytest.mark.asterisk
SUPERVISOR = User(1, "supervisor", "Supervisor", Role.SUPERVISOR, None)


@pytest.fixture
async def sandbox_admin(roster_asterisk: AsteriskInstance) -> AsyncIterator[MiniAmi]:
    client = await admin(roster_asterisk)
    await remove_all_members(client)
    yield client
    await remove_all_members(client)
    await client.close()


@pytest.fixture
async def link(roster_asterisk: AsteriskInstance) -> AsyncIterator[AmiLink]:
    link = controller_link(roster_asterisk)
    await link.start()
    await link.wait_connected(timeout=10)
    yield link
    await link.close()


@pytest.fixture
def apply(reader: SituationReader, link: AmiLink) -> ApplyRoster:
    return ApplyRoster(reader, AsteriskQueues(link), routing())


async def _expected(reader: SituationReader) -> set[tuple[str, str, str, str, int]]:
    wanted = desired_members(routing(), members((await reader.read()).agents))
    return {(m.queue, m.member_name, m.interface, m.state_interface, m.penalty)
            for m in wanted.values()}


async def test_queue_status_shows_exactly_the_roster(
    apply: ApplyRoster, reader: SituationReader, sandbox_admin: MiniAmi,
) -> None:
    report = await apply.execute()
    assert report.ok
    actual = member_set(await queue_members(sandbox_admin))
    assert actual == await _expected(reader)
    assert len(actual) == 15 * 3 + 4 * 4  # 10:00: morning counsellors and English desk
    assert ("intl-en", "A016", "PJSIP/agent-016", "PJSIP/agent-016", 0) in actual
    assert ("counsel-th", "A016", "PJSIP/agent-016", "PJSIP/agent-016", 1) in actual
    assert ("intl-th", "A001", "PJSIP/agent-001", "PJSIP/agent-001", 2) in actual
    again = await apply.execute()
    assert again.changes == () and member_set(await queue_members(sandbox_admin)) == actual


async def test_boundaries_add_the_khmer_interpreter_and_remove_her_without_cutting_her_call(
    apply: ApplyRoster, reader: SituationReader, clock: FixedClock, roster_db: Database,
    sandbox_admin: MiniAmi, roster_asterisk: AsteriskInstance,
) -> None:
    clock.set(at(13, 59, 59))
    await apply.execute()
    assert not [m for m in member_set(await queue_members(sandbox_admin)) if m[0] == "intl-km"]
    clock.set(at(14))
    await apply.execute()
    khmer = {m for m in member_set(await queue_members(sandbox_admin)) if m[1] == KHMER}
    assert {(m[0], m[4]) for m in khmer} == {("intl-km", 0), ("intl-th", 0), ("counsel-th", 1),
                                             ("critical-th", 1)}
    # Leave her alone in the default queue, so the next call is hers.
    for s in members((await reader.read()).agents):
        if s.agent.id != KHMER:
            await LogAgentOut(roster_db, reader, _later).execute(SUPERVISOR, s.agent.id)
    clock.set(at(21, 59, 50))
    await apply.execute()
    phone = await start_sipp(agent_scenario(ring=0.2, talk=6.0), name="agent",
                             local_port=roster_asterisk.ports.agent_sip)
    caller = await _call(roster_asterisk)
    try:
        await eventually(lambda: _on_call(sandbox_admin, "agent-037"), timeout=15)
        clock.set(at(22))
        report = await apply.execute()
        removed = {c.member.queue for c in report.changes
                   if c.kind == "remove" and c.member.member_name == KHMER}
        assert removed == {"intl-km", "intl-th", "counsel-th", "critical-th"}
        assert KHMER not in {m[1] for m in member_set(await queue_members(sandbox_admin))}
        assert await _on_call(sandbox_admin, "agent-037"), "her call was cut"
        ended = await caller.wait(timeout=20)  # ends when she hangs up, 6 s after answering
        assert ended.successful == 1, ended.summary()
        assert (await phone.wait(timeout=10)).successful == 1
    finally:
        await caller.stop()
        await phone.stop()
    night = member_set(await queue_members(sandbox_admin))
    assert night == await _expected(reader) and len({m[1] for m in night}) == 6


async def test_pause_and_unpause_show_in_asterisk(
    settings: Settings, roster_db: Database, clock: FixedClock, roster_asterisk: AsteriskInstance,
    sandbox_admin: MiniAmi,
) -> None:
    link = controller_link(roster_asterisk)
    room = await started_room(settings, roster_db, link, clock)
    try:
        await eventually(lambda: _has_member(sandbox_admin, "A001"), timeout=5)
        change = await room.routing.pause.execute(SUPERVISOR, "A001", "break")
        assert change.applied
        paused = [e for e in await queue_members(sandbox_admin) if e["Name"] == "A001"]
        assert len(paused) == 3 and {(e["Paused"], e["PausedReason"]) for e in paused} == {
            ("1", "break")}
        await room.routing.unpause.execute(SUPERVISOR, "A001")
        entries = [e for e in await queue_members(sandbox_admin) if e["Name"] == "A001"]
        assert {e["Paused"] for e in entries} == {"0"}
    finally:
        await room.stop()
        await link.close()


async def test_roster_edit_is_reconciled_within_two_seconds(
    settings: Settings, roster_db: Database, clock: FixedClock, roster_asterisk: AsteriskInstance,
    sandbox_admin: MiniAmi, reader: SituationReader,
) -> None:
    link = controller_link(roster_asterisk)
    room = await started_room(settings, roster_db, link, clock)
    try:
        await eventually(lambda: _has_member(sandbox_admin, "A001"), timeout=5)
        await room.roster.absent.execute("supervisor", "A005", TUESDAY, "morning", "sick",
                                         cover_agent_id="A044")
        seconds = await eventually(
            lambda: _members_are(sandbox_admin, without="A005", with_="A044"), timeout=2.0)
        print(f"roster edit reconciled in {seconds:.3f} s")
        assert member_set(await queue_members(sandbox_admin)) == await _expected(reader)
    finally:
        await room.stop()
        await link.close()


# Last: a restart drops every member and call of this module's Asterisk.
async def test_asterisk_restart_restores_membership_within_seconds(
    settings: Settings, roster_db: Database, clock: FixedClock, roster_asterisk: AsteriskInstance,
    reader: SituationReader,
) -> None:
    link = controller_link(roster_asterisk)
    room = await started_room(settings, roster_db, link, clock)
    expected = await _expected(reader)
    try:
        before = await admin(roster_asterisk)
        await eventually(lambda: _same(before, expected), timeout=5)
        await before.close()
        await asyncio.to_thread(roster_asterisk.restart_now)
        after = await admin(roster_asterisk)
        try:
            restored = await eventually(lambda: _same(after, expected), timeout=10.0, step=0.1)
            print(f"membership restored {restored:.2f} s after Asterisk was fully booted")
        finally:
            await remove_all_members(after)
            await after.close()
    finally:
        await room.stop()
        await link.close()


async def _later() -> bool:
    return False


async def _call(instance: AsteriskInstance) -> SippProcess:
    """One carrier call to 1300 that waits for the agent to hang up."""
    return await start_sipp(
        caller_scenario(caller="0812345678", hangup_after=None), name="caller",
        remote=f"127.0.0.1:{instance.ports.sip}", service="1300", calls=1,
        local_port=instance.ports.trunk, timeout=40,
    )


async def _on_call(client: MiniAmi, endpoint: str) -> bool:
    return any(c.get("Channel", "").startswith(f"PJSIP/{endpoint}-")
               and c.get("ChannelStateDesc") == "Up" for c in await channels(client))


async def _has_member(client: MiniAmi, agent_id: str) -> bool:
    return agent_id in {m[1] for m in member_set(await queue_members(client))}


async def _members_are(client: MiniAmi, *, without: str, with_: str) -> bool:
    names = {m[1] for m in member_set(await queue_members(client))}
    return without not in names and with_ in names


async def _same(client: MiniAmi, expected: set[tuple[str, str, str, str, int]]) -> bool:
    try:
        return member_set(await queue_members(client)) == expected
    except Exception:
        return False
