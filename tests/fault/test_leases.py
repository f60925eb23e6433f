"""Scale-out: several controllers on one database, one of them doing each duty at a time.

The lease table itself (one winner among racing controllers, take-over after expiry, a holder cut
off from the database stands down before anyone else can take over), then the two duties that
use it: applying the roster to an Asterisk, and pushing stubs to the case store. Runs on SQLite
and, with LINE1300_TEST_DATABASE_URL, on PostgreSQL (where the racers are truly concurrent).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from agent_routing.apply import ApplyReport, ApplyRoster, RosterScheduler
from agent_routing.situations import SituationReader
from agent_routing.skills import routing
from case_stubs.outbox import HttpStubSender, OutboxQueue, StubPusher
from ivr.events import IvrStep
from shift_schedule.clock import FixedClock
from shift_schedule.model import ShiftDef
from storage import Database
from storage.leases import DutyLeases, LeaseKeeper, LeaseRow
from tests.calls.dbview import stub_rows
from tests.calls.test_outbox import (  # noqa: F401  (the fixture)
    FAST,
    Delivery,
    assert_each_stub_arrived_once_at_its_highest_revision,
    delivery,
    running,
)
from tests.roster.conftest import TZ, MemoryQueues, at, clock, reader, roster_db  # noqa: F401
from tests.roster.test_callbacks_unit import Desk, request_event

DUTY = "roster-apply:node-1:5038"
T0 = datetime(2025, 3, 4, 3, 0, tzinfo=UTC)


class Moment:
    """A wall clock and a monotonic clock that move together, only when told."""

    def __init__(self) -> None:
        self.now = T0
        self.mono = 1000.0

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


async def lease_rows(db: Database) -> list[LeaseRow]:
    async with db.session() as s:
        return list((await s.execute(select(LeaseRow))).scalars())


async def test_one_holder_renews_and_another_takes_over_only_after_expiry(
    database: Database,
) -> None:
    t = Moment()
    a = DutyLeases(database, "controller-a", ttl=timedelta(seconds=15), clock=t.wall)
    b = DutyLeases(database, "controller-b", ttl=timedelta(seconds=15), clock=t.wall)
    assert await a.acquire(DUTY)
    assert not await b.acquire(DUTY)
    t.advance(10)
    assert await a.acquire(DUTY)  # a renewal: 15 s from now again
    t.advance(10)
    assert not await b.acquire(DUTY)
    t.advance(6)  # a stopped renewing 16 s ago
    assert await b.acquire(DUTY)
    assert not await a.acquire(DUTY)
    [row] = await lease_rows(database)
    assert row.holder == "controller-b"
    current = await b.current(DUTY)
    assert current is not None and current.holder == "controller-b"


async def test_racing_first_takers_elect_exactly_one(db_url: str) -> None:
    # One engine per controller, so on PostgreSQL the race is between real connections.
    dbs = [Database(db_url) for _ in range(8)]
    try:
        leases = [DutyLeases(db, f"controller-{i}") for i, db in enumerate(dbs)]
        won = await asyncio.gather(*(lease.acquire(DUTY) for lease in leases))
        assert sum(won) == 1
        [row] = await lease_rows(dbs[0])
        assert row.holder == leases[won.index(True)].holder
        again = await asyncio.gather(*(lease.acquire(DUTY) for lease in leases))
        assert again == won  # the winner renews, the others are still refused
    finally:
        for db in dbs:
            await db.close()


async def test_release_hands_the_duty_over_at_once(database: Database) -> None:
    a, b = DutyLeases(database, "controller-a"), DutyLeases(database, "controller-b")
    assert await a.acquire(DUTY) and not await b.acquire(DUTY)
    await a.release(DUTY)
    assert await a.current(DUTY) is None
    assert await b.acquire(DUTY)


class CutOff(DutyLeases):
    """A controller whose database connection has gone (network partition)."""

    cut = False

    async def acquire(self, duty: str) -> bool:
        if self.cut:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database unreachable"))
        return await super().acquire(duty)


async def test_a_holder_cut_off_from_the_database_stands_down_before_anyone_can_take_over(
    database: Database,
) -> None:
    t = Moment()
    ttl = timedelta(seconds=15)
    a = CutOff(database, "controller-a", ttl=ttl, clock=t.wall)
    b = DutyLeases(database, "controller-b", ttl=ttl, clock=t.wall)
    keeper = LeaseKeeper(a, DUTY, margin=timedelta(seconds=2), monotonic=t.monotonic)
    assert await keeper.renew()  # renew() answers `held`
    a.cut = True
    overlap = []
    for _ in range(40):  # 20 s in half seconds
        t.advance(0.5)
        await keeper.renew()
        b_holds = await b.acquire(DUTY)
        overlap.append(keeper.held and b_holds)
        if b_holds:
            break
    assert not any(overlap), "two controllers held the duty at once"
    assert not keeper.held
    current = await b.current(DUTY)
    assert current is not None and current.holder == "controller-b"
    # b took over 15 s after a's last renewal, a had stood down 2 s earlier
    assert t.now - T0 >= ttl


@contextlib.asynccontextmanager
async def running_tasks(*coros: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(c) for c in coros]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


def holding(keeper: LeaseKeeper) -> Callable[[], bool]:
    """The `may_act` of a duty run under this keeper, as the install modules wire it."""
    return lambda: keeper.held


def applied(apply: ApplyRoster) -> ApplyReport:
    """The report of the last pass of a roster application the test has waited for."""
    assert apply.last is not None
    return apply.last


async def test_two_controllers_on_one_asterisk_apply_the_roster_one_at_a_time(
    roster_db: Database, reader: SituationReader, clock: FixedClock,  # noqa: F811
) -> None:
    asterisk = MemoryQueues()  # the one Asterisk both controllers are attached to
    fast = timedelta(seconds=1.5)
    appliers, schedulers, keepers = [], [], []
    for name in ("controller-a", "controller-b"):
        apply = ApplyRoster(reader, asterisk, routing())
        keeper = LeaseKeeper(DutyLeases(roster_db, name, ttl=fast), DUTY,
                             margin=timedelta(seconds=0.3))
        scheduler = RosterScheduler(apply, _no_shifts, clock, TZ, retry=0.1, resync=0.2,
                                    may_act=holding(keeper))
        keeper.on_gained = scheduler.wake
        appliers.append(apply)
        schedulers.append(scheduler)
        keepers.append(keeper)
    assert await keepers[0].renew()  # a starts first and is the leader
    async with running_tasks(keepers[1].run(), schedulers[1].run()):
        async with running_tasks(keepers[0].run(), schedulers[0].run()):
            await until(lambda: appliers[0].last is not None)
            await asyncio.sleep(1.0)  # several resyncs of a, several looks of b
            assert appliers[1].last is None, "the standby applied the roster too"
            members = len(asterisk.table)
            assert members == applied(appliers[0]).desired
        # a stopped (and released its lease): b takes over and keeps the queues
        sent = len(asterisk.actions)
        await until(lambda: appliers[1].last is not None)
        assert applied(appliers[1]).changes == ()
        assert len(asterisk.actions) == sent  # nothing was applied twice
    assert not any(r.failed for r in (appliers[0].last, appliers[1].last) if r)


async def _no_shifts() -> list[ShiftDef]:
    return []


async def test_two_controllers_push_each_stub_once_and_the_standby_takes_over(
    delivery: Delivery,  # noqa: F811
) -> None:
    d = delivery
    fast = timedelta(seconds=1.5)
    pushers, keepers = [], []
    for name in ("controller-a", "controller-b"):
        # as case_stubs/install.py wires them
        keeper = LeaseKeeper(DutyLeases(d.db, name, ttl=fast), "case-stub-pusher",
                             margin=timedelta(seconds=0.3))
        queue = OutboxQueue(d.db, owner=name, lease=timedelta(seconds=5))
        sender = HttpStubSender(d.http, d.store.url, d.store.token, timeout=1.0)
        pusher = StubPusher(queue, sender, FAST, idle_check=0.5, may_act=holding(keeper))
        keeper.on_gained = pusher.wake
        d.wakers.append(pusher.wake)
        pushers.append(pusher)
        keepers.append(keeper)
    assert await keepers[0].renew()
    async with running_tasks(keepers[1].run()), running(pushers[1]):
        async with running_tasks(keepers[0].run()), running(pushers[0]):
            first = [await d.contact(f"contact {i}") for i in range(10)]
            await d.wait_all_delivered()
            assert (pushers[0].sent, pushers[1].sent) == (10, 0)
        # a is gone: new revisions and new contacts go out through b
        for stub in first[:5]:
            await d.stubs.add_details(stub.id, {"notes": "after the hand-over"})
        [await d.contact(f"later {i}") for i in range(5)]
        await d.wait_all_delivered()
        assert pushers[1].sent == 10
    await assert_each_stub_arrived_once_at_its_highest_revision(d)
    assert len(await stub_rows(d.db)) == 15



async def test_two_controllers_place_a_waiting_callback_once(
    roster_db: Database, reader: SituationReader, clock: FixedClock,  # noqa: F811
) -> None:
    # Each node applies the same roster to its own Asterisk, so the English desk is free on both.
    nodes = [Desk(roster_db, reader), Desk(roster_db, reader)]
    clock.set(at(15))
    for node in nodes:
        await node.apply.execute()
    step = IvrStep.from_event(request_event(lang="en"))
    assert step is not None
    callback = await nodes[0].record.handle(step)
    assert callback is not None
    placed = await asyncio.gather(*(node.place.execute() for node in nodes))
    originates = [call for node in nodes for call in node.phones.calls]
    assert len(originates) == 1, "the caller would be rung back twice"
    assert sum(len(p) for p in placed) == 1
    _, attempts = await nodes[0].callback(callback.id)
    assert len(attempts) == 1
