"""Agents' own state changes: log in/out of the phone, pause with a reason, unpause.

An agent may change only their own state; a supervisor anyone's. The state is stored first (so
it survives an Asterisk or controller restart), then the queues are reconciled at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from agent_routing.presence import PAUSE_REASONS, AgentState
from agent_routing.situations import SituationReader
from agent_routing.state_store import AgentStateStore
from shift_schedule.model import RosterError
from shift_schedule.store import RosterStore
from storage import Database, audit
from web.accounts import User

# Reconciles the queues now; False when Asterisk could not be told (it will be on reconnect).
Reconcile = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class StateChange:
    agent_id: str
    before: AgentState
    after: AgentState
    status: str  # the agent's status afterwards (see presence.Situation.status)
    applied: bool  # Asterisk's queues already follow

    def as_json(self) -> dict[str, object]:
        return {"agent_id": self.agent_id, "status": self.status, "applied": self.applied,
                "pause_reason": self.after.pause_reason}


class _AgentStateChange:
    def __init__(self, db: Database, reader: SituationReader, reconcile: Reconcile) -> None:
        self._db = db
        self._reader = reader
        self._reconcile = reconcile

    async def _checked(self, actor: User, agent_id: str) -> AgentState:
        if not actor.is_supervisor and actor.agent_id != agent_id:
            raise RosterError("agents may change only their own state", status=403,
                              agent_id=agent_id)
        async with self._db.session() as session:
            if await RosterStore(session).agent(agent_id) is None:
                raise RosterError("unknown agent", status=404, agent_id=agent_id)
            return await AgentStateStore(session).get(agent_id)

    async def _finish(
        self, actor: User, action: str, before: AgentState, after: AgentState,
    ) -> StateChange:
        async with self._db.session() as session:
            await audit.record(session, actor.username, action, "agent", after.agent_id,
                               before=_state_json(before), after=_state_json(after))
        applied = await self._reconcile()
        situation = (await self._reader.read()).of(after.agent_id)
        status = situation.status if situation else "unknown"
        return StateChange(after.agent_id, before, after, status, applied)

    def _now(self) -> datetime:
        return self._reader.clock.now()

    async def _logged_in_now(self, agent_id: str) -> bool:
        situation = (await self._reader.read()).of(agent_id)
        return situation is not None and situation.logged_in


class LogAgentIn(_AgentStateChange):
    async def execute(self, actor: User, agent_id: str) -> StateChange:
        before = await self._checked(actor, agent_id)
        async with self._db.session() as session:
            after = await AgentStateStore(session).set_presence(agent_id, True, self._now())
        return await self._finish(actor, "agent.login", before, after)


class LogAgentOut(_AgentStateChange):
    async def execute(self, actor: User, agent_id: str) -> StateChange:
        before = await self._checked(actor, agent_id)
        async with self._db.session() as session:
            after = await AgentStateStore(session).set_presence(agent_id, False, self._now())
        return await self._finish(actor, "agent.logout", before, after)


class PauseAgent(_AgentStateChange):
    async def execute(self, actor: User, agent_id: str, reason: str) -> StateChange:
        if reason not in PAUSE_REASONS:
            raise RosterError("unknown pause reason", reason=reason, allowed=list(PAUSE_REASONS))
        before = await self._checked(actor, agent_id)
        if not await self._logged_in_now(agent_id):
            raise RosterError("log in to the phone before pausing", status=409, agent_id=agent_id)
        async with self._db.session() as session:
            after = await AgentStateStore(session).set_pause(agent_id, reason, self._now())
        return await self._finish(actor, "agent.pause", before, after)


class UnpauseAgent(_AgentStateChange):
    async def execute(self, actor: User, agent_id: str) -> StateChange:
        before = await self._checked(actor, agent_id)
        async with self._db.session() as session:
            after = await AgentStateStore(session).set_pause(agent_id, None, self._now())
        return await self._finish(actor, "agent.unpause", before, after)


def _state_json(state: AgentState) -> dict[str, object]:
    return {
        "logged_in": state.logged_in,
        "presence_at": state.presence_at.isoformat() if state.presence_at else None,
        "pause_reason": state.pause_reason,
        "paused_at": state.paused_at.isoformat() if state.paused_at else None,
    }
