"""The whole path on a real Asterisk: a carrier call to 1300 rings agent A001's phone (SIPp),
the agent page pops (AgentCalled → the tracker → the hub → the WebSocket), the agent saves an
outcome, and the stub with that outcome arrives at the configured case store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from agent_routing.skills import routing
from ami import AmiLink
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance
from sip_traffic.runner import run_sipp, start_sipp
from sip_traffic.scenarios import agent_scenario, caller_scenario
from tests.agent_desk.conftest import Desk, receive_until

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def linked_desk(desk: Desk, queue_asterisk: AsteriskInstance) -> AsyncIterator[Desk]:
    """The desk's call tracker on a real AMI link to Asterisk; agent A001 a member of the
    default queue."""
    a, c = queue_asterisk.config.admin, queue_asterisk.config.controller
    admin = await MiniAmi.connect("127.0.0.1", queue_asterisk.ports.ami, a.username, a.secret)
    queue = routing().ivr.default_queue
    added = await admin.action("QueueAdd", Queue=queue, Interface="PJSIP/agent-001",
                               MemberName="A001", StateInterface="PJSIP/agent-001")
    assert added["Response"] == "Success", added
    link = AmiLink("127.0.0.1", queue_asterisk.ports.ami, c.username, c.secret)
    desk.tracker.attach(link)
    await link.start()
    await link.wait_connected(timeout=10)
    yield desk
    await link.close()
    await admin.action("QueueRemove", Queue=queue, Interface="PJSIP/agent-001")
    await admin.close()


async def test_a_call_to_1300_pops_and_its_outcome_reaches_the_case_store(
    linked_desk: Desk, queue_asterisk: AsteriskInstance,
) -> None:
    desk = linked_desk
    signed = await desk.sign_in("agent1", "agent-pass")
    ws = await desk.client.ws_connect("/ws/agent")
    phone = await start_sipp(agent_scenario(ring=1.0, talk=1.5), name="agent",
                             local_port=queue_asterisk.ports.agent_sip)
    await asyncio.sleep(0.2)
    caller = asyncio.create_task(run_sipp(
        caller_scenario(caller="0812345678", hangup_after=None), name="caller",
        remote=f"127.0.0.1:{queue_asterisk.ports.sip}", service="1300", calls=1,
        local_port=queue_asterisk.lease.spare_udp_port() if queue_asterisk.lease else None,
        timeout=40,
    ))
    try:
        ringing = await receive_until(
            ws, lambda m: m["type"] == "pop" and m["phase"] == "ringing", timeout=30)
        seen_after = time.time() - datetime.fromisoformat(ringing["rang_at"]).timestamp()
        print(f"\nAgentCalled (Asterisk's timestamp) → pop on the page: {seen_after * 1000:.0f} ms")
        stub = ringing["stub"]
        assert stub["call_id"] == ringing["linkedid"]
        assert stub["caller"] == {"number": "+6681****5678", "country": "TH"}
        assert stub["queue"] == routing().ivr.default_queue
        assert stub["line"] == "domestic"

        answered = await receive_until(
            ws, lambda m: m["type"] == "pop" and m["stub"]["answered_at"] is not None, timeout=15)
        assert answered["stub"]["agent"]["id"] == "A001"
        await receive_until(ws, lambda m: m["type"] == "call_ended", timeout=15)
        assert (await caller).ok
    finally:
        await phone.stop()

    r = await signed.write("PUT", f"/api/case-stubs/{ringing['stub_id']}/outcome", json={
        "category": "counselling", "subtype": "stress", "sex": "female", "target_group": "adult",
    })
    assert r.status == 200, await r.text()
    pushed = await desk.case_store.wait_for(
        ringing["stub_id"], lambda body: body["outcome"] is not None)
    assert pushed["call_id"] == ringing["linkedid"]
    assert pushed["ended_at"] is not None and pushed["agent"]["id"] == "A001"
    assert pushed["outcome"]["subtype"] == "stress"
    await ws.close()
