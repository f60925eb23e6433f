"""Call milestones from the bus → the agents' open contacts → pops on their pages.

The bus handler only updates the desk and queues work on the agent's lane, so it never waits.
Each agent has a lane (a mailbox with its own task): pops of one agent leave in the order their
milestones happened, and a slow database read for one agent does not hold up another's pop.
A ring's pop reads nothing: the call is in memory and the caller's context was read when the
call arrived (screen_pop.caller_context).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Final

from ami import Mailbox
from call_log.bus import (
    AgentAnswered,
    AgentRingEnded,
    AgentRinging,
    CallArrived,
    CallEnded,
    StubChanged,
)
from controller.logs import bind_call
from screen_pop.audit import PopAudit
from screen_pop.build import BuildPop, Pop
from screen_pop.caller_context import CallerContexts
from screen_pop.desk import Desk, OpenContact, Phase
from screen_pop.hub import Connection, Outgoing, PopHub

Job = Callable[[], Awaitable[None]]
DRAIN_SECONDS: Final = 5.0


class PopFeed:
    def __init__(
        self, hub: PopHub, desk: Desk, build: BuildPop, audit: PopAudit,
        contexts: CallerContexts,
    ) -> None:
        self.hub = hub
        self.desk = desk
        self.build = build
        self.audit = audit
        self.contexts = contexts
        self._lanes: dict[str, Mailbox[Job]] = {}

    def on_event(self, event: object) -> None:
        """Bus subscriber (synchronous: it only records and queues)."""
        match event:
            case CallArrived(linkedid=linkedid, stub_id=stub_id, caller_number=number):
                self.contexts.prefetch(linkedid, stub_id, number)
            case AgentRinging(agent_id=agent, call=call, at=at):
                contact = self.desk.ringing(agent, call, at)
                if self.hub.connections(agent):
                    self._lane(agent).put(partial(self._render_ring, contact))
            case AgentAnswered(agent_id=agent, call=call, at=at):
                self._render(self.desk.answered(agent, call, at))
            case AgentRingEnded(agent_id=agent, stub_id=stub_id, reason=reason):
                if self.desk.ring_ended(agent, stub_id) is not None:
                    self._notify(
                        agent, {"type": "ring_ended", "stub_id": stub_id, "reason": reason}
                    )
            case CallEnded(stub_id=stub_id, call=call, at=at):
                self.contexts.forget(call.linkedid)
                for contact in self.desk.ended(stub_id, call, at):
                    self._notify(contact.agent_id, _ended(contact))
            case StubChanged(stub_id=stub_id):
                # A new revision (transcript, triage, details): open pops show the current stub.
                # A ringing pop shows the call from memory; its answer or end follows.
                for contact in self.desk.holding(stub_id):
                    if contact.phase is not Phase.RINGING:
                        self._render(contact)

    def outcome_saved(self, stub_id: str) -> None:
        """The outcome is recorded: the contact leaves the desk (and every tab showing it)."""
        for agent_id in self.desk.closed(stub_id):
            self._notify(agent_id, {"type": "closed", "stub_id": stub_id})

    def replay(self, conn: Connection) -> None:
        """A page (re)connected: send it the agent's open contacts, through the agent's lane so
        they cannot overtake a pop that is being built."""
        for contact in self.desk.open_for(conn.agent_id):
            self._lane(conn.agent_id).put(partial(self._render_for, contact, conn))

    async def close(self) -> None:
        # Renders stop once the hub is closing (see _render_all), so lanes drain at once; a lane
        # cancelled inside a database transaction would leave SQLite locked.
        lanes, self._lanes = self._lanes, {}
        for lane in lanes.values():
            await lane.aclose(drain_timeout=DRAIN_SECONDS)
        await self.contexts.close()

    def _render(self, contact: OpenContact) -> None:
        if self.hub.connections(contact.agent_id):
            self._lane(contact.agent_id).put(partial(self._render_all, contact))

    def _notify(self, agent_id: str, body: dict[str, object]) -> None:
        # No page open: nothing to tell; a page that connects later is sent the desk as it is.
        if self.hub.connections(agent_id):
            message = Outgoing.of(body)
            self._lane(agent_id).put(partial(self._deliver, agent_id, message))

    async def _deliver(self, agent_id: str, message: Outgoing) -> None:
        self.hub.deliver(agent_id, message)

    async def _render_all(self, contact: OpenContact) -> None:
        bind_call(contact.linkedid)
        for viewer in self.hub.viewers(contact.agent_id).values():  # none once the hub closed
            pop = await self.build(contact, viewer)
            self.hub.deliver(contact.agent_id, pop.message, user_id=viewer.id)
            self._audit(pop)

    async def _render_ring(self, contact: OpenContact) -> None:
        bind_call(contact.linkedid)
        call = contact.call
        context = await self.contexts.for_call(contact.linkedid, call.stub_id, call.caller_number)
        for viewer in self.hub.viewers(contact.agent_id).values():
            pop = self.build.ringing(contact, viewer, context)
            self.hub.deliver(contact.agent_id, pop.message, user_id=viewer.id)
            self._audit(pop)

    async def _render_for(self, contact: OpenContact, conn: Connection) -> None:
        if conn.open:
            pop = await self.build(contact, conn.user)
            conn.offer(pop.message)
            self._audit(pop)

    def _audit(self, pop: Pop) -> None:
        # After the hand-over, so the audit write is off the pop's path; queued, never skipped.
        if pop.viewed is not None:
            self.audit.viewed(pop.viewer.username, pop.viewed, pop.read_at)

    def _lane(self, agent_id: str) -> Mailbox[Job]:
        lane = self._lanes.get(agent_id)
        if lane is None:
            lane = self._lanes[agent_id] = Mailbox(_run, name=f"screen-pop:{agent_id}")
        return lane


async def _run(job: Job) -> None:
    await job()


def _ended(contact: OpenContact) -> dict[str, object]:
    return {
        "type": "call_ended",
        "stub_id": contact.stub_id,
        "phase": str(contact.phase),
        "ended_at": (contact.ended_at or datetime.now(UTC)).isoformat(),
        "disposition": contact.disposition,
    }
