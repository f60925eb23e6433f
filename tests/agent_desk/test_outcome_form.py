"""Outcome validation (every broken rule named by field, in Thai and English) and saving (a new
stub revision, queued for the case store, audited)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from case_stubs.models import OutboxRow, StubRow
from outcomes.errors import Invalid
from outcomes.taxonomy import taxonomy
from outcomes.validate import NOTES_MAX, OutcomeValidator
from storage.audit import AuditEntry
from tests.agent_desk.calls import AmiCall
from tests.agent_desk.conftest import Desk, receive_until
from tests.conftest import sign_in

validator = OutcomeValidator(taxonomy())


def errors_of(body: Any) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        validator.validate(body)
    return {path: e.code for path, e in caught.value.fields.items()}


def test_a_complete_referral_is_cleaned_and_versioned() -> None:
    outcome = validator.validate({
        "category": "referral", "problem_types": ["homelessness", "begging"],
        "target_group": "homeless_beggar", "sex": "male", "province": "TH-10",
        "district": " ปทุมวัน ", "referral": {
            "urgency": "urgent", "destination": {"kind": "department", "id": "dsdw"},
        }, "notes": "พบผู้ไร้ที่พึ่งบริเวณสะพาน", "subtype": "",
    })
    assert outcome["district"] == "ปทุมวัน"
    assert outcome["subtype"] is None
    assert outcome["referral"] == {
        "urgency": "urgent", "destination": {"kind": "department", "id": "dsdw", "country": None},
    }
    assert outcome["taxonomy_version"] == taxonomy().version


@pytest.mark.parametrize(("body", "expected"), [
    ({}, {"category": "required"}),
    ({"category": "chat"}, {"category": "unknown_choice"}),
    ({"category": "referral", "problem_types": ["begging"]}, {"referral": "required"}),
    ({"category": "referral", "problem_types": ["begging"], "referral": {}},
     {"referral.urgency": "required", "referral.destination": "required"}),
    ({"category": "referral", "problem_types": ["begging"],
      "referral": {"urgency": "soon", "destination": {"kind": "province", "id": "TH-99"}}},
     {"referral.urgency": "unknown_choice", "referral.destination.id": "unknown_choice"}),
    ({"category": "referral", "problem_types": ["stranded_abroad"],
      "referral": {"urgency": "critical", "destination": {"kind": "abroad"}}},
     {"referral.destination.id": "required"}),
    ({"category": "referral", "problem_types": ["stranded_abroad"], "referral": {
        "urgency": "critical",
        "destination": {"kind": "department", "id": "dcy", "country": "MM"}}},
     {"referral.destination.country": "not_allowed"}),
    ({"category": "test_call", "district": "เมือง"}, {"district": "needs_province"}),
    ({"category": "test_call", "notes": "x" * (NOTES_MAX + 1)}, {"notes": "too_long"}),
    ({"category": "help_request"}, {"problem_types": "required"}),
    ({"category": "help_request", "problem_types": ["begging", "begging"]},
     {"problem_types": "duplicate"}),
    ({"category": "counselling"}, {"subtype": "required"}),
    ({"category": "information_msdhs", "subtype": "stress"}, {"subtype": "not_allowed"}),
    ({"category": "field_visit", "problem_types": ["homelessness"]}, {"province": "required"}),
    ({"category": "test_call", "caller_name": "x"}, {"caller_name": "unknown_field"}),
    ({"category": "test_call", "sex": 1}, {"sex": "wrong_type"}),
    ("counselling", {"outcome": "wrong_type", "category": "required"}),
])
def test_each_broken_rule_is_named_by_field(body: Any, expected: dict[str, str]) -> None:
    assert errors_of(body) == expected


def test_messages_come_in_thai_and_english() -> None:
    with pytest.raises(Invalid) as caught:
        validator.validate({"category": "test_call", "district": "เมือง"})
    message = caught.value.fields["district"].as_json()
    assert message == {
        "code": "needs_province", "message": "a district needs its province",
        "message_th": "ระบุอำเภอ/เขตแล้ว ต้องระบุจังหวัดด้วย",
    }


async def _answered_call(desk: Desk, agent_id: str = "A001") -> str:
    call = AmiCall()
    await desk.feed(call.arrives(), call.rings(agent_id), call.answered_by(agent_id))
    async with desk.db.session() as session:
        row = (await session.execute(
            select(StubRow).where(StubRow.call_id == call.linkedid)
        )).scalar_one()
    return row.id


async def _stub(desk: Desk, stub_id: str) -> tuple[StubRow, OutboxRow | None]:
    async with desk.db.session() as session:
        return await session.get(StubRow, stub_id), await session.get(OutboxRow, stub_id)  # type: ignore[return-value]


async def test_saving_bumps_the_revision_and_pushes_it_to_the_case_store(desk: Desk) -> None:
    stub_id = await _answered_call(desk)
    before, _ = await _stub(desk, stub_id)
    signed = await sign_in(desk.client, "agent1", "agent-pass")

    r = await signed.write("PUT", f"/api/case-stubs/{stub_id}/outcome", json={
        "category": "counselling", "subtype": "family_relationships", "sex": "female",
        "target_group": "woman", "notes": "ทะเลาะกับสามี",
    })

    assert r.status == 200, await r.text()
    after, outbox = await _stub(desk, stub_id)
    assert after.revision == before.revision + 1
    assert after.body["outcome"]["subtype"] == "family_relationships"
    assert after.body["outcome"]["recorded_by"] == {"id": "A001", "name": "Agent One"}
    assert outbox is not None and outbox.revision == after.revision
    assert (await r.json())["stub"]["revision"] == after.revision
    pushed = await desk.case_store.wait_for(stub_id, lambda b: b["revision"] == after.revision)
    assert pushed["outcome"]["notes"] == "ทะเลาะกับสามี"
    async with desk.db.session() as session:
        saved = (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "outcome_saved", AuditEntry.subject_id == stub_id
        ))).scalar_one()
    assert saved.actor == "agent1" and saved.after["outcome"]["category"] == "counselling"


async def test_a_bad_outcome_is_refused_with_every_field_and_changes_nothing(desk: Desk) -> None:
    stub_id = await _answered_call(desk)
    before, _ = await _stub(desk, stub_id)
    signed = await sign_in(desk.client, "agent1", "agent-pass")

    r = await signed.write("PUT", f"/api/case-stubs/{stub_id}/outcome", json={
        "category": "referral", "problem_types": ["begging"], "district": "บางรัก",
        "referral": {"urgency": "urgent"},
    })

    assert r.status == 400
    body = await r.json()
    assert body["error"] == "the outcome is not valid"
    assert set(body["fields"]) == {"district", "referral.destination"}
    assert body["fields"]["district"]["message_th"]
    after, _ = await _stub(desk, stub_id)
    assert after.revision == before.revision and after.body["outcome"] is None


async def test_an_agent_cannot_record_another_agents_contact(desk: Desk) -> None:
    stub_id = await _answered_call(desk, "A001")
    signed = await sign_in(desk.client, "agent2", "agent-pass")
    r = await signed.write("PUT", f"/api/case-stubs/{stub_id}/outcome",
                           json={"category": "test_call"})
    assert r.status == 403
    assert (await _stub(desk, stub_id))[0].body["outcome"] is None


async def test_a_supervisor_may_record_any_contact(desk: Desk) -> None:
    stub_id = await _answered_call(desk, "A001")
    signed = await sign_in(desk.client, "supervisor", "sup-pass")
    r = await signed.write("PUT", f"/api/case-stubs/{stub_id}/outcome",
                           json={"category": "silent_prank"})
    assert r.status == 200
    assert (await _stub(desk, stub_id))[0].body["outcome"]["category"] == "silent_prank"


async def test_an_unknown_stub_is_404(desk: Desk) -> None:
    signed = await sign_in(desk.client, "supervisor", "sup-pass")
    r = await signed.write("PUT", "/api/case-stubs/no-such-stub/outcome",
                           json={"category": "test_call"})
    assert r.status == 404
    assert (await r.json())["stub_id"] == "no-such-stub"


async def test_a_saved_outcome_closes_the_contact_in_every_tab(desk: Desk) -> None:
    signed = await sign_in(desk.client, "agent1", "agent-pass")
    tabs = [await desk.client.ws_connect("/ws/agent") for _ in range(2)]
    stub_id = await _answered_call(desk)
    r = await signed.write("PUT", f"/api/case-stubs/{stub_id}/outcome",
                           json={"category": "information_outside"})
    assert r.status == 200
    for tab in tabs:
        assert (await receive_until(tab, lambda m: m["type"] == "closed"))["stub_id"] == stub_id
        await tab.close()
