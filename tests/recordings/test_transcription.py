"""Callback messages transcribed by the background worker (the real Korean Vosk model), triaged,
and put on the contact's stub; silent and model-less messages are marked, never lost."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

from sqlalchemy import select

from call_log.record import stub_id_for
from case_stubs.schema import problems
from recordings.models import MediaRow
from recordings.transcribe import Transcript
from recordings.transcription_service import StoreTranscript
from tests.calls.dbview import stub_body
from tests.recordings.conftest import (
    MESSAGES,
    Media,
    call_script,
    callback_request,
    silence,
    tone,
)

WEEKDAYS = {"월요일", "화요일", "수요일"}


async def message_row(media: Media, linkedid: str) -> MediaRow:
    async with media.db.session() as s:
        row = (await s.execute(select(MediaRow).where(MediaRow.linkedid == linkedid))).scalar_one()
        return row


async def leave_message(media: Media, n: int, audio: Path | None, lang: str) -> tuple[str, Path]:
    s = call_script(n, caller="+85512345678")
    ast_path = f"{MESSAGES}/2026/11/25/{s.linkedid}.wav"
    host = media.host(ast_path)
    if audio is not None:
        shutil.copyfile(audio, host)
    await media.replay(callback_request(s, ast_path, lang=lang))
    return s.linkedid, host


async def test_korean_message_is_transcribed_triaged_and_put_on_the_stub(
    media: Media, korean_message: Path
) -> None:
    linkedid, original = await leave_message(media, 1, korean_message, "ko")

    await media.process()

    row = await message_row(media, linkedid)
    assert row.transcript_state == "ok"
    assert row.transcript and len(set(row.transcript.split()) & WEEKDAYS) >= 1, row.transcript
    assert row.triage == {"suggested_priority": "normal", "problem_types": [], "keywords": []}
    assert row.transcribe_seconds is not None and row.transcribe_seconds > 0
    body = await stub_body(media.db, stub_id_for(linkedid))
    assert body["callback"]["transcript"] == row.transcript
    assert body["callback"]["transcript_status"] == "ok"
    assert body["triage"] == row.triage
    assert problems(body) == []
    assert not original.exists()  # the archive keeps it now
    assert (media.archive_dir / str(row.archive_path)).is_file()
    progress = await media.room.services.progress.execute()
    assert progress["messages"]["ok"] == 1 and progress["worker"]["done"] == 1
    assert progress["languages_with_model"] == ["ko"]


async def test_silent_message_is_flagged_silent(media: Media, tmp_path: Path) -> None:
    linkedid, _ = await leave_message(media, 2, silence(tmp_path / "quiet.wav", 4.0), "ko")
    await media.process()
    row = await message_row(media, linkedid)
    assert (row.transcript_state, row.transcript, row.triage) == ("silent", None, None)
    body = await stub_body(media.db, stub_id_for(linkedid))
    assert body["callback"]["transcript_status"] == "silent"
    assert body["callback"]["transcript"] is None


async def test_empty_recording_is_flagged_silent_without_the_recogniser(
    media: Media, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as w:  # what Record() leaves when the caller hangs up
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
    linkedid, _ = await leave_message(media, 3, empty, "ko")
    await media.process()
    row = await message_row(media, linkedid)
    assert (row.state, row.duration_seconds, row.archive_path) == ("archived", 0.0, None)
    assert row.transcript_state == "silent"
    assert media.room.worker.progress.done == 0  # decided without Vosk
    body = await stub_body(media.db, stub_id_for(linkedid))
    assert body["callback"]["transcript_status"] == "silent"


async def test_language_without_a_model_is_marked_no_transcript(
    media: Media, korean_message: Path
) -> None:
    linkedid, _ = await leave_message(media, 4, korean_message, "km")
    await media.process()
    row = await message_row(media, linkedid)
    assert (row.transcript_state, row.transcript) == ("no_model", None)
    body = await stub_body(media.db, stub_id_for(linkedid))
    assert body["callback"]["transcript_status"] == "no_model"
    assert body["priority"] == "normal"


async def test_thai_transcript_raises_the_suggested_priority(
    media: Media, korean_message: Path
) -> None:
    # No Thai Vosk model exists; the triage is the same for a Thai transcript however made.
    linkedid, _ = await leave_message(media, 5, korean_message, "th")
    await media.process()
    row = await message_row(media, linkedid)
    store = StoreTranscript(media.db, media.calls.stubs, media.paths, media.clock)

    await store.execute(row.id, Transcript("ok", "th", "สามีทำร้ายฉันทุกวัน ช่วยด้วย"))

    row = await message_row(media, linkedid)
    assert row.triage is not None and row.triage["suggested_priority"] == "urgent"
    assert "domestic_violence" in row.triage["problem_types"]
    body = await stub_body(media.db, stub_id_for(linkedid))
    assert body["triage"]["suggested_priority"] == "urgent"
    assert body["priority"] == "normal"  # the suggestion is shown to the agent, never applied
    assert body["callback"]["transcript"] == "สามีทำร้ายฉันทุกวัน ช่วยด้วย"


async def test_retry_transcribes_again(media: Media, korean_message: Path) -> None:
    linkedid, _ = await leave_message(media, 6, korean_message, "km")
    await media.process()
    row = await message_row(media, linkedid)
    assert row.transcript_state == "no_model"

    retried = await media.room.services.retry.execute(row.id)
    assert retried.transcript_state is not None and retried.transcript_state.value == "pending"
    await media.process()
    assert (await message_row(media, linkedid)).transcript_state == "no_model"
    assert media.room.worker.progress.done == 2


async def test_a_message_cut_at_the_beep_is_silent(media: Media, tmp_path: Path) -> None:
    linkedid, _ = await leave_message(media, 7, tone(tmp_path / "beep.wav", 0.2), "ko")
    await media.process()
    row = await message_row(media, linkedid)
    assert (row.duration_seconds, row.transcript_state) == (0.2, "silent")
    assert media.room.worker.progress.done == 0
