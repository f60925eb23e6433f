"""The media table (migration 0004_recordings): one row per kept audio file of a call.

A row is made when the call log shows an ended call with a recording (the queue's MixMonitor) or
a callback message (the IVR's Record()); it follows the file from Asterisk's spool into the
archive, through transcription (messages only) to the retention purge, which deletes it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class MediaKind(enum.StrEnum):
    CALL_RECORDING = "call_recording"
    CALLBACK_MESSAGE = "callback_message"


class ArchiveState(enum.StrEnum):
    PENDING = "pending"  # still in Asterisk's spool, not converted yet
    ARCHIVED = "archived"
    MISSING = "missing"  # Asterisk never wrote it (or it was removed) within the grace period
    FAILED = "failed"  # ffmpeg refused it; the original is left where it is for a person


class TranscriptState(enum.StrEnum):
    PENDING = "pending"
    OK = "ok"
    SILENT = "silent"
    NO_MODEL = "no_model"
    ERROR = "error"


class MediaRow(Base):
    __tablename__ = "media_files"
    __table_args__ = (UniqueConstraint("linkedid", "kind"),)

    # A random id: the playback URL must not let anyone count or guess recordings.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    stub_id: Mapped[str] = mapped_column(String(36), index=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # As Asterisk named it (inside the sandbox chroot this differs from the host's path).
    source_path: Mapped[str] = mapped_column(String(500))
    # Relative to the archive folder (settings.recordings.archive_dir).
    archive_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    size_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    # When the call came in: retention counts from here.
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # None for kinds that are not transcribed (whole calls).
    transcript_state: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    transcript: Mapped[str | None] = mapped_column(Text, nullable=True)
    transcribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    transcribe_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
