"""The media room in the app: recordings, callback messages, transcription, prompts.

Background work (cleanup_ctx, cancelled and awaited on shutdown): the media loop (discover,
archive, queue transcriptions; woken by ended calls on the call bus) and the Vosk worker. The
purge of recordings and messages past their period is the retention room's (retention.install).
`build_media_room` is the same assembly for tests, with any clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from call_log.bus import CallEnded
from call_log.keys import CALL_BUS
from case_stubs.keys import STUB_SERVICE
from recordings import http
from recordings.access import OpenRecording
from recordings.archive import ArchiveMedia, DiscoverMedia, MediaStubs
from recordings.asterisk_paths import AsteriskPaths
from recordings.catalog import DEFAULT_CATALOG, DEFAULT_ROOT, PromptCatalog
from recordings.convert import DEFAULT_OPTIONS
from recordings.keys import ASTERISK_PATHS, MEDIA, MEDIA_ROOM, PROMPTS_ROOT, MediaServices
from recordings.pipeline import MediaLoop
from recordings.prompt_upload import ListPrompts, ReplacePromptUpload
from recordings.transcribe import TranscriberProcess, TranscriptionWorker
from recordings.transcription_service import (
    RetryTranscript,
    StoreTranscript,
    TranscribeMessages,
    TranscriptionProgress,
)
from recordings.views import ListCallbackMessages, ListRecordings
from retention.policy import RetentionPolicy
from settings import Settings
from storage import Database
from web.background import stop_tasks
from web.keys import DATABASE, SETTINGS

Clock = Callable[[], datetime]


def install(app: web.Application) -> None:
    http.setup_routes(app)
    app.cleanup_ctx.append(_media)


@dataclass
class MediaRoom:
    services: MediaServices
    discover: DiscoverMedia
    archive: ArchiveMedia
    loop: MediaLoop
    worker: TranscriptionWorker
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        await self.worker.start()
        self.tasks = [asyncio.create_task(self.loop.run(), name="media-loop")]

    async def stop(self) -> None:
        await stop_tasks(self.tasks)
        self.tasks = []
        await self.worker.stop()


def build_media_room(
    settings: Settings, db: Database, stubs: MediaStubs, paths: AsteriskPaths, clock: Clock,
    *, prompts_root: Path = DEFAULT_ROOT, catalog_path: Path = DEFAULT_CATALOG,
) -> MediaRoom:
    s = settings.recordings
    policy = RetentionPolicy.from_settings(settings.retention)
    store = StoreTranscript(db, stubs, paths, clock)
    messages: TranscribeMessages
    # Vosk and its models live in a child process only while there are messages to transcribe.
    transcriber = TranscriberProcess(settings.transcription_models)
    worker = TranscriptionWorker(
        transcriber,
        on_result=lambda job, transcript: messages.on_result(job, transcript),
        release=transcriber.release,
    )
    messages = TranscribeMessages(db, store, worker, paths, s.archive_dir)
    discover = DiscoverMedia(db, policy, clock)
    archive = ArchiveMedia(db, paths, s.archive_dir, stubs, clock, settings.timezone)
    loop = MediaLoop(discover, archive, messages, clock=clock)

    def catalog() -> PromptCatalog:
        return PromptCatalog.load(catalog_path)  # read per use: an edited catalog counts at once

    services = MediaServices(
        recordings=ListRecordings(db), messages=ListCallbackMessages(db),
        open=OpenRecording(db, paths, s.archive_dir),
        progress=TranscriptionProgress(db, worker, settings.transcription_models),
        retry=RetryTranscript(db, clock), wake=loop.wake,
        prompts=ListPrompts(catalog, prompts_root),
        replace_prompt=ReplacePromptUpload(db, catalog, prompts_root, paths.sounds_dir),
        upload_limit_bytes=DEFAULT_OPTIONS.max_bytes,
    )
    return MediaRoom(services, discover, archive, loop, worker)


async def _media(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    paths = app.get(ASTERISK_PATHS) or AsteriskPaths.from_settings(settings)
    room = build_media_room(settings, app[DATABASE], app[STUB_SERVICE], paths, _utcnow,
                            prompts_root=app.get(PROMPTS_ROOT, DEFAULT_ROOT))
    app[MEDIA] = room.services
    app[MEDIA_ROOM] = room
    box = app[CALL_BUS].subscribe(room.loop.on_call_ended, CallEnded)
    await room.start()
    yield
    await box.aclose()
    await room.stop()


def _utcnow() -> datetime:
    return datetime.now(UTC)
