"""Every IVR flow against a real Asterisk 22 running the generated dialplan, with SIPp callers
pressing RFC 2833 keys and a SIPp phone answering for the agents.

Assertions are on what Asterisk records: the Line1300Ivr user events and the queue's own AMI
events (QueueCallerJoin, AgentConnect), the CEL database, queue_log and the files it wrote.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import PurePosixPath

import pytest

from ivr.events import Fallback, IvrStep, Line, Priority, Step
from sip_traffic.scenarios import Key

from .conftest import Switchboard

pytestmark = [pytest.mark.asterisk, pytest.mark.timeout(180)]

AGENT = ("agent-001", "A001")
OTHER_AGENT = ("agent-002", "A002")


def press(*timed: tuple[str, float]) -> list[Key]:
    """Keys with the seconds to wait before each."""
    return [Key(digit, pause) for digit, pause in timed]


def chan_variables(event) -> dict[str, str]:  # type: ignore[no-untyped-def]
    pairs = (v.split("=", 1) for v in event.getall("ChanVariable") if "=" in v)
    return {k: v for k, v in pairs}


def cel_rows(board: Switchboard, linkedid: str) -> list[sqlite3.Row]:
    with sqlite3.connect(board.instance.cel_db) as db:
        db.row_factory = sqlite3.Row
        return db.execute(
            "SELECT eventtype, eventtime, userdeftype, eventextra, uniqueid, linkedid"
            " FROM cel WHERE linkedid = ? ORDER BY AcctId",
            (linkedid,),
        ).fetchall()


@pytest.mark.parametrize(
    ("did", "keys", "queue", "lang", "priority"),
    [
        ("1300", "12", "counsel-th", "th", Priority.NORMAL),
        ("1300", "23", "intl-en", "en", Priority.NORMAL),
        ("1300", "44", "intl-my", "my", Priority.URGENT),
        # International line: Thais abroad reach the desk in Thai, foreigners their interpreter.
        ("+66991301300", "12", "intl-th", "th", Priority.NORMAL),
        ("+66991301300", "32", "intl-km", "km", Priority.NORMAL),
        # The national form of the international number is the same line.
        ("0991301300", "21", "intl-en", "en", Priority.CRITICAL),
    ],
)
async def test_language_and_menu_choice_reach_the_skill_queue(
    switchboard: Switchboard, did: str, keys: str, queue: str, lang: str, priority: Priority
) -> None:
    caller = f"08100{keys}{len(did)}"
    await switchboard.add_member(queue, *AGENT)
    await switchboard.agent_phone(talk=1.0)

    result = await switchboard.call(
        did, press((keys[0], 1.0), (keys[1], 1.5)), caller=caller, hangup_after=4.0
    )

    assert result.ok, result.summary()
    steps = {s.step: s for s in switchboard.steps(caller)}
    line = Line.DOMESTIC if did == "1300" else Line.INTERNATIONAL
    assert steps[Step.ENTERED].line is line
    assert steps[Step.QUEUED].queue == queue
    assert steps[Step.QUEUED].lang == lang
    assert steps[Step.QUEUED].priority is priority
    linkedid = steps[Step.ENTERED].linkedid
    connect = switchboard.named("AgentConnect", Linkedid=linkedid)
    assert [(e.get("Queue"), e.get("MemberName")) for e in connect] == [(queue, AGENT[1])]
    # The inherited call variables reach the agent's events (screen-pop, call log).
    assert chan_variables(connect[0])["L1300_LANG"] == lang
    assert chan_variables(connect[0])["L1300_LINE"] == line


async def test_emergency_key_jumps_ahead_of_waiting_callers_in_the_same_queue(
    switchboard: Switchboard,
) -> None:
    await switchboard.add_member("intl-en", *AGENT)
    await switchboard.agent_phone(talk=None)  # busy until the first caller hangs up
    first = await switchboard.start_call(
        "1300", press(("2", 1.0), ("2", 1.5)), caller="0820000001", hangup_after=12
    )
    await asyncio.sleep(4)
    waiting = await switchboard.start_call(
        "1300", press(("2", 1.0), ("2", 1.5)), caller="0820000002", hangup_after=8
    )
    await asyncio.sleep(4)
    urgent = await switchboard.start_call(
        "1300", press(("2", 1.0), ("9", 1.5)), caller="0820000003", hangup_after=3
    )

    def urgent_joined() -> bool:
        linkedid = switchboard.linkedid_of("0820000003")
        return linkedid is not None and bool(
            switchboard.named("QueueCallerJoin", Linkedid=linkedid)
        )

    await switchboard.wait_for(urgent_joined)
    joins = {
        caller: switchboard.named("QueueCallerJoin", Linkedid=switchboard.linkedid_of(caller) or "")
        for caller in ("0820000002", "0820000003")
    }
    assert joins["0820000002"][0].get("Position") == "1"
    # The emergency caller came later and is put first.
    assert joins["0820000003"][0].get("Position") == "1"
    assert joins["0820000003"][0].get("Queue") == "intl-en"
    emergency = {s.step: s for s in switchboard.steps("0820000003")}
    assert emergency[Step.EMERGENCY_KEY].priority is Priority.CRITICAL
    for call in (first, waiting, urgent):
        assert (await call.wait(30)).ok


async def test_emergency_queue_is_served_before_counselling_callers_who_waited_longer(
    switchboard: Switchboard,
) -> None:
    await switchboard.add_member("counsel-th", *AGENT)
    await switchboard.add_member("critical-th", *AGENT)
    await switchboard.agent_phone(talk=None)  # each call lasts until the caller hangs up
    thai_counselling = press(("1", 1.0), ("2", 1.5))
    busy = await switchboard.start_call(
        "1300", thai_counselling, caller="0830000001", hangup_after=6
    )
    await asyncio.sleep(2.5)
    counselling = await switchboard.start_call(
        "1300", thai_counselling, caller="0830000002", hangup_after=12
    )
    await asyncio.sleep(2.0)
    emergency = await switchboard.start_call(
        "1300", press(("9", 1.0)), caller="0830000003", hangup_after=4
    )

    for call in (busy, counselling, emergency):
        assert (await call.wait(40)).ok
    order = [
        (e.get("Queue"), e.get("CallerIDNum"))
        for e in switchboard.events
        if e.name == "AgentConnect"
    ]
    assert order == [
        ("counsel-th", "0830000001"),
        ("critical-th", "0830000003"),
        ("counsel-th", "0830000002"),
    ]
    # The emergency caller had to wait (the counsellor was busy): the announcer told them at
    # once, in their language, that they are being connected.
    played = [
        e.get("AppData") or ""
        for e in switchboard.named(
            "Newexten", Context="line1300-queue-announce", Application="Playback"
        )
    ]
    assert "line1300/th/emergency-connecting" in played


async def test_no_input_twice_goes_to_the_default_counselling_queue(
    switchboard: Switchboard,
) -> None:
    await switchboard.add_member("counsel-th", *AGENT)
    await switchboard.agent_phone(talk=1.0)

    result = await switchboard.call("1300", [], caller="0840000001", hangup_after=24)

    assert result.ok, result.summary()
    steps = switchboard.steps("0840000001")
    assert [s.step for s in steps][:4] == ["entered", "no_input", "no_input", "default_queue"]
    assert steps[3].queue == "counsel-th"
    queued = next(s for s in steps if s.step is Step.QUEUED)
    assert queued.queue == "counsel-th"
    assert switchboard.named("AgentConnect", Linkedid=queued.linkedid)


async def test_invalid_keys_twice_on_the_international_line_reach_the_thai_desk(
    switchboard: Switchboard,
) -> None:
    await switchboard.add_member("intl-th", *AGENT)
    await switchboard.agent_phone(talk=1.0)

    result = await switchboard.call(
        "+66991301300", press(("5", 1.0), ("6", 1.5)), caller="0850000001", hangup_after=4
    )

    assert result.ok, result.summary()
    steps = switchboard.steps("0850000001")
    assert [(s.step, s.selection) for s in steps if s.step is Step.INVALID] == [
        ("invalid", "5"),
        ("invalid", "6"),
    ]
    assert next(s for s in steps if s.step is Step.DEFAULT_QUEUE).queue == "intl-th"
    connect = switchboard.named("AgentConnect", Linkedid=steps[0].linkedid)
    assert [e.get("Queue") for e in connect] == ["intl-th"]


async def test_khmer_with_nobody_on_shift_leaves_a_callback(switchboard: Switchboard) -> None:
    await switchboard.add_member("intl-en", *AGENT)  # the English desk is open
    # What the controller publishes: a Khmer interpreter starts at 14:00.
    answer = await switchboard.link.send(
        {"Action": "Setvar", "Variable": "L1300_NEXT_SHIFT_km", "Value": "14"}
    )
    assert answer.ok
    number = [(d, 0.4) for d in "0066812345678"]
    keys = press(("3", 1.0), ("2", 1.5), ("2", 1.5), ("#", 1.5), *number, ("#", 0.5), ("1", 3.0))

    # The caller speaks their message after choosing a callback (key 2, index 2).
    result = await switchboard.call("1300", keys, caller="0860000001", speak_after=2)

    assert result.ok, result.summary()
    steps = {s.step: s for s in switchboard.steps("0860000001")}
    assert steps[Step.FALLBACK_OFFERED].queue == "intl-km"
    assert steps[Step.FALLBACK].fallback is Fallback.CALLBACK
    request = steps[Step.CALLBACK_REQUESTED]
    assert (request.lang, request.callback_number) == ("km", "+66812345678")
    assert Step.QUEUED not in steps
    assert request.message is not None
    message = switchboard.instance.host_path(PurePosixPath(request.message))
    assert message.is_file() and message.stat().st_size > 44
    # Asterisk's own record of the request, for a controller that was down (reconcile).
    from_cel = [
        IvrStep.from_cel(
            extra=r["eventextra"], linkedid=r["linkedid"], uniqueid=r["uniqueid"], at=request.at
        )
        for r in cel_rows(switchboard, request.linkedid)
        if r["userdeftype"] == "Line1300Ivr"
    ]
    assert any(
        s and s.step is Step.CALLBACK_REQUESTED and s.callback_number == "+66812345678"
        for s in from_cel
    )
    # The English desk was offered, and the caller heard when the Khmer interpreter starts.
    played = [
        e.get("AppData") or "" for e in switchboard.named("Newexten", Linkedid=request.linkedid)
    ]
    assert any("line1300/km/fallback-english-option" in p for p in played)
    assert any("line1300/km/callback-from-hour&line1300/km/num-14&" in p for p in played)


async def test_khmer_caller_can_take_the_english_desk(switchboard: Switchboard) -> None:
    await switchboard.add_member("intl-en", *AGENT)
    await switchboard.agent_phone(talk=1.0)

    result = await switchboard.call(
        "+66991301300",
        press(("3", 1.0), ("2", 1.5), ("1", 1.5)),
        caller="0860000002",
        hangup_after=4,
    )

    assert result.ok, result.summary()
    steps = {s.step: s for s in switchboard.steps("0860000002")}
    assert (steps[Step.FALLBACK].fallback, steps[Step.FALLBACK].queue) == (
        Fallback.ENGLISH_DESK,
        "intl-en",
    )
    assert (steps[Step.QUEUED].queue, steps[Step.QUEUED].lang) == ("intl-en", "km")
    connect = switchboard.named("AgentConnect", Linkedid=steps[Step.ENTERED].linkedid)
    assert chan_variables(connect[0])["L1300_LANG"] == "km"


async def test_a_paused_member_does_not_count_as_on_shift(switchboard: Switchboard) -> None:
    await switchboard.add_member("intl-km", *AGENT, paused=True)

    result = await switchboard.call(
        "+66991301300", press(("3", 1.0), ("2", 1.5)), caller="0860000003", hangup_after=3
    )

    assert result.ok, result.summary()
    steps = {s.step: s for s in switchboard.steps("0860000003")}
    assert steps[Step.FALLBACK_OFFERED].queue == "intl-km"


async def test_caller_hanging_up_in_the_menu_is_still_on_record(switchboard: Switchboard) -> None:
    result = await switchboard.call(
        "1300", press(("2", 1.0)), caller="0870000001", hangup_after=1.0
    )

    assert result.ok, result.summary()
    steps = switchboard.steps("0870000001")
    assert [s.step for s in steps] == ["entered", "language"]
    linkedid = steps[0].linkedid
    rows = await _cel_until(switchboard, linkedid, "LINKEDID_END")
    kinds = [r["eventtype"] for r in rows]
    assert "HANGUP" in kinds and "LINKEDID_END" in kinds
    cel_steps = [
        IvrStep.from_cel(
            extra=r["eventextra"], linkedid=linkedid, uniqueid=r["uniqueid"], at=steps[0].at
        )
        for r in rows
        if r["userdeftype"] == "Line1300Ivr"
    ]
    assert [s.step for s in cel_steps if s] == ["entered", "language"]


async def test_satisfaction_score_is_reported_and_recorded_by_asterisk(
    switchboard: Switchboard,
) -> None:
    await switchboard.add_member("counsel-th", *AGENT)
    await switchboard.agent_phone(talk=1.0)

    # The caller talks with the counsellor (speech after key 2, index 1), then scores 4.
    result = await switchboard.call(
        "1300", press(("1", 1.0), ("2", 1.5), ("4", 4.0)), caller="0880000001", speak_after=1
    )

    assert result.ok, result.summary()
    steps = {s.step: s for s in switchboard.steps("0880000001")}
    assert steps[Step.SURVEY].score == 4
    linkedid = steps[Step.SURVEY].linkedid
    cel_scores = [
        step.score
        for r in cel_rows(switchboard, linkedid)
        if r["userdeftype"] == "Line1300Ivr"
        and (
            step := IvrStep.from_cel(
                extra=r["eventextra"],
                linkedid=linkedid,
                uniqueid=r["uniqueid"],
                at=steps[Step.SURVEY].at,
            )
        )
        is not None
        and step.step is Step.SURVEY
    ]
    assert cel_scores == [4]
    # counsel-th records calls: the file is where the queued event said, in a dated folder.
    recording = steps[Step.QUEUED].recording
    assert recording is not None
    assert PurePosixPath(recording).parent.name == steps[Step.QUEUED].at.astimezone(
        switchboard.instance.settings.timezone
    ).strftime("%d")
    assert switchboard.instance.host_path(PurePosixPath(recording)).stat().st_size > 44


async def test_key_in_the_queue_leaves_a_callback_to_the_calling_number(
    switchboard: Switchboard,
) -> None:
    await switchboard.add_member("counsel-th", *AGENT)
    await switchboard.agent_phone(ring=20.0)  # rings, nobody picks up

    # Thai, counselling; in the queue the callback key; "#" ends the message, "#" alone keeps
    # the calling number, "1" confirms it.
    keys = press(("1", 1.0), ("2", 1.5), ("1", 3.0), ("#", 1.5), ("#", 1.5), ("1", 2.5))
    result = await switchboard.call("1300", keys, caller="0890000001")

    assert result.ok, result.summary()
    steps = {s.step: s for s in switchboard.steps("0890000001")}
    assert steps[Step.QUEUE_CALLBACK_KEY].queue == "counsel-th"
    assert steps[Step.CALLBACK_REQUESTED].callback_number == "0890000001"
    queue_log = switchboard.instance.queue_log.read_text()
    assert f"|{steps[Step.ENTERED].linkedid}|counsel-th|" in queue_log
    assert any(
        line.split("|")[1] == steps[Step.ENTERED].uniqueid and line.split("|")[4] == "EXITWITHKEY"
        for line in queue_log.splitlines()
    )


async def test_waiting_caller_hears_position_and_callback_key(switchboard: Switchboard) -> None:
    await switchboard.add_member("intl-th", *AGENT)
    await switchboard.agent_phone(ring=45.0)

    result = await switchboard.call(
        "+66991301300", press(("1", 1.0), ("2", 1.5)), caller="0890000002", hangup_after=33
    )

    assert result.ok, result.summary()
    played = [
        e.get("AppData") or ""
        for e in switchboard.named(
            "Newexten", Context="line1300-queue-announce", Application="Playback"
        )
    ]
    announcement = [p for p in played if "queue-position" in p]
    assert announcement
    assert announcement[0].startswith("line1300/th/queue-position&line1300/th/num-1&")
    assert "line1300/th/leave-callback-hint&line1300/th/digit-1" in announcement[0]


async def test_callback_context_dials_the_caller_and_reports_the_result(
    switchboard: Switchboard,
) -> None:
    # The agent's phone, then the caller's phone behind the carrier trunk, both answer.
    await switchboard.agent_phone(talk=3.0)
    carrier = await _trunk_phone(switchboard)
    answer = await switchboard.link.send(
        {
            "Action": "Originate",
            "Channel": f"PJSIP/{OTHER_AGENT[0]}",
            "Context": "line1300-callback",
            "Exten": "s",
            "Priority": "1",
            "Async": "true",
            "Timeout": "20000",
            "Variable": [
                "L1300_CALLBACK_ID=cb-17",
                "L1300_CALLBACK_NUMBER=+66812345678",
                "L1300_LANG=km",
                "L1300_LINE=callback",
                "L1300_RELATED_LINKEDID=1700000000.5",
            ],
        }
    )
    assert answer.ok, answer.get("Message")

    await switchboard.wait_for(
        lambda: switchboard.named("UserEvent", UserEvent="Line1300Callback"), 30
    )
    await carrier.stop()
    result = switchboard.named("UserEvent", UserEvent="Line1300Callback")[0]
    assert (result.get("CallbackId"), result.get("Result"), result.get("DialStatus")) == (
        "cb-17",
        "answered",
        "ANSWER",
    )
    assert result.get("RelatedLinkedid") == "1700000000.5"
    entered = [
        IvrStep.from_event(e) for e in switchboard.named("UserEvent", UserEvent="Line1300Ivr")
    ]
    assert any(
        s and s.line is Line.CALLBACK and s.callback_number == "+66812345678" for s in entered
    )


async def _cel_until(
    board: Switchboard, linkedid: str, kind: str, timeout: float = 10.0
) -> list[sqlite3.Row]:
    """The call's CEL rows once Asterisk has written one of ``kind`` (CEL is written async)."""
    async with asyncio.timeout(timeout):
        while True:
            rows = cel_rows(board, linkedid)
            if any(r["eventtype"] == kind for r in rows):
                return rows
            await asyncio.sleep(0.1)


async def _trunk_phone(board: Switchboard):  # type: ignore[no-untyped-def]
    from sip_traffic.runner import start_sipp
    from sip_traffic.scenarios import agent_scenario

    phone = await start_sipp(
        agent_scenario(ring=0.3, talk=1.0), name="carrier", local_port=board.instance.ports.trunk
    )
    await asyncio.sleep(0.2)
    return phone
