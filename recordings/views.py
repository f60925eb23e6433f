"""Read models of the media room for the pages: recordings a user may hear, callback messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from agent_routing.tables import CallbackRow
from call_log.models import CallRow
from recordings.access import visible_to
from recordings.models import MediaKind
from recordings.store import MediaStore, aware
from storage import Database
from web.accounts import User


class ListRecordings:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def execute(
        self, viewer: User, *, kinds: Sequence[MediaKind], linkedid: str | None = None,
        stub_id: str | None = None, limit: int = 100,
    ) -> list[dict[str, Any]]:
        async with self._db.session() as session:
            found = await MediaStore(session).listing(
                visible=visible_to(viewer), kinds=kinds,
                linkedids=[linkedid] if linkedid else None, stub_id=stub_id, limit=limit,
            )
        return [m.as_json() for m in found]


class ListCallbackMessages:
    """Supervisors' list of callback messages, newest first: the audio, the transcript and its
    suggested priority, and where the callback itself stands. No caller numbers: the callbacks
    list beside it has them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def execute(self, viewer: User, limit: int = 100) -> list[dict[str, Any]]:
        async with self._db.session() as session:
            messages = await MediaStore(session).listing(
                visible=visible_to(viewer), kinds=[MediaKind.CALLBACK_MESSAGE], limit=limit
            )
            linkedids = [m.linkedid for m in messages]
            callbacks = {r.linkedid: r for r in (await session.execute(
                select(CallbackRow).where(CallbackRow.linkedid.in_(linkedids))
            )).scalars()}
            calls = {r.linkedid: r for r in (await session.execute(
                select(CallRow).where(CallRow.linkedid.in_(linkedids))
            )).scalars()}
        return [
            {**m.as_json(), "callback": _callback(callbacks.get(m.linkedid)),
             "call": _call(calls.get(m.linkedid))}
            for m in messages
        ]


def _callback(row: CallbackRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"id": row.id, "status": row.status, "attempts": row.attempts,
            "language": row.language, "requested_at": aware(row.requested_at).isoformat()}


def _call(row: CallRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"line": row.line, "priority": row.priority, "queue": row.queue,
            "received_at": aware(row.received_at).isoformat()}
