"""Supervisors' roster changes, one use case each. Every change is validated against the whole
roster around it, written with its audit entry in one transaction (an invalid change writes
nothing), then announced so the applier reconciles Asterisk's queues at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo

from shift_schedule.clock import Clock
from shift_schedule.model import (
    Absence,
    Agent,
    Assignment,
    RosterError,
    ShiftDef,
    ShiftInstance,
)
from shift_schedule.roster import RosterSnapshot
from shift_schedule.store import RosterStore
from storage import Database, audit

OnChange = Callable[[], None]


@dataclass(frozen=True)
class EditContext:
    """What every roster change needs: the database, the clock, the centre's time zone, and
    whom to tell after a change is committed."""

    db: Database
    clock: Clock
    tz: tzinfo
    on_change: OnChange


class _RosterChange:
    def __init__(self, ctx: EditContext) -> None:
        self._ctx = ctx

    async def _snapshot(self, store: RosterStore, day: date) -> RosterSnapshot:
        return await store.snapshot(day, day + timedelta(days=1), self._ctx.tz)

    async def _agent(self, store: RosterStore, agent_id: str, field: str = "agent_id") -> Agent:
        agent = await store.agent(agent_id)
        if agent is None:
            raise RosterError("unknown agent", status=404, **{field: agent_id})
        if not agent.active:
            raise RosterError("this agent is deactivated", status=409, **{field: agent_id})
        return agent

    def _not_over(self, instance: ShiftInstance) -> None:
        if instance.end <= self._ctx.clock.now():
            raise RosterError("that shift is over: the past roster is a record and is not edited",
                              status=409, shift_id=instance.shift.id, day=instance.day.isoformat())

    def _announce(self) -> None:
        self._ctx.on_change()


def check_no_overlap(
    snapshot: RosterSnapshot, agent_id: str, candidate: ShiftInstance, *,
    without: tuple[int, ...] = (),
) -> None:
    """One agent cannot work two shift instances that overlap in time."""
    for assignment in snapshot.assignments:
        if assignment.agent_id != agent_id or assignment.id in without:
            continue
        other = snapshot.instance(assignment.shift_id, assignment.day)
        if other.overlaps(candidate):
            raise RosterError(
                "overlapping assignments for one agent", status=409, agent_id=agent_id,
                conflicts_with={"assignment_id": assignment.id, "shift_id": assignment.shift_id,
                                "day": assignment.day.isoformat()},
            )


class AddAssignment(_RosterChange):
    """Put an agent on a shift (extra staff, or cover for an absent colleague)."""

    async def execute(
        self, actor: str, agent_id: str, shift_id: str, day: date,
        covers_agent_id: str | None = None,
    ) -> Assignment:
        async with self._ctx.db.session() as session:
            store = RosterStore(session)
            await self._agent(store, agent_id)
            if covers_agent_id == agent_id:
                raise RosterError("an agent cannot cover for themselves", agent_id=agent_id)
            if covers_agent_id is not None:
                await self._agent(store, covers_agent_id, "covers_agent_id")
            snapshot = await self._snapshot(store, day)
            instance = snapshot.instance(shift_id, day)
            self._not_over(instance)
            check_no_overlap(snapshot, agent_id, instance)
            added = await store.add_assignment(agent_id, shift_id, day, covers=covers_agent_id)
            await audit.record(session, actor, "roster.assign", "assignment", str(added.id),
                               after=added.as_json())
        self._announce()
        return added


class RemoveAssignment(_RosterChange):
    async def execute(self, actor: str, assignment_id: int) -> Assignment:
        async with self._ctx.db.session() as session:
            store = RosterStore(session)
            existing = await _existing(store, assignment_id)
            snapshot = await self._snapshot(store, existing.day)
            self._not_over(snapshot.instance(existing.shift_id, existing.day))
            await store.delete_assignment(assignment_id)
            await audit.record(session, actor, "roster.unassign", "assignment", str(assignment_id),
                               before=existing.as_json())
        self._announce()
        return existing


class MoveAssignment(_RosterChange):
    """Move one assignment to another shift and/or day."""

    async def execute(self, actor: str, assignment_id: int, shift_id: str, day: date) -> Assignment:
        async with self._ctx.db.session() as session:
            store = RosterStore(session)
            existing = await _existing(store, assignment_id)
            old = await self._snapshot(store, existing.day)
            self._not_over(old.instance(existing.shift_id, existing.day))
            snapshot = await self._snapshot(store, day)
            target = snapshot.instance(shift_id, day)
            self._not_over(target)
            check_no_overlap(snapshot, existing.agent_id, target, without=(assignment_id,))
            moved = await store.move_assignment(assignment_id, shift_id, day)
            await audit.record(session, actor, "roster.move", "assignment", str(assignment_id),
                               before=existing.as_json(), after=moved.as_json())
        self._announce()
        return moved


class SwapAssignments(_RosterChange):
    """Two agents exchange their assignments."""

    async def execute(
        self, actor: str, first_id: int, second_id: int,
    ) -> tuple[Assignment, Assignment]:
        if first_id == second_id:
            raise RosterError("swap needs two different assignments", assignment_id=first_id)
        async with self._ctx.db.session() as session:
            store = RosterStore(session)
            first, second = await _existing(store, first_id), await _existing(store, second_id)
            if first.agent_id == second.agent_id:
                raise RosterError("both assignments belong to the same agent",
                                  agent_id=first.agent_id)
            if (first.shift_id, first.day) == (second.shift_id, second.day):
                raise RosterError("both agents work the same shift: nothing to swap",
                                  shift_id=first.shift_id, day=first.day.isoformat())
            await self._check_swap(store, first, second)
            new_first = await store.set_assignment_agent(first_id, second.agent_id)
            new_second = await store.set_assignment_agent(second_id, first.agent_id)
            await audit.record(
                session, actor, "roster.swap", "assignment", f"{first_id},{second_id}",
                before=[first.as_json(), second.as_json()],
                after=[new_first.as_json(), new_second.as_json()],
            )
        self._announce()
        return new_first, new_second

    async def _check_swap(self, store: RosterStore, first: Assignment, second: Assignment) -> None:
        swapped = (first.id, second.id)
        for mine, theirs in ((first, second), (second, first)):
            snapshot = await self._snapshot(store, theirs.day)
            target = snapshot.instance(theirs.shift_id, theirs.day)
            self._not_over(target)
            check_no_overlap(snapshot, mine.agent_id, target, without=swapped)


class MarkAbsent(_RosterChange):
    """An agent will not work (a shift, or the whole day); optionally someone covers."""

    async def execute(
        self, actor: str, agent_id: str, day: date, shift_id: str | None, reason: str,
        cover_agent_id: str | None = None,
    ) -> tuple[Absence, Assignment | None]:
        async with self._ctx.db.session() as session:
            store = RosterStore(session)
            await self._agent(store, agent_id)
            snapshot = await self._snapshot(store, day)
            shifts = self._rostered_shifts(snapshot, agent_id, day, shift_id)
            absence = await store.add_absence(agent_id, day, shift_id, reason)
            cover = None
            if cover_agent_id is not None:
                cover = await self._cover(store, snapshot, cover_agent_id, agent_id, shifts, day)
            await audit.record(
                session, actor, "roster.absent", "absence", str(absence.id),
                after={**absence.as_json(), "cover": cover.as_json() if cover else None},
            )
        self._announce()
        return absence, cover

    def _rostered_shifts(
        self, snapshot: RosterSnapshot, agent_id: str, day: date, shift_id: str | None,
    ) -> list[ShiftDef]:
        mine = [a for a in snapshot.assignments if a.agent_id == agent_id and a.day == day
                and (shift_id is None or a.shift_id == shift_id)]
        if not mine:
            raise RosterError("this agent is not rostered then", status=409, agent_id=agent_id,
                              day=day.isoformat(), shift_id=shift_id)
        if any(snapshot.absence_of(agent_id, a.shift_id, day) for a in mine):
            raise RosterError("this agent is already marked absent then", status=409,
                              agent_id=agent_id, day=day.isoformat(), shift_id=shift_id)
        for a in mine:
            self._not_over(snapshot.instance(a.shift_id, day))
        return [snapshot.shift(a.shift_id) for a in mine]

    async def _cover(
        self, store: RosterStore, snapshot: RosterSnapshot, cover_agent_id: str, absent_id: str,
        shifts: list[ShiftDef], day: date,
    ) -> Assignment:
        if len(shifts) != 1:
            raise RosterError("name the shift to cover: the agent works several that day",
                              shifts=[s.id for s in shifts])
        await self._agent(store, cover_agent_id, "cover_agent_id")
        instance = snapshot.instance(shifts[0].id, day)
        check_no_overlap(snapshot, cover_agent_id, instance)
        return await store.add_assignment(cover_agent_id, shifts[0].id, day, covers=absent_id)


class CancelAbsence(_RosterChange):
    async def execute(self, actor: str, absence_id: int) -> Absence:
        async with self._ctx.db.session() as session:
            store = RosterStore(session)
            absence = await store.absence(absence_id)
            if absence is None:
                raise RosterError("unknown absence", status=404, absence_id=absence_id)
            await store.delete_absence(absence_id)
            await audit.record(session, actor, "roster.absence_cancelled", "absence",
                               str(absence_id), before=absence.as_json())
        self._announce()
        return absence


async def _existing(store: RosterStore, assignment_id: int) -> Assignment:
    existing = await store.assignment(assignment_id)
    if existing is None:
        raise RosterError("unknown assignment", status=404, assignment_id=assignment_id)
    return existing
