"""Renumbered DTMF pcaps (sip_traffic/dtmf.py) and the next-shift hours the controller publishes
(ivr/next_shift.py), without Asterisk."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent_routing.skills import routing
from ami import Response
from ivr.next_shift import GLOBAL_PREFIX, PublishNextShifts, next_shift_hours
from shift_schedule.clock import FixedClock
from shift_schedule.model import Agent, Assignment, ShiftDef
from shift_schedule.roster import RosterSnapshot
from sip_traffic.dtmf import renumbered_pcaps, with_renumbered_keys
from sip_traffic.scenarios import PCAP_DIR, caller_scenario, keys

BANGKOK = ZoneInfo("Asia/Bangkok")
pytestmark = pytest.mark.skipif(not PCAP_DIR.is_dir(), reason="sip-tester pcaps not installed")


def _rtp(path: Path) -> list[tuple[int, int, int, int]]:
    """(sequence, timestamp, event, end flag) of every packet."""
    data = path.read_bytes()
    offset, out = 24, []
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset + 8)
        rtp = offset + 16 + 14 + (data[offset + 16 + 14] & 0x0F) * 4 + 8
        seq, ts = struct.unpack_from(">HI", data, rtp + 2)
        out.append((seq, ts, data[rtp + 12], data[rtp + 13] >> 7))
        offset += 16 + length
    return out


def test_repeated_and_descending_keys_get_ever_increasing_numbers(tmp_path: Path) -> None:
    pcaps = renumbered_pcaps(list("3220#"), tmp_path)

    packets = [p for pcap in pcaps for p in _rtp(pcap)]
    first_of_each = [_rtp(p)[0] for p in pcaps]
    # Each key keeps its own RFC 2833 event code (# = 11) and its end packets.
    assert [p[2] for p in first_of_each] == [3, 2, 2, 0, 11]
    assert all(_rtp(p)[-1][3] == 1 for p in pcaps)
    sequences = [p[0] for p in packets]
    assert sequences == sorted(sequences)  # end packets repeat their number, never go back
    stamps = [p[1] for p in first_of_each]
    assert stamps == sorted(set(stamps))


def test_scenario_keys_are_replaced_in_order(tmp_path: Path) -> None:
    xml = caller_scenario(keys_pressed=keys("22"), hangup_after=1.0, audio=False)

    renumbered = with_renumbered_keys(xml, tmp_path)

    assert "dtmf_2833_2.pcap" not in renumbered
    assert renumbered.index("key-00.pcap") < renumbered.index("key-01.pcap")


def _snapshot() -> RosterSnapshot:
    shifts = (
        ShiftDef("morning", "เช้า", "Morning", 6 * 60, 14 * 60),
        ShiftDef("afternoon", "บ่าย", "Afternoon", 14 * 60, 22 * 60),
        ShiftDef("night", "ดึก", "Night", 22 * 60, 6 * 60),
    )
    agents = {
        "A001": Agent(
            "A001", "Somchai", "agent-001", frozenset({"th"}), frozenset({"counselling"})
        ),
        "A002": Agent(
            "A002", "Jane", "agent-002", frozenset({"th", "en"}), frozenset({"international_desk"})
        ),
        "A003": Agent(
            "A003",
            "Sophea",
            "agent-003",
            frozenset({"km", "th"}),
            frozenset({"international_desk"}),
        ),
    }
    day = date(2026, 3, 2)
    assignments = (
        Assignment(1, "A001", "morning", day),
        Assignment(2, "A001", "night", day),
        Assignment(3, "A002", "morning", day),
        Assignment(4, "A003", "afternoon", day),
        Assignment(5, "A002", "night", day),
    )
    return RosterSnapshot(
        BANGKOK, date(2026, 3, 1), date(2026, 3, 4), shifts, agents, assignments, (), ()
    )


def test_next_shift_hours_follow_the_roster() -> None:
    at_nine = datetime(2026, 3, 2, 9, 0, tzinfo=BANGKOK)

    hours = next_shift_hours(_snapshot(), at_nine, routing())

    # Khmer: the interpreter starts at 14:00; Thai/English: the night shift at 22:00;
    # Burmese: nobody.
    assert hours == {"th": 14, "en": 22, "km": 14, "my": None}


class _RecordingLink:
    def __init__(self) -> None:
        self.actions: list[dict[str, str]] = []

    async def send(self, action, *, timeout=None, idempotent=None):  # type: ignore[no-untyped-def]
        self.actions.append(dict(action))
        return Response(status="Success", headers={}, raw="", received_at=0.0)


class _Roster:
    def __init__(self) -> None:
        self.asked: list[tuple[date, date]] = []

    async def read(self, first: date, last: date) -> RosterSnapshot:
        self.asked.append((first, last))
        return _snapshot()


async def test_publish_sets_one_global_per_language() -> None:
    link, roster = _RecordingLink(), _Roster()
    # 23:30 UTC on 1 March is 06:30 on 2 March in Bangkok: the snapshot is read by local date.
    clock = FixedClock(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))

    hours = await PublishNextShifts(roster, link, clock, routing(), BANGKOK).execute()

    assert roster.asked == [(date(2026, 3, 2), date(2026, 3, 4))]
    assert {a["Variable"]: a["Value"] for a in link.actions} == {
        f"{GLOBAL_PREFIX}{lang}": "" if hour is None else str(hour) for lang, hour in hours.items()
    }
    assert all(a["Action"] == "Setvar" and "Channel" not in a for a in link.actions)
    assert hours["km"] == 14


async def test_loop_publishes_again_when_asterisk_comes_back() -> None:
    import asyncio

    from ami import LinkState, StateChange
    from ivr.next_shift import NextShiftLoop

    link, roster = _RecordingLink(), _Roster()
    clock = FixedClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    loop = NextShiftLoop(
        PublishNextShifts(roster, link, clock, routing(), BANGKOK), refresh_seconds=3600
    )
    task = asyncio.create_task(loop.run())
    try:
        for session in (1, 2):  # start, then an Asterisk restart (globals forgotten)
            loop.on_link_state(StateChange(LinkState.CONNECTED, session, None, 0.0))
            async with asyncio.timeout(5):
                while len(roster.asked) < session:
                    await asyncio.sleep(0.01)
        loop.on_link_state(StateChange(LinkState.DISCONNECTED, 2, "gone", 0.0))
        await asyncio.sleep(0.05)
    finally:
        task.cancel()

    assert len(roster.asked) == 2
    assert len(link.actions) == 2 * len(routing().languages)
