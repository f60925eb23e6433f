"""Reads and writes of agent_states inside one session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agent_routing.presence import AgentState
from agent_routing.tables import AgentStateRow
from shift_schedule.clock import aware, utc


class AgentStateStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> dict[str, AgentState]:
        rows = (await self.session.execute(select(AgentStateRow))).scalars()
        return {r.agent_id: _state(r) for r in rows}

    async def get(self, agent_id: str) -> AgentState:
        row = await self.session.get(AgentStateRow, agent_id)
        return _state(row) if row is not None else AgentState(agent_id)

    async def set_presence(self, agent_id: str, logged_in: bool, at: datetime) -> AgentState:
        row = await self._row(agent_id)
        row.logged_in, row.presence_at = logged_in, utc(at)
        if not logged_in:
            row.pause_reason, row.paused_at = None, None
        await self.session.flush()
        return _state(row)

    async def set_pause(self, agent_id: str, reason: str | None, at: datetime) -> AgentState:
        row = await self._row(agent_id)
        row.pause_reason, row.paused_at = reason, (utc(at) if reason else None)
        await self.session.flush()
        return _state(row)

    async def _row(self, agent_id: str) -> AgentStateRow:
        row = await self.session.get(AgentStateRow, agent_id)
        if row is None:
            row = AgentStateRow(agent_id=agent_id)
            self.session.add(row)
        return row


def _state(row: AgentStateRow) -> AgentState:
    return AgentState(row.agent_id, row.logged_in, _aware(row.presence_at), row.pause_reason,
                      _aware(row.paused_at))


def _aware(moment: datetime | None) -> datetime | None:
    return aware(moment) if moment is not None else None
