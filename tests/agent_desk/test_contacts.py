"""Contacts that are not calls become case stubs the same way, from the page or an API client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from case_stubs.models import OutboxRow, StubRow
from case_stubs.schema import problems
from tests.agent_desk.conftest import Desk
from tests.conftest import sign_in


async def _row(desk: Desk, stub_id: str) -> tuple[StubRow, OutboxRow]:
    async with desk.db.session() as session:
        return await session.get(StubRow, stub_id), await session.get(OutboxRow, stub_id)  # type: ignore[return-value]


async def test_a_walk_in_becomes_a_stub_with_its_outcome(desk: Desk) -> None:
    signed = await sign_in(desk.client, "agent1", "agent-pass")
    at = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)

    r = await signed.write("POST", "/api/contacts", json={
        "channel": "walk_in", "received_at": at.isoformat(), "caller_number": "081-234-5678",
        "priority": "urgent", "reference": "บัตรคิว 17",
        "outcome": {"category": "help_request", "problem_types": ["income_living"],
                    "target_group": "older_person", "province": "TH-54", "district": "เมืองแพร่"},
    })

    assert r.status == 201, await r.text()
    stub_id = (await r.json())["stub"]["id"]
    row, outbox = await _row(desk, stub_id)
    body = row.body
    assert (body["line"], body["channel"], body["dialed"], body["call_id"]) == (
        "other", "walk_in", "walk_in", None)
    assert body["caller"] == {"number": "+66812345678", "country": "TH"}
    assert body["priority"] == "urgent"
    assert datetime.fromisoformat(body["received_at"]) == at
    assert body["agent"]["id"] == "A001"
    assert body["outcome"]["province"] == "TH-54"
    assert body["notes"] == "Reference: บัตรคิว 17"
    assert problems(body) == []
    assert outbox.revision == row.revision


async def test_an_api_client_records_a_line_message_without_a_number(desk: Desk) -> None:
    signed = await sign_in(desk.client, "supervisor", "sup-pass")
    r = await signed.write("POST", "/api/contacts", json={"channel": "line", "language": "my"})
    assert r.status == 201
    row, _ = await _row(desk, (await r.json())["stub"]["id"])
    assert row.body["caller"] == {"number": None, "country": None}
    assert row.body["language"] == "my" and row.body["outcome"] is None


async def test_bad_contacts_are_refused_field_by_field(desk: Desk) -> None:
    signed = await sign_in(desk.client, "agent1", "agent-pass")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = await signed.write("POST", "/api/contacts", json={
        "channel": "phone_1300", "received_at": future, "caller_number": "12",
        "priority": "high", "outcome": {"category": "referral", "problem_types": ["begging"]},
        "name": "x",
    })
    assert r.status == 400
    fields = (await r.json())["fields"]
    assert {k: v["code"] for k, v in fields.items()} == {
        "channel": "not_allowed", "received_at": "in_future", "caller_number": "bad_number",
        "priority": "unknown_choice", "outcome.referral": "required", "name": "unknown_field",
    }
    async with desk.db.session() as session:
        assert (await session.execute(select(func.count()).select_from(StubRow))).scalar_one() == 0


async def test_a_contact_needs_a_channel(desk: Desk) -> None:
    signed = await sign_in(desk.client, "agent1", "agent-pass")
    r = await signed.write("POST", "/api/contacts", json={})
    assert r.status == 400
    assert (await r.json())["fields"]["channel"]["code"] == "required"
