"""Loads the roster and agent states and says where every agent stands at the clock's now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from agent_routing.presence import Situation, situations
from agent_routing.state_store import AgentStateStore
from shift_schedule.clock import Clock
from shift_schedule.roster import RosterSnapshot
from shift_schedule.store import RosterStore
from storage import Database


@dataclass(frozen=True)
class Standing:
    now: datetime
    snapshot: RosterSnapshot
    agents: list[Situation]

    def of(self, agent_id: str) -> Situation | None:
        return next((s for s in self.agents if s.agent.id == agent_id), None)


class SituationReader:
    def __init__(self, db: Database, clock: Clock, tz: tzinfo, auto_login: bool) -> None:
        self._db = db
        self.clock = clock
        self.tz = tz
        self._auto_login = auto_login

    async def read(self) -> Standing:
        now = self.clock.now()
        today = now.astimezone(self.tz).date()
        async with self._db.session() as session:
            store = RosterStore(session)
            snapshot = await store.snapshot(today, today + timedelta(days=1), self.tz)
            states = await AgentStateStore(session).all()
        return Standing(now, snapshot, situations(snapshot, states, now, self._auto_login))
