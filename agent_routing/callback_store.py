"""Reads and writes of callbacks and their attempts inside one session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agent_routing.tables import CallbackAttemptRow, CallbackRow
from shift_schedule.clock import aware, utc

WAITING, PLACING, ANSWERED, UNANSWERED, CANCELLED = (
    "waiting", "placing", "answered", "unanswered", "cancelled",
)
OPEN_STATUSES = (WAITING, PLACING)


@dataclass(frozen=True)
class Attempt:
    id: int
    agent_id: str
    started_at: datetime
    ended_at: datetime | None
    result: str | None

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "agent_id": self.agent_id, "started_at": self.started_at.isoformat(),
                "ended_at": self.ended_at.isoformat() if self.ended_at else None,
                "result": self.result}


@dataclass(frozen=True)
class Callback:
    id: str
    linkedid: str
    line: str
    language: str
    number: str
    message: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    requested_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class NewCallback:
    linkedid: str
    line: str
    language: str
    number: str
    message: str | None
    requested_at: datetime
    due_at: datetime


class CallbackStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, request: NewCallback) -> tuple[Callback, bool]:
        """The callback of this call, created unless it exists (the live event and the CEL
        reconcile may both report it)."""
        existing = await self.by_linkedid(request.linkedid)
        if existing is not None:
            return existing, False
        row = CallbackRow(
            id=str(uuid.uuid4()), linkedid=request.linkedid, line=request.line,
            language=request.language, number=request.number, message=request.message,
            status=WAITING, attempts=0, next_attempt_at=utc(request.due_at),
            requested_at=utc(request.requested_at),
        )
        self.session.add(row)
        await self.session.flush()
        return _callback(row), True

    async def by_linkedid(self, linkedid: str) -> Callback | None:
        query = select(CallbackRow).where(CallbackRow.linkedid == linkedid)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _callback(row) if row is not None else None

    async def get(self, callback_id: str) -> Callback | None:
        row = await self.session.get(CallbackRow, callback_id)
        return _callback(row) if row is not None else None

    async def due(self, now: datetime) -> list[Callback]:
        query = (select(CallbackRow)
                 .where(CallbackRow.status == WAITING, CallbackRow.next_attempt_at <= utc(now))
                 .order_by(CallbackRow.requested_at))
        return [_callback(r) for r in (await self.session.execute(query)).scalars()]

    async def listing(self, statuses: tuple[str, ...], limit: int = 200) -> list[Callback]:
        query = (select(CallbackRow).where(CallbackRow.status.in_(statuses))
                 .order_by(CallbackRow.requested_at.desc()).limit(limit))
        return [_callback(r) for r in (await self.session.execute(query)).scalars()]

    async def next_due_at(self) -> datetime | None:
        query = (select(CallbackRow.next_attempt_at).where(CallbackRow.status == WAITING)
                 .order_by(CallbackRow.next_attempt_at).limit(1))
        return _aware((await self.session.execute(query)).scalar_one_or_none())

    async def waiting_by_language(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for cb in await self.listing(OPEN_STATUSES, limit=10_000):
            counts[cb.language] = counts.get(cb.language, 0) + 1
        return counts

    async def attempts(self, callback_id: str) -> list[Attempt]:
        query = (select(CallbackAttemptRow).where(CallbackAttemptRow.callback_id == callback_id)
                 .order_by(CallbackAttemptRow.id))
        return [_attempt(r) for r in (await self.session.execute(query)).scalars()]

    async def agents_busy_with_callbacks(self) -> set[str]:
        query = select(CallbackAttemptRow.agent_id).where(CallbackAttemptRow.ended_at.is_(None))
        return set((await self.session.execute(query)).scalars())

    async def start_attempt(self, callback_id: str, agent_id: str, at: datetime) -> int | None:
        """Take a waiting callback for one attempt; None when another controller sharing the
        database took it first (a compare-and-set on the status, so a caller is never rung
        back twice at once)."""
        taken = await self.session.execute(
            update(CallbackRow).where(CallbackRow.id == callback_id, CallbackRow.status == WAITING)
            .values(status=PLACING).execution_options(synchronize_session=False))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        attempt = CallbackAttemptRow(callback_id=callback_id, agent_id=agent_id, started_at=utc(at))
        self.session.add(attempt)
        await self.session.flush()
        return attempt.id

    async def open_attempt(self, callback_id: str) -> Attempt | None:
        query = (select(CallbackAttemptRow)
                 .where(CallbackAttemptRow.callback_id == callback_id,
                        CallbackAttemptRow.ended_at.is_(None))
                 .order_by(CallbackAttemptRow.id.desc()).limit(1))
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _attempt(row) if row is not None else None

    async def end_attempt(self, attempt_id: int, result: str, at: datetime) -> None:
        row = await self.session.get(CallbackAttemptRow, attempt_id)
        if row is not None and row.ended_at is None:
            row.result, row.ended_at = result, utc(at)

    async def stale_attempts(self, before: datetime) -> list[tuple[str, int]]:
        query = select(CallbackAttemptRow.callback_id, CallbackAttemptRow.id).where(
            CallbackAttemptRow.ended_at.is_(None), CallbackAttemptRow.started_at < utc(before))
        return [(c, i) for c, i in (await self.session.execute(query)).all()]

    async def update(
        self, callback_id: str, *, status: str, attempts: int | None = None,
        next_attempt_at: datetime | None = None, finished_at: datetime | None = None,
    ) -> Callback:
        row = await self._row(callback_id)
        row.status = status
        if attempts is not None:
            row.attempts = attempts
        if next_attempt_at is not None:
            row.next_attempt_at = utc(next_attempt_at)
        row.finished_at = utc(finished_at) if finished_at else None
        await self.session.flush()
        return _callback(row)

    async def _row(self, callback_id: str) -> CallbackRow:
        row = await self.session.get(CallbackRow, callback_id)
        if row is None:
            raise KeyError(callback_id)
        return row


def _callback(row: CallbackRow) -> Callback:
    return Callback(
        row.id, row.linkedid, row.line, row.language, row.number, row.message, row.status,
        row.attempts, aware(row.next_attempt_at), aware(row.requested_at),
        _aware(row.finished_at),
    )


def _attempt(row: CallbackAttemptRow) -> Attempt:
    return Attempt(row.id, row.agent_id, aware(row.started_at), _aware(row.ended_at),
                   row.result)


def _aware(moment: datetime | None) -> datetime | None:
    return aware(moment) if moment is not None else None
