"""The call log's database side: idempotent upserts of call records and their steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from call_log.models import CallRow, CallStepRow, WatermarkRow
from call_log.record import CallSnapshot, StepEntry
from call_log.writer import PendingRecord
from storage import Database

Clock = Callable[[], datetime]

_FIELDS = (
    "line",
    "dialed",
    "caller_number",
    "caller_country",
    "language",
    "priority",
    "queue",
    "received_at",
    "queued_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "agent_id",
    "disposition",
    "fallback",
    "callback_number",
    "callback_message",
    "callback_id",
    "callback_result",
    "related_linkedid",
    "survey_score",
    "recording_path",
    "stub_id",
    "source",
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _row_values(snap: CallSnapshot) -> dict[str, Any]:
    values = {name: getattr(snap, name) for name in _FIELDS}
    values["ivr_path"] = list(snap.ivr_path)
    values["ringing_agents"] = list(snap.ringing_agents)
    values["transfers"] = list(snap.transfers)
    return values


def snapshot_of(row: CallRow) -> CallSnapshot:
    return CallSnapshot(
        linkedid=row.linkedid,
        stub_id=row.stub_id,
        line=row.line,
        dialed=row.dialed,
        caller_number=row.caller_number,
        caller_country=row.caller_country,
        language=row.language,
        ivr_path=tuple(row.ivr_path or ()),
        priority=row.priority,
        queue=row.queue,
        received_at=aware(row.received_at) or _utcnow(),
        queued_at=aware(row.queued_at),
        answered_at=aware(row.answered_at),
        ended_at=aware(row.ended_at),
        wait_seconds=row.wait_seconds,
        talk_seconds=row.talk_seconds,
        hold_seconds=row.hold_seconds or 0.0,
        agent_id=row.agent_id,
        ringing_agents=tuple(row.ringing_agents or ()),
        transfers=tuple(row.transfers or ()),
        disposition=row.disposition,
        fallback=row.fallback,
        callback_number=row.callback_number,
        callback_message=row.callback_message,
        callback_id=row.callback_id,
        callback_result=row.callback_result,
        related_linkedid=row.related_linkedid,
        survey_score=row.survey_score,
        recording_path=row.recording_path,
        source=row.source,
    )


class CallStore:
    """Reads and writes `calls` and `call_steps`; every write is an idempotent upsert."""

    def __init__(self, db: Database, clock: Clock = _utcnow) -> None:
        self._db = db
        self._clock = clock

    async def save(
        self,
        snap: CallSnapshot,
        steps: Sequence[StepEntry] = (),
        *,
        first_seq: int = 0,
        replace_steps: bool = False,
    ) -> None:
        """Upsert the call's row and store `steps` as its entries `first_seq`, `first_seq+1`...
        (with `replace_steps`, every earlier entry goes)."""
        record = PendingRecord.of(snap, steps, first_seq)
        if replace_steps:
            record = PendingRecord(snap, 0, record.steps)
        await self.save_many([record])

    async def save_many(self, records: Sequence[PendingRecord]) -> None:
        """Upsert many calls in one transaction (call_log.writer's batches).

        Two controllers may save the same call at once; the loser of the insert race
        retries as an update, so both end with one row.
        """
        for attempt in (1, 2):
            try:
                async with self._db.session() as session:
                    existing = await self._rows(session, [r.snapshot.linkedid for r in records])
                    for record in records:
                        self._upsert(session, existing.get(record.snapshot.linkedid), record)
                    await session.flush()
                    await self._store_steps(session, records)
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    @staticmethod
    async def _rows(session: AsyncSession, linkedids: list[str]) -> dict[str, CallRow]:
        found = await session.execute(select(CallRow).where(CallRow.linkedid.in_(linkedids)))
        return {row.linkedid: row for row in found.scalars()}

    def _upsert(self, session: AsyncSession, row: CallRow | None, record: PendingRecord) -> None:
        values = _row_values(record.snapshot)
        values["updated_at"] = self._clock()
        if row is None:
            session.add(CallRow(linkedid=record.snapshot.linkedid, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)

    @staticmethod
    async def _store_steps(session: AsyncSession, records: Sequence[PendingRecord]) -> None:
        for record in records:
            await session.execute(
                delete(CallStepRow).where(
                    CallStepRow.linkedid == record.snapshot.linkedid,
                    CallStepRow.seq >= record.steps_from,
                )
            )
        session.add_all(
            CallStepRow(
                linkedid=r.snapshot.linkedid, seq=seq, at=s.at, step=s.step, detail=s.detail
            )
            for r in records
            for seq, s in sorted(r.steps.items())
        )

    async def get(self, linkedid: str) -> CallSnapshot | None:
        async with self._db.session() as session:
            row = await session.get(CallRow, linkedid)
            return snapshot_of(row) if row is not None else None

    async def steps(self, linkedid: str) -> list[StepEntry]:
        async with self._db.session() as session:
            rows = await session.execute(
                select(CallStepRow)
                .where(CallStepRow.linkedid == linkedid)
                .order_by(CallStepRow.seq)
            )
            return [
                StepEntry(aware(r.at) or _utcnow(), r.step, dict(r.detail or {}))
                for r in rows.scalars()
            ]

    async def ended_ids(self, linkedids: Sequence[str]) -> set[str]:
        """Which of these calls are already recorded as ended."""
        if not linkedids:
            return set()
        async with self._db.session() as session:
            rows = await session.execute(
                select(CallRow.linkedid).where(
                    CallRow.linkedid.in_(list(linkedids)), CallRow.ended_at.is_not(None)
                )
            )
            return set(rows.scalars())

    async def open_calls(self) -> list[CallSnapshot]:
        """Calls recorded as not ended yet (to check against Asterisk after a restart)."""
        async with self._db.session() as session:
            rows = await session.execute(select(CallRow).where(CallRow.ended_at.is_(None)))
            return [snapshot_of(r) for r in rows.scalars()]

    async def between(
        self, since: datetime, until: datetime | None = None, limit: int = 1000
    ) -> list[CallSnapshot]:
        query = select(CallRow).where(CallRow.received_at >= since)
        if until is not None:
            query = query.where(CallRow.received_at < until)
        query = query.order_by(CallRow.received_at).limit(limit)
        async with self._db.session() as session:
            return [snapshot_of(r) for r in (await session.execute(query)).scalars()]

    async def count_callback_calls(self, related_linkedid: str) -> int:
        """How many callback calls were made for the call `related_linkedid`."""
        async with self._db.session() as session:
            return int(
                (
                    await session.execute(
                        select(func.count())
                        .select_from(CallRow)
                        .where(CallRow.related_linkedid == related_linkedid)
                    )
                ).scalar_one()
            )

    async def count(self) -> int:
        async with self._db.session() as session:
            total = await session.execute(select(func.count()).select_from(CallRow))
            return int(total.scalar_one())

    async def watermark(self, source: str) -> int:
        async with self._db.session() as session:
            row = await session.get(WatermarkRow, source[:200])
            return row.position if row is not None else 0

    async def set_watermark(self, source: str, position: int) -> None:
        for attempt in (1, 2):
            try:
                async with self._db.session() as session:
                    row = await session.get(WatermarkRow, source[:200])
                    if row is None:
                        session.add(
                            WatermarkRow(
                                source=source[:200], position=position, updated_at=self._clock()
                            )
                        )
                    else:
                        row.position, row.updated_at = position, self._clock()
                return
            except IntegrityError:
                if attempt == 2:
                    raise
