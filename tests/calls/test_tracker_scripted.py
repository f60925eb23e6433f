"""The call tracker on scripted AMI events: callbacks, holds, transfers and a controller that
was restarted in the middle of calls."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from call_log.bus import AgentRinging
from call_log.record import stub_id_for
from case_stubs.schema import problems
from shift_schedule.tables import AgentRow
from tests.calls.ami_script import CallScript
from tests.calls.conftest import Calls, recorded_events
from tests.calls.dbview import call_rows, outbox_rows, step_names, stub_body, stub_rows

INTL = "+66991301300"


def callback_request(script: CallScript) -> list:  # type: ignore[type-arg]
    s = script
    common = {"Line": "international", "Dialed": INTL, "Priority": "normal"}
    return [
        s.new_channel(exten=INTL),
        s.after(0.01).ivr("entered", Lang="th", **common),
        s.after(6).ivr("language", Lang="km", Selection="km", **common),
        s.after(5).ivr("menu", Lang="km", Selection="counselling", **common),
        s.after(0.01).ivr("fallback_offered", Lang="km", Queue="intl-km", **common),
        s.after(4).ivr("fallback", Lang="km", Fallback="callback", Selection="callback", **common),
        s.after(30).ivr(
            "callback_requested",
            Lang="km",
            CallbackNumber="+85512345678",
            Message="/srv/line1300/x/spool/callbacks/2026/11/25/cb1.wav",
            **common,
        ),
        s.after(3).hangup(),
    ]


async def test_callback_request_is_recorded_with_number_and_message(calls: Calls) -> None:
    script = CallScript("1795600000.10", 1795600000.5, caller="+85512345678")
    await calls.replay(callback_request(script))

    [call] = await call_rows(calls.db)
    assert call.disposition == "callback_requested"
    assert (call.line, call.dialed, call.language) == ("international", INTL, "km")
    assert (call.caller_number, call.caller_country) == ("+85512345678", "KH")
    assert call.ivr_path == ["km", "counselling", "callback"]
    assert call.fallback == "callback"
    assert call.callback_number == "+85512345678"
    assert call.callback_message and call.callback_message.endswith("cb1.wav")
    [stub] = await stub_rows(calls.db)
    assert problems(stub.body) == []
    assert stub.body["disposition"] == "callback_requested"
    assert stub.body["callback"] == {
        "number": "+85512345678",
        "message": call.callback_message,
        "status": "requested",
        "attempts": 0,
        "transcript": None,
    }


CALLBACK_VARIABLES = {
    "L1300_LINE": "callback",
    "L1300_LANG": "km",
    "L1300_RELATED_LINKEDID": "1795600000.10",
    "L1300_CALLBACK_ID": "cb-1",
}


def callback_call(back: CallScript, variables_as: str) -> list:  # type: ignore[type-arg]
    """The placed callback; its variables as an Asterisk that disables VarSet sends them
    (ChanVariable on the call's events) or as a recorded stream with VarSet events has them."""
    arrival = back.new_channel(exten="s")
    if variables_as == "ChanVariable":
        back.carrying(**CALLBACK_VARIABLES)
        variables = []
    else:
        variables = [back.var(f"__{k}", v) for k, v in CALLBACK_VARIABLES.items()]
    return [
        arrival,
        *variables,
        back.after(12)._event(
            "UserEvent", UserEvent="Line1300Callback", CallbackId="cb-1", Result="answered"
        ),
        back.after(95).hangup(),
    ]


@pytest.mark.parametrize("variables_as", ["ChanVariable", "VarSet"])
async def test_callback_call_links_to_the_request_and_counts_the_attempt(
    calls: Calls, variables_as: str
) -> None:
    original = CallScript("1795600000.10", 1795600000.5, caller="+85512345678")
    await calls.replay(callback_request(original))
    async with calls.db.session() as s:
        s.add(
            AgentRow(
                id="A003",
                name="Sok Dara",
                endpoint="agent-003",
                languages=["km", "en"],
                skills=["international_desk"],
                active=True,
                created_at=datetime.now(UTC),
            )
        )
    back = CallScript(
        "1795603600.20", 1795603600.0, caller="agent003", channel="PJSIP/agent-003-00000009"
    )
    await calls.replay(callback_call(back, variables_as))

    rows = {r.linkedid: r for r in await call_rows(calls.db)}
    callback = rows["1795603600.20"]
    assert (callback.line, callback.agent_id, callback.disposition) == (
        "callback",
        "A003",
        "answered",
    )
    assert callback.related_linkedid == "1795600000.10"
    stub = await stub_body(calls.db, callback.stub_id)
    assert stub["related_stub_id"] == stub_id_for("1795600000.10")
    assert stub["agent"] == {"id": "A003", "name": "Sok Dara"}
    assert problems(stub) == []
    first = await stub_body(calls.db, stub_id_for("1795600000.10"))
    assert first["callback"]["status"] == "answered"
    assert first["callback"]["attempts"] == 1


async def test_hold_and_blind_transfer_are_counted(calls: Calls) -> None:
    s = CallScript("1795610000.30", 1795610000.0)
    events = [
        s.new_channel(),
        s.after(0.01).ivr("entered", Line="domestic", Dialed="1300", Lang="th"),
        s.after(5).ivr("menu", Selection="report_person", Priority="urgent", Lang="th"),
        s.after(0.01).queue_join("counsel-th"),
        *s.after(0.01).agent_called("counsel-th", "A001", "agent-001"),
        *s.after(2.5).agent_connect("counsel-th", "A001", "agent-001", hold=2),
        s.after(20).hold(True),
        s.after(3.25).hold(False),
        s.after(9).blind_transfer("A001", "agent-001", "2001", result="Invalid"),
        s.after(1).blind_transfer("A001", "agent-001", "2001"),
        s.agent_complete("counsel-th", "A001", talk=33, reason="transfer"),
        s.agent_hangup("A001", "agent-001"),
        s.after(40).hangup(),
    ]
    await calls.replay(events)

    [call] = await call_rows(calls.db)
    assert call.disposition == "answered" and call.priority == "urgent"
    assert call.hold_seconds == pytest.approx(3.25, abs=0.001)
    assert [(t["kind"], t["to"], t["from_agent"]) for t in call.transfers] == [
        ("blind", "2001", "A001")
    ]
    # The talk goes on after a transfer: it ends with the call, not with the first agent.
    assert call.talk_seconds == pytest.approx(20 + 3.25 + 10 + 40, abs=0.01)
    # The refused attempt before it is a step of its own, not a second transfer.
    steps = await step_names(calls.db, call.linkedid)
    assert steps.count("transfer") == 1 and steps.count("transfer_failed") == 1


async def test_controller_restarted_mid_call_keeps_one_complete_record(calls: Calls) -> None:
    events = recorded_events("answered.ami")
    cut = next(i for i, e in enumerate(events) if e.name == "AgentConnect")
    await calls.replay(events[:cut])
    restarted = calls.new_tracker()  # a new process: nothing in memory, same database
    for event in events[cut:]:
        await restarted.on_event(event)
    await restarted.flush()

    [call] = await call_rows(calls.db)
    assert call.disposition == "answered" and call.agent_id == "A001"
    assert call.wait_seconds == pytest.approx(1.008, abs=0.001)
    assert call.ivr_path == ["counselling"] and call.queue == "counsel-th"
    steps = await step_names(calls.db, call.linkedid)
    assert steps.count("queue_joined") == 1 and steps[-1] == "ended"
    [stub] = await stub_rows(calls.db)
    assert stub.body["disposition"] == "answered" and stub.body["ended_at"] is not None
    assert (await outbox_rows(calls.db))[stub.id].revision == stub.revision


async def test_ringing_a_call_joined_mid_way_pops_an_existing_stub(calls: Calls) -> None:
    s = CallScript("1795620000.40", 1795620000.0)
    fresh = calls.new_tracker()
    for event in s.after(30).agent_called("intl-en", "A005", "agent-005"):
        await fresh.on_event(event)
    await fresh.flush()

    [ringing] = [e for e in await calls.drained_bus() if isinstance(e, AgentRinging)]
    assert ringing.agent_id == "A005"
    stub = await stub_body(calls.db, ringing.stub_id)
    assert stub["call_id"] == "1795620000.40"
    [call] = await call_rows(calls.db)
    assert call.source == "partial"


async def test_a_call_starting_now_is_taken_without_reading_the_database(
    calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live path: Asterisk's channel of a moment ago starts a new call; only an old start
    (a replayed stream) is looked up."""
    looked_up: list[str] = []
    real_get = calls.store.get

    async def get(linkedid: str) -> object:
        looked_up.append(linkedid)
        return await real_get(linkedid)

    monkeypatch.setattr(calls.store, "get", get)
    now = time.time()
    live, replayed = CallScript(f"{now:.1f}", now), CallScript("1795620000.50", 1795620000.0)
    await calls.replay([live.new_channel(), live.after(3).hangup()])
    await calls.replay([replayed.new_channel(), replayed.after(3).hangup()])

    assert looked_up == ["1795620000.50"]
    assert len(await call_rows(calls.db)) == 2
