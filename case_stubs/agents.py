"""Agent names for stubs ({"id", "name"}), from the roster's agents, else the web accounts."""

from __future__ import annotations

from sqlalchemy import select

from case_stubs.body import AgentRef
from shift_schedule.tables import AgentRow
from storage import Database
from web.accounts import UserRow


class AgentDirectory:
    """Looks agents up by id (stub's agent) or phone endpoint (callback calls); cached."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._names: dict[str, str] = {}
        self._by_endpoint: dict[str, str] = {}

    async def ref(self, agent_id: str | None) -> AgentRef | None:
        if not agent_id:
            return None
        if agent_id not in self._names:
            await self._load()
        return AgentRef(agent_id, self._names.get(agent_id, agent_id))

    async def by_endpoint(self, endpoint: str) -> str | None:
        """The agent id of a phone endpoint ("agent-001"), or None."""
        if endpoint not in self._by_endpoint:
            await self._load()
        return self._by_endpoint.get(endpoint)

    async def _load(self) -> None:
        async with self._db.session() as session:
            users = await session.execute(
                select(UserRow.agent_id, UserRow.display_name).where(UserRow.agent_id.is_not(None))
            )
            names = {str(agent_id): name for agent_id, name in users.all()}
            agents = await session.execute(select(AgentRow.id, AgentRow.name, AgentRow.endpoint))
            for agent_id, name, endpoint in agents.all():
                names[agent_id] = name  # the roster's name is the one the centre maintains
                self._by_endpoint[endpoint] = agent_id
        self._names.update(names)
