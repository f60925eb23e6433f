"""The call log against the real Asterisk 22 running the IVR, with SIPp callers and agent phones.

Each test places calls from its own caller numbers, lets the tracker (on a real AMI link) record
them, and compares the records with what Asterisk itself wrote for the same calls: CDR (one
linkedid per call), queue_log (who answered, abandon, the caller's wait) and CEL.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from ami import AmiLink, Event
from ami.filters import admitted
from call_log.asterisk_records import CelReader, QueueLogReader
from call_log.models import CallRow
from call_log.reconcile import CallbackTable, Reconciler
from case_stubs.schema import problems
from controller.ami_events import CONTROLLER_EVENTS
from sandbox.instance import AsteriskInstance
from sip_traffic.dtmf import with_renumbered_keys
from sip_traffic.runner import SippProcess, SippResult, run_sipp, start_sipp
from sip_traffic.scenarios import (
    Key,
    agent_scenario,
    caller_scenario,
    keys,
    ring_no_answer_scenario,
)
from storage import Database
from tests.calls.conftest import BANGKOK, Calls, build_calls
from tests.calls.dbview import call_rows, stub_rows
from tests.integration.conftest import (  # noqa: F401  (pytest fixtures)
    asterisk,
    asterisk_runtime,
    asterisk_settings,
)

pytestmark = pytest.mark.asterisk

QUEUE = "critical-th"  # the emergency key reaches it from the first second of the greeting
EMERGENCY = keys("9", first_pause=2.0)


@dataclass
class Line:
    """The controller's call-log side connected to the real Asterisk."""

    instance: AsteriskInstance
    calls: Calls
    link: AmiLink
    keys_dir: Path

    async def connect(self) -> None:
        c = self.instance.config.controller
        self.link = AmiLink("127.0.0.1", self.instance.ports.ami, c.username, c.secret)
        self.calls.tracker.attach(self.link)
        await self.link.start()
        await self.link.wait_connected(10)

    def reconciler(self) -> Reconciler:
        return Reconciler(
            CelReader(self.instance.cel_db, BANGKOK),
            QueueLogReader(self.instance.queue_log),
            self.calls.store,
            self.calls.stubs,
            CallbackTable(self.calls.db),
            grace=timedelta(seconds=1),
        )

    async def member(self, agent_id: str, endpoint: str, queue: str = QUEUE) -> None:
        answer = await self.link.send(
            {
                "Action": "QueueAdd",
                "Queue": queue,
                "Interface": f"PJSIP/{endpoint}",
                "MemberName": agent_id,
                "StateInterface": f"PJSIP/{endpoint}",
                "Penalty": "0",
            }
        )
        assert answer.ok, answer.message

    async def no_member(self, endpoint: str, queue: str = QUEUE) -> None:
        await self.link.send(
            {"Action": "QueueRemove", "Queue": queue, "Interface": f"PJSIP/{endpoint}"}
        )

    async def call(
        self, caller: str, pressed: Sequence[Key] = (), hangup_after: float | None = 2.0
    ) -> SippResult:
        xml = caller_scenario(caller=caller, keys_pressed=pressed, hangup_after=hangup_after)
        # Keys after the first must continue its RTP numbering, or Asterisk drops them.
        xml = with_renumbered_keys(xml, self.keys_dir)
        return await run_sipp(
            xml,
            name="caller",
            remote=f"127.0.0.1:{self.instance.ports.sip}",
            service="1300",
            calls=1,
            local_port=self.instance.ports.trunk,
            timeout=60,
        )

    async def phone(self, xml: str) -> SippProcess:
        phone = await start_sipp(xml, name="agent", local_port=self.instance.ports.agent_sip)
        await asyncio.sleep(0.2)
        return phone

    async def recorded(self, caller: str, timeout: float = 15.0) -> CallRow:
        """The one ended call record of `caller`, once its stub says it ended too."""
        e164 = "+66" + caller[1:]
        async with asyncio.timeout(timeout):
            while True:
                mine = [r for r in await call_rows(self.calls.db) if r.caller_number == e164]
                ended = {
                    s.call_id
                    for s in await stub_rows(self.calls.db)
                    if s.body["ended_at"] is not None
                }
                # The stub is written at once, the record a moment later (call_log.writer).
                if mine and all(r.linkedid in ended and r.ended_at for r in mine):
                    assert len(mine) == 1, f"{len(mine)} records for one call"
                    return mine[0]
                await asyncio.sleep(0.1)


@pytest.fixture
async def line(
    asterisk: AsteriskInstance,  # noqa: F811  (the fixture imported above)
    database: Database,
    tmp_path: Path,
) -> AsyncIterator[Line]:
    calls = build_calls(database)
    line = Line(asterisk, calls, None, tmp_path)  # type: ignore[arg-type]
    await line.connect()
    yield line
    await line.link.close()
    await calls.bus.close()


def caller_number() -> str:
    return f"08{random.randrange(10**7, 10**8)}"


# --- Asterisk's own record of a call ------------------------------------------------------


def cdr_linkedids(instance: AsteriskInstance, caller: str) -> set[str]:
    with sqlite3.connect(f"file:{instance.cdr_db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT DISTINCT linkedid FROM cdr WHERE src = ?", (caller,))
        return {r[0] for r in rows}


def queue_events(instance: AsteriskInstance, linkedid: str) -> dict[str, list[str]]:
    lines, _ = QueueLogReader(instance.queue_log).lines_from(0)
    return {q.event: list(q.data) for q in lines if q.callid == linkedid}


def asterisk_disposition(events: dict[str, list[str]]) -> tuple[str, int | None]:
    """Asterisk's verdict on a call and the caller's wait in whole seconds (queue_log)."""
    if "CONNECT" in events:
        return "answered", int(events["CONNECT"][0])
    if "ABANDON" in events:
        return "abandoned_queue", int(events["ABANDON"][2])
    if "EXITWITHKEY" in events:
        return "callback_requested", int(events["EXITWITHKEY"][3])
    if "EXITWITHTIMEOUT" in events or "EXITEMPTY" in events:
        return "no_agent", None
    return "abandoned_ivr", None


async def cross_check(line: Line, caller: str) -> CallRow:
    """One record and one stub, agreeing with Asterisk's CDR and queue_log."""
    call = await line.recorded(caller)
    assert cdr_linkedids(line.instance, caller) == {call.linkedid}, "same count as CDR"
    disposition, wait = asterisk_disposition(queue_events(line.instance, call.linkedid))
    assert call.disposition == disposition
    if wait is not None:
        assert call.wait_seconds is not None
        assert abs(call.wait_seconds - wait) < 1.0, (call.wait_seconds, wait)
    stubs = [s for s in await stub_rows(line.calls.db) if s.call_id == call.linkedid]
    assert len(stubs) == 1 and stubs[0].id == call.stub_id
    assert problems(stubs[0].body) == []
    return call


# --- the calls --------------------------------------------------------------------------------


async def test_answered_call(line: Line) -> None:
    caller = caller_number()
    phone = await line.phone(agent_scenario(ring=0.5, talk=2.0))
    await line.member("A001", "agent-001")
    try:
        await line.call(caller, EMERGENCY, hangup_after=None)
    finally:
        await line.no_member("agent-001")
        await phone.stop()

    call = await cross_check(line, caller)
    assert (call.agent_id, call.queue, call.priority) == ("A001", QUEUE, "critical")
    assert call.talk_seconds is not None and 1.5 < call.talk_seconds < 3.5
    [stub] = [s for s in await stub_rows(line.calls.db) if s.call_id == call.linkedid]
    assert stub.body["disposition"] == "answered" and stub.body["agent"]["id"] == "A001"


async def test_asterisk_sends_the_controller_only_what_it_reads(line: Line) -> None:
    """manager.conf, rendered from the rooms' events and the settings: Asterisk produces no
    dialplan steps or variable changes at all (disabledevents), the controller's user gets only
    the events it reads (eventfilter), the call's variables come on its events (channelvars),
    and the call is still recorded in full; an unfiltered user (the sandbox admin) sees the
    rest of the same call's stream."""
    admin = AmiLink(
        "127.0.0.1",
        line.instance.ports.ami,
        line.instance.config.admin.username,
        line.instance.config.admin.secret,
    )
    seen: dict[str, list[Event]] = {"controller": [], "admin": []}
    line.link.subscribe(seen["controller"].append)
    admin.subscribe(seen["admin"].append)
    await admin.start()
    await admin.wait_connected(10)
    caller = caller_number()
    phone = await line.phone(agent_scenario(ring=0.5, talk=1.5))
    await line.member("A003", "agent-003")
    try:
        await line.call(caller, EMERGENCY, hangup_after=None)
        call = await cross_check(line, caller)
    finally:
        await line.no_member("agent-003")
        await phone.stop()
        await admin.close()

    def of_call(who: str) -> list[Event]:
        return [e for e in seen[who] if e.get("Linkedid") == call.linkedid]

    mine, everything = of_call("controller"), of_call("admin")
    assert mine and all(admitted(CONTROLLER_EVENTS, e.headers) for e in mine)
    assert not {"Newexten", "VarSet"} & {e.name for e in everything}
    assert {e.name for e in everything} >= {"AgentCalled", "DialBegin", "BridgeEnter"}
    assert {e.name for e in mine} >= {"Newchannel", "UserEvent", "AgentCalled", "Hangup"}
    assert len(mine) * 2 < len(everything), (len(mine), len(everything))
    [hangup] = [e for e in mine if e.name == "Hangup" and e.get("Uniqueid") == call.linkedid]
    assert "L1300_PRIORITY=critical" in hangup.getall("ChanVariable")
    assert call.agent_id == "A003" and call.language == "th" and call.priority == "critical"


async def test_abandoned_in_ivr(line: Line) -> None:
    caller = caller_number()
    await line.call(caller, hangup_after=2.0)

    call = await cross_check(line, caller)
    assert call.queue is None and call.agent_id is None
    [stub] = [s for s in await stub_rows(line.calls.db) if s.call_id == call.linkedid]
    assert (stub.revision, stub.body["call"]["abandoned_in"]) == (1, "ivr")


async def test_abandoned_in_queue(line: Line) -> None:
    caller = caller_number()
    phone = await line.phone(ring_no_answer_scenario())
    await line.member("A002", "agent-002")
    try:
        await line.call(caller, EMERGENCY, hangup_after=14.0)
    finally:
        await line.no_member("agent-002")
        await phone.stop()

    call = await cross_check(line, caller)
    assert call.ringing_agents == ["A002"] and call.agent_id is None
    assert call.wait_seconds is not None and call.wait_seconds > 1


async def test_callback_requested_from_the_queue(line: Line) -> None:
    caller = caller_number()
    phone = await line.phone(ring_no_answer_scenario())
    await line.member("A002", "agent-002")
    try:
        # In the queue, key 1 leaves it for a callback; hanging up while the IVR asks for the
        # message still files the request, with the caller's own number.
        await line.call(caller, [*EMERGENCY, Key("1", pause=10.0)], hangup_after=4.0)
    finally:
        await line.no_member("agent-002")
        await phone.stop()

    call = await cross_check(line, caller)
    assert call.callback_number == "+66" + caller[1:]
    [stub] = [s for s in await stub_rows(line.calls.db) if s.call_id == call.linkedid]
    assert stub.body["disposition"] == "callback_requested"
    assert stub.body["callback"]["status"] == "requested"


async def test_blind_transfer_to_another_agent_is_one_call(line: Line) -> None:
    caller = caller_number()
    phone = await line.phone(agent_scenario(ring=0.3, talk=25.0))
    await line.member("A001", "agent-001")
    try:
        call_task = asyncio.create_task(line.call(caller, EMERGENCY, hangup_after=14.0))
        agent_channel = await _agent_channel(line, "agent-001")
        await _blind_transfer(line, agent_channel, "agent-002")
        await call_task
    finally:
        await line.no_member("agent-001")
        await phone.stop()

    call = await cross_check(line, caller)
    assert call.agent_id == "A001"
    assert [(t["kind"], t["to"]) for t in call.transfers] == [("blind", "agent-002")]


async def test_controller_down_mid_call_is_reconciled(line: Line) -> None:
    caller = caller_number()
    phone = await line.phone(agent_scenario(ring=0.3, talk=4.0))
    await line.member("A001", "agent-001")
    try:
        call_task = asyncio.create_task(line.call(caller, EMERGENCY, hangup_after=None))
        await _agent_channel(line, "agent-001")  # answered: now the controller dies
        await line.link.close()
        await call_task  # the call goes on and ends without anyone watching
    finally:
        await line.connect()  # a new controller process: fresh link and tracker
        await line.no_member("agent-001")
        await phone.stop()
    half = [r for r in await call_rows(line.calls.db) if r.caller_number == "+66" + caller[1:]]
    assert len(half) == 1 and half[0].ended_at is None

    fresh = line.calls.new_tracker()
    fresh.attach(line.link)
    await asyncio.sleep(1.5)  # Asterisk's last records of the call are older than the grace
    report = await line.reconciler().reconcile()
    assert half[0].linkedid in report.rebuilt
    call = await cross_check(line, caller)
    assert call.agent_id == "A001" and call.source == "reconcile"


async def _blind_transfer(line: Line, channel: str, exten: str) -> None:
    """Asterisk sends AgentConnect just before the agent's channel joins the bridge, and
    refuses a transfer of a channel not yet bridged ("Transfer invalid"): ask again."""
    action = {"Action": "BlindTransfer", "Channel": channel, "Exten": exten, "Context": "agents"}
    async with asyncio.timeout(5):
        while not (answer := await line.link.send(action)).ok:
            assert answer.message == "Transfer invalid", answer.message
            await asyncio.sleep(0.1)


async def _agent_channel(line: Line, endpoint: str, timeout: float = 40.0) -> str:
    """The name of the agent's channel once the agent answered (Asterisk's AgentConnect)."""
    answered: asyncio.Queue[str] = asyncio.Queue()
    subscription = line.link.subscribe(
        lambda e: answered.put_nowait(e.get("DestChannel") or ""), "AgentConnect"
    )
    try:
        async with asyncio.timeout(timeout):
            while not (channel := await answered.get()).startswith(f"PJSIP/{endpoint}-"):
                pass
            return channel
    finally:
        subscription.unsubscribe()
