"""Each agent's open contacts (pure state): what stays on the desk through ring, answer, end and
outcome, so a page that reconnects is sent exactly what the agent still has to deal with."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from call_log.record import CallSnapshot, stub_id_for
from screen_pop.desk import Desk, Phase
from tests.agent_desk.calls import AmiCall
from tests.agent_desk.conftest import Desk as RunningDesk
from tests.agent_desk.conftest import receive_until

T0 = datetime(2024, 2, 1, 2, 0, tzinfo=UTC)


def call(linkedid: str) -> CallSnapshot:
    return CallSnapshot(
        linkedid=linkedid, stub_id=stub_id_for(linkedid), line="domestic", dialed="1300",
        caller_number="+66812345678", caller_country="TH", language="th", ivr_path=("th",),
        priority="normal", queue="counsel-th", received_at=T0, queued_at=T0, answered_at=None,
        ended_at=None, wait_seconds=None, talk_seconds=None, hold_seconds=0.0, agent_id=None,
        ringing_agents=(), transfers=(), disposition="in_queue", fallback=None,
        callback_number=None, callback_message=None, callback_id=None, callback_result=None,
        related_linkedid=None, survey_score=None, recording_path=None,
    )


def test_a_call_rung_at_two_agents_stays_only_with_the_one_who_answered() -> None:
    desk, c = Desk(), call("1.1")
    desk.ringing("A001", c, T0)
    desk.ringing("A002", c, T0)
    desk.answered("A002", c, T0 + timedelta(seconds=3))

    assert desk.ring_ended("A001", c.stub_id) is not None
    assert desk.ring_ended("A002", c.stub_id) is None  # answered: not a ring that ended
    assert desk.open_for("A001") == []
    assert [o.phase for o in desk.open_for("A002")] == [Phase.ANSWERED]


def test_an_ended_call_waits_for_its_outcome_then_leaves() -> None:
    desk, c = Desk(), call("1.2")
    desk.ringing("A001", c, T0)
    desk.answered("A001", c, T0 + timedelta(seconds=2))
    ended = replace(c, disposition="answered", ended_at=T0 + timedelta(minutes=5))

    changed = desk.ended(c.stub_id, ended, T0 + timedelta(minutes=5))

    assert [(o.phase, o.rang_at) for o in changed] == [(Phase.ENDED, T0)]
    assert desk.holding(c.stub_id)[0].disposition == "answered"
    assert desk.closed(c.stub_id) == ["A001"]
    assert desk.open_for("A001") == []


def test_a_caller_who_hangs_up_while_ringing_leaves_no_contact() -> None:
    desk, c = Desk(), call("1.3")
    desk.ringing("A001", c, T0)
    assert [o.phase for o in desk.ended(c.stub_id, c, T0 + timedelta(seconds=9))] == [
        Phase.RINGING
    ]
    assert desk.open_for("A001") == []


def test_only_the_latest_ended_contacts_wait_on_the_desk() -> None:
    desk = Desk(keep_ended=2)
    for n in range(4):
        c = call(f"2.{n}")
        desk.answered("A001", c, T0)
        desk.ended(c.stub_id, c, T0 + timedelta(minutes=n))
    assert [o.linkedid for o in desk.open_for("A001")] == ["2.2", "2.3"]


async def test_the_agent_who_did_not_answer_is_told_the_ring_ended(desk: RunningDesk) -> None:
    await desk.sign_in("agent1", "agent-pass")
    ws = await desk.client.ws_connect("/ws/agent")
    c = AmiCall()
    await desk.feed(c.arrives(), c.rings("A001"), c.rings("A002"))
    pop = await receive_until(ws, lambda m: m["type"] == "pop")

    await desk.feed(c.answered_by("A002"))
    ended = await receive_until(ws, lambda m: m["type"] == "ring_ended")

    assert ended["stub_id"] == pop["stub_id"]
    assert ended["reason"] == "answered_elsewhere"
    await ws.close()
