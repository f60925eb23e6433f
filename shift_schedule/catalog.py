"""Changes to what the roster is made of: shift definitions, agents, and agents' web accounts."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agent_routing.skills import RoutingDefinition
from shift_schedule.editing import EditContext
from shift_schedule.model import Agent, RosterError, ShiftDef, ShiftInstance
from shift_schedule.roster import RosterSnapshot
from shift_schedule.store import RosterStore
from storage import audit
from web.accounts import Role, User, UserRow, create_user, new_password

SHIFT_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
AGENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
ENDPOINT = re.compile(r"^agent-\d{3}$")
# Shift hours may change with assignments already made for months ahead.
FUTURE_CHECK_DAYS = 366


class SaveShift:
    """Create or change a shift definition; a change that would make one agent's assignments
    overlap is refused."""

    def __init__(self, ctx: EditContext) -> None:
        self._ctx = ctx

    async def execute(self, actor: str, shift: ShiftDef, *, create: bool) -> ShiftDef:
        if not SHIFT_ID.match(shift.id):
            raise RosterError("a shift id is lower-case letters, digits, - or _", shift_id=shift.id)
        async with self._ctx.db.session() as session:
            store = RosterStore(session)
            before = await self._current(store, shift.id, create)
            if before is None:
                await store.add_shift(shift)
            else:
                await self._check_future(store, shift)
                await store.update_shift(shift)
            await audit.record(session, actor, "roster.shift_saved", "shift", shift.id,
                               before=before.as_json() if before else None, after=shift.as_json())
        self._ctx.on_change()
        return shift

    async def _current(self, store: RosterStore, shift_id: str, create: bool) -> ShiftDef | None:
        existing = {s.id: s for s in await store.shifts()}.get(shift_id)
        if create and existing is not None:
            raise RosterError("a shift with this id exists", status=409, shift_id=shift_id)
        if not create and existing is None:
            raise RosterError("unknown shift", status=404, shift_id=shift_id)
        return existing

    async def _check_future(self, store: RosterStore, changed: ShiftDef) -> None:
        today = self._ctx.clock.now().astimezone(self._ctx.tz).date()
        last = today + timedelta(days=FUTURE_CHECK_DAYS)
        current = await store.snapshot(today, last, self._ctx.tz)
        shifts = tuple(changed if s.id == changed.id else s for s in current.shifts)
        check_all_disjoint(replace(current, shifts=shifts))


def check_all_disjoint(snapshot: RosterSnapshot) -> None:
    by_agent: dict[str, list[tuple[int, ShiftInstance]]] = {}
    for a in snapshot.assignments:
        by_agent.setdefault(a.agent_id, []).append((a.id, snapshot.instance(a.shift_id, a.day)))
    for agent_id, instances in by_agent.items():
        # Sorted by start, any overlap shows between neighbours.
        ordered = sorted(instances, key=lambda pair: pair[1].start)
        for (id1, one), (id2, two) in pairwise(ordered):
            if one.overlaps(two):
                raise RosterError(
                    "this change would make one agent's assignments overlap", status=409,
                    agent_id=agent_id, assignments=[id1, id2],
                )


class SaveAgent:
    """Create or change an agent: languages and skills must exist in config/routing.toml, the
    phone endpoint must be one of the provisioned agent-NNN and not used by another agent."""

    def __init__(self, ctx: EditContext, definition: RoutingDefinition, endpoints: int) -> None:
        self._ctx = ctx
        self._definition = definition
        self._endpoints = endpoints

    async def execute(self, actor: str, agent: Agent, *, create: bool) -> Agent:
        self._check_fields(agent)
        async with self._ctx.db.session() as session:
            store = RosterStore(session)
            before = await store.agent(agent.id)
            self._check_existence(agent.id, before, create)
            other = await store.agent_by_endpoint(agent.endpoint)
            if other is not None and other.id != agent.id:
                raise RosterError("this phone endpoint belongs to another agent", status=409,
                                  endpoint=agent.endpoint, agent_id=other.id)
            await store.save_agent(agent)
            await audit.record(session, actor, "roster.agent_saved", "agent", agent.id,
                               before=before.as_json() if before else None, after=agent.as_json())
        self._ctx.on_change()
        return agent

    @staticmethod
    def _check_existence(agent_id: str, before: Agent | None, create: bool) -> None:
        if create and before is not None:
            raise RosterError("an agent with this id exists", status=409, agent_id=agent_id)
        if not create and before is None:
            raise RosterError("unknown agent", status=404, agent_id=agent_id)

    def _check_fields(self, agent: Agent) -> None:
        if not AGENT_ID.match(agent.id):
            raise RosterError("an agent id is 1-16 letters, digits, - or _", agent_id=agent.id)
        if not agent.name.strip():
            raise RosterError("an agent needs a name", field="name")
        number = int(agent.endpoint[-3:]) if ENDPOINT.match(agent.endpoint) else 0
        if not 1 <= number <= self._endpoints:
            raise RosterError("the endpoint must be a provisioned phone agent-001 … agent-"
                              f"{self._endpoints:03d}", endpoint=agent.endpoint)
        unknown_langs = sorted(agent.languages - set(self._definition.languages))
        unknown_skills = sorted(agent.skills - set(self._definition.skills))
        if not agent.languages or unknown_langs:
            raise RosterError("languages must be known languages (config/routing.toml)",
                              unknown=unknown_langs, known=sorted(self._definition.languages))
        if not agent.skills or unknown_skills:
            raise RosterError("skills must be known skills (config/routing.toml)",
                              unknown=unknown_skills, known=sorted(self._definition.skills))


class CreateAgentAccount:
    """A web sign-in for an agent; the password is shown once to the supervisor who asked."""

    def __init__(self, ctx: EditContext) -> None:
        self._ctx = ctx

    async def execute(self, actor: str, agent_id: str, username: str) -> tuple[User, str]:
        async with self._ctx.db.session() as session:
            agent = await RosterStore(session).agent(agent_id)
            if agent is None:
                raise RosterError("unknown agent", status=404, agent_id=agent_id)
            await self._check_free(session, agent_id, username)
            password = new_password()
            user = await create_user(session, username, agent.name, Role.AGENT, password,
                                     agent_id=agent_id)
            await audit.record(session, actor, "account.created", "user", username,
                               after={"agent_id": agent_id, "role": "agent"})
        return user, password

    @staticmethod
    async def _check_free(session: AsyncSession, agent_id: str, username: str) -> None:
        for column, value, what in ((UserRow.agent_id, agent_id, "agent_id"),
                                    (UserRow.username, username, "username")):
            count = (await session.execute(
                select(func.count()).select_from(UserRow).where(column == value)
            )).scalar_one()
            if count:
                raise RosterError(f"an account with this {what} exists", status=409,
                                  **{what: value})
