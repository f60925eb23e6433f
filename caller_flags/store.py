"""Caller flags, stored. A flag is active from creation until it expires or is lifted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from caller_flags.models import CallerFlagRow
from outcomes.taxonomy import Taxonomy
from privacy import mask_number
from web.accounts import User

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Flag:
    id: int
    number: str
    kind: str
    reason: str
    created_by: str
    created_at: datetime
    expires_at: datetime

    @classmethod
    def from_row(cls, row: CallerFlagRow) -> Flag:
        return cls(
            row.id, row.number, row.kind, row.reason, row.created_by, _aware(row.created_at),
            _aware(row.expires_at),
        )

    def as_json(self, viewer: User, taxonomy: Taxonomy) -> dict[str, object]:
        """The flag as `viewer` may see it: full number for supervisors only."""
        kind = taxonomy.caller_flags.get(self.kind)
        return {
            "id": self.id,
            "number": self.number if viewer.is_supervisor else mask_number(self.number),
            "kind": self.kind,
            "label": {"th": kind.th, "en": kind.en} if kind else {"th": self.kind, "en": self.kind},
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


class FlagStore:
    def __init__(self, clock: Clock = utcnow) -> None:
        self.clock = clock

    async def active_for(self, session: AsyncSession, number: str | None) -> list[Flag]:
        if not number:
            return []
        query = self._active().where(CallerFlagRow.number == number)
        return [Flag.from_row(r) for r in (await session.execute(query)).scalars()]

    async def active(self, session: AsyncSession, kind: str | None = None) -> list[Flag]:
        query = self._active()
        if kind:
            query = query.where(CallerFlagRow.kind == kind)
        return [Flag.from_row(r) for r in (await session.execute(query)).scalars()]

    async def numbers_flagged(self, session: AsyncSession, kind: str) -> set[str]:
        """Numbers with an active flag of `kind` (reports use kind "test" to count tests apart)."""
        return {f.number for f in await self.active(session, kind)}

    async def add(
        self, session: AsyncSession, number: str, kind: str, reason: str, actor: str,
        expires_at: datetime,
    ) -> Flag:
        row = CallerFlagRow(
            number=number, kind=kind, reason=reason, created_by=actor, created_at=self.clock(),
            expires_at=expires_at,
        )
        session.add(row)
        await session.flush()
        return Flag.from_row(row)

    async def get(self, session: AsyncSession, flag_id: int) -> CallerFlagRow | None:
        return await session.get(CallerFlagRow, flag_id)

    async def lift(self, session: AsyncSession, row: CallerFlagRow, actor: str) -> None:
        row.lifted_by = actor
        row.lifted_at = self.clock()

    def is_active(self, row: CallerFlagRow) -> bool:
        return row.lifted_at is None and _aware(row.expires_at) > self.clock()

    def _active(self) -> Select[CallerFlagRow]:
        return (
            select(CallerFlagRow)
            .where(CallerFlagRow.lifted_at.is_(None), CallerFlagRow.expires_at > self.clock())
            .order_by(CallerFlagRow.created_at.desc())
        )


def flag_kinds(flags: Sequence[Flag]) -> list[str]:
    return sorted({f.kind for f in flags})


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
