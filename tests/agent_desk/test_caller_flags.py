"""Caller flags: set from a contact (agents) or a number (supervisors), shown on the pop of that
number's next call, stamped on its stub, lifted, expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from caller_flags.models import CallerFlagRow
from case_stubs.models import StubRow
from storage.audit import AuditEntry
from tests.agent_desk.calls import AmiCall
from tests.agent_desk.conftest import Desk, receive_until
from tests.conftest import sign_in


async def _stub_of(desk: Desk, call: AmiCall) -> StubRow:
    async with desk.db.session() as session:
        return (await session.execute(
            select(StubRow).where(StubRow.call_id == call.linkedid)
        )).scalar_one()


async def test_an_agent_flags_the_caller_of_their_call_and_the_next_pop_shows_it(
    desk: Desk,
) -> None:
    signed = await sign_in(desk.client, "agent1", "agent-pass")
    first = AmiCall(caller="0861234567")
    await desk.feed(first.arrives(), first.rings("A001"), first.answered_by("A001"),
                    first.ends("A001"))
    stub = await _stub_of(desk, first)

    r = await signed.write("POST", "/api/caller-flags", json={
        "stub_id": stub.id, "kind": "abusive", "reason": "ด่าทอเจ้าหน้าที่ทุกครั้ง", "days": 7,
    })
    assert r.status == 201, await r.text()
    flag = (await r.json())["flag"]
    assert flag["number"] == "+6686****4567"  # agents never get a full number back from the API
    assert flag["label"]["en"] == "Abusive caller"

    ws = await desk.client.ws_connect("/ws/agent")
    again = AmiCall(caller="0861234567")
    await desk.feed(again.arrives(), again.rings("A001"))
    pop = await receive_until(ws, lambda m: m["type"] == "pop" and m["linkedid"] == again.linkedid)

    assert [(f["kind"], f["reason"]) for f in pop["flags"]] == [
        ("abusive", "ด่าทอเจ้าหน้าที่ทุกครั้ง")
    ]
    pushed = await desk.case_store.wait_for(pop["stub_id"], lambda body: body["flags"])
    assert pushed["flags"][0]["kind"] == "abusive"
    await ws.close()


async def test_a_supervisor_flags_a_test_number_and_the_pop_says_so(desk: Desk) -> None:
    sup = await sign_in(desk.client, "supervisor", "sup-pass")
    r = await sup.write("POST", "/api/caller-flags", json={
        "number": "+66 99 130 1399", "kind": "test", "reason": "carrier's test line",
    })
    assert r.status == 201, await r.text()
    flag = (await r.json())["flag"]
    assert flag["number"] == "+66991301399"
    expires = datetime.fromisoformat(flag["expires_at"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)  # kind default

    await desk.sign_in("agent1", "agent-pass")
    ws = await desk.client.ws_connect("/ws/agent")
    call = AmiCall(caller="+66991301399", line="international", dialed="+66991301300",
                   queue="intl-en", lang="en", path=("en", "information"))
    await desk.feed(call.arrives(), call.rings("A001"))
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    assert pop["test_number"] is True
    # The case store learns it too, so it can count test calls apart.
    pushed = await desk.case_store.wait_for(pop["stub_id"], lambda body: body["flags"])
    assert pushed["flags"] == [{
        "kind": "test", "note": "carrier's test line", "expires_at": flag["expires_at"],
        "source": "caller_flag",
    }]
    await ws.close()


async def test_agents_cannot_flag_by_number_or_contacts_they_did_not_handle(desk: Desk) -> None:
    call = AmiCall(caller="0870000001")
    await desk.feed(call.arrives(), call.rings("A001"), call.answered_by("A001"))
    stub = await _stub_of(desk, call)
    other = await sign_in(desk.client, "agent2", "agent-pass")

    by_number = await other.write("POST", "/api/caller-flags",
                                  json={"number": "0870000001", "kind": "repeat", "reason": "x"})
    by_stub = await other.write("POST", "/api/caller-flags",
                                json={"stub_id": stub.id, "kind": "repeat", "reason": "x"})

    assert by_number.status == 400
    assert (await by_number.json())["fields"]["number"]["code"] == "not_allowed"
    assert by_stub.status == 403
    async with desk.db.session() as session:
        assert (await session.execute(select(CallerFlagRow))).first() is None


async def test_bad_flags_are_refused_field_by_field(desk: Desk) -> None:
    sup = await sign_in(desk.client, "supervisor", "sup-pass")
    r = await sup.write("POST", "/api/caller-flags",
                        json={"number": "12", "kind": "vip", "reason": "", "days": 1000})
    assert r.status == 400
    codes = {k: v["code"] for k, v in (await r.json())["fields"].items()}
    assert codes == {
        "kind": "unknown_choice", "reason": "required", "number": "bad_number",
        "days": "out_of_range",
    }
    r = await sup.write("POST", "/api/caller-flags",
                        json={"number": "0812345678", "kind": "abusive", "reason": "x",
                              "days": 1000})
    assert (await r.json())["fields"]["days"]["code"] == "out_of_range"


async def test_lifted_and_expired_flags_are_not_shown(desk: Desk) -> None:
    sup = await sign_in(desk.client, "supervisor", "sup-pass")
    ids = []
    for kind in ("repeat", "abusive"):
        r = await sup.write("POST", "/api/caller-flags",
                            json={"number": "0899999999", "kind": kind, "reason": kind})
        ids.append((await r.json())["flag"]["id"])
    listed = (await (await sup.get("/api/caller-flags")).json())["flags"]
    assert [(f["number"], f["kind"]) for f in listed] == [
        ("+66899999999", "abusive"), ("+66899999999", "repeat")]
    assert len((await (await sup.get("/api/caller-flags?kind=repeat")).json())["flags"]) == 1

    assert (await sup.write("DELETE", f"/api/caller-flags/{ids[0]}")).status == 200
    async with desk.db.session() as session:
        await session.execute(update(CallerFlagRow).where(CallerFlagRow.id == ids[1]).values(
            expires_at=datetime.now(UTC) - timedelta(minutes=1)))

    assert (await (await sup.get("/api/caller-flags")).json())["flags"] == []
    assert (await sup.write("DELETE", f"/api/caller-flags/{ids[0]}")).status == 404
    async with desk.db.session() as session:
        lifted = (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "caller_flag_lifted"))).scalar_one()
    assert lifted.actor == "supervisor" and lifted.before["number"] == "+6689****9999"


async def test_only_supervisors_list_flags(desk: Desk) -> None:
    agent = await sign_in(desk.client, "agent1", "agent-pass")
    assert (await agent.get("/api/caller-flags")).status == 403


async def test_a_withheld_number_cannot_be_flagged(desk: Desk) -> None:
    call = AmiCall(caller="anonymous")
    await desk.feed(call.arrives(), call.rings("A001"), call.answered_by("A001"))
    agent = await desk.sign_in("agent1", "agent-pass")
    r = await agent.write("POST", "/api/caller-flags", json={
        "stub_id": (await _stub_of(desk, call)).id, "kind": "abusive", "reason": "shouting"})
    assert r.status == 400
    assert (await r.json())["fields"]["stub_id"]["code"] == "no_number"
