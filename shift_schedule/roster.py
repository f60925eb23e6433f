"""A read-only snapshot of the roster over a few days, and the questions asked of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from shift_schedule.model import (
    Absence,
    Agent,
    Assignment,
    OnShift,
    Requirement,
    RosterError,
    ShiftDef,
    ShiftInstance,
    active_instances,
)


@dataclass(frozen=True)
class RosterSnapshot:
    tz: tzinfo
    first_day: date
    last_day: date
    shifts: tuple[ShiftDef, ...]
    agents: Mapping[str, Agent]
    assignments: tuple[Assignment, ...]
    absences: tuple[Absence, ...]
    requirements: tuple[Requirement, ...]

    def shift(self, shift_id: str) -> ShiftDef:
        for shift in self.shifts:
            if shift.id == shift_id:
                return shift
        raise RosterError("unknown shift", status=404, shift_id=shift_id)

    def instance(self, shift_id: str, day: date) -> ShiftInstance:
        return self.shift(shift_id).instance(day, self.tz)

    def absence_of(self, agent_id: str, shift_id: str, day: date) -> Absence | None:
        return next((a for a in self.absences if a.applies_to(agent_id, shift_id, day)), None)

    def assigned(self, instance: ShiftInstance) -> list[Assignment]:
        return [
            a for a in self.assignments
            if a.shift_id == instance.shift.id and a.day == instance.day
        ]

    def staff(self, instance: ShiftInstance) -> list[OnShift]:
        """Agents working this instance: assigned, active, not absent."""
        return [
            OnShift(self.agents[a.agent_id], instance, a)
            for a in self.assigned(instance)
            if a.agent_id in self.agents and self.agents[a.agent_id].active
            and self.absence_of(a.agent_id, a.shift_id, a.day) is None
        ]

    def on_shift(self, moment: datetime) -> list[OnShift]:
        return [o for i in self.current_instances(moment) for o in self.staff(i)]

    def current_instances(self, moment: datetime) -> list[ShiftInstance]:
        return active_instances(self.shifts, moment, self.tz)

    def instances_of_agent(
        self, agent_id: str, *, without: int | None = None,
    ) -> list[ShiftInstance]:
        return [
            self.instance(a.shift_id, a.day) for a in self.assignments
            if a.agent_id == agent_id and a.id != without
        ]

    def week(self, first: date) -> list[ShiftInstance]:
        return [s.instance(first + timedelta(days=d), self.tz)
                for d in range(7) for s in self.shifts]
