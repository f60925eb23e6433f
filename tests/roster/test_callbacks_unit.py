"""Callbacks without Asterisk: stored once from the IVR's event, placed only with a free agent
who speaks the language, retried on no answer up to the limit, every attempt recorded.
(The same through the real Asterisk and dialplan: test_asterisk_callbacks.py.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import pytest

from agent_routing.apply import ApplyRoster
from agent_routing.callback_store import CallbackStore
from agent_routing.callbacks import (
    CallbackPolicy,
    PlaceCallbacks,
    RecordCallbackRequest,
    RecordCallbackResult,
)
from agent_routing.situations import SituationReader
from agent_routing.skills import routing
from ami import Event
from ivr.events import CallbackResult, IvrStep
from shift_schedule.clock import FixedClock
from storage import Database

from .conftest import KHMER, MemoryQueues, at

POLICY = CallbackPolicy(max_attempts=3, retry=timedelta(minutes=10), agent_ring_seconds=20)
NUMBER = "+85512345678"


class Phones:
    """Records Originates; Asterisk accepts them unless told otherwise."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Mapping[str, str | Sequence[str]]]] = []
        self.accept = True

    async def originate(self, action_id: str, headers: Mapping[str, str | Sequence[str]]) -> bool:
        self.calls.append((action_id, headers))
        return self.accept


def request_event(linkedid: str = "1741071600.10", lang: str = "km") -> Event:
    return Event.build("UserEvent", {
        "Timestamp": str(at(9, 58).timestamp()),
        "Channel": "PJSIP/trunk-00000001", "Uniqueid": linkedid, "Linkedid": linkedid,
        "Priority": "12", "UserEvent": "Line1300Ivr", "Step": "callback_requested",
        "Line": "international", "Lang": lang, "CallbackNumber": NUMBER,
        "Message": "/var/spool/asterisk/callback/msg.wav",
    })


def result_event(callback_id: str, result: str) -> Event:
    return Event.build("UserEvent", {"Linkedid": "x", "UserEvent": "Line1300Callback",
                                     "CallbackId": callback_id, "Result": result})


class Desk:
    def __init__(self, db: Database, reader: SituationReader) -> None:
        self.db = db
        self.queues = MemoryQueues()
        self.phones = Phones()
        self.kicks = 0
        self.apply = ApplyRoster(reader, self.queues, routing())
        self.record = RecordCallbackRequest(db, reader.clock, "en", self.kick)
        self.place = PlaceCallbacks(db, reader, self.queues, self.phones, routing(), POLICY)
        self.results = RecordCallbackResult(db, reader, POLICY, self.kick)

    def kick(self) -> None:
        self.kicks += 1

    async def callback(self, callback_id: str):  # type: ignore[no-untyped-def]
        async with self.db.session() as s:
            store = CallbackStore(s)
            return await store.get(callback_id), await store.attempts(callback_id)


@pytest.fixture
def desk(roster_db: Database, reader: SituationReader) -> Desk:
    return Desk(roster_db, reader)


async def _requested(desk: Desk) -> str:
    step = IvrStep.from_event(request_event())
    assert step is not None
    stored = await desk.record.handle(step)
    assert stored is not None
    return stored.id


async def test_request_is_stored_once(desk: Desk) -> None:
    first = await _requested(desk)
    again = await _requested(desk)  # the CEL reconcile reports the same call
    assert first == again and desk.kicks == 1
    callback, attempts = await desk.callback(first)
    assert (callback.language, callback.number, callback.status, attempts) == ("km", NUMBER,
                                                                               "waiting", [])


async def test_khmer_callback_waits_for_the_khmer_interpreter(
    desk: Desk, clock: FixedClock,
) -> None:
    callback_id = await _requested(desk)
    await desk.apply.execute()
    assert await desk.place.execute() == []  # 10:00: nobody on shift speaks Khmer
    clock.set(at(14, 0, 5))
    await desk.apply.execute()
    placed = await desk.place.execute()
    assert [(p.callback.id, p.agent_id) for p in placed] == [(callback_id, KHMER)]
    action_id, headers = desk.phones.calls[-1]
    assert headers["Channel"] == "PJSIP/agent-037" and headers["Context"] == "line1300-callback"
    assert f"L1300_CALLBACK_NUMBER={NUMBER}" in headers["Variable"]
    assert "L1300_RELATED_LINKEDID=1741071600.10" in headers["Variable"]
    assert action_id.endswith(f"{callback_id}-{placed[0].attempt_id}")


async def test_no_answer_is_retried_until_the_limit(desk: Desk, clock: FixedClock) -> None:
    clock.set(at(15))
    await desk.apply.execute()
    callback_id = await _requested(desk)
    for attempt in range(1, 4):
        assert len(await desk.place.execute()) == 1, f"attempt {attempt}"
        assert await desk.place.execute() == []  # the agent is busy with it
        result = CallbackResult.from_event(result_event(callback_id, "no_answer"))
        assert result is not None
        await desk.results.caller_result(result)
        assert await desk.place.execute() == []  # not due before the retry delay
        clock.advance(timedelta(minutes=10))
    callback, attempts = await desk.callback(callback_id)
    assert (callback.status, callback.attempts) == ("unanswered", 3)
    assert [a.result for a in attempts] == ["no_answer"] * 3
    assert {a.agent_id for a in attempts} == {KHMER}
    assert await desk.place.execute() == []


async def test_an_answered_callback_is_done(desk: Desk, clock: FixedClock) -> None:
    clock.set(at(15))
    await desk.apply.execute()
    callback_id = await _requested(desk)
    await desk.place.execute()
    result = CallbackResult.from_event(result_event(callback_id, "answered"))
    assert result is not None
    await desk.results.caller_result(result)
    callback, attempts = await desk.callback(callback_id)
    assert (callback.status, callback.attempts, attempts[0].result) == ("answered", 1, "answered")


async def test_an_agent_who_does_not_answer_does_not_use_up_attempts(
    desk: Desk, clock: FixedClock,
) -> None:
    clock.set(at(15))
    await desk.apply.execute()
    callback_id = await _requested(desk)
    await desk.place.execute()
    action_id, _ = desk.phones.calls[-1]
    await desk.results.agent_leg_failed(action_id, "3")
    callback, attempts = await desk.callback(callback_id)
    assert (callback.status, callback.attempts) == ("waiting", 0)
    assert attempts[0].result == "agent_no_answer"  # Asterisk's reason 3: it rang out
    clock.advance(timedelta(seconds=61))
    assert len(await desk.place.execute()) == 1


async def test_busy_or_paused_agents_are_not_rung(desk: Desk, clock: FixedClock) -> None:
    clock.set(at(15))
    await desk.apply.execute()
    await _requested(desk)
    desk.queues.set_status(KHMER, 2)  # on a call
    assert await desk.place.execute() == []
    desk.queues.set_status(KHMER, 1)
    assert len(await desk.place.execute()) == 1


async def test_a_waiting_khmer_callback_with_nobody_on_shift_is_a_coverage_warning(
    desk: Desk, reader: SituationReader, clock: FixedClock,
) -> None:
    from agent_routing.floor import ReadFloor
    from agent_routing.live import LiveBoard

    floor = ReadFloor(desk.db, reader, LiveBoard(clock, 30), routing(), min_counsellors=3)
    assert await floor.warnings() == []  # 10:00, the seed morning is fully staffed
    await _requested(desk)
    warnings = await floor.warnings()
    assert [(w.kind, w.details["language"], w.details["waiting"]) for w in warnings] == [
        ("callbacks_without_speaker", "km", 1)]
    clock.set(at(15))
    assert await floor.warnings() == []  # the Khmer interpreter is on shift
