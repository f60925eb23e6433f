"""Read models of the roster for the supervisor page: the week by shift, with warnings."""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

from agent_routing.skills import RoutingDefinition
from shift_schedule.coverage import roster_warnings
from shift_schedule.model import ShiftInstance
from shift_schedule.roster import RosterSnapshot
from shift_schedule.store import RosterStore
from storage import Database


class ReadWeek:
    def __init__(self, db: Database, tz: tzinfo, definition: RoutingDefinition,
                 min_counsellors: int) -> None:
        self._db = db
        self._tz = tz
        self._definition = definition
        self._min_counsellors = min_counsellors

    async def execute(self, first: date) -> dict[str, object]:
        async with self._db.session() as session:
            store = RosterStore(session)
            snapshot = await store.snapshot(first, first + timedelta(days=6), self._tz)
        return {
            "first_day": first.isoformat(),
            "days": [(first + timedelta(days=d)).isoformat() for d in range(7)],
            "shifts": [s.as_json() for s in snapshot.shifts],
            "agents": {a.id: a.as_json() for a in snapshot.agents.values()},
            "cells": [self._cell(snapshot, i) for i in snapshot.week(first)],
        }

    def _cell(self, snapshot: RosterSnapshot, instance: ShiftInstance) -> dict[str, object]:
        warnings = roster_warnings(snapshot, instance, self._definition, self._min_counsellors)
        return {
            "shift_id": instance.shift.id, "day": instance.day.isoformat(),
            "start": instance.start.isoformat(), "end": instance.end.isoformat(),
            "assignments": [
                {**a.as_json(), "absence": _absence_json(snapshot, a.agent_id, a.shift_id, a.day)}
                for a in snapshot.assigned(instance)
            ],
            "staffed": len(snapshot.staff(instance)),
            "warnings": [w.as_json() for w in warnings],
        }


def _absence_json(snapshot: RosterSnapshot, agent_id: str, shift_id: str, day: date) -> object:
    absence = snapshot.absence_of(agent_id, shift_id, day)
    return absence.as_json() if absence else None
