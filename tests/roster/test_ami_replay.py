"""Parsing Asterisk 22's own words, replayed from a recorded AMI stream
(fixtures/asterisk22_roster.jsonl, re-recorded by `python -m tests.roster.record_fixtures`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from agent_routing.asterisk_queues import AsteriskQueues, member_from_event
from agent_routing.live import LiveBoard
from agent_routing.membership import MemberChange, MemberSpec, reconcile
from ami import Event, Response
from ami.recording import load_recording, replay_into_parser
from shift_schedule.clock import FixedClock

from .conftest import at

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "asterisk22_roster.jsonl"


def recorded() -> list[Event]:
    frames = replay_into_parser(load_recording(FIXTURE))
    return [Event.from_frame(f) for f in frames if f.kind == "event"]


class Replay:
    """Answers QueueStatus with the recorded answer."""

    async def send(self, action: Mapping[str, str], *, timeout: float | None = None,
                   idempotent: bool | None = None) -> Response:
        events = [e for e in recorded() if e.name in ("QueueParams", "QueueMember",
                                                      "QueueStatusComplete")]
        return Response("Success", {"Response": "Success"}, "", 0.0, events=tuple(events))


async def test_queue_status_members_are_read_as_asterisk_wrote_them() -> None:
    found = {m.spec.key: m for m in await AsteriskQueues(Replay()).members()}
    assert set(found) == {("counsel-th", "PJSIP/agent-001"), ("counsel-th", "PJSIP/agent-016"),
                          ("intl-en", "PJSIP/agent-016"), ("counsel-th", "PJSIP/agent-002")}
    paused = found[("counsel-th", "PJSIP/agent-002")]
    assert (paused.spec.member_name, paused.spec.paused, paused.spec.reason) == ("A002", True,
                                                                                "training")
    overflow = found[("counsel-th", "PJSIP/agent-016")]
    assert (overflow.spec.penalty, overflow.dynamic, overflow.status) == (1, True, 1)


async def test_reconciling_the_recorded_state_sends_only_the_difference() -> None:
    actual = await AsteriskQueues(Replay()).members()
    desired = {m.spec.key: m.spec for m in actual}
    desired.pop(("intl-en", "PJSIP/agent-016"))  # her shift ended
    a001 = desired[("counsel-th", "PJSIP/agent-001")]
    desired[a001.key] = MemberSpec(**{**a001.__dict__, "paused": True, "reason": "break"})
    changes = reconcile(desired, actual, ["counsel-th", "intl-en"])
    assert sorted((c.kind, c.member.member_name, c.member.queue) for c in changes) == [
        ("pause", "A001", "counsel-th"), ("remove", "A016", "intl-en")]
    pause = next(c for c in changes if c.kind == "pause")
    assert pause.action() == {"Action": "QueuePause", "Queue": "counsel-th",
                              "Interface": "PJSIP/agent-001", "Paused": "true", "Reason": "break"}
    assert reconcile({m.spec.key: m.spec for m in actual}, actual, ["counsel-th", "intl-en"]) == []


def test_the_answered_call_moves_the_agent_through_on_call_to_wrap_up() -> None:
    clock = FixedClock(at(10))
    board = LiveBoard(clock, wrapup_seconds=30)
    seen: list[str] = []
    for event in recorded():
        board.on_event(event)
        phone = board.of("A001")
        if phone is not None and (not seen or seen[-1] != phone.state):
            seen.append(phone.state)
        clock.advance(timedelta(milliseconds=10))
    assert seen[-2:] == ["on_call", "wrap_up"]
    clock.advance(timedelta(seconds=31))
    after = board.of("A001")
    assert after is not None and after.state == "idle"


def test_add_actions_carry_the_contract_headers() -> None:
    spec = MemberSpec("intl-km", "PJSIP/agent-037", "A037", "PJSIP/agent-037", 0)
    assert MemberChange("add", spec).action() == {
        "Action": "QueueAdd", "Queue": "intl-km", "Interface": "PJSIP/agent-037", "Penalty": "0",
        "Paused": "false", "MemberName": "A037", "StateInterface": "PJSIP/agent-037"}
    assert member_from_event(Event.build("QueueMember", {
        "Queue": "intl-km", "Name": "A037", "Location": "PJSIP/agent-037",
        "StateInterface": "PJSIP/agent-037", "Penalty": "0", "Paused": "0",
        "Membership": "dynamic", "Status": "1", "InCall": "0"})).spec == spec
