"""Who may hear which recording, and the audited opening of one.

Supervisors hear every recording. An agent hears the calls they answered and the callback
messages of callbacks they were given to place; nothing else. Every opening — and every refusal —
is written to the audit trail (PDPA: a recording is the caller's own voice).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from sqlalchemy import ColumnElement, and_, exists, or_, select, true

from agent_routing.tables import CallbackAttemptRow, CallbackRow
from call_log.models import CallRow
from recordings.asterisk_paths import AsteriskPaths
from recordings.models import ArchiveState, MediaKind, MediaRow
from recordings.store import Media, MediaStore
from storage import Database, audit
from web.accounts import User

AUDIT_SUBJECT: Final = "recording"
_CONTENT_TYPES: Final = {".ogg": "audio/ogg", ".wav": "audio/wav"}


class Use(StrEnum):
    PLAY = "recording_played"
    DOWNLOAD = "recording_downloaded"


class MediaNotFound(LookupError):
    pass


class MediaDenied(PermissionError):
    pass


class NoAudio(LookupError):
    """The row exists but there is nothing to hear (empty, missing, failed)."""


def visible_to(user: User) -> ColumnElement[bool]:
    """The media rows `user` may hear, as a condition on MediaRow (the one statement of the
    rule: listings and single openings both use it)."""
    if user.is_supervisor:
        return true()
    if not user.agent_id:
        return MediaRow.id.is_(None)  # matches nothing
    answered = exists().where(
        CallRow.linkedid == MediaRow.linkedid, CallRow.agent_id == user.agent_id
    )
    placing = exists().where(
        CallbackRow.linkedid == MediaRow.linkedid,
        CallbackAttemptRow.callback_id == CallbackRow.id,
        CallbackAttemptRow.agent_id == user.agent_id,
    )
    return or_(answered, and_(MediaRow.kind == MediaKind.CALLBACK_MESSAGE.value, placing))


@dataclass(frozen=True)
class AudioFile:
    path: Path
    content_type: str
    filename: str


class OpenRecording:
    """The file behind a media id for `user`, audited; raises MediaNotFound, MediaDenied or
    NoAudio."""

    def __init__(self, db: Database, paths: AsteriskPaths, archive_dir: Path) -> None:
        self._db = db
        self._paths = paths
        self._archive_dir = archive_dir

    async def execute(self, user: User, media_id: str, use: Use, *, audited: bool) -> AudioFile:
        async with self._db.session() as session:
            media = await MediaStore(session).get(media_id)
            if media is None:
                raise MediaNotFound(media_id)
            allowed = await session.scalar(
                select(exists().where(MediaRow.id == media_id, visible_to(user)))
            )
            if not allowed:
                await audit.record(session, user.username, "recording_denied", AUDIT_SUBJECT,
                                   media_id, after={"use": use.value})
        if not allowed:  # outside the session: the refusal above is committed
            raise MediaDenied(media_id)
        found = self._file(media)
        if audited:
            async with self._db.session() as session:
                await audit.record(session, user.username, use.value, AUDIT_SUBJECT, media_id,
                                   after={"kind": media.kind.value, "linkedid": media.linkedid})
        return found

    def _file(self, media: Media) -> AudioFile:
        path = self._path(media)
        if path is None or not path.is_file():
            raise NoAudio(f"no audio to play: the recording is {media.state.value}"
                          + (" and empty" if media.duration_seconds == 0 else ""))
        kind = "message" if media.is_message else "call"
        name = f"1300-{kind}-{media.recorded_at:%Y%m%d}-{media.linkedid}{path.suffix}"
        return AudioFile(path, _CONTENT_TYPES.get(path.suffix, "application/octet-stream"), name)

    def _path(self, media: Media) -> Path | None:
        if media.state is ArchiveState.ARCHIVED:
            return self._archive_dir / media.archive_path if media.archive_path else None
        if media.state is ArchiveState.PENDING:
            # Not converted yet (the call ended seconds ago): Asterisk's own file plays as well.
            return self._paths.host_path(media.source_path)
        return None
