"""Case stubs as a service: outcomes, contacts that are not calls, details from other rooms,
who sees full numbers, the audit of every view, and two writers on one stub at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from call_log.bus import StubChanged
from case_stubs.schema import StubInvalid, problems, validate_stub
from case_stubs.service import StubNotFound
from storage import audit
from tests.calls.ami_script import CallScript
from tests.calls.conftest import Calls, recorded_events
from tests.calls.dbview import outbox_rows, stub_body, stub_rows
from web.accounts import Role, User

SUPERVISOR = User(1, "supervisor", "Supervisor", Role.SUPERVISOR, None)
A001 = User(2, "agent1", "Agent One", Role.AGENT, "A001")
A009 = User(3, "agent9", "Agent Nine", Role.AGENT, "A009")
OUTCOME: dict[str, Any] = {
    "category": "referral",
    "subtype": None,
    "problem_types": ["homelessness"],
    "target_group": "older_person",
    "sex": "female",
    "province": "bangkok",
    "district": None,
    "referral": {
        "urgency": "urgent",
        "destination": {"kind": "department", "id": "dop", "country": None},
    },
    "mobile_team_result": None,
    "notes": "ผู้สูงอายุไร้ที่พึ่ง",
    "taxonomy_version": 1,
}


async def answered_stub_id(calls: Calls) -> str:
    await calls.replay(recorded_events("answered.ami"))
    [row] = await stub_rows(calls.db)
    return row.id


async def test_saving_an_outcome_bumps_the_revision_audits_and_queues(calls: Calls) -> None:
    stub_id = await answered_stub_id(calls)
    stub = await calls.stubs.record_outcome(stub_id, OUTCOME, A001)

    assert stub.revision == 4
    body = await stub_body(calls.db, stub_id)
    assert body["outcome"]["category"] == "referral"
    assert body["outcome"]["recorded_by"] == {"id": "A001", "name": "Agent One"}
    assert body["outcome"]["recorded_at"].endswith("+07:00")
    assert problems(body) == []
    assert (await outbox_rows(calls.db))[stub_id].revision == 4
    async with calls.db.session() as s:
        [entry] = await audit.entries(s, subject_type="case_stub", subject_id=stub_id)
    assert (entry.actor, entry.action) == ("agent1", "outcome_saved")
    assert entry.before == {"outcome": None}
    assert entry.after["outcome"]["category"] == "referral"
    changed = [e for e in await calls.drained_bus() if isinstance(e, StubChanged)]
    assert changed[-1].revision == 4


async def test_a_late_call_update_keeps_the_outcome(calls: Calls) -> None:
    s = CallScript("1795630000.50", 1795630000.0)
    await calls.replay(
        [
            s.new_channel(),
            s.after(1).ivr("entered", Line="domestic", Dialed="1300", Lang="th"),
            s.after(5).queue_join("counsel-th"),
            *s.after(1).agent_called("counsel-th", "A001", "agent-001"),
            *s.after(2).agent_connect("counsel-th", "A001", "agent-001", hold=3),
        ]
    )
    [row] = await stub_rows(calls.db)
    await calls.stubs.record_outcome(row.id, OUTCOME, A001)  # saved while still talking
    await calls.replay([s.after(60).agent_hangup("A001", "agent-001"), s.hangup()])

    body = await stub_body(calls.db, row.id)
    assert body["ended_at"] is not None and body["disposition"] == "answered"
    assert body["outcome"]["category"] == "referral"


async def test_outcome_and_tracker_writing_at_once_lose_neither(calls: Calls) -> None:
    s = CallScript("1795640000.60", 1795640000.0)
    await calls.replay(
        [
            s.new_channel(),
            s.after(5).queue_join("counsel-th"),
            *s.after(1).agent_called("counsel-th", "A001", "agent-001"),
            *s.after(2).agent_connect("counsel-th", "A001", "agent-001", hold=3),
        ]
    )
    [row] = await stub_rows(calls.db)
    ending = calls.replay([s.after(60).agent_hangup("A001", "agent-001"), s.hangup()])
    saving = calls.stubs.record_outcome(row.id, OUTCOME, A001)
    await asyncio.gather(ending, saving)

    body = await stub_body(calls.db, row.id)
    assert body["outcome"] is not None and body["ended_at"] is not None
    assert body["revision"] == 4  # queued, answered, then the two writes one after the other


async def test_a_contact_that_is_not_a_call_becomes_a_valid_stub(calls: Calls) -> None:
    stub = await calls.stubs.create_contact(
        channel="ess_help_me",
        dialed="ESS Help Me",
        caller_number="+66899999999",
        caller_country="TH",
        language="th",
        priority="urgent",
        actor=A001,
        notes="แจ้งผ่านแอป",
        outcome=OUTCOME,
    )
    body = await stub_body(calls.db, stub.id)
    assert (body["line"], body["channel"], body["call_id"]) == ("other", "ess_help_me", None)
    assert body["agent"] == {"id": "A001", "name": "Agent One"}
    assert body["outcome"]["category"] == "referral"
    assert stub.revision == 2  # created, then its outcome
    validate_stub(body)


async def test_a_bad_contact_is_refused_by_the_schema_and_nothing_is_stored(calls: Calls) -> None:
    with pytest.raises(StubInvalid) as refused:
        await calls.stubs.create_contact(
            channel="walk_in",
            dialed="walk-in",
            caller_number="081-234",
            language="th",
            priority="whenever",
            actor=A001,
        )
    paths = {p["path"] for p in refused.value.problems}
    assert paths == {"/caller/number", "/priority"}
    assert await stub_rows(calls.db) == []
    assert await outbox_rows(calls.db) == {}


async def test_numbers_are_shown_in_full_only_to_those_who_need_them(calls: Calls) -> None:
    stub_id = await answered_stub_id(calls)

    assert (await calls.stubs.get(stub_id, SUPERVISOR))["caller"]["number"] == "+66812345678"
    assert (await calls.stubs.get(stub_id, A001))["caller"]["number"] == "+66812345678"
    masked = (await calls.stubs.get(stub_id, A009))["caller"]["number"]
    assert masked == "+6681****5678"
    async with calls.db.session() as s:
        views = await audit.entries(s, subject_type="case_stub", subject_id=stub_id)
    assert sorted((e.actor, e.action) for e in views) == [
        ("agent1", "view"),
        ("agent9", "view"),
        ("supervisor", "view"),
    ]


async def test_unknown_stub_is_not_found(calls: Calls) -> None:
    with pytest.raises(StubNotFound):
        await calls.stubs.get("00000000-0000-4000-8000-000000000000", SUPERVISOR)
    with pytest.raises(StubNotFound):
        await calls.stubs.record_outcome("00000000-0000-4000-8000-000000000000", OUTCOME, A001)


async def test_previous_contacts_of_a_caller_newest_first(calls: Calls) -> None:
    first = await answered_stub_id(calls)
    walk_in = await calls.stubs.create_contact(
        channel="walk_in",
        dialed="walk-in",
        caller_number="+66812345678",
        language="th",
        priority="normal",
        actor=A001,
        notes="มาที่ศูนย์",
    )
    history = await calls.stubs.previous_contacts("+66812345678", exclude=None)
    assert [h["id"] for h in history] == [walk_in.id, first]
    assert "caller" not in history[0]
    assert await calls.stubs.previous_contacts("+66812345678", exclude=walk_in.id) == [history[1]]
    assert await calls.stubs.previous_contacts(None) == []


async def test_triage_suggestion_is_stored_but_never_changes_priority(calls: Calls) -> None:
    stub_id = await answered_stub_id(calls)
    triage = {
        "suggested_priority": "critical",
        "problem_types": ["violence_family"],
        "keywords": ["ทำร้าย"],
    }
    before = (await calls.stubs.add_details(stub_id, {"transcript": "..."})).body["priority"]
    stub = await calls.stubs.add_details(stub_id, {"triage": triage, "transcript": "..."})
    assert stub.body["triage"]["suggested_priority"] == "critical"
    assert stub.body["priority"] == before == "normal"  # a suggestion, never a decision
    with pytest.raises(ValueError, match="not a stub detail"):
        await calls.stubs.add_details(stub_id, {"disposition": "answered"})
