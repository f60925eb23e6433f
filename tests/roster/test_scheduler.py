"""The roster scheduler wakes at the next shift boundary (from the shift definitions, not by
polling), when told of a change, and keeps going when Asterisk is out of reach."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from agent_routing.apply import ApplyRoster, RosterScheduler
from agent_routing.situations import SituationReader
from agent_routing.skills import routing
from ami import ActionTimeout
from shift_schedule.clock import FixedClock
from shift_schedule.model import ShiftDef
from shift_schedule.store import RosterStore
from storage import Database

from .asterisk_support import eventually
from .conftest import KHMER, TZ, MemoryQueues, at


def _shifts(db: Database):  # type: ignore[no-untyped-def]
    async def shifts() -> list[ShiftDef]:
        async with db.session() as s:
            return await RosterStore(s).shifts()
    return shifts


async def test_sleeps_until_the_boundary_then_applies_the_new_shift(
    roster_db: Database, reader: SituationReader, clock: FixedClock,
) -> None:
    queues = MemoryQueues()
    clock.set(at(13, 59, 59) + timedelta(milliseconds=700))
    scheduler = RosterScheduler(ApplyRoster(reader, queues, routing()), _shifts(roster_db), clock,
                                TZ)
    task = asyncio.create_task(scheduler.run())
    try:
        await eventually(lambda: queues.table, timeout=2)
        assert await scheduler._timeout(ok=True) == 0.35  # 0.3 s to 14:00, plus a hair
        clock.set(at(14, 0, 0) + timedelta(milliseconds=50))  # time passes while it sleeps
        await eventually(lambda: ("intl-km", "PJSIP/agent-037") in queues.table, timeout=2)
    finally:
        task.cancel()
    assert queues.table[("intl-km", "PJSIP/agent-037")].spec.member_name == KHMER


async def test_a_change_wakes_it_at_once_and_a_failure_is_retried(
    roster_db: Database, reader: SituationReader, clock: FixedClock,
) -> None:
    class Flaky(MemoryQueues):
        fail = True

        async def members(self, queues=None):  # type: ignore[no-untyped-def]
            if self.fail:
                raise ActionTimeout("QueueStatus", "x", 10.0, sent=False)
            return await super().members(queues)

    queues = Flaky()
    scheduler = RosterScheduler(ApplyRoster(reader, queues, routing()), _shifts(roster_db), clock,
                                TZ, retry=0.2)
    task = asyncio.create_task(scheduler.run())
    try:
        await asyncio.sleep(0.05)
        assert queues.table == {}  # Asterisk out of reach: nothing applied, loop still alive
        queues.fail = False
        await eventually(lambda: queues.table, timeout=1)  # retried after 0.2 s
        removed = ("counsel-th", "PJSIP/agent-001")
        del queues.table[removed]  # someone removed a member behind our back
        scheduler.wake()
        await eventually(lambda: removed in queues.table, timeout=0.5)
        assert await scheduler._timeout(ok=True) == 300.0  # 10:00: 14:00 is far, resync first
    finally:
        task.cancel()
