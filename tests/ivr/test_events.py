"""ivr.events: the IVR's reports parsed from real AMI streams and CEL rows.

The fixture ivr_calls.ami.jsonl is the controller user's AMI stream of three real calls through
the generated dialplan (Asterisk 22 in the sandbox, SIPp callers): an emergency-key call
answered and scored 4; an international Khmer caller with nobody on shift who asks for a
callback to 00 66 81 234 5678; a caller who hangs up during the greeting.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ami import Event, load_recording, replay_into_parser
from ivr.events import (
    CallbackOutcome,
    CallbackResult,
    Fallback,
    IvrStep,
    Line,
    Priority,
    Step,
    parse_payload,
)

FIXTURE = Path(__file__).parent / "fixtures" / "ivr_calls.ami.jsonl"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _recorded_events() -> list[Event]:
    frames = replay_into_parser(load_recording(FIXTURE))
    return [Event.from_frame(f) for f in frames if f.kind == "event"]


def _steps_by_call() -> dict[str, list[IvrStep]]:
    calls: dict[str, list[IvrStep]] = {}
    for event in _recorded_events():
        step = IvrStep.from_event(event)
        if step is not None:
            calls.setdefault(step.linkedid, []).append(step)
    return calls


def test_recorded_calls_give_each_call_its_steps_in_order() -> None:
    calls = list(_steps_by_call().values())

    assert [[s.step for s in call] for call in calls] == [
        ["entered", "emergency_key", "queued", "survey"],
        ["entered", "language", "menu", "fallback_offered", "fallback", "callback_requested"],
        ["entered"],
    ]


def test_emergency_call_is_critical_in_the_critical_queue_and_scored() -> None:
    entered, emergency, queued, survey = next(iter(_steps_by_call().values()))

    assert (entered.line, entered.dialed, entered.lang) == (Line.DOMESTIC, "1300", "th")
    # The channel snapshot's own "Priority: 1" (dialplan priority) must not leak in.
    assert entered.priority is Priority.NORMAL
    assert (emergency.selection, emergency.priority) == ("emergency", Priority.CRITICAL)
    assert queued.queue == "critical-th"
    assert queued.recording is not None
    assert queued.recording.endswith(f"/{queued.linkedid}.wav")
    assert survey.score == 4
    assert survey.at >= queued.at


def test_khmer_caller_with_nobody_on_shift_leaves_a_callback() -> None:
    steps = list(_steps_by_call().values())[1]
    by_step = {s.step: s for s in steps}

    assert by_step[Step.ENTERED].line is Line.INTERNATIONAL
    assert by_step[Step.ENTERED].dialed == "+66991301300"
    assert by_step[Step.LANGUAGE].selection == "km"
    assert by_step[Step.FALLBACK_OFFERED].queue == "intl-km"
    assert by_step[Step.FALLBACK].fallback is Fallback.CALLBACK
    request = by_step[Step.CALLBACK_REQUESTED]
    assert request.lang == "km"
    assert request.callback_number == "+66812345678"
    assert request.message is not None
    assert request.message.endswith(f"/{request.linkedid}.wav")


def test_user_event_built_by_hand_reads_only_the_body_after_the_userevent_header() -> None:
    event = Event.build(
        "UserEvent",
        {
            "Channel": "PJSIP/trunk-00000001",
            "Priority": "7",
            "Uniqueid": "1700000000.2",
            "Linkedid": "1700000000.1",
            "UserEvent": "Line1300Ivr",
            "Step": "queued",
            "Line": "domestic",
            "Lang": "th",
            "Queue": "counsel-th",
            "Recording": "",
            "Timestamp": "1700000001.5",
        },
    )

    step = IvrStep.from_event(event, clock=lambda: NOW)

    assert step is not None
    assert (step.linkedid, step.uniqueid, step.queue) == (
        "1700000000.1",
        "1700000000.2",
        "counsel-th",
    )
    assert step.priority is None
    assert step.recording is None
    assert step.at == datetime.fromtimestamp(1700000001.5, UTC)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"UserEvent": "SomethingElse", "Step": "entered", "Linkedid": "1.1"}, "other user event"),
        ({"UserEvent": "Line1300Ivr", "Step": "teleported", "Linkedid": "1.1"}, "unknown step"),
        ({"UserEvent": "Line1300Ivr", "Step": "entered"}, "no linkedid"),
    ],
)
def test_events_that_are_not_ivr_steps_give_none(headers: dict[str, str], reason: str) -> None:
    assert IvrStep.from_event(Event.build("UserEvent", headers)) is None, reason


def test_other_events_give_none() -> None:
    hangups = [e for e in _recorded_events() if e.name == "Hangup"]

    assert hangups
    assert all(IvrStep.from_event(e) is None for e in hangups)


def test_score_outside_one_to_five_is_no_score() -> None:
    for raw, expected in (("5", 5), ("1", 1), ("0", None), ("6", None), ("", None), ("12", None)):
        step = IvrStep.from_payload({"Step": "survey", "Score": raw}, "1.1", "1.1", NOW)
        assert step is not None
        assert step.score == expected, raw


def test_cel_row_as_asterisk_stores_it() -> None:
    # eventextra exactly as cel_sqlite3_custom wrote it for a CELGenUserEvent of the dialplan.
    extra = json.dumps(
        {
            "extra": "Step: fallback,Line: domestic,Dialed: 1300,Lang: km,Priority: normal,"
            "Fallback: english_desk,Queue: intl-en"
        }
    )

    step = IvrStep.from_cel(extra=extra, linkedid="9.1", uniqueid="9.1", at=NOW)

    assert step is not None
    assert (step.step, step.fallback, step.queue, step.lang) == (
        Step.FALLBACK,
        Fallback.ENGLISH_DESK,
        "intl-en",
        "km",
    )


def test_cel_event_over_ami() -> None:
    event = Event.build(
        "CEL",
        {
            "EventName": "USER_DEFINED",
            "UserDefType": "Line1300Ivr",
            "Extra": '{"extra":"Step: entered,Line: international,Lang: th"}',
            "LinkedID": "5.5",
            "UniqueID": "5.6",
            "EventTime": "1700000000.25",
        },
    )

    step = IvrStep.from_event(event)

    assert step is not None
    assert (step.step, step.line, step.uniqueid) == (Step.ENTERED, Line.INTERNATIONAL, "5.6")
    assert step.at == datetime.fromtimestamp(1700000000.25, UTC)


def test_payload_text_splits_on_commas_and_first_colon() -> None:
    body = parse_payload("Step: callback_requested,Message: /srv/a:b.wav,CallbackNumber: +6681")

    assert body == {
        "Step": "callback_requested",
        "Message": "/srv/a:b.wav",
        "CallbackNumber": "+6681",
    }


def test_callback_result() -> None:
    event = Event.build(
        "UserEvent",
        {
            "Linkedid": "7.1",
            "Uniqueid": "7.1",
            "UserEvent": "Line1300Callback",
            "CallbackId": "42",
            "Result": "no_answer",
            "DialStatus": "NOANSWER",
        },
    )

    result = CallbackResult.from_event(event, clock=lambda: NOW)

    assert result is not None
    assert (result.callback_id, result.result, result.dial_status) == (
        "42",
        CallbackOutcome.NO_ANSWER,
        "NOANSWER",
    )
    assert CallbackResult.from_event(Event.build("UserEvent", {"UserEvent": "Line1300Ivr"})) is None
