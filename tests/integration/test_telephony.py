"""The telephony layer against a real Asterisk: boot, AMI rights, trunk calls into queues,
agents answering, DTMF, call records, restart. Uses the minimal dialplan (no IVR)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence

import pytest

from agent_routing.skills import routing
from ami import AmiLink, Event, LinkState, StateChange
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance
from sip_traffic.runner import SippProcess, SippResult, run_sipp, start_sipp
from sip_traffic.scenarios import Key, caller_scenario, keys, ring_no_answer_scenario

from .helpers import dns_sink

pytestmark = pytest.mark.asterisk

CALLER = "0812345678"


async def place_call(
    instance: AsteriskInstance, *, did: str = "1300", caller: str = CALLER,
    hangup_after: float | None = 2.0, pressed: Sequence[Key] = (), timeout: float = 40.0,
) -> SippResult:
    """One carrier call from the trunk side to ``did``."""
    return await run_sipp(
        caller_scenario(caller=caller, keys_pressed=pressed, hangup_after=hangup_after),
        name="caller", remote=f"127.0.0.1:{instance.ports.sip}", service=did, calls=1,
        local_port=instance.ports.trunk, timeout=timeout,
    )


class LinkWatcher:
    """An ``ami.AmiLink`` as the controller user, with its events and state changes queued."""

    def __init__(self, instance: AsteriskInstance) -> None:
        c = instance.config.controller
        self.link = AmiLink("127.0.0.1", instance.ports.ami, c.username, c.secret,
                            ping_interval=1.0, ping_timeout=2.0)
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.states: asyncio.Queue[StateChange] = asyncio.Queue()
        self.link.subscribe(self.events.put_nowait)
        self.link.on_state(self.states.put_nowait)

    async def __aenter__(self) -> LinkWatcher:
        await self.link.start()
        await self.link.wait_connected(timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.link.close()

    async def event(self, name: str, timeout: float = 20.0, **headers: str) -> Event:
        async with asyncio.timeout(timeout):
            while True:
                event = await self.events.get()
                if event.name == name and all(event.get(k) == v for k, v in headers.items()):
                    return event

    async def connected(self, session: int, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                change = await self.states.get()
                if change.state is LinkState.CONNECTED and change.session >= session:
                    return


def _wait_for(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _rows(db: str, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute(sql).fetchall()


# --- boot and configuration ------------------------------------------------------------------


def test_boots_fully_in_under_ten_seconds(queue_asterisk: AsteriskInstance) -> None:
    assert queue_asterisk.boot_seconds is not None and queue_asterisk.boot_seconds < 10
    assert "System uptime" in queue_asterisk.rx("core show uptime")


async def test_every_routing_queue_exists_without_members(ami_admin: MiniAmi) -> None:
    entries = await ami_admin.list_action("QueueStatus")
    queues = {e["Queue"] for e in entries if e.get("Event") == "QueueParams"}
    assert queues == set(routing().queue_names)
    assert not [e for e in entries if e.get("Event") == "QueueMember"]


def test_full_configuration_with_the_ivr_boots(asterisk: AsteriskInstance) -> None:
    assert asterisk.boot_seconds is not None and asterisk.boot_seconds < 10
    assert "from-trunk" in asterisk.rx("dialplan show from-trunk")


def test_agent_endpoints_and_trunk_are_configured(queue_asterisk: AsteriskInstance) -> None:
    out = queue_asterisk.rx("pjsip show endpoints")
    assert " trunk " in out
    assert out.count("Endpoint:  agent-") == len(queue_asterisk.config.agent_passwords)


# --- AMI rights ----------------------------------------------------------------------------


async def test_controller_user_is_refused_command_system_and_config(
    ami_controller: MiniAmi,
) -> None:
    refused = [
        await ami_controller.action("Command", Command="core show channels"),
        await ami_controller.action("Reload"),
        await ami_controller.action("GetConfig", Filename="manager.conf"),
        await ami_controller.action(
            "Originate", Channel="Local/s@agents", Application="System", Data="id", Async="true"
        ),
    ]
    for answer in refused:
        assert answer["Response"] == "Error", answer
        assert any(word in answer.get("Message", "") for word in ("ermission", "Forbidden")), answer


async def test_controller_user_can_do_its_job(
    ami_controller: MiniAmi, ami_admin: MiniAmi
) -> None:
    queue = routing().ivr.default_queue
    ok = [
        await ami_controller.action("Ping"),
        await ami_controller.action("QueueAdd", Queue=queue, Interface="PJSIP/agent-003",
                                    MemberName="A003", Penalty="1"),
        await ami_controller.action("QueuePenalty", Queue=queue, Interface="PJSIP/agent-003",
                                    Penalty="0"),
        await ami_controller.action("QueuePause", Queue=queue, Interface="PJSIP/agent-003",
                                    Paused="true", Reason="break"),
        await ami_controller.action("UserEvent", UserEvent="Line1300Test", Step="check"),
        await ami_controller.action("Setvar", Variable="LINE1300_TEST", Value="ok"),
        # Allowed, then fails on its own (no such extension): no call is left behind.
        await ami_controller.action("Originate", Channel="Local/none@agents",
                                    Application="Wait", Data="1", Async="true"),
    ]
    for answer in ok:
        assert answer["Response"] == "Success", answer
    got = await ami_controller.action("Getvar", Variable="LINE1300_TEST")
    assert got.get("Value") == "ok"
    members = await ami_controller.list_action("QueueStatus", Queue=queue)
    member = next(e for e in members if e.get("Event") == "QueueMember")
    assert (member["Name"], member["Penalty"], member["Paused"]) == ("A003", "0", "1")
    removed = await ami_controller.action("QueueRemove", Queue=queue,
                                          Interface="PJSIP/agent-003")
    assert removed["Response"] == "Success"


# --- calls ---------------------------------------------------------------------------------


async def test_trunk_call_to_1300_joins_default_queue(
    queue_asterisk: AsteriskInstance,
) -> None:
    async with LinkWatcher(queue_asterisk) as watcher:
        call = asyncio.create_task(place_call(queue_asterisk, hangup_after=2.0))
        joined = await watcher.event("QueueCallerJoin", CallerIDNum=CALLER)
        result = await call
    assert joined.get("Queue") == routing().ivr.default_queue
    assert result.ok, (result.summary(), result.errors)


@pytest.mark.parametrize(
    ("did", "line"),
    [("1300", "domestic"), ("+66991301300", "international"),
     ("66991301300", "international"), ("0991301300", "international")],
)
async def test_every_form_of_a_did_reaches_its_line(
    queue_asterisk: AsteriskInstance, ami_controller: MiniAmi, did: str, line: str
) -> None:
    result = await place_call(queue_asterisk, did=did, hangup_after=1.0)
    assert result.ok, (result.summary(), result.errors)
    event = await ami_controller.wait_event(
        lambda e: e.get("UserEvent") == "Line1300Ivr" and e.get("CallerIDNum") == CALLER
    )
    assert event["Line"] == line


async def test_agent_member_answers_and_call_is_recorded_everywhere(
    queue_asterisk: AsteriskInstance, ami_admin: MiniAmi, agent_phone: SippProcess,
) -> None:
    queue = routing().ivr.default_queue
    added = await ami_admin.action("QueueAdd", Queue=queue, Interface="PJSIP/agent-001",
                                   MemberName="A001")
    assert added["Response"] == "Success"
    caller = await place_call(queue_asterisk, hangup_after=None)  # the agent hangs up
    assert caller.ok, (caller.summary(), caller.errors)
    connect = await ami_admin.wait_event(lambda e: e.get("Event") == "AgentConnect")
    assert connect["Queue"] == queue and connect["MemberName"] == "A001"
    uniqueid = connect["Uniqueid"]
    phone = _wait_for(lambda: agent_phone.result().successful >= 1 and agent_phone.result())
    assert phone, agent_phone.result().summary()

    cdr = _wait_for(lambda: _rows(str(queue_asterisk.cdr_db),
                                  f"SELECT disposition, dstchannel, billsec, linkedid FROM cdr "
                                  f"WHERE uniqueid = '{uniqueid}'"))
    assert cdr and cdr[0][0] == "ANSWERED" and str(cdr[0][1]).startswith("PJSIP/agent-001")
    cel = {r[0] for r in _rows(str(queue_asterisk.cel_db),
                               f"SELECT eventtype FROM cel WHERE linkedid = '{uniqueid}'")}
    assert {"CHAN_START", "ANSWER", "BRIDGE_ENTER", "HANGUP", "CHAN_END"} <= cel
    queue_log = queue_asterisk.queue_log.read_text()
    assert f"|{uniqueid}|{queue}|A001|CONNECT|" in queue_log
    if routing().queue(queue).record:
        assert (queue_asterisk.recordings_dir / f"{uniqueid}.wav").stat().st_size > 44


async def test_rfc2833_digits_reach_asterisk(
    queue_asterisk: AsteriskInstance, ami_admin: MiniAmi
) -> None:
    result = await place_call(
        queue_asterisk, pressed=keys("19#", pause=0.4, first_pause=0.5), hangup_after=1.0
    )
    assert result.ok, (result.summary(), result.errors)
    digits = []
    for _ in range(3):
        event = await ami_admin.wait_event(  # the controller's user gets no DTMF events
            lambda e: e.get("Event") == "DTMFEnd" and e.get("Direction") == "Received"
            and e.get("CallerIDNum") == CALLER
        )
        digits.append(event["Digit"])
    assert digits == ["1", "9", "#"]


async def test_agent_phone_that_never_answers_is_cancelled(
    queue_asterisk: AsteriskInstance, ami_admin: MiniAmi
) -> None:
    phone = await start_sipp(ring_no_answer_scenario(), name="noanswer",
                             local_port=queue_asterisk.ports.agent_sip)
    try:
        queue = routing().ivr.default_queue
        await ami_admin.action("QueueAdd", Queue=queue, Interface="PJSIP/agent-002",
                               MemberName="A002")
        caller = await place_call(queue_asterisk, hangup_after=3.0)
        assert caller.ok, (caller.summary(), caller.errors)
        abandon = await ami_admin.wait_event(
            lambda e: e.get("Event") == "QueueCallerAbandon" and e.get("CallerIDNum") == CALLER
        )
        assert abandon["Queue"] == queue
        seen = _wait_for(lambda: phone.result().successful >= 1)
        assert seen, phone.result().summary()
    finally:
        await phone.stop()


async def test_no_dns_lookup_at_boot_or_call_time(
    queue_asterisk: AsteriskInstance, ami_admin: MiniAmi, agent_phone: SippProcess,
) -> None:
    if queue_asterisk.runtime.mode != "sandbox":
        pytest.skip("system Asterisk: DNS is the host's")
    sink = dns_sink()
    if sink is None:
        pytest.skip("127.0.0.1:53 is taken (another session runs this test)")
    try:
        second = AsteriskInstance.for_tests(queue_asterisk.runtime, queue_asterisk.settings,
                                            agent_count=2, dialplan=queue_asterisk.dialplan)
        try:
            assert second.start() < 10  # boots beside the session's instance
            assert "System uptime" in second.rx("core show uptime")
        finally:
            second.stop(remove=True)
        await ami_admin.action("QueueAdd", Queue=routing().ivr.default_queue,
                               Interface="PJSIP/agent-001", MemberName="A001")
        started = time.monotonic()
        caller = await place_call(queue_asterisk, hangup_after=None)
        assert caller.ok and time.monotonic() - started < 10, caller.summary()
        with pytest.raises(BlockingIOError):
            sink.recvfrom(512)  # nothing asked the (only) DNS server anything
    finally:
        sink.close()


# --- restart (last: it drops every member and call) ------------------------------------------


async def test_after_core_restart_now_ami_comes_back_and_events_flow(
    queue_asterisk: AsteriskInstance,
) -> None:
    async with LinkWatcher(queue_asterisk) as watcher:
        seconds = await asyncio.to_thread(queue_asterisk.restart_now)
        assert seconds < 15
        await watcher.connected(session=2)
        call = asyncio.create_task(place_call(queue_asterisk, hangup_after=2.0))
        joined = await watcher.event("QueueCallerJoin", CallerIDNum=CALLER)
        assert joined.get("Queue") == routing().ivr.default_queue
        assert (await call).ok
