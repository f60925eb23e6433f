"""Recordings and callback messages made by the real Asterisk 22 (the IVR dialplan), with SIPp
callers and agent phones playing sip-tester's G.711 speech: MixMonitor's recording of an answered
call and Record()'s callback message are found through the call log, archived, played only to
those allowed (audited), and the message's transcription state reaches the stub."""

from __future__ import annotations

import asyncio
import random
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import pytest
from pydub import AudioSegment
from sqlalchemy import select

from ami import AmiLink
from call_log.models import CallRow
from recordings.access import MediaDenied, Use
from recordings.asterisk_paths import AsteriskPaths
from recordings.install import MediaRoom, build_media_room
from recordings.models import MediaRow
from sandbox.instance import AsteriskInstance
from settings import Settings
from sip_traffic.dtmf import with_renumbered_keys
from sip_traffic.runner import SippProcess, run_sipp, start_sipp
from sip_traffic.scenarios import (
    AUDIO_PCAP,
    Key,
    agent_scenario,
    caller_scenario,
    keys,
    ring_no_answer_scenario,
)
from storage import Database, audit
from tests.calls.conftest import Calls, build_calls
from tests.calls.dbview import call_rows, stub_body, stub_rows
from tests.integration.conftest import (  # noqa: F401  (pytest fixtures)
    asterisk,
    asterisk_runtime,
    asterisk_settings,
)
from web.accounts import Role, User

pytestmark = pytest.mark.asterisk

QUEUE = "critical-th"  # recorded (config/routing.toml); the emergency key reaches it at once
EMERGENCY = keys("9", first_pause=2.0)
SUPERVISOR = User(1, "supervisor", "Supervisor", Role.SUPERVISOR, None)
A001 = User(2, "agent1", "Agent One", Role.AGENT, "A001")
A002 = User(3, "agent2", "Agent Two", Role.AGENT, "A002")
_ACK = '<recv request="ACK" rtd="true" crlf="true"/>'


def talking_agent(talk: float) -> str:
    """An agent phone that answers and speaks (sip-tester's 7 s of A-law speech) for `talk` s."""
    play = f'<nop><action><exec play_pcap_audio="{AUDIO_PCAP}"/></action></nop>'
    return agent_scenario(ring=0.3, talk=talk).replace(_ACK, _ACK + play, 1)


def speech_after_key(xml: str, index: int, delay: float) -> str:
    """The caller speaks (sip-tester's 7 s sample) `delay` s after the `index`-th key of a
    scenario renumbered by sip_traffic.dtmf (whose with_speech_after_key speaks at once)."""
    marker = f'key-{index:02d}.pcap"/></action></nop>'
    assert marker in xml, f"no key number {index}"
    speak = (f'<pause milliseconds="{round(delay * 1000)}"/>'
             f'<nop><action><exec play_pcap_audio="{AUDIO_PCAP}"/></action></nop>')
    return xml.replace(marker, marker + speak, 1)


def talking_caller(caller: str, folder: Path) -> str:
    """A caller who presses the emergency key, then speaks once the agent has answered."""
    xml = caller_scenario(caller=caller, keys_pressed=EMERGENCY, hangup_after=None)
    return speech_after_key(with_renumbered_keys(xml, folder), 0, delay=5.5)


@dataclass
class Line:
    instance: AsteriskInstance
    calls: Calls
    link: AmiLink
    room: MediaRoom
    archive_dir: Path

    async def member(self, agent_id: str, endpoint: str) -> None:
        answer = await self.link.send({
            "Action": "QueueAdd", "Queue": QUEUE, "Interface": f"PJSIP/{endpoint}",
            "MemberName": agent_id, "StateInterface": f"PJSIP/{endpoint}", "Penalty": "0",
        })
        assert answer.ok, answer.message

    async def no_member(self, endpoint: str) -> None:
        await self.link.send({"Action": "QueueRemove", "Queue": QUEUE,
                              "Interface": f"PJSIP/{endpoint}"})

    async def phone(self, xml: str) -> SippProcess:
        phone = await start_sipp(xml, name="agent", local_port=self.instance.ports.agent_sip)
        await asyncio.sleep(0.2)
        return phone

    async def call(self, caller: str, xml: str) -> None:
        await run_sipp(xml, name="caller", remote=f"127.0.0.1:{self.instance.ports.sip}",
                       service="1300", calls=1, local_port=self.instance.ports.trunk,
                       timeout=90)

    async def ended(self, caller: str, timeout: float = 20.0) -> CallRow:
        e164 = "+66" + caller[1:]
        async with asyncio.timeout(timeout):
            while True:
                mine = [r for r in await call_rows(self.calls.db) if r.caller_number == e164]
                ended = {s.call_id for s in await stub_rows(self.calls.db)
                         if s.body["ended_at"] is not None}
                # The stub is written at once, the record a moment later (call_log.writer).
                if len(mine) == 1 and mine[0].linkedid in ended and mine[0].ended_at:
                    return mine[0]
                await asyncio.sleep(0.1)

    async def media(self, linkedid: str) -> MediaRow:
        await self.room.loop.run_once()
        await self.room.worker.join()
        async with self.calls.db.session() as s:
            row = (await s.execute(
                select(MediaRow).where(MediaRow.linkedid == linkedid))).scalar_one()
            return row


@pytest.fixture
async def line(
    asterisk: AsteriskInstance, database: Database, asterisk_settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[Line]:
    calls = build_calls(database, push=False)
    c = asterisk.config.controller
    link = AmiLink("127.0.0.1", asterisk.ports.ami, c.username, c.secret)
    calls.tracker.attach(link)
    await link.start()
    await link.wait_connected(10)
    paths = AsteriskPaths(asterisk.runtime.root, asterisk.sounds_dir)
    settings = _with_archive(asterisk_settings, tmp_path / "archive")

    def clock() -> datetime:  # a few seconds ahead: Asterisk has closed the files by then
        return datetime.now(UTC) + timedelta(seconds=5)

    room = build_media_room(settings, database, calls.stubs, paths, clock)
    await room.worker.start()
    yield Line(asterisk, calls, link, room, settings.recordings.archive_dir)
    await room.worker.stop()
    await link.close()
    await calls.bus.close()


def _with_archive(settings: Settings, folder: Path) -> Settings:
    import dataclasses

    return dataclasses.replace(
        settings, recordings=dataclasses.replace(settings.recordings, archive_dir=folder)
    )


def caller_number() -> str:
    return f"08{random.randrange(10**7, 10**8)}"


async def wav_seconds_once_closed(path: Path, timeout: float = 5.0) -> float:
    """The WAV's length once MixMonitor's thread has closed it (it writes the sizes into the
    header last, just after the hang-up)."""
    async with asyncio.timeout(timeout):
        while True:
            with wave.open(str(path), "rb") as w:
                if w.getnframes():
                    return w.getnframes() / w.getframerate()
            await asyncio.sleep(0.1)


def loudness(path: Path) -> float:
    return float(AudioSegment.from_file(path).dBFS)


async def test_mixmonitor_recording_is_archived_and_played_only_to_the_allowed(
    line: Line, tmp_path: Path
) -> None:
    caller = caller_number()
    phone = await line.phone(talking_agent(talk=8.0))
    await line.member("A001", "agent-001")
    try:
        await line.call(caller, talking_caller(caller, tmp_path))
    finally:
        await line.no_member("agent-001")
        await phone.stop()
    call = await line.ended(caller)
    assert call.agent_id == "A001" and call.recording_path
    # Asterisk's own file, where the dialplan said: <monitor>/<YYYY>/<MM>/<DD>/<linkedid>.wav
    original = line.instance.host_path(PurePosixPath(call.recording_path))
    assert original.parent.parent.parent.parent == line.instance.recordings_dir
    assert original.name == f"{call.linkedid}.wav"
    asterisk_seconds = await wav_seconds_once_closed(original)
    # MixMonitor writes while both sides send audio: how long the SIPp phones' speech overlaps
    # depends on the machine's load, so only "a real recording" is asserted here.
    assert 1.0 < asterisk_seconds < 15.0, asterisk_seconds
    assert loudness(original) > -45  # the agent's speech, not silence

    row = await line.media(call.linkedid)

    assert row.state == "archived" and row.archive_path
    kept = line.archive_dir / row.archive_path
    assert abs(float(row.duration_seconds or 0) - asterisk_seconds) < 0.05
    assert abs(AudioSegment.from_file(kept).duration_seconds - asterisk_seconds) < 0.1
    assert loudness(kept) > -45
    assert not original.exists()
    body = await stub_body(line.calls.db, call.stub_id)
    assert body["recording"]["path"] == call.recording_path

    opened = line.room.services.open
    assert (await opened.execute(SUPERVISOR, row.id, Use.PLAY, audited=True)).path == kept
    assert (await opened.execute(A001, row.id, Use.DOWNLOAD, audited=True)).path == kept
    with pytest.raises(MediaDenied):
        await opened.execute(A002, row.id, Use.PLAY, audited=True)
    async with line.calls.db.session() as s:
        trail = [(e.actor, e.action) for e in await audit.entries(s, subject_id=row.id)]
    assert sorted(trail) == [("agent1", "recording_downloaded"), ("agent2", "recording_denied"),
                             ("supervisor", "recording_played")]


async def test_callback_message_recorded_by_the_ivr_reaches_the_stub(
    line: Line, tmp_path: Path
) -> None:
    caller = caller_number()
    phone = await line.phone(ring_no_answer_scenario())
    await line.member("A002", "agent-002")
    # In the queue the caller presses 1 (leave a callback), hears the record prompt (~12 s),
    # speaks after the beep, and hangs up while asked for a number: the request is filed with
    # the caller ID and the message recorded so far.
    xml = caller_scenario(caller=caller, keys_pressed=[*EMERGENCY, Key("1", pause=10.0)],
                          hangup_after=8.0)
    xml = speech_after_key(with_renumbered_keys(xml, tmp_path), 1, delay=13.5)
    try:
        await line.call(caller, xml)
    finally:
        await line.no_member("agent-002")
        await phone.stop()
    call = await line.ended(caller)
    assert call.disposition == "callback_requested" and call.callback_message
    original = line.instance.host_path(PurePosixPath(call.callback_message))
    assert loudness(original) > -45  # Record() kept the caller's speech

    row = await line.media(call.linkedid)

    assert (row.kind, row.state, row.language) == ("callback_message", "archived", "th")
    assert row.transcript_state == "no_model"  # no Vosk model for Thai exists
    body = await stub_body(line.calls.db, call.stub_id)
    assert body["callback"]["message"] == call.callback_message
    assert body["callback"]["transcript_status"] == "no_model"
    assert not original.exists()
    kept = line.archive_dir / str(row.archive_path)
    assert loudness(kept) > -45
