"""Reads and writes of the roster tables inside one session (the caller owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shift_schedule.model import Absence, Agent, Assignment, Requirement, ShiftDef
from shift_schedule.roster import RosterSnapshot
from shift_schedule.tables import (
    AbsenceRow,
    AgentRow,
    AssignmentRow,
    PatternRow,
    RequirementRow,
    RosterDayRow,
    ShiftRow,
)


class RosterStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- reads

    async def is_empty(self) -> bool:
        query = select(func.count()).select_from(ShiftRow)
        count = (await self.session.execute(query)).scalar_one()
        return count == 0

    async def shifts(self) -> list[ShiftDef]:
        query = select(ShiftRow).order_by(ShiftRow.start_minute)
        rows = (await self.session.execute(query)).scalars()
        return [_shift(r) for r in rows]

    async def agents(self) -> dict[str, Agent]:
        rows = (await self.session.execute(select(AgentRow).order_by(AgentRow.id))).scalars()
        return {r.id: _agent(r) for r in rows}

    async def agent(self, agent_id: str) -> Agent | None:
        row = await self.session.get(AgentRow, agent_id)
        return _agent(row) if row is not None else None

    async def agent_by_endpoint(self, endpoint: str) -> Agent | None:
        query = select(AgentRow).where(AgentRow.endpoint == endpoint)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _agent(row) if row is not None else None

    async def requirements(self) -> list[Requirement]:
        query = select(RequirementRow).order_by(RequirementRow.id)
        rows = (await self.session.execute(query)).scalars()
        return [Requirement(r.shift_id, r.skill, r.language, r.count) for r in rows]

    async def assignment(self, assignment_id: int) -> Assignment | None:
        row = await self.session.get(AssignmentRow, assignment_id)
        return _assignment(row) if row is not None else None

    async def absence(self, absence_id: int) -> Absence | None:
        row = await self.session.get(AbsenceRow, absence_id)
        return _absence(row) if row is not None else None

    async def snapshot(self, first: date, last: date, tz: tzinfo) -> RosterSnapshot:
        """Everything between two dates (inclusive), plus the day before: its night shift
        runs into `first`."""
        since = first - timedelta(days=1)
        assignments = (await self.session.execute(
            select(AssignmentRow).where(AssignmentRow.day >= since, AssignmentRow.day <= last)
            .order_by(AssignmentRow.day, AssignmentRow.shift_id, AssignmentRow.agent_id)
        )).scalars()
        absences = (await self.session.execute(
            select(AbsenceRow).where(AbsenceRow.day >= since, AbsenceRow.day <= last)
            .order_by(AbsenceRow.id)
        )).scalars()
        return RosterSnapshot(
            tz=tz, first_day=since, last_day=last, shifts=tuple(await self.shifts()),
            agents=await self.agents(), assignments=tuple(_assignment(a) for a in assignments),
            absences=tuple(_absence(a) for a in absences),
            requirements=tuple(await self.requirements()),
        )

    async def generated_days(self, days: Sequence[date]) -> set[date]:
        query = select(RosterDayRow.day).where(RosterDayRow.day.in_(days))
        return set((await self.session.execute(query)).scalars())

    async def pattern(self) -> list[tuple[str, str, int]]:
        query = (
            select(PatternRow.agent_id, PatternRow.shift_id, PatternRow.weekday)
            .join(AgentRow, AgentRow.id == PatternRow.agent_id).where(AgentRow.active)
        )
        return [(a, s, w) for a, s, w in (await self.session.execute(query)).all()]

    # ---- writes

    async def add_shift(self, shift: ShiftDef) -> None:
        self.session.add(ShiftRow(id=shift.id, name_th=shift.name_th, name_en=shift.name_en,
                                  start_minute=shift.start_minute, end_minute=shift.end_minute))
        await self.session.flush()

    async def update_shift(self, shift: ShiftDef) -> None:
        row = await self.session.get(ShiftRow, shift.id)
        assert row is not None
        row.name_th, row.name_en = shift.name_th, shift.name_en
        row.start_minute, row.end_minute = shift.start_minute, shift.end_minute
        await self.session.flush()

    async def add_requirements(self, requirements: Iterable[Requirement]) -> None:
        self.session.add_all(
            RequirementRow(shift_id=r.shift_id, skill=r.skill, language=r.language, count=r.count)
            for r in requirements
        )
        await self.session.flush()

    async def save_agent(self, agent: Agent) -> None:
        row = await self.session.get(AgentRow, agent.id)
        if row is None:
            row = AgentRow(id=agent.id, created_at=datetime.now(UTC))
            self.session.add(row)
        row.name, row.endpoint, row.active = agent.name, agent.endpoint, agent.active
        row.languages, row.skills = sorted(agent.languages), sorted(agent.skills)
        await self.session.flush()

    async def add_pattern(self, entries: Iterable[tuple[str, str, int]]) -> None:
        self.session.add_all(PatternRow(agent_id=a, shift_id=s, weekday=w) for a, s, w in entries)
        await self.session.flush()

    async def add_assignment(
        self, agent_id: str, shift_id: str, day: date, *, covers: str | None = None,
        source: str = "supervisor",
    ) -> Assignment:
        row = AssignmentRow(agent_id=agent_id, shift_id=shift_id, day=day, covers_agent_id=covers,
                            source=source, created_at=datetime.now(UTC))
        self.session.add(row)
        await self.session.flush()
        return _assignment(row)

    async def add_generated(
        self, rows: Iterable[tuple[str, str, date]], days: Iterable[date],
    ) -> int:
        now = datetime.now(UTC)
        new = [AssignmentRow(agent_id=a, shift_id=s, day=d, source="pattern", created_at=now)
               for a, s, d in rows]
        self.session.add_all(new)
        self.session.add_all(RosterDayRow(day=d, generated_at=now) for d in days)
        await self.session.flush()
        return len(new)

    async def move_assignment(self, assignment_id: int, shift_id: str, day: date) -> Assignment:
        row = await self.session.get(AssignmentRow, assignment_id)
        assert row is not None
        row.shift_id, row.day, row.source = shift_id, day, "supervisor"
        await self.session.flush()
        return _assignment(row)

    async def set_assignment_agent(self, assignment_id: int, agent_id: str) -> Assignment:
        row = await self.session.get(AssignmentRow, assignment_id)
        assert row is not None
        row.agent_id, row.source = agent_id, "supervisor"
        await self.session.flush()
        return _assignment(row)

    async def delete_assignment(self, assignment_id: int) -> None:
        await self.session.execute(delete(AssignmentRow).where(AssignmentRow.id == assignment_id))

    async def add_absence(
        self, agent_id: str, day: date, shift_id: str | None, reason: str,
    ) -> Absence:
        row = AbsenceRow(agent_id=agent_id, day=day, shift_id=shift_id, reason=reason,
                         created_at=datetime.now(UTC))
        self.session.add(row)
        await self.session.flush()
        return _absence(row)

    async def delete_absence(self, absence_id: int) -> None:
        await self.session.execute(delete(AbsenceRow).where(AbsenceRow.id == absence_id))

    async def covers_of(self, agent_id: str, day: date, shift_id: str | None) -> list[Assignment]:
        query = select(AssignmentRow).where(
            AssignmentRow.covers_agent_id == agent_id, AssignmentRow.day == day,
        )
        if shift_id is not None:
            query = query.where(AssignmentRow.shift_id == shift_id)
        return [_assignment(r) for r in (await self.session.execute(query)).scalars()]


def _shift(row: ShiftRow) -> ShiftDef:
    return ShiftDef(row.id, row.name_th, row.name_en, row.start_minute, row.end_minute)


def _agent(row: AgentRow) -> Agent:
    return Agent(row.id, row.name, row.endpoint, frozenset(row.languages), frozenset(row.skills),
                 bool(row.active))


def _assignment(row: AssignmentRow) -> Assignment:
    return Assignment(row.id, row.agent_id, row.shift_id, row.day, row.covers_agent_id, row.source)


def _absence(row: AbsenceRow) -> Absence:
    return Absence(row.id, row.agent_id, row.day, row.shift_id, row.reason)
