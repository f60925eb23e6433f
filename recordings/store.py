"""Reads and writes of the media table inside one session, and the value object pages see."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.models import ArchiveState, MediaKind, MediaRow, TranscriptState


def aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone=True columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _maybe(moment: datetime | None) -> datetime | None:
    return aware(moment) if moment is not None else None


@dataclass(frozen=True)
class Media:
    id: str
    kind: MediaKind
    linkedid: str
    stub_id: str
    language: str | None
    source_path: str
    archive_path: str | None
    state: ArchiveState
    size_bytes: int | None
    duration_seconds: float | None
    recorded_at: datetime
    archived_at: datetime | None
    transcript_state: TranscriptState | None
    transcript: str | None
    transcribed_at: datetime | None
    transcribe_seconds: float | None
    triage: dict[str, Any] | None
    error: str | None
    registered_at: datetime

    @property
    def is_message(self) -> bool:
        return self.kind is MediaKind.CALLBACK_MESSAGE

    @classmethod
    def from_row(cls, row: MediaRow) -> Media:
        return cls(
            row.id, MediaKind(row.kind), row.linkedid, row.stub_id, row.language,
            row.source_path, row.archive_path, ArchiveState(row.state), row.size_bytes,
            row.duration_seconds, aware(row.recorded_at), _maybe(row.archived_at),
            TranscriptState(row.transcript_state) if row.transcript_state else None,
            row.transcript, _maybe(row.transcribed_at), row.transcribe_seconds, row.triage,
            row.error, aware(row.created_at),
        )

    def as_json(self) -> dict[str, Any]:
        """What the pages show: no file system paths (they are the server's business)."""
        return {
            "id": self.id, "kind": self.kind.value, "linkedid": self.linkedid,
            "stub_id": self.stub_id, "language": self.language, "state": self.state.value,
            "size_bytes": self.size_bytes, "duration_seconds": self.duration_seconds,
            "recorded_at": self.recorded_at.isoformat(),
            "archived_at": self.archived_at.isoformat() if self.archived_at else None,
            "transcript_state": self.transcript_state.value if self.transcript_state else None,
            "transcript": self.transcript, "triage": self.triage, "error": self.error,
            "transcribe_seconds": self.transcribe_seconds,
        }


@dataclass(frozen=True)
class NewMedia:
    kind: MediaKind
    linkedid: str
    stub_id: str
    language: str | None
    source_path: str
    recorded_at: datetime


class MediaStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, new: NewMedia, now: datetime) -> Media:
        row = MediaRow(
            id=str(uuid.uuid4()), kind=new.kind.value, linkedid=new.linkedid,
            stub_id=new.stub_id, language=new.language, source_path=new.source_path,
            state=ArchiveState.PENDING.value, recorded_at=new.recorded_at,
            transcript_state=TranscriptState.PENDING.value
            if new.kind is MediaKind.CALLBACK_MESSAGE else None,
            created_at=now, updated_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return Media.from_row(row)

    async def get(self, media_id: str) -> Media | None:
        row = await self.session.get(MediaRow, media_id)
        return Media.from_row(row) if row is not None else None

    async def in_state(self, state: ArchiveState) -> list[Media]:
        # No limit: after an outage the whole backlog is worked off in one pass.
        query = (select(MediaRow).where(MediaRow.state == state.value)
                 .order_by(MediaRow.recorded_at))
        return [Media.from_row(r) for r in (await self.session.execute(query)).scalars()]

    async def awaiting_transcript(self) -> list[Media]:
        """Archived messages whose transcript has not been made yet, oldest first."""
        query = (select(MediaRow)
                 .where(MediaRow.transcript_state == TranscriptState.PENDING.value,
                        MediaRow.state == ArchiveState.ARCHIVED.value)
                 .order_by(MediaRow.recorded_at))
        return [Media.from_row(r) for r in (await self.session.execute(query)).scalars()]

    async def update(self, media_id: str, now: datetime, **values: Any) -> Media:
        row = await self.session.get(MediaRow, media_id)
        if row is None:
            raise KeyError(media_id)
        for name, value in values.items():
            setattr(row, name, value.value if isinstance(value, ArchiveState | TranscriptState)
                    else value)
        row.updated_at = now
        await self.session.flush()
        return Media.from_row(row)

    async def listing(
        self, *, visible: ColumnElement[bool], kinds: Sequence[MediaKind],
        linkedids: Sequence[str] | None = None, stub_id: str | None = None, limit: int = 100,
    ) -> list[Media]:
        """Newest first, only rows matching `visible` (recordings.access.visible_to)."""
        query = (select(MediaRow).where(visible, MediaRow.kind.in_([k.value for k in kinds]))
                 .order_by(MediaRow.recorded_at.desc()).limit(limit))
        if linkedids is not None:
            query = query.where(MediaRow.linkedid.in_(list(linkedids)))
        if stub_id is not None:
            query = query.where(MediaRow.stub_id == stub_id)
        return [Media.from_row(r) for r in (await self.session.execute(query)).scalars()]

    async def transcript_counts(self) -> dict[str, int]:
        query = (select(MediaRow.transcript_state, func.count())
                 .where(MediaRow.transcript_state.is_not(None))
                 .group_by(MediaRow.transcript_state))
        return {str(state): int(n) for state, n in (await self.session.execute(query)).all()}
