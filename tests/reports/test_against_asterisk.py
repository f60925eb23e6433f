"""KPIs and the live board against a real Asterisk: SIPp callers into the default queue, SIPp
agents answering, one caller giving up while the agents are paused. The call tracker records the
calls; the KPIs computed from its call log must agree with Asterisk's own queue_log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from agent_routing.skills import routing
from ami import AmiLink, Event
from call_log.bus import CallBus
from call_log.models import CallRow
from call_log.store import CallStore
from call_log.tracker import CallTracker
from case_stubs.agents import AgentDirectory
from case_stubs.service import CaseStubService, StubWriter
from reports.activity import EVENT_NAMES as ACTIVITY_EVENTS
from reports.activity import ActivityStore, RecordAgentActivity
from reports.kpis import ComputeKpis, KpiFilter
from reports.period import DateRange
from reports.wallboard.live import EVENT_NAMES as LIVE_EVENTS
from reports.wallboard.live import LiveQueues
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance
from sip_traffic.runner import SippProcess, SippResult, run_sipp
from sip_traffic.scenarios import caller_scenario
from storage import Database

pytestmark = pytest.mark.asterisk

TZ = ZoneInfo("Asia/Bangkok")
QUEUE = routing().ivr.default_queue
AGENTS = {"A001": "PJSIP/agent-001", "A002": "PJSIP/agent-002"}


@dataclass
class Controller:
    """The parts of the controller these checks need, on one AMI link; `boards` keeps the
    default queue's wallboard row after every event (a screen would have shown each)."""

    link: AmiLink
    live: LiveQueues
    db: Database
    boards: list[dict[str, Any]] = field(default_factory=list)

    def on_event(self, event: Event) -> None:
        if self.live.apply(event):
            self.boards.append(queue_row(self.live))


@pytest.fixture
async def controller(queue_asterisk: AsteriskInstance, database: Database
                     ) -> AsyncIterator[Controller]:
    c = queue_asterisk.config.controller
    link = AmiLink("127.0.0.1", queue_asterisk.ports.ami, c.username, c.secret,
                   ping_interval=1.0, ping_timeout=2.0)
    bus = CallBus()
    writer = StubWriter(database, push_enabled=False, on_queued=lambda: None, bus=bus,
                        clock=lambda: datetime.now(UTC), tz=TZ)
    stubs = CaseStubService(database, writer, AgentDirectory(database), tz=TZ)
    CallTracker(CallStore(database), stubs, bus, AgentDirectory(database)).attach(link)
    recorder = RecordAgentActivity(ActivityStore(database))
    link.subscribe(recorder.on_event, *ACTIVITY_EVENTS)
    d = routing()
    live = LiveQueues(d.queues, d.languages, critical_priority=d.ivr.critical_priority)
    controller = Controller(link, live, database)
    link.subscribe(controller.on_event, *LIVE_EVENTS)
    await link.start()
    await link.wait_connected(timeout=10)
    yield controller
    await link.close()
    await bus.close()


async def call(instance: AsteriskInstance, hangup_after: float | None) -> SippResult:
    return await run_sipp(
        caller_scenario(caller="0812345678", hangup_after=hangup_after), name="caller",
        remote=f"127.0.0.1:{instance.ports.sip}", service="1300", calls=1,
        local_port=instance.ports.trunk, timeout=40.0,
    )


async def ended_calls(db: Database, count: int, timeout: float = 15.0) -> list[CallRow]:
    deadline = time.monotonic() + timeout
    while True:
        async with db.session() as s:
            rows = list((await s.execute(select(CallRow).where(CallRow.ended_at.is_not(None))
                                         )).scalars())
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.2)


def queue_row(live: LiveQueues) -> dict[str, Any]:
    return dict(next(q for q in live.board().as_json()["queues"] if q["name"] == QUEUE))


async def board_until(
    controller: Controller, wanted: Callable[[dict[str, Any]], bool], timeout: float = 20.0
) -> dict[str, Any] | None:
    """The first board (after the one this helper found last) on which `wanted` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        boards = controller.boards
        index = next((i for i, b in enumerate(boards) if wanted(b)), None)
        if index is not None:
            found = boards[index]
            del boards[: index + 1]
            return found
        await asyncio.sleep(0.05)
    return None


def queue_log(instance: AsteriskInstance, callids: set[str]) -> list[list[str]]:
    lines = [line.split("|") for line in instance.queue_log.read_text().splitlines()]
    return [f for f in lines if len(f) > 4 and f[1] in callids]


def member_log(instance: AsteriskInstance, agent: str, since: float) -> list[list[str]]:
    lines = [line.split("|") for line in instance.queue_log.read_text().splitlines()]
    return [f for f in lines if len(f) > 4 and f[3] == agent and float(f[0]) >= since]


async def test_kpis_agree_with_asterisks_queue_log(
    queue_asterisk: AsteriskInstance, controller: Controller, ami_admin: MiniAmi,
    agent_phone: SippProcess,
) -> None:
    started = time.time() - 1
    for agent, interface in AGENTS.items():
        added = await ami_admin.action("QueueAdd", Queue=QUEUE, Interface=interface,
                                       MemberName=agent)
        assert added["Response"] == "Success", added
    # Answered: the agent's phone hangs up after a second of talk. The board sees the agent busy.
    controller.boards.clear()
    first = asyncio.create_task(call(queue_asterisk, hangup_after=None))
    try:
        assert await board_until(controller, lambda q: q["waiting"] == 1)
        busy = await board_until(controller, lambda q: q["agents"]["on_call"] and not q["waiting"])
        assert busy is not None and busy["agents"]["on_call"] == 1
    finally:
        assert (await first).ok
    assert (await call(queue_asterisk, hangup_after=None)).ok
    for interface in AGENTS.values():
        await ami_admin.action("QueuePause", Queue=QUEUE, Interface=interface, Paused="true",
                               Reason="break")
    controller.boards.clear()
    gives_up = asyncio.create_task(call(queue_asterisk, hangup_after=4.0))
    try:
        board = await board_until(controller, lambda q: q["waiting"] == 1)
        assert board is not None and board["agents"]["paused"] == 2  # the wallboard's view
    finally:
        assert (await gives_up).ok
    await asyncio.sleep(1.0)  # a second of pause after the caller left, then back to work
    for interface in AGENTS.values():
        await ami_admin.action("QueuePause", Queue=QUEUE, Interface=interface, Paused="false")
        await ami_admin.action("QueueRemove", Queue=QUEUE, Interface=interface)

    calls = await ended_calls(controller.db, 3)
    assert sorted(c.disposition for c in calls) == ["abandoned_queue", "answered", "answered"]
    log = queue_log(queue_asterisk, {c.linkedid for c in calls})
    today = datetime.now(UTC).astimezone(TZ).date()
    kpis = ComputeKpis(controller.db, routing(), TZ, threshold=20, wrapup_seconds=0)
    report = await kpis.execute(KpiFilter(DateRange(today, today), queue=QUEUE))
    total = report.total

    def events(name: str) -> list[list[str]]:
        return [f for f in log if f[4] == name]

    connects, abandons = events("CONNECT"), events("ABANDON")
    completes = events("COMPLETECALLER") + events("COMPLETEAGENT")
    assert total.offered == len(events("ENTERQUEUE")) == 3
    assert total.answered == len(connects) == 2
    assert total.abandoned == len(abandons) == 1
    assert total.answered_within == sum(1 for f in connects if int(f[5]) <= 20)
    # queue_log counts whole seconds; the call log keeps milliseconds.
    assert total.asa == pytest.approx(mean(int(f[5]) for f in connects), abs=1.0)
    assert total.avg_abandon_time == pytest.approx(mean(int(f[7]) for f in abandons), abs=1.0)
    assert total.avg_talk == pytest.approx(mean(int(f[6]) for f in completes), abs=1.0)
    waits = [int(f[5]) for f in connects] + [int(f[7]) for f in abandons]
    assert total.longest_wait == pytest.approx(max(waits), abs=1.0)

    agents = {a.agent_id: a for a in report.by_agent}
    for agent in AGENTS:
        answered = [f for f in connects if f[3] == agent]
        assert agents[agent].answered == len(answered)
        own = member_log(queue_asterisk, agent, started)
        added_at = next(float(f[0]) for f in own if f[4] == "ADDMEMBER")
        removed_at = next(float(f[0]) for f in own if f[4] == "REMOVEMEMBER")
        paused_at = next(float(f[0]) for f in own if f[4] == "PAUSE")
        unpaused_at = next(float(f[0]) for f in own if f[4] == "UNPAUSE")
        assert agents[agent].logged_in == pytest.approx(removed_at - added_at, abs=1.0)
        assert agents[agent].pauses["break"] == pytest.approx(unpaused_at - paused_at, abs=1.0)
    async with controller.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(CallRow))).scalar() == 3
