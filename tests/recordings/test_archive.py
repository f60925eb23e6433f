"""Recordings and messages found in the call log, archived under a dated layout, linked to stubs."""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import select

from case_stubs.schema import problems
from recordings.archive import ArchiveMedia, DiscoverMedia
from recordings.asterisk_paths import AsteriskPaths
from recordings.convert import probe, to_archive
from recordings.models import MediaRow
from recordings.pipeline import MediaLoop
from recordings.transcription_service import TranscribeMessages
from settings import load_settings
from settings.loader import SettingsError
from tests.calls.dbview import call_rows, stub_body
from tests.recordings.conftest import (
    MESSAGES,
    MONITOR,
    Media,
    answered_recorded_call,
    call_script,
    callback_request,
    ffprobe,
    tone,
    unanswered_recorded_call,
)


async def media_rows(media: Media) -> list[MediaRow]:
    async with media.db.session() as s:
        return list((await s.execute(select(MediaRow).order_by(MediaRow.recorded_at))).scalars())


async def test_answered_call_recording_is_archived_compactly_and_linked(media: Media) -> None:
    s = call_script(1)
    ast_path = f"{MONITOR}/2026/11/25/{s.linkedid}.wav"
    original = tone(media.host(ast_path), 12.0)
    await media.replay(answered_recorded_call(s, ast_path))

    await media.process()

    [row] = await media_rows(media)
    [call] = await call_rows(media.db)
    assert (row.kind, row.linkedid, row.stub_id, row.state) == (
        "call_recording", call.linkedid, call.stub_id, "archived")
    assert row.archive_path == f"2026/11/25/{s.linkedid}.ogg"
    kept = media.archive_dir / row.archive_path
    info = ffprobe(kept)
    assert info["streams"][0]["codec_name"] == "opus"
    assert abs(float(info["format"]["duration"]) - 12.0) < 0.1
    assert row.duration_seconds == 12.0
    assert row.size_bytes == kept.stat().st_size < 96_044 / 3  # well under the 8 kHz WAV
    assert not original.exists()  # kept once, compactly
    body = await stub_body(media.db, call.stub_id)
    assert body["recording"] == {"path": ast_path, "duration_seconds": 12.0}
    assert problems(body) == []


async def test_a_second_pass_registers_nothing_twice(media: Media) -> None:
    s = call_script(2)
    ast_path = f"{MONITOR}/2026/11/25/{s.linkedid}.wav"
    tone(media.host(ast_path), 2.0)
    await media.replay(answered_recorded_call(s, ast_path))
    await media.process()
    await media.process()
    assert len(await media_rows(media)) == 1


async def test_unanswered_call_of_a_recorded_queue_has_no_recording(media: Media) -> None:
    s = call_script(3)
    await media.replay(unanswered_recorded_call(s, f"{MONITOR}/2026/11/25/{s.linkedid}.wav"))
    await media.process()
    assert await media_rows(media) == []


async def test_recording_not_written_is_missing_after_the_grace(media: Media) -> None:
    s = call_script(4)
    await media.replay(answered_recorded_call(s, f"{MONITOR}/2026/11/25/{s.linkedid}.wav"))
    await media.process()
    [row] = await media_rows(media)
    assert row.state == "pending"  # MixMonitor may still be closing it

    media.clock.advance(minutes=11)
    await media.process()
    [row] = await media_rows(media)
    assert (row.state, row.error) == ("missing", "Asterisk wrote no such file")


async def test_callback_message_keeps_its_original_until_transcribed(media: Media) -> None:
    s = call_script(5, caller="+85512345678")
    ast_path = f"{MESSAGES}/2026/11/25/{s.linkedid}.wav"
    original = tone(media.host(ast_path), 3.0)
    await media.replay(callback_request(s, ast_path, lang="my"))

    await media.room.discover.execute()
    await media.room.archive.execute()

    [row] = await media_rows(media)
    assert (row.kind, row.state, row.transcript_state, row.language) == (
        "callback_message", "archived", "pending", "my")
    assert row.archive_path == f"2026/11/25/{s.linkedid}-message.ogg"
    assert (media.archive_dir / row.archive_path).is_file()
    assert original.is_file()


async def test_not_audio_is_failed_and_left_for_a_person(media: Media) -> None:
    s = call_script(6)
    ast_path = f"{MONITOR}/2026/11/25/{s.linkedid}.wav"
    bogus = media.host(ast_path)
    bogus.write_text("this is not audio")
    await media.replay(answered_recorded_call(s, ast_path))
    await media.process()
    [row] = await media_rows(media)
    assert row.state == "failed" and row.error and "wav" in row.error
    assert bogus.is_file()


async def test_calls_outside_the_retention_window_are_not_registered(media: Media) -> None:
    s = call_script(7)
    ast_path = f"{MONITOR}/2026/11/25/{s.linkedid}.wav"
    tone(media.host(ast_path), 1.0)
    await media.replay(answered_recorded_call(s, ast_path))
    media.clock.advance(days=91)  # recordings are kept 90 days: this one would be purged
    await media.process()
    assert await media_rows(media) == []
    assert Path(media.host(ast_path)).is_file()


def test_an_external_asterisk_in_a_chroot_names_files_this_server_finds(tmp_path: Path) -> None:
    base = {"LINE1300_GENERAL_STATE_DIR": str(tmp_path),
            "LINE1300_ASTERISK_RECORDS_DIR": str(tmp_path / "log")}
    shared = AsteriskPaths.from_settings(load_settings(env=base))
    assert shared.host_path(f"{MONITOR}/a.wav") == Path(f"{MONITOR}/a.wav")

    chroot = tmp_path / "chroot"
    inside = load_settings(env={**base, "LINE1300_ASTERISK_ROOT_DIR": str(chroot)})
    assert AsteriskPaths.from_settings(inside).host_path(f"{MONITOR}/a.wav") == (
        chroot / MONITOR.lstrip("/") / "a.wav"
    )
    with pytest.raises(SettingsError, match=r"root_dir .* not an absolute folder"):
        load_settings(env={**base, "LINE1300_ASTERISK_ROOT_DIR": "chroot"})


def test_archiving_runs_its_tools_at_the_lowest_cpu_priority_an_upload_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Archiving can wait while calls cannot: ffprobe and ffmpeg of an archive run at nice 19,
    those of a prompt upload (a supervisor waiting) at the server's own priority."""
    seen = tmp_path / "seen"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for tool in ("ffmpeg", "ffprobe"):
        real = shutil.which(tool)
        assert real is not None
        script = wrappers / tool
        # Field 19 of /proc/self/stat: the niceness this tool runs at.
        script.write_text(f"#!/bin/sh\necho {tool} $(cut -d' ' -f19 /proc/self/stat) >> {seen}\n"
                          f'exec {real} "$@"\n')
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrappers}:{os.environ['PATH']}")
    own = os.getpriority(os.PRIO_PROCESS, 0)

    to_archive(tone(tmp_path / "call.wav", 1.0), tmp_path / "call.ogg")
    assert sorted(seen.read_text().split("\n")[:-1]) == ["ffmpeg 19", "ffprobe 19"]

    seen.unlink()
    probe(tmp_path / "call.wav")
    assert seen.read_text().split() == ["ffprobe", str(own)]


async def test_a_woken_pass_looks_at_recent_calls_only_a_full_pass_at_every_call(
    media: Media,
) -> None:
    s = call_script(1)
    ast_path = f"{MONITOR}/2026/11/25/{s.linkedid}.wav"
    tone(media.host(ast_path), 3.0)
    await media.replay(answered_recorded_call(s, ast_path))
    # Half a day later (a call the reconciler rebuilt late, say), a woken pass does not go
    # through the whole call log for it; the full pass every few minutes does.
    media.clock.now += timedelta(hours=13)

    await media.room.loop.run_once(recent=True)
    assert await media_rows(media) == []
    await media.room.loop.run_once()
    assert [r.linkedid for r in await media_rows(media)] == [s.linkedid]


class Discoveries:
    """Stands in for DiscoverMedia: notes what each pass looked at."""

    def __init__(self) -> None:
        self.since: list[datetime | None] = []

    async def execute(self, since: datetime | None = None) -> list[object]:
        self.since.append(since)
        return []


class NothingToDo:
    """Stands in for the archiving and transcription steps of a pass."""

    async def execute(self) -> list[object]:
        return []

    async def submit_pending(self) -> None:
        return None


async def test_passes_woken_by_every_call_still_make_a_full_pass_every_scan_period() -> None:
    discover, rest = Discoveries(), NothingToDo()
    loop = MediaLoop(cast(DiscoverMedia, discover), cast(ArchiveMedia, rest),
                     cast(TranscribeMessages, rest), scan_seconds=0.3, settle_seconds=0.0)
    running = asyncio.create_task(loop.run())
    try:
        for _ in range(40):  # a call ends every 25 ms for a second
            loop.wake()
            await asyncio.sleep(0.025)
    finally:
        running.cancel()
    full = [i for i, since in enumerate(discover.since) if since is None]
    assert full[0] == 0 and len(full) >= 3, full  # the first, then about every 0.3 s
    assert len(discover.since) > 10 and len(full) < len(discover.since) / 3, discover.since
