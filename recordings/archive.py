"""From Asterisk's spool to the archive: find the recordings and messages of ended calls, keep
them compactly under a dated layout, and link them to the call's stub.

Whole calls are recorded by the queue's MixMonitor (only queues with `record = true` in
config/routing.toml) from the agent's answer; callback messages by the IVR's Record(). The call
log names both files as Asterisk sees them; `AsteriskPaths` turns that into a path here.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Final, Protocol

import structlog
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from call_log.models import CallRow
from case_stubs.service import StubNotFound
from controller.logs import bind_call
from recordings.asterisk_paths import AsteriskPaths
from recordings.convert import AudioError, AudioToolMissingError, probe, to_archive
from recordings.models import ArchiveState, MediaKind, MediaRow, TranscriptState
from recordings.store import Media, MediaStore, NewMedia, aware
from retention.policy import RetentionPolicy
from storage import Database

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
Archiver = Callable[[Path, Path], Path]
# Asterisk closes the file when the call hangs up; a few seconds later it is complete.
SETTLE: Final = timedelta(seconds=3)
# Registered this long ago and still no file: Asterisk did not write it.
MISSING_AFTER: Final = timedelta(minutes=10)
ARCHIVE_SUFFIX: Final = ".ogg"
_NAME_SUFFIX: Final = {MediaKind.CALL_RECORDING: "", MediaKind.CALLBACK_MESSAGE: "-message"}
# The call-log column that names each kind's file.
_SOURCE_COLUMN: Final = {
    MediaKind.CALL_RECORDING: "recording_path", MediaKind.CALLBACK_MESSAGE: "callback_message",
}


class MediaStubs(Protocol):
    """What the media room needs from the case-stub service (case_stubs.CaseStubService)."""

    async def add_details(
        self, stub_id: str, details: Mapping[str, Any], *, actor: str | None = None
    ) -> object: ...

    async def add_message_transcript(
        self, stub_id: str, *, status: str, transcript: str | None,
        triage: Mapping[str, Any] | None,
    ) -> object: ...


class DiscoverMedia:
    """Registers the recordings and messages of ended calls that the media table lacks.

    The call log is the one record of which file belongs to which call; a scan (rather than
    listening to the tracker alone) also finds calls the reconciler rebuilt after a restart.
    Only calls still inside their retention period are looked at, so a purged file is never
    registered again.
    """

    def __init__(self, db: Database, retention: RetentionPolicy, clock: Clock) -> None:
        self._db = db
        self._retention = retention
        self._clock = clock

    async def execute(self, since: datetime | None = None) -> list[Media]:
        """Register what is missing among the calls received since `since` (None: every call
        still inside its retention period)."""
        now = self._clock()
        found: list[Media] = []
        for kind in MediaKind:
            for new in await self._candidates(kind, now, since):
                media = await self._register(new, now)
                if media is not None:
                    found.append(media)
        return found

    async def _candidates(
        self, kind: MediaKind, now: datetime, since: datetime | None
    ) -> list[NewMedia]:
        column = _SOURCE_COLUMN[kind]
        path = getattr(CallRow, column)
        oldest = now - self._retention.period(kind)
        query = select(CallRow).where(
            CallRow.received_at >= (oldest if since is None else max(oldest, since)),
            CallRow.ended_at.is_not(None), CallRow.ended_at <= now - SETTLE,
            path.is_not(None), path != "",
            ~exists().where(MediaRow.linkedid == CallRow.linkedid, MediaRow.kind == kind.value),
        )
        if kind is MediaKind.CALL_RECORDING:
            # MixMonitor starts at the answer: a recorded queue's unanswered call has no file.
            query = query.where(CallRow.answered_at.is_not(None))
        async with self._db.session() as session:
            rows = (await session.execute(query.order_by(CallRow.received_at))).scalars().all()
        return [
            NewMedia(kind, row.linkedid, row.stub_id, row.language,
                     str(getattr(row, column)), aware(row.received_at))
            for row in rows
        ]

    async def _register(self, new: NewMedia, now: datetime) -> Media | None:
        try:
            async with self._db.session() as session:
                media = await MediaStore(session).add(new, now)
        except IntegrityError:
            return None  # another controller registered it first
        bind_call(new.linkedid)
        log.info("media.registered", media_id=media.id, kind=new.kind.value)
        return media


class ArchiveMedia:
    """Converts each pending file to the archive format and links it to the stub.

    A whole call's original is removed once archived; a message's stays until it has been
    transcribed (the recogniser hears the original better than the compressed copy).
    """

    def __init__(
        self, db: Database, paths: AsteriskPaths, archive_dir: Path, stubs: MediaStubs,
        clock: Clock, tz: tzinfo, archiver: Archiver = to_archive,
    ) -> None:
        self._db = db
        self._paths = paths
        self._archive_dir = archive_dir
        self._stubs = stubs
        self._clock = clock
        self._tz = tz
        self._archiver = archiver

    async def execute(self) -> list[Media]:
        async with self._db.session() as session:
            pending = await MediaStore(session).in_state(ArchiveState.PENDING)
        done = []
        for media in pending:
            archived = await self.archive(media)
            if archived is not None:
                done.append(archived)
        return done

    async def archive(self, media: Media) -> Media | None:
        """The media after this attempt, or None when it must wait (file not there yet, or the
        converter is not installed: nothing is given up on for a fault of the server's own)."""
        bind_call(media.linkedid)
        source = self._paths.host_path(media.source_path)
        if not source.is_file():
            return await self._missing(media)
        relative: Path | None = None  # an empty recording: nothing to keep but the fact
        try:
            duration = await asyncio.to_thread(audio_seconds, source)
            if duration != 0:
                relative = self.archive_name(media)
                await asyncio.to_thread(self._archiver, source, self._archive_dir / relative)
        except AudioToolMissingError as exc:
            log.error("media.archive_tool_missing", media_id=media.id, error=str(exc))
            return None
        except AudioError as exc:
            return await self._failed(media, str(exc))
        stored = await self._stored(media, relative, duration)
        await self._link_to_stub(stored)
        if not stored.is_message:
            source.unlink(missing_ok=True)
        return stored

    def archive_name(self, media: Media) -> Path:
        day = media.recorded_at.astimezone(self._tz)
        name = f"{media.linkedid}{_NAME_SUFFIX[media.kind]}{ARCHIVE_SUFFIX}"
        return Path(f"{day:%Y}") / f"{day:%m}" / f"{day:%d}" / name

    async def _stored(
        self, media: Media, relative: Path | None, duration: float | None
    ) -> Media:
        size = (self._archive_dir / relative).stat().st_size if relative else 0
        async with self._db.session() as session:
            stored = await MediaStore(session).update(
                media.id, self._clock(), state=ArchiveState.ARCHIVED,
                archive_path=str(relative) if relative else None,
                size_bytes=size, duration_seconds=duration, archived_at=self._clock(), error=None,
            )
        log.info("media.archived", media_id=media.id, kind=media.kind.value, bytes=size,
                 seconds=duration)
        return stored

    async def _missing(self, media: Media) -> Media | None:
        if self._clock() - media.registered_at < MISSING_AFTER:
            return None
        log.warning("media.missing", media_id=media.id, kind=media.kind.value,
                    path=media.source_path)
        return await self._give_up(media, ArchiveState.MISSING, "Asterisk wrote no such file")

    async def _failed(self, media: Media, reason: str) -> Media:
        log.error("media.archive_failed", media_id=media.id, error=reason)
        return await self._give_up(media, ArchiveState.FAILED, reason)

    async def _give_up(self, media: Media, state: ArchiveState, reason: str) -> Media:
        values: dict[str, Any] = {"state": state, "error": reason[:500]}
        if media.is_message:
            values["transcript_state"] = TranscriptState.ERROR
        async with self._db.session() as session:
            return await MediaStore(session).update(media.id, self._clock(), **values)

    async def _link_to_stub(self, media: Media) -> None:
        if media.is_message:
            return  # the message is on the stub already (callback.message); its transcript follows
        recording = {"path": media.source_path, "duration_seconds": media.duration_seconds}
        try:
            await self._stubs.add_details(media.stub_id, {"recording": recording})
        except StubNotFound:
            log.warning("media.no_stub", media_id=media.id, stub_id=media.stub_id)


def audio_seconds(path: Path) -> float | None:
    """Length of an Asterisk WAV from its header (exact, no decoding), else as ffprobe says;
    0 for an empty file (a caller who hung up as the recording began)."""
    if path.stat().st_size == 0:
        return 0.0
    try:
        with wave.open(str(path), "rb") as wav:
            return round(wav.getnframes() / wav.getframerate(), 3)
    except (wave.Error, EOFError):
        info = probe(path)
        return round(info.duration_s, 3) if info.duration_s is not None else None
