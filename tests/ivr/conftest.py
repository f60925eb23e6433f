"""A real Asterisk running the generated IVR, SIPp callers and an agent phone, for tests/ivr.

The instance is the project's full configuration (dialplans.render) with one change: every
prompt file is replaced by a 0.15 s tone. The dialplan plays exactly the files it would play
in production (the start-up check and test_dialplan.py cover the real ones); short files only
make a test that waits through two menus take seconds instead of a minute. Wrap-up time is 0 so
that a freed agent takes the next caller at once.
"""

from __future__ import annotations

import asyncio
import math
import os
import struct
import sys
import tempfile
import wave
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath

import pytest

from agent_routing.skills import routing
from ami import AmiLink, Event
from dialplans.extensions import DialplanPaths, all_prompt_uses, build_dialplan
from ivr.events import IvrStep
from sandbox.instance import AsteriskInstance
from sandbox.provision import SandboxError, ensure_asterisk
from settings import load_settings
from sip_traffic.dtmf import with_renumbered_keys, with_speech_after_key
from sip_traffic.runner import SippProcess, SippResult, start_sipp
from sip_traffic.scenarios import Key, agent_scenario, caller_scenario

TONE_SECONDS = 0.15


def _tone(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = int(8000 * TONE_SECONDS)
    samples = (int(2000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(frames))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))


def _short_prompts(instance: AsteriskInstance) -> None:
    uses = build_dialplan(DialplanPaths(PurePosixPath("/"), PurePosixPath("/"))).prompts
    for lang, prompt_id in all_prompt_uses(routing().languages, uses):
        _tone(instance.sounds_dir / lang / f"{prompt_id}.wav")


@pytest.fixture(scope="session")
def ivr_asterisk(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AsteriskInstance]:
    state = tmp_path_factory.mktemp("ivr-asterisk")
    env = {
        **os.environ,
        "LINE1300_GENERAL_STATE_DIR": str(state),
        "LINE1300_ROUTING_WRAPUP_SECONDS": "0",
        # These tests watch the dialplan's steps (Newexten), which a production Asterisk does
        # not produce (settings [asterisk] ami_disabled_events).
        "LINE1300_ASTERISK_AMI_DISABLED_EVENTS": "",
    }
    settings = load_settings(env=env)
    try:
        runtime = ensure_asterisk(settings.asterisk, lambda line: print(line, file=sys.stderr))
    except SandboxError as exc:
        if os.geteuid() != 0:
            pytest.skip(f"no Asterisk: {exc}")
        raise
    instance = AsteriskInstance.for_tests(runtime, settings, agent_count=8)
    try:
        instance.start()
        _short_prompts(instance)
        yield instance
    finally:
        instance.stop(remove=os.environ.get("LINE1300_KEEP_INSTANCES") != "1")


class Switchboard:
    """A view of the test Asterisk: all its AMI events (as the sandbox admin) and helpers to
    place calls, add queue members and answer as agents."""

    def __init__(self, instance: AsteriskInstance, link: AmiLink) -> None:
        self.instance = instance
        self.link = link
        self.events: list[Event] = []
        self._arrived = asyncio.Event()
        self._agents: list[SippProcess] = []
        self._members: list[tuple[str, str]] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        self._arrived.set()

    # --- calls ------------------------------------------------------------------------------

    async def start_call(
        self,
        did: str,
        pressed: Sequence[Key],
        *,
        caller: str,
        hangup_after: float | None = None,
        speak_after: int | None = None,
    ) -> SippProcess:
        """A carrier call pressing ``pressed``; ``speak_after`` = the index of the key after
        which the caller speaks (7 s, cut short by the next key)."""
        xml = caller_scenario(
            caller=caller, keys_pressed=pressed, hangup_after=hangup_after, audio=False
        )
        xml = with_renumbered_keys(xml, Path(tempfile.mkdtemp(prefix="ivr-keys-")))
        if speak_after is not None:
            xml = with_speech_after_key(xml, speak_after)
        return await start_sipp(
            xml,
            name="caller",
            remote=f"127.0.0.1:{self.instance.ports.sip}",
            service=did,
            calls=1,
            timeout=90,
        )

    async def call(
        self,
        did: str,
        pressed: Sequence[Key],
        *,
        caller: str,
        hangup_after: float | None = None,
        speak_after: int | None = None,
    ) -> SippResult:
        process = await self.start_call(
            did, pressed, caller=caller, hangup_after=hangup_after, speak_after=speak_after
        )
        return await process.wait(100)

    # --- agents -----------------------------------------------------------------------------

    async def add_member(
        self, queue: str, endpoint: str, agent_id: str, *, paused: bool = False
    ) -> None:
        answer = await self.link.send(
            {
                "Action": "QueueAdd",
                "Queue": queue,
                "Interface": f"PJSIP/{endpoint}",
                "MemberName": agent_id,
                "StateInterface": f"PJSIP/{endpoint}",
                "Paused": "true" if paused else "false",
            }
        )
        assert answer.ok, answer.get("Message")
        self._members.append((queue, endpoint))

    async def agent_phone(self, *, talk: float | None = 1.0, ring: float = 0.3) -> SippProcess:
        """A SIPp UAS answering for every agent endpoint (they all point at one port); the
        agent hangs up after ``talk`` seconds, or (None) stays until the caller hangs up."""
        phone = await start_sipp(
            agent_scenario(ring=ring, talk=talk),
            name="agent",
            local_port=self.instance.ports.agent_sip,
        )
        self._agents.append(phone)
        await asyncio.sleep(0.2)
        return phone

    async def close(self) -> None:
        for phone in self._agents:
            await phone.stop()
        for queue, endpoint in self._members:
            await self.link.send(
                {"Action": "QueueRemove", "Queue": queue, "Interface": f"PJSIP/{endpoint}"}
            )

    # --- what Asterisk reported ---------------------------------------------------------------

    def linkedid_of(self, caller: str) -> str | None:
        for event in self.events:
            step = IvrStep.from_event(event)
            if step is not None and step.step == "entered" and event.get("CallerIDNum") == caller:
                return step.linkedid
        return None

    def steps(self, caller: str) -> list[IvrStep]:
        linkedid = self.linkedid_of(caller)
        steps = (IvrStep.from_event(e) for e in self.events)
        return [s for s in steps if s is not None and s.linkedid == linkedid]

    def named(self, name: str, **headers: str) -> list[Event]:
        return [
            e
            for e in self.events
            if e.name == name and all(e.get(k) == v for k, v in headers.items())
        ]

    async def wait_for(self, predicate: Callable[[], object], timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._arrived.clear()
                await self._arrived.wait()


@pytest.fixture
async def switchboard(ivr_asterisk: AsteriskInstance) -> AsyncIterator[Switchboard]:
    # The sandbox's admin user sees every event (the dialplan's steps included); the controller's
    # user gets only what the controller reads (manager.conf eventfilter).
    c = ivr_asterisk.config.admin
    link = AmiLink("127.0.0.1", ivr_asterisk.ports.ami, c.username, c.secret)
    board = Switchboard(ivr_asterisk, link)
    link.subscribe(board.on_event)
    await link.start()
    await link.wait_connected(timeout=10)
    try:
        yield board
    finally:
        await board.close()
        await link.close()
