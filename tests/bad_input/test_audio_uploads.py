"""Prompt uploads that are not what they claim: random bytes, text, a PDF and a cut-off WAV
named .wav/.mp3, a WAV whose header lies about its length, 55 MB with and without a length
header, 11 minutes of real audio, the wrong form field, JSON instead of a form, an unknown prompt
or language. Each is a 4xx whose JSON says why; the prompt files are byte for byte as they were
and the audit trail has no replacement in it."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from controller.wiring import build_app
from recordings.asterisk_paths import AsteriskPaths
from recordings.keys import ASTERISK_PATHS, PROMPTS_ROOT
from settings import Settings
from storage.audit import AuditEntry
from tests.conftest import Signed, sign_in
from web.keys import DATABASE

REPO_PROMPTS = Path(__file__).resolve().parents[2] / "recordings" / "prompts"
PROMPT, LANG = "callback-record", "th"
MB = 1024 * 1024


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(seconds * rate))
    return out.getvalue()


def lying_wav() -> bytes:
    """A RIFF/WAVE header that announces 2 GB of samples, followed by almost nothing."""
    real = wav_bytes(0.1)
    header = bytearray(real[:44])
    struct.pack_into("<I", header, 4, 0x7FFFFFF0)
    struct.pack_into("<I", header, 40, 0x7FFFFFD0)
    return bytes(header) + real[44:200]


def fingerprint(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    copy = tmp_path / "prompts"
    shutil.copytree(REPO_PROMPTS, copy)
    return copy


@pytest.fixture
async def client(settings: Settings, prompts: Path) -> AsyncIterator[TestClient[web.Request,
                                                                              web.Application]]:
    os.environ["LINE1300_SUPERVISOR_PASSWORD"] = "sup-pass"
    app = build_app(settings, with_ami=False)
    # Nothing may reach the repository's prompts, nor the sounds of this machine's default
    # Asterisk instance (where an accepted upload is installed "now").
    app[PROMPTS_ROOT] = prompts
    app[ASTERISK_PATHS] = AsteriskPaths(prompts.parent, prompts.parent / "sounds")
    test_client = TestClient(TestServer(app))
    await test_client.start_server()
    yield test_client
    await test_client.close()


def form(field: str, name: str, data: bytes, content_type: str) -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field(field, data, filename=name, content_type=content_type)
    return body


async def _streamed_form(total: int, *, boundary: str = "x") -> AsyncIterator[bytes]:
    """A multipart body without a length header (chunked), as a streaming client sends it."""
    yield (f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="big.wav"'
           '\r\nContent-Type: audio/wav\r\n\r\n').encode()
    for _ in range(total // MB):
        yield b"\x00" * MB
    yield f"\r\n--{boundary}--\r\n".encode()


async def _zeros(total: int) -> AsyncIterator[bytes]:
    """Megabytes that only claim to be multipart: no boundary anywhere."""
    for _ in range(total // MB):
        yield b"\x00" * MB


BAD_FILES = [
    ("random.wav", os.urandom(64 * 1024), "audio/wav"),
    ("hello.mp3", b"hello, this is not audio\n" * 100, "audio/mpeg"),
    ("report.wav", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" * 50, "audio/wav"),
    ("cut.wav", wav_bytes(1.0)[:44], "audio/wav"),
    ("lying.wav", lying_wav(), "audio/wav"),
    ("empty.wav", b"", "audio/wav"),
]


async def test_bad_uploads_are_refused_and_change_nothing(
    client: TestClient[web.Request, web.Application], prompts: Path,
) -> None:
    supervisor = await sign_in(client, "supervisor", "sup-pass")
    before = fingerprint(prompts)
    url = f"/api/prompts/{PROMPT}/{LANG}"
    answers: list[tuple[str, int, dict[str, object] | None]] = []

    async def send(label: str, **kwargs: object) -> None:
        r = await supervisor.write("POST", kwargs.pop("url", url), **kwargs)  # type: ignore[arg-type]
        text = await r.text()
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        answers.append((label, r.status, body))

    for name, data, kind in BAD_FILES:
        await send(name, data=form("audio", name, data, kind))
    await send("too long (11 min)", data=form("audio", "long.wav", wav_bytes(660), "audio/wav"))
    await send("55 MB with Content-Length",
               data=form("audio", "big.wav", b"\x00" * (55 * MB), "audio/wav"))
    await send("55 MB chunked", data=_streamed_form(55 * MB),
               headers={"Content-Type": "multipart/form-data; boundary=x"})
    await send("not multipart inside", data=_zeros(8 * MB),
               headers={"Content-Type": "multipart/form-data; boundary=x"})
    await send("no boundary", data=b"--\r\n",
               headers={"Content-Type": "multipart/form-data"})
    await send("wrong field", data=form("file", "a.wav", wav_bytes(1.0), "audio/wav"))
    await send("JSON body", json={"audio": "UklGRg=="})
    await send("unknown prompt", url=f"/api/prompts/no-such-prompt/{LANG}",
               data=form("audio", "a.wav", wav_bytes(1.0), "audio/wav"))
    await send("unknown language", url=f"/api/prompts/{PROMPT}/xx",
               data=form("audio", "a.wav", wav_bytes(1.0), "audio/wav"))

    unclear = [a for a in answers
               if not (400 <= a[1] < 500 and isinstance(a[2], dict) and a[2].get("error"))]
    assert unclear == []
    statuses = {label: status for label, status, _ in answers}
    assert statuses["too long (11 min)"] == 413 and statuses["55 MB chunked"] == 413
    assert {statuses[name] for name, _, _ in BAD_FILES} <= {400, 422}
    assert fingerprint(prompts) == before
    await _no_replacement_audited(supervisor, client)


async def _no_replacement_audited(
    supervisor: Signed, client: TestClient[web.Request, web.Application],
) -> None:
    app = client.app
    async with app[DATABASE].session() as s:
        replaced = (await s.execute(select(func.count()).select_from(AuditEntry)
                                    .where(AuditEntry.action == "prompt_replaced"))).scalar_one()
    assert replaced == 0
    assert (await supervisor.get("/api/session")).status == 200  # and the server still serves
