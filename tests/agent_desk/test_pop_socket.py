"""The agent page's WebSocket: a real call's AMI events through the real tracker pop on the
ringing agent's page, with what the agent needs, and only there."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from screen_pop.keys import POP_FEED
from storage.audit import AuditEntry
from tests.agent_desk.calls import AmiCall
from tests.agent_desk.conftest import Desk, receive_until
from tests.conftest import sign_in


def _pop(phase: str) -> Any:
    return lambda m: m["type"] == "pop" and m["phase"] == phase


async def test_ringing_agent_gets_the_pop_with_the_stub(desk: Desk) -> None:
    await sign_in(desk.client, "agent1", "agent-pass")
    ws = await desk.client.ws_connect("/ws/agent")
    hello = await ws.receive_json()
    assert hello["type"] == "hello" and hello["agent_id"] == "A001"
    call = AmiCall(caller="0812345678", priority="critical", path=("th", "emergency"),
                   queue="critical-th")

    await desk.feed(call.arrives(), call.rings("A001"))
    pop = await receive_until(ws, _pop("ringing"))

    stub = pop["stub"]
    assert stub["call_id"] == call.linkedid
    # Ringing, the agent has not taken the call: the number stays masked until they answer.
    assert stub["caller"] == {"number": "+6681****5678", "country": "TH"}
    assert (stub["priority"], stub["language"], stub["line"]) == ("critical", "th", "domestic")
    assert stub["ivr"]["selections"] == ["th", "emergency"]
    assert stub["queue"] == "critical-th"
    assert pop["wait_seconds"] >= 0
    await ws.close()


async def test_every_pop_is_an_audited_view_of_the_stub(desk: Desk) -> None:
    await sign_in(desk.client, "agent1", "agent-pass")
    ws = await desk.client.ws_connect("/ws/agent")
    call = AmiCall()
    await desk.feed(call.arrives(), call.rings("A001"))
    pop = await receive_until(ws, _pop("ringing"))
    await desk.app[POP_FEED].audit.flushed()  # written right after the pop was handed over
    async with desk.db.session() as session:
        views = (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "view", AuditEntry.subject_id == pop["stub_id"]
        ))).scalars().all()
    assert [v.actor for v in views] == ["agent1"]
    await ws.close()


async def test_an_agent_sees_only_their_own_pops(desk: Desk) -> None:
    await sign_in(desk.client, "agent2", "agent-pass")
    ws2 = await desk.client.ws_connect("/ws/agent")
    assert (await ws2.receive_json())["agent_id"] == "A002"
    first, second = AmiCall(caller="0811111111"), AmiCall(caller="0822222222")

    await desk.feed(first.arrives(), first.rings("A001"), second.arrives(), second.rings("A002"))
    pop = await receive_until(ws2, _pop("ringing"))

    assert pop["stub"]["call_id"] == second.linkedid
    await ws2.close()


async def test_answer_end_and_outcome_follow_the_pop(desk: Desk) -> None:
    signed = await sign_in(desk.client, "agent1", "agent-pass")
    ws = await desk.client.ws_connect("/ws/agent")
    call = AmiCall()
    await desk.feed(call.arrives(), call.rings("A001"))
    ringing = await receive_until(ws, _pop("ringing"))

    await desk.feed(call.answered_by("A001"))
    answered = await receive_until(ws, lambda m: m["type"] == "pop" and m["stub"]["answered_at"])
    assert answered["phase"] == "answered"
    assert answered["stub"]["agent"]["id"] == "A001"
    assert answered["stub"]["caller"]["number"] == "+66812345678"

    await desk.feed(call.ends("A001"))
    ended = await receive_until(ws, lambda m: m["type"] == "call_ended")
    assert ended["stub_id"] == ringing["stub_id"]

    r = await signed.write("PUT", f"/api/case-stubs/{ringing['stub_id']}/outcome",
                           json={"category": "information_msdhs"})
    assert r.status == 200, await r.text()
    closed = await receive_until(ws, lambda m: m["type"] == "closed")
    assert closed["stub_id"] == ringing["stub_id"]
    await ws.close()


async def test_a_page_that_connects_late_is_sent_the_open_contact(desk: Desk) -> None:
    call = AmiCall()
    await desk.feed(call.arrives(), call.rings("A001"), call.answered_by("A001"))
    await sign_in(desk.client, "agent1", "agent-pass")

    ws = await desk.client.ws_connect("/ws/agent")
    pop = await receive_until(ws, _pop("answered"))

    assert pop["stub"]["call_id"] == call.linkedid
    await ws.close()


async def test_previous_contacts_come_with_their_outcomes(desk: Desk) -> None:
    signed = await sign_in(desk.client, "agent1", "agent-pass")
    earlier = AmiCall(caller="0898765432")
    await desk.feed(earlier.arrives(), earlier.rings("A001"), earlier.answered_by("A001"),
                    earlier.ends("A001"))
    ws = await desk.client.ws_connect("/ws/agent")
    first = await receive_until(ws, lambda m: m["type"] == "pop")
    r = await signed.write("PUT", f"/api/case-stubs/{first['stub_id']}/outcome",
                           json={"category": "counselling", "subtype": "stress"})
    assert r.status == 200, await r.text()

    again = AmiCall(caller="0898765432")
    await desk.feed(again.arrives(), again.rings("A001"))
    pop = await receive_until(ws, lambda m: m["type"] == "pop" and m["linkedid"] == again.linkedid)

    assert [(p["id"], p["category"]) for p in pop["previous"]] == [
        (first["stub_id"], "counselling")
    ]
    await ws.close()


async def test_an_account_without_agent_id_cannot_open_the_socket(desk: Desk) -> None:
    await sign_in(desk.client, "supervisor", "sup-pass")
    r = await desk.client.get("/ws/agent")
    assert r.status == 409
    assert "agent id" in (await r.json())["error"]


async def test_the_socket_needs_a_session(desk: Desk) -> None:
    r = await desk.client.get("/ws/agent")
    assert r.status == 401


async def test_a_page_of_another_site_cannot_open_the_socket(desk: Desk) -> None:
    await sign_in(desk.client, "agent1", "agent-pass")
    r = await desk.client.get("/ws/agent", headers={
        "Origin": "https://evil.example", "Connection": "Upgrade", "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert r.status == 403
    assert (await r.json())["origin"] == "https://evil.example"
