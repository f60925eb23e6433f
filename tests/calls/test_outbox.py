"""Delivery to a real case-store receiver (an aiohttp server on a free port): failures, an
outage, restarts, coalescing, parking, and two pushers on one database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import zoneinfo
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest

from ami import Backoff
from case_stubs.agents import AgentDirectory
from case_stubs.outbox import HttpStubSender, OutboxQueue, StubPusher, Verdict, classify
from case_stubs.service import CaseStubService, Stub, StubWriter
from storage import Database
from storage.leases import controller_identity, is_gone
from tests.calls.dbview import outbox_rows, stub_rows
from tests.calls.receiver import CaseStore
from web.accounts import Role, User

BANGKOK = zoneinfo.ZoneInfo("Asia/Bangkok")
AGENT = User(7, "agent7", "Agent Seven", Role.AGENT, "A007")
FAST = Backoff(initial=0.05, maximum=0.3, jitter=0.0)


@dataclass
class Delivery:
    db: Database
    store: CaseStore
    http: aiohttp.ClientSession
    stubs: CaseStubService
    wakers: list[Callable[[], None]]

    def pusher(self, owner: str = "test") -> StubPusher:
        queue = OutboxQueue(self.db, owner=owner, lease=timedelta(seconds=5))
        sender = HttpStubSender(self.http, self.store.url, self.store.token, timeout=1.0)
        pusher = StubPusher(queue, sender, FAST, idle_check=0.5)
        self.wakers.append(pusher.wake)
        return pusher

    async def contact(self, note: str) -> Stub:
        return await self.stubs.create_contact(
            channel="walk_in",
            dialed="walk-in",
            caller_number="+66812345678",
            language="th",
            priority="normal",
            actor=AGENT,
            notes=note,
        )

    async def wait_all_delivered(self, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                rows = (await outbox_rows(self.db)).values()
                if rows and all(r.state == "delivered" for r in rows):
                    return
                await asyncio.sleep(0.05)


@pytest.fixture
async def delivery(database: Database) -> AsyncIterator[Delivery]:
    store = await CaseStore().start()
    wakers: list[Callable[[], None]] = []

    def wake_all() -> None:
        for wake in wakers:
            wake()

    writer = StubWriter(
        database, push_enabled=True, on_queued=wake_all, bus=None, clock=_utcnow, tz=BANGKOK
    )
    async with aiohttp.ClientSession() as http:
        yield Delivery(
            database,
            store,
            http,
            CaseStubService(database, writer, AgentDirectory(database), tz=BANGKOK),
            wakers,
        )
    await store.stop()


@contextlib.asynccontextmanager
async def running(pusher: StubPusher) -> AsyncIterator[None]:
    task = asyncio.create_task(pusher.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def assert_each_stub_arrived_once_at_its_highest_revision(d: Delivery) -> None:
    rows = await stub_rows(d.db)
    assert rows, "nothing to deliver"
    for row in rows:
        assert d.store.stored[row.id]["revision"] == row.revision
        assert d.store.stored[row.id] == row.body
        assert d.store.accepted.count((row.id, row.revision)) == 1
    outbox = await outbox_rows(d.db)
    assert all(o.delivered_revision == o.revision for o in outbox.values())


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (201, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (409, Verdict.DELIVERED),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (400, Verdict.PARK),
        (401, Verdict.PARK),
        (404, Verdict.PARK),
        (422, Verdict.PARK),
    ],
)
def test_the_contract_decides_what_a_status_means(status: int, verdict: Verdict) -> None:
    assert classify(status) is verdict


async def test_errors_then_an_outage_lose_nothing_and_send_each_stub_once(
    delivery: Delivery,
) -> None:
    d = delivery
    failures = iter(range(15))
    d.store.fail = lambda _id, _rev: 500 if next(failures, None) is not None else None
    stubs = [await d.contact(f"contact {i}") for i in range(12)]
    for stub in stubs[::2]:
        await d.stubs.add_details(stub.id, {"notes": "second thoughts"})
    async with running(d.pusher()):
        async with asyncio.timeout(10):
            while len(d.store.requests) < 15:
                await asyncio.sleep(0.02)
        await d.store.stop()  # the case store goes down
        for stub in stubs[:4]:
            await d.stubs.add_details(stub.id, {"notes": "updated while the store was down"})
        await asyncio.sleep(1.0)
        await d.store.start()  # back, on the same address
        await d.wait_all_delivered()

    statuses = {status for _, _, status in d.store.requests}
    assert 500 in statuses
    await assert_each_stub_arrived_once_at_its_highest_revision(d)
    assert len(d.store.stored) == 12


async def test_only_the_highest_revision_waiting_is_sent(delivery: Delivery) -> None:
    d = delivery
    await d.store.stop()
    stub = await d.contact("first")
    for note in ("second", "third", "fourth"):
        stub = await d.stubs.add_details(stub.id, {"notes": note})
    assert stub.revision == 4
    await d.store.start()
    async with running(d.pusher()):
        await d.wait_all_delivered()
    assert [(i, r) for i, r, _ in d.store.requests] == [(stub.id, 4)]


async def test_a_refused_stub_is_parked_then_retried_by_a_supervisor(delivery: Delivery) -> None:
    d = delivery
    bad = await d.contact("the store refuses this one")
    good = await d.contact("fine")
    d.store.fail = lambda stub_id, _rev: 422 if stub_id == bad.id else None
    pusher = d.pusher()
    queue = OutboxQueue(d.db, owner="ui", lease=timedelta(seconds=5))
    async with running(pusher):
        async with asyncio.timeout(10):
            while (await queue.summary())["parked"] != 1:
                await asyncio.sleep(0.05)
        summary = await queue.summary()
        assert summary["pending"] == 0 and summary["delivered"] == 1
        [parked] = summary["parked_stubs"]
        assert (parked["stub_id"], parked["last_status"]) == (bad.id, 422)
        assert d.store.stored.keys() == {good.id}

        d.store.fail = lambda _id, _rev: None  # the store's operator fixed it
        assert await queue.requeue(bad.id) == ("parked", 1)
        pusher.wake()
        await d.wait_all_delivered()
    await assert_each_stub_arrived_once_at_its_highest_revision(d)


async def test_a_restarted_controller_delivers_what_the_previous_one_left(
    delivery: Delivery,
) -> None:
    d = delivery
    await d.store.stop()
    for i in range(5):
        await d.contact(f"before restart {i}")
    async with running(d.pusher(owner="first-run")):
        await asyncio.sleep(0.5)  # tries, connection refused, backs off
    pending = await outbox_rows(d.db)
    assert all(o.state == "pending" and o.attempts >= 1 for o in pending.values())
    await d.store.start()
    async with running(d.pusher(owner="second-run")):
        await d.wait_all_delivered()
    await assert_each_stub_arrived_once_at_its_highest_revision(d)


async def test_two_pushers_on_one_database_never_send_a_revision_twice(
    delivery: Delivery,
) -> None:
    d = delivery
    d.store.delay = 0.05  # slow enough for the two to overlap
    for i in range(30):
        await d.contact(f"busy day {i}")
    async with running(d.pusher(owner="controller-a")), running(d.pusher(owner="controller-b")):
        await d.wait_all_delivered()
    sent = [(i, r) for i, r, _ in d.store.requests]
    assert len(sent) == len(set(sent)) == 30


async def _claim_everything_as(d: Delivery, owner: str) -> None:
    claims = await OutboxQueue(d.db, owner=owner, lease=timedelta(minutes=10)).claim_due()
    assert claims


async def test_a_restart_takes_back_the_claims_of_the_dead_process_at_once(
    delivery: Delivery,
) -> None:
    d = delivery
    for i in range(3):
        await d.contact(f"claimed, then the controller crashed {i}")
    await _claim_everything_as(d, f"{socket.gethostname()}:{_dead_pid()}:0badf00d")
    async with running(d.pusher(owner=controller_identity())):
        await d.wait_all_delivered(timeout=5.0)  # well before the 10-minute lease
    await assert_each_stub_arrived_once_at_its_highest_revision(d)


@pytest.mark.parametrize("holder", ["live", "other host", "unknown form"])
async def test_a_start_leaves_the_claims_of_a_live_controller_alone(
    delivery: Delivery, holder: str
) -> None:
    d = delivery
    claimed = await d.contact("claimed by a controller that is still sending")
    other_controller = subprocess.Popen(["sleep", "30"])  # another process, still running
    owner = {
        "live": f"{socket.gethostname()}:{other_controller.pid}:0badf00d",
        "other host": f"another-node:{_dead_pid()}:0badf00d",
        "unknown form": "controller-a",
    }[holder]
    await _claim_everything_as(d, owner)
    free = await d.contact("nobody claimed this one")
    async with running(d.pusher(owner=controller_identity())):
        async with asyncio.timeout(5):
            while (free.id, 1) not in [(i, r) for i, r, _ in d.store.requests]:
                await asyncio.sleep(0.05)
    other_controller.kill()
    other_controller.wait()
    assert claimed.id not in {i for i, _, _ in d.store.requests}


def test_an_identity_is_gone_only_for_a_dead_pid_or_a_reused_one_on_this_host() -> None:
    me = controller_identity()
    host = socket.gethostname()
    assert not is_gone(me, me)
    assert is_gone(f"{host}:{os.getpid()}:0ldrun00", me)  # this pid, an earlier process
    assert is_gone(f"{host}:{_dead_pid()}:0badf00d", me)
    assert not is_gone(f"{host}:1:0badf00d", me)  # init runs
    assert not is_gone(f"elsewhere:{_dead_pid()}:0badf00d", me)
    assert not is_gone("controller-a", me)


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _utcnow():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)
