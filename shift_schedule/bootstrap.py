"""A new install routes calls at once: the seed roster is written to an empty database, and the
dated assignments of the coming days are generated from the weekly pattern."""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

import structlog

from shift_schedule.clock import Clock
from shift_schedule.seed import SeedRoster
from shift_schedule.store import RosterStore
from storage import Database, audit

log = structlog.get_logger(__name__)
SYSTEM_ACTOR = "system"


class SeedDefaultRoster:
    """Writes shifts, requirements, agents and the weekly pattern when the roster is empty."""

    def __init__(self, db: Database, seed: SeedRoster) -> None:
        self._db = db
        self._seed = seed

    async def execute(self) -> bool:
        async with self._db.session() as session:
            store = RosterStore(session)
            if not await store.is_empty():
                return False
            await self._write_shifts(store)
            await self._write_agents_and_pattern(store)
            await audit.record(session, SYSTEM_ACTOR, "roster.seed", "roster", "seed",
                               after={"agents": len(self._seed.agents())})
        log.info("roster.seeded", agents=len(self._seed.agents()), shifts=len(self._seed.shifts))
        return True

    async def _write_shifts(self, store: RosterStore) -> None:
        for shift in self._seed.shifts:
            await store.add_shift(shift)
        await store.add_requirements(self._seed.requirements)

    async def _write_agents_and_pattern(self, store: RosterStore) -> None:
        seeded = self._seed.agents()
        for entry in seeded:
            await store.save_agent(entry.agent)
        await store.add_pattern(
            (e.agent.id, e.shift_id, weekday)
            for e in seeded if e.shift_id is not None for weekday in range(7)
        )


class GenerateRosterDays:
    """Turns the weekly pattern into dated assignments for days not generated yet.

    A day is generated once: afterwards the supervisors' edits are the truth for it.
    """

    def __init__(self, db: Database, clock: Clock, tz: tzinfo, horizon_days: int) -> None:
        self._db = db
        self._clock = clock
        self._tz = tz
        self._horizon = horizon_days

    async def execute(self) -> int:
        days = self._window()
        async with self._db.session() as session:
            store = RosterStore(session)
            todo = [d for d in days if d not in await store.generated_days(days)]
            if not todo:
                return 0
            pattern = await store.pattern()
            rows = [(a, s, d) for d in todo for a, s, w in pattern if w == d.weekday()]
            added = await store.add_generated(rows, todo)
        log.info("roster.days_generated", days=[d.isoformat() for d in todo], assignments=added)
        return added

    def _window(self) -> list[date]:
        # From yesterday: its night shift is still running this morning.
        today = self._clock.now().astimezone(self._tz).date()
        return [today + timedelta(days=n) for n in range(-1, self._horizon)]
