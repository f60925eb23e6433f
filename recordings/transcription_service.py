"""Callback messages, transcribed in the background and triaged: the text and the suggested
priority go onto the contact's stub, for the agent who calls back, never in the call's path.

The Vosk worker (recordings.transcribe) runs one message at a time in a thread. A language with
no model configured (settings [transcription.models]) is marked "no_model" and waits for a
person to listen; an empty or quiet message is marked "silent".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import structlog

from case_stubs.service import StubNotFound
from controller.logs import bind_call
from recordings.archive import MediaStubs
from recordings.asterisk_paths import AsteriskPaths
from recordings.models import ArchiveState, TranscriptState
from recordings.store import Media, MediaStore
from recordings.transcribe import Transcript, TranscriptionJob, WorkerProgress
from storage import Database
from triage.keywords import Suggestion, suggest

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
Suggest = Callable[[str], Suggestion]
# Vosk's name for "language not known": no model has it, so the message is marked no_model.
UNKNOWN_LANGUAGE = "und"
# Shorter than this, a message holds no words (a caller who hung up at the beep): silent,
# decided without the recogniser.
MIN_SPEECH_SECONDS = 0.5


class JobSink(Protocol):
    """The background worker as the queueing side sees it (recordings.TranscriptionWorker)."""

    def submit(self, job: TranscriptionJob) -> None: ...

    @property
    def progress(self) -> WorkerProgress: ...


def triage_json(suggestion: Suggestion) -> dict[str, Any]:
    """The stub's `triage` object: a suggestion for the agent, with the words behind it."""
    return {
        "suggested_priority": suggestion.priority,
        "problem_types": list(suggestion.problem_types),
        "keywords": list(suggestion.matched_keywords),
    }


class StoreTranscript:
    """Keeps one message's transcript and triage, puts them on its stub, frees the original."""

    def __init__(
        self, db: Database, stubs: MediaStubs, paths: AsteriskPaths, clock: Clock,
        suggester: Suggest = suggest,
    ) -> None:
        self._db = db
        self._stubs = stubs
        self._paths = paths
        self._clock = clock
        self._suggest = suggester

    async def execute(self, media_id: str, transcript: Transcript) -> Media | None:
        async with self._db.session() as session:
            media = await MediaStore(session).get(media_id)
        if media is None:
            return None  # purged while it was being transcribed
        bind_call(media.linkedid)
        triage = await self._triage(transcript)
        stored = await self._save(media, transcript, triage)
        await self._put_on_stub(stored)
        self._paths.host_path(media.source_path).unlink(missing_ok=True)
        log.info("media.transcribed", media_id=media.id, lang=transcript.lang,
                 status=transcript.status, words=len(transcript.words),
                 suggested=triage["suggested_priority"] if triage else None)
        return stored

    async def _triage(self, transcript: Transcript) -> dict[str, Any] | None:
        if transcript.status != "ok" or not transcript.text.strip():
            return None
        # The matcher's dictionary takes half a second to build the first time: not on the loop.
        return triage_json(await asyncio.to_thread(self._suggest, transcript.text))

    async def _save(
        self, media: Media, transcript: Transcript, triage: dict[str, Any] | None
    ) -> Media:
        async with self._db.session() as session:
            return await MediaStore(session).update(
                media.id, self._clock(), transcript_state=TranscriptState(transcript.status),
                transcript=transcript.text or None, transcribed_at=self._clock(),
                transcribe_seconds=round(transcript.elapsed_s, 3), triage=triage,
                error=transcript.error[:500] if transcript.error else None,
            )

    async def _put_on_stub(self, media: Media) -> None:
        assert media.transcript_state is not None
        try:
            await self._stubs.add_message_transcript(
                media.stub_id, status=media.transcript_state.value, transcript=media.transcript,
                triage=media.triage,
            )
        except StubNotFound:
            log.warning("media.no_stub", media_id=media.id, stub_id=media.stub_id)


class TranscribeMessages:
    """Hands each archived message to the worker once, and stores what comes back."""

    def __init__(
        self, db: Database, store: StoreTranscript, worker: JobSink, paths: AsteriskPaths,
        archive_dir: Path,
    ) -> None:
        self._db = db
        self._store = store
        self._worker = worker
        self._paths = paths
        self._archive_dir = archive_dir
        self._in_flight: set[str] = set()

    async def submit_pending(self) -> int:
        async with self._db.session() as session:
            waiting = await MediaStore(session).awaiting_transcript()
        submitted = 0
        for media in waiting:
            if media.id in self._in_flight:
                continue
            if media.duration_seconds is not None and media.duration_seconds < MIN_SPEECH_SECONDS:
                await self._store.execute(media.id, Transcript("silent", self._lang(media)))
                continue
            self._in_flight.add(media.id)
            self._worker.submit(TranscriptionJob(media.id, self._audio(media), self._lang(media)))
            submitted += 1
        return submitted

    async def on_result(self, job: TranscriptionJob, transcript: Transcript) -> None:
        """The worker's result callback."""
        try:
            await self._store.execute(job.job_id, transcript)
        finally:
            self._in_flight.discard(job.job_id)
            # The worker's task goes on to other calls' messages.
            structlog.contextvars.unbind_contextvars("linkedid")

    def _audio(self, media: Media) -> Path:
        # The original, while it is there: Vosk hears it better than the compressed archive.
        original = self._paths.host_path(media.source_path)
        if original.is_file() or media.archive_path is None:
            return original
        return self._archive_dir / media.archive_path

    @staticmethod
    def _lang(media: Media) -> str:
        return media.language or UNKNOWN_LANGUAGE


class RetryTranscript:
    """A supervisor asks for a message to be transcribed again (after a model was installed,
    or after an error)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def execute(self, media_id: str) -> Media:
        async with self._db.session() as session:
            store = MediaStore(session)
            media = await store.get(media_id)
            if media is None or not media.is_message:
                raise KeyError(media_id)
            if media.state is not ArchiveState.ARCHIVED:
                raise ValueError(f"the message is {media.state.value}, not archived")
            return await store.update(media_id, self._clock(),
                                      transcript_state=TranscriptState.PENDING, error=None)


class TranscriptionProgress:
    """The supervisors' view of the transcription queue."""

    def __init__(self, db: Database, worker: JobSink, models: Mapping[str, Path]) -> None:
        self._db = db
        self._worker = worker
        self._models = models

    async def execute(self) -> dict[str, Any]:
        async with self._db.session() as session:
            counts = await MediaStore(session).transcript_counts()
        p = self._worker.progress
        return {
            "worker": {"queued": p.queued, "running": p.running, "done": p.done,
                       "failed": p.failed},
            "messages": {state.value: counts.get(state.value, 0) for state in TranscriptState},
            "languages_with_model": sorted(self._models),
        }
