"""Fixtures of the roster room: a seeded roster at a chosen moment, and an in-memory Asterisk
queue table for the unit tests (the real Asterisk is in test_asterisk_*.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from agent_routing.asterisk_queues import ApplyResult
from agent_routing.membership import ActualMember, MemberChange, MemberSpec
from agent_routing.situations import SituationReader
from dialplans.minimal import minimal_extensions
from sandbox.instance import AsteriskInstance
from sandbox.provision import AsteriskRuntime
from settings import Settings
from shift_schedule.bootstrap import GenerateRosterDays, SeedDefaultRoster
from shift_schedule.clock import FixedClock
from shift_schedule.seed import load_seed
from storage import Database

# The integration room's session fixtures (settings, the provisioned sandbox), shared as is.
from tests.integration.conftest import asterisk_runtime, asterisk_settings  # noqa: F401

TZ = ZoneInfo("Asia/Bangkok")
TUESDAY = date(2025, 3, 4)
KHMER = "A037"  # the seed's one Khmer interpreter (afternoon shift)


def at(hour: int, minute: int = 0, second: int = 0, day: date = TUESDAY) -> datetime:
    """A local (Bangkok) moment."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at(10))


@pytest.fixture
async def roster_db(database: Database, clock: FixedClock) -> AsyncIterator[Database]:
    """The seed roster written and two weeks of assignments generated around Tuesday."""
    assert await SeedDefaultRoster(database, load_seed()).execute()
    await GenerateRosterDays(database, clock, TZ, 14).execute()
    yield database


@pytest.fixture
def reader(roster_db: Database, clock: FixedClock) -> SituationReader:
    return SituationReader(roster_db, clock, TZ, auto_login=True)


class MemoryQueues:
    """Asterisk's queue member table in memory, refusing what Asterisk refuses (adding a member
    twice, removing or changing one that is not there), and counting the actions it got."""

    def __init__(self) -> None:
        self.table: dict[tuple[str, str], ActualMember] = {}
        self.actions: list[MemberChange] = []

    async def members(self, queues: Sequence[str] | None = None) -> list[ActualMember]:
        return [m for m in self.table.values() if queues is None or m.spec.queue in queues]

    async def apply(self, changes: Iterable[MemberChange]) -> ApplyResult:
        result = ApplyResult()
        for change in changes:
            self.actions.append(change)
            result.sent += 1
            error = self._one(change)
            if error:
                result.failed.append((change, error))
        return result

    def set_status(self, agent_id: str, status: int) -> None:
        for key, m in self.table.items():
            if m.spec.member_name == agent_id:
                self.table[key] = ActualMember(m.spec, m.dynamic, status == 2, status)

    def _one(self, change: MemberChange) -> str | None:
        key, spec = change.member.key, change.member
        if change.kind == "add":
            if key in self.table:
                return "Unable to add interface: Already there"
            self.table[key] = ActualMember(spec, True, False, 1)
            return None
        if key not in self.table:
            return "Unable to find interface"
        current = self.table[key]
        if change.kind == "remove":
            del self.table[key]
            return None
        if change.kind == "penalty":
            new = MemberSpec(**{**current.spec.__dict__, "penalty": spec.penalty})
        else:
            new = MemberSpec(**{**current.spec.__dict__, "paused": spec.paused,
                                "reason": spec.reason if spec.paused else ""})
        self.table[key] = ActualMember(new, current.dynamic, current.in_call, current.status)
        return None


# --- real Asterisk (marked `asterisk`) ---------------------------------------------------------


@pytest.fixture(scope="module")
def roster_asterisk(
    asterisk_runtime: AsteriskRuntime, asterisk_settings: Settings,  # noqa: F811
) -> Iterator[AsteriskInstance]:
    """An Asterisk of this module's own (the restart test must not disturb other rooms'), with
    the minimal dialplan: every DID straight into the default queue."""
    instance = AsteriskInstance.for_tests(asterisk_runtime, asterisk_settings,
                                          dialplan=minimal_extensions)
    try:
        instance.start()
        yield instance
    finally:
        instance.stop(remove=True)
