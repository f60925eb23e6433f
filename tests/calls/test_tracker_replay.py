"""The call tracker fed AMI streams recorded from the real Asterisk 22 running the IVR.

Each recording (tests/calls/fixtures/*.ami, ami.StreamRecorder format) is one SIPp caller on the
1300 line; the expected records are what that call was: who rang, who answered, how long the
caller waited. The database rows are read back with plain queries.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from call_log.bus import (
    AgentAnswered,
    AgentRingEnded,
    AgentRinging,
    CallArrived,
    CallEnded,
    CallQueued,
    StubChanged,
)
from case_stubs.schema import problems
from tests.calls.conftest import Calls, recorded_events
from tests.calls.dbview import call_rows, outbox_rows, step_names, stub_body, stub_rows


def at(stamp: str) -> datetime:
    return datetime.fromtimestamp(float(stamp), UTC)


def aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


async def test_answered_call_is_one_record_with_wait_talk_and_agent(calls: Calls) -> None:
    await calls.replay(recorded_events("answered.ami"))

    rows = await call_rows(calls.db)
    assert len(rows) == 1, "the queue's Local/hook helper channels are not calls"
    call = rows[0]
    assert call.linkedid == "1795591196.0"
    assert (call.line, call.dialed, call.language) == ("domestic", "1300", "th")
    assert (call.caller_number, call.caller_country) == ("+66812345678", "TH")
    assert call.ivr_path == ["counselling"]
    assert (call.queue, call.agent_id, call.ringing_agents) == ("counsel-th", "A001", ["A001"])
    assert call.disposition == "answered"
    # QueueCallerJoin 1795591204.646171 → AgentConnect 1795591205.654406 → AgentComplete .656840
    assert call.wait_seconds == pytest.approx(1.008, abs=0.001)
    assert call.talk_seconds == pytest.approx(4.002, abs=0.001)
    assert aware(call.received_at) == at("1795591196.498186")
    assert aware(call.ended_at) == at("1795591209.665079")
    assert call.recording_path and call.recording_path.endswith("/1795591196.0.wav")
    assert await step_names(calls.db, call.linkedid) == [
        "entered",
        "menu",
        "queued",
        "queue_joined",
        "agent_ringing",
        "queue_left",
        "answered",
        "agent_complete",
        "ended",
    ]


async def test_answered_call_stub_follows_queue_answer_and_end(calls: Calls) -> None:
    await calls.replay(recorded_events("answered.ami"))

    stubs = await stub_rows(calls.db)
    assert len(stubs) == 1
    body = stubs[0].body
    assert problems(body) == []
    assert body["revision"] == 3  # queued, answered, ended
    assert body["call_id"] == "1795591196.0"
    assert body["disposition"] == "answered"
    assert body["agent"] == {"id": "A001", "name": "A001"}
    assert body["received_at"].endswith("+07:00")
    assert body["received_at"].startswith("2026-11-25T14:19:56.498")
    assert body["ivr"] == {"selections": ["counselling"]}
    assert body["call"]["wait_seconds"] == pytest.approx(1.008, abs=0.001)
    outbox = await outbox_rows(calls.db)
    assert outbox[body["id"]].revision == 3
    assert outbox[body["id"]].state == "pending"


async def test_answered_call_publishes_ring_answer_end_on_the_bus(calls: Calls) -> None:
    await calls.replay(recorded_events("answered.ami"))

    seen = [e for e in await calls.drained_bus() if not isinstance(e, StubChanged)]
    # Arrival and ring are published from memory at once; queued, answered and ended after the
    # stub writes before them, so the ring may overtake the stub's creation (queued).
    assert [type(e) for e in seen if not isinstance(e, CallQueued)] == [
        CallArrived, AgentRinging, AgentAnswered, CallEnded
    ]
    [queued] = [e for e in seen if isinstance(e, CallQueued)]
    assert seen.index(queued) < seen.index(next(e for e in seen if isinstance(e, AgentAnswered)))
    arrived, ringing, answered, ended = [e for e in seen if not isinstance(e, CallQueued)]
    assert arrived.caller_number == "+66812345678"
    assert (ringing.agent_id, ringing.linkedid) == ("A001", "1795591196.0")
    assert ringing.at == at("1795591204.646914")
    assert arrived.stub_id == ringing.stub_id == queued.stub_id == answered.stub_id
    assert answered.stub_id == ended.stub_id
    assert ringing.call.queue == "counsel-th"
    assert ended.disposition == "answered"
    stub = await stub_body(calls.db, queued.stub_id)
    assert stub["call_id"] == "1795591196.0", "the stub exists when the call is said queued"


async def test_hang_up_during_greeting_is_abandoned_in_ivr_with_a_stub(calls: Calls) -> None:
    await calls.replay(recorded_events("abandoned_ivr.ami"))

    [call] = await call_rows(calls.db)
    assert call.disposition == "abandoned_ivr"
    assert call.queue is None and call.queued_at is None and call.wait_seconds is None
    assert call.ivr_path == []
    [stub] = await stub_rows(calls.db)
    assert stub.revision == 1, "first sent when the call ends before a queue"
    assert stub.body["disposition"] == "abandoned"
    assert stub.body["call"]["abandoned_in"] == "ivr"
    assert stub.body["ended_at"] is not None
    assert problems(stub.body) == []


async def test_hang_up_while_an_agent_rings_is_abandoned_in_queue(calls: Calls) -> None:
    await calls.replay(recorded_events("abandoned_queue.ami"))

    [call] = await call_rows(calls.db)
    assert call.disposition == "abandoned_queue"
    assert (call.queue, call.priority, call.ivr_path) == ("critical-th", "critical", ["emergency"])
    assert call.ringing_agents == ["A002"] and call.agent_id is None
    # Asterisk's own HoldTime for the abandon is 4 (whole seconds).
    assert call.wait_seconds is not None and 4.0 <= call.wait_seconds < 5.0
    [stub] = await stub_rows(calls.db)
    assert stub.body["disposition"] == "abandoned"
    assert stub.body["call"]["abandoned_in"] == "queue"
    assert stub.body["priority"] == "critical"
    assert stub.revision == 2  # queued, ended
    seen = await calls.drained_bus()
    ring_ends = [e for e in seen if isinstance(e, AgentRingEnded)]
    assert [(e.agent_id, e.reason) for e in ring_ends] == [("A002", "caller_left")]


async def test_replaying_the_same_stream_twice_changes_nothing(calls: Calls) -> None:
    events = recorded_events("answered.ami")
    await calls.replay(events)
    first = await stub_rows(calls.db)
    again = calls.new_tracker()
    for event in events:
        await again.on_event(event)
    await again.flush()
    rows = await call_rows(calls.db)
    stubs = await stub_rows(calls.db)
    assert len(rows) == 1 and len(stubs) == 1
    assert stubs[0].revision == first[0].revision, "same facts, no new revision"
