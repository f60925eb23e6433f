"""Strange caller IDs through the real Asterisk 22 (SIPp callers on the carrier trunk, whose From
header carries them) and through the call tracker alone (a recorded call's AMI events with the
caller ID replaced): withheld, "anonymous", overlong, not a number, Thai script, with spaces.
Asterisk's CDR says how many calls there were (it drops an INVITE whose From is not a valid SIP
URI: Thai script, spaces); the controller must have exactly those, ended, each with a stub the
case-store schema accepts and a caller number that is a real E.164 number or none at all."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator

import pytest

from ami import AmiLink, Event
from case_stubs.schema import problems
from sandbox.instance import AsteriskInstance
from sip_traffic.runner import run_sipp
from sip_traffic.scenarios import caller_scenario
from storage import Database
from tests.calls.conftest import Calls, build_calls, recorded_events
from tests.calls.dbview import call_rows, stub_rows
from tests.integration.conftest import (  # noqa: F401  (pytest fixtures)
    asterisk,
    asterisk_runtime,
    asterisk_settings,
)

pytestmark = pytest.mark.asterisk

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CALLER_IDS = {
    "anonymous": None, "Anonymous": None, "restricted": None,
    "0" + "9" * 120: None,  # overlong
    "callerX": None,  # letters only
    "สมชาย": None,  # Thai script in the user part
    "+66 81 234 5678": "+66812345678",  # spaces, as some carriers send it
    "0812345678": "+66812345678",
    "๐๘๑๒๓๔๕๖๗๘": "+66812345678",  # Thai digits
    "\u202e0812345678": "+66812345678",  # a right-to-left override in front
    "": None,
}
RECORDED = "1795591196.0"
SIP_CALLERS = [c for c in CALLER_IDS if (c and c.isascii()) or c == "สมชาย"]


@pytest.fixture
async def tracked(asterisk: AsteriskInstance, database: Database) -> AsyncIterator[Calls]:  # noqa: F811
    calls = build_calls(database)
    c = asterisk.config.controller
    link = AmiLink("127.0.0.1", asterisk.ports.ami, c.username, c.secret)
    calls.tracker.attach(link)
    await link.start()
    await link.wait_connected(10)
    yield calls
    await link.close()
    await calls.bus.close()


def cdr_linkedids(instance: AsteriskInstance) -> set[str]:
    with sqlite3.connect(f"file:{instance.cdr_db}?mode=ro", uri=True) as conn:
        return {r[0] for r in conn.execute("SELECT DISTINCT linkedid FROM cdr")}


async def test_strange_caller_ids_are_recorded_without_crashing(
    asterisk: AsteriskInstance, tracked: Calls,  # noqa: F811
) -> None:
    outcome: dict[str, set[str]] = {}
    for caller in SIP_CALLERS:
        before = cdr_linkedids(asterisk)
        await run_sipp(
            caller_scenario(caller=caller, hangup_after=1.5, audio=False), name="caller",
            remote=f"127.0.0.1:{asterisk.ports.sip}", service="1300", calls=1,
            local_port=asterisk.ports.trunk, timeout=6,
        )
        await asyncio.sleep(0.3)  # the CDR is written as the call ends
        outcome[caller] = cdr_linkedids(asterisk) - before
    expected = set().union(*outcome.values())
    assert len(expected) >= 6, f"Asterisk took too few of these calls: {outcome}"
    assert not outcome["สมชาย"] and not outcome["+66 81 234 5678"]  # not valid SIP: dropped

    async with asyncio.timeout(20):
        while True:
            ended = {s.call_id for s in await stub_rows(tracked.db) if s.body.get("ended_at")}
            if expected <= ended:
                break
            await asyncio.sleep(0.1)
    rows = {r.linkedid: r for r in await call_rows(tracked.db) if r.linkedid in expected}
    assert set(rows) == expected, "one record per call Asterisk counted"
    assert tracked.tracker.stats.errors == 0
    stubs = {s.call_id: s for s in await stub_rows(tracked.db)}
    for caller, linkedids in outcome.items():
        for linkedid in linkedids:
            number = rows[linkedid].caller_number
            assert number is None or E164.match(number), (caller, number)
            assert number == CALLER_IDS[caller], (caller, number)
            assert problems(stubs[linkedid].body) == [], (caller, problems(stubs[linkedid].body))


def _as_if_from(events: list[Event], caller: str, linkedid: str) -> list[Event]:
    """The recorded call again, from `caller`, under another linkedid."""
    def value(key: str, text: str) -> str:
        if key in ("CallerIDNum", "ConnectedLineNum") and text.startswith("0"):
            return caller
        return text.replace(RECORDED, linkedid)

    return [Event.build(e.name, {k: value(k, v) for k, v in e.items if k != "Event"})
            for e in events]


async def test_strange_caller_ids_through_the_tracker(database: Database) -> None:
    calls = build_calls(database)
    recorded = recorded_events("answered.ami")
    linkedids = {}
    for i, caller in enumerate(CALLER_IDS):
        linkedids[caller] = f"1795591196.{100 + i}"
        await calls.replay(_as_if_from(recorded, caller, linkedids[caller]))
    assert calls.tracker.stats.errors == 0
    rows = {r.linkedid: r for r in await call_rows(calls.db)}
    stubs = {s.call_id: s for s in await stub_rows(calls.db)}
    for caller, linkedid in linkedids.items():
        row = rows[linkedid]
        assert (row.disposition, row.agent_id) == ("answered", "A001"), caller
        assert row.caller_number == CALLER_IDS[caller], (caller, row.caller_number)
        assert problems(stubs[linkedid].body) == [], caller
