"""The media room over HTTP in the whole app: who may listen (and the audit of every listening),
the callback-messages view, prompt upload with clear refusals, the retention preview."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from recordings.keys import MEDIA
from storage.audit import AuditEntry
from tests.recordings.conftest import (
    MESSAGES,
    Site,
    callback_request,
    recent,
    recorded,
)
from web.keys import DATABASE


async def test_supervisor_and_answering_agent_may_listen_others_may_not(site: Site) -> None:
    item = await recorded(site)
    url = f"/api/recordings/{item['id']}/audio"
    assert item["state"] == "archived" and item["duration_seconds"] == 6.0

    supervisor = await site.as_user("supervisor", "sup-pass")
    r = await supervisor.get(url)
    assert r.status == 200 and r.headers["Content-Type"] == "audio/ogg"
    assert r.headers["Content-Disposition"].startswith("inline")
    audio = await r.read()
    assert audio[:4] == b"OggS"
    seek = await supervisor.get(url, headers={"Range": "bytes=100-"})
    assert seek.status == 206 and await seek.read() == audio[100:]
    assert (await supervisor.client.head(url)).status == 200

    agent1 = await site.as_user("agent1", "agent-pass")
    assert (await agent1.get(url)).status == 200
    agent2 = await site.as_user("agent2", "agent-pass")
    denied = await agent2.get(url)
    assert denied.status == 403
    assert "calls you handled" in (await denied.json())["error"]
    assert (await agent2.get(f"/api/recordings/{item['id']}/download")).status == 403

    played = await site.audit("recording_played")
    # One entry per listening: the seek (a later range) is part of the supervisor's one.
    assert sorted(e.actor for e in played) == ["agent1", "supervisor"]
    assert all(e.subject_id == item["id"] and e.after["linkedid"] == item["linkedid"]
               for e in played)
    assert [(e.actor, e.after["use"]) for e in await site.audit("recording_denied")] == [
        ("agent2", "recording_downloaded"), ("agent2", "recording_played")]


async def test_download_is_an_audited_attachment(site: Site) -> None:
    item = await recorded(site)
    supervisor = await site.as_user("supervisor", "sup-pass")
    r = await supervisor.get(f"/api/recordings/{item['id']}/download")
    assert r.status == 200
    assert r.headers["Content-Disposition"].startswith("attachment; filename=\"1300-call-")
    [entry] = await site.audit("recording_downloaded")
    assert (entry.actor, entry.subject_type, entry.subject_id) == (
        "supervisor", "recording", item["id"])


async def test_agents_list_only_the_calls_they_answered(site: Site) -> None:
    mine = await recorded(site, 1, agent="A001")
    await recorded(site, 2, agent="A003")
    agent1 = await site.as_user("agent1", "agent-pass")
    listed = (await (await agent1.get("/api/recordings")).json())["recordings"]
    assert [m["id"] for m in listed] == [mine["id"]]
    agent2 = await site.as_user("agent2", "agent-pass")
    assert (await (await agent2.get("/api/recordings")).json())["recordings"] == []
    supervisor = await site.as_user("supervisor", "sup-pass")
    assert len((await (await supervisor.get("/api/recordings")).json())["recordings"]) == 2
    bad = await supervisor.get("/api/recordings?kind=voicemail")
    assert bad.status == 400 and (await bad.json())["field"] == "kind"
    assert (await supervisor.get("/api/recordings/not-a-uuid/audio")).status == 400


async def test_callback_message_view_shows_transcript_and_suggestion(
    site: Site, korean_message: Path
) -> None:
    s = recent(5, caller="+85512345678")
    day = time.strftime("%Y/%m/%d", time.gmtime(s.start))
    ast_path = f"{MESSAGES}/{day}/{s.linkedid}.wav"
    shutil.copyfile(korean_message, site.host(ast_path))
    await site.call(callback_request(s, ast_path, lang="ko"))
    await site.process()

    supervisor = await site.as_user("supervisor", "sup-pass")
    body = await (await supervisor.get("/api/callback-messages")).json()
    [message] = body["messages"]
    assert message["transcript_state"] == "ok" and "월요일" in message["transcript"]
    assert message["triage"]["suggested_priority"] == "normal"
    assert message["call"]["line"] == "international"
    assert "+85512345678" not in json.dumps(body)
    assert body["transcription"]["messages"]["ok"] == 1
    r = await supervisor.get(f"/api/recordings/{message['id']}/audio")
    assert r.status == 200 and (await r.read())[:4] == b"OggS"
    stub = await (await supervisor.get(f"/api/case-stubs/{message['stub_id']}")).json()
    assert stub["callback"]["transcript"] == message["transcript"]
    agent = await site.as_user("agent1", "agent-pass")
    assert (await agent.get("/api/callback-messages")).status == 403


def multipart(filename: str, data: bytes, content_type: str = "audio/wav") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("audio", data, filename=filename, content_type=content_type)
    return form


async def test_text_file_renamed_wav_is_refused_clearly(site: Site) -> None:
    target = site.prompts_root / "th" / "goodbye.wav"
    before = target.read_bytes()
    manifest = (site.prompts_root / "manifest.json").read_text()
    supervisor = await site.as_user("supervisor", "sup-pass")

    r = await supervisor.write("POST", "/api/prompts/goodbye/th",
                               data=multipart("goodbye.wav", b"Hello, this is not audio.\n"))

    assert r.status == 422
    body = await r.json()
    assert body["error"] == "the file is not audio"
    assert (body["prompt_id"], body["lang"]) == ("goodbye", "th")
    assert "not an audio file" in body["reason"]
    assert target.read_bytes() == before
    assert (site.prompts_root / "manifest.json").read_text() == manifest
    assert await site.audit("prompt_replaced") == []


async def test_uploaded_prompt_is_converted_and_installed_now(
    site: Site, tmp_path: Path
) -> None:
    src = tmp_path / "mine.flac"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(src), "synth", "1.5", "sine",
                    "300", "vol", "0.4"], check=True)
    supervisor = await site.as_user("supervisor", "sup-pass")

    r = await supervisor.write("POST", "/api/prompts/goodbye/km",
                               data=multipart("mine.flac", src.read_bytes(), "audio/flac"))

    assert r.status == 200, await r.text()
    body = await r.json()
    assert (body["prompt_id"], body["lang"], body["takes_effect"]) == ("goodbye", "km", "now")
    assert 1.3 < body["duration_seconds"] <= 1.6
    assert site.paths.sounds_dir is not None
    installed = site.paths.sounds_dir / "km" / "goodbye.wav"
    with wave.open(str(installed), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    assert installed.read_bytes() == (site.prompts_root / "km" / "goodbye.wav").read_bytes()
    manifest = json.loads((site.prompts_root / "manifest.json").read_text())
    assert manifest["km/goodbye"]["source"] == "recording"
    [entry] = await site.audit("prompt_replaced")
    assert (entry.actor, entry.subject_id) == ("supervisor", "km/goodbye")
    listed = await (await supervisor.get("/api/prompts")).json()
    [goodbye] = [p for p in listed["prompts"] if p["id"] == "goodbye"]
    assert "km" in goodbye["recorded"]


async def test_upload_refusals_say_what_is_wrong(site: Site) -> None:
    supervisor = await site.as_user("supervisor", "sup-pass")
    unknown = await supervisor.write("POST", "/api/prompts/no-such-prompt/th",
                                     data=multipart("a.wav", b"RIFF"))
    assert unknown.status == 404 and "no-such-prompt" in (await unknown.json())["error"]
    raw = await supervisor.write("POST", "/api/prompts/goodbye/th", data=b"abc",
                                 headers={"Content-Type": "audio/wav"})
    assert raw.status == 415 and "multipart/form-data" in (await raw.json())["error"]
    wrong_field = aiohttp.FormData()
    wrong_field.add_field("file", b"x", filename="a.wav")
    missing = await supervisor.write("POST", "/api/prompts/goodbye/th", data=wrong_field)
    assert missing.status == 400 and "'audio'" in (await missing.json())["error"]
    site.app[MEDIA] = dataclasses.replace(site.app[MEDIA], upload_limit_bytes=10_000)
    big = await supervisor.write("POST", "/api/prompts/goodbye/th",
                                 data=multipart("big.wav", b"\0" * 20_000))
    assert big.status == 413 and (await big.json())["max_bytes"] == 10_000
    agent = await site.as_user("agent1", "agent-pass")
    assert (await agent.write("POST", "/api/prompts/goodbye/th",
                              data=multipart("a.wav", b"x"))).status == 403


async def test_retention_preview(site: Site) -> None:
    # One row past its period (an audit entry older than its 3650 days), one inside it.
    async with site.app[DATABASE].session() as s:
        old, young = (AuditEntry(at=datetime.now(UTC) - timedelta(days=days), actor="sup",
                                 action="view_stub", subject_type="case_stub", subject_id="x",
                                 before=None, after=None) for days in (3651, 3649))
        s.add_all([old, young])
        await s.flush()
        old_id = old.id
    supervisor = await site.as_user("supervisor", "sup-pass")
    body = await (await supervisor.get("/api/retention")).json()
    assert body["policy_days"] == {
        "call_recording": 90, "callback_message": 365, "call_record": 1825, "case_stub": 1825,
        "stub_outbox": 30, "callback_request": 90, "caller_flag": 365, "web_session": 7,
        "agent_activity": 730, "audit_entry": 3650,
    }
    assert body["dry_run"]["dry_run"] is True
    assert set(body["dry_run"]["counts"]) == {*body["policy_days"], "report_fact"}
    # The page's names of the kinds come with them (retention.kinds.KINDS).
    assert set(body["labels"]) == set(body["dry_run"]["counts"])
    assert body["labels"]["audit_entry"] == {"en": "Audit log entries", "th": "บันทึกการตรวจสอบ"}
    assert body["dry_run"]["counts"]["call_record"] == 0
    assert body["dry_run"]["counts"]["audit_entry"] == 1
    assert body["dry_run"]["ids"]["audit_entry"] == [str(old_id)]
    async with site.app[DATABASE].session() as s:  # a preview removes nothing
        assert await s.get(AuditEntry, old_id) is not None
