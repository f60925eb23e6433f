"""Each agent's open contacts: ringing, in conversation, or ended and waiting for the outcome.

Pure state, no I/O: the feed applies call milestones here and renders what changed. A page that
(re)connects is sent the agent's open contacts, so a reload or a dropped socket loses nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final

from call_log.record import CallSnapshot

KEEP_ENDED: Final = 5  # ended contacts waiting for an outcome, per agent; older ones leave the desk


class Phase(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class OpenContact:
    agent_id: str
    stub_id: str
    linkedid: str
    phase: Phase
    call: CallSnapshot
    rang_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    disposition: str | None = None


class Desk:
    def __init__(self, keep_ended: int = KEEP_ENDED) -> None:
        self.keep_ended = keep_ended
        self._open: dict[str, OrderedDict[str, OpenContact]] = {}

    def ringing(self, agent_id: str, call: CallSnapshot, at: datetime) -> OpenContact:
        contact = OpenContact(agent_id, call.stub_id, call.linkedid, Phase.RINGING, call, at)
        return self._put(contact)

    def answered(self, agent_id: str, call: CallSnapshot, at: datetime) -> OpenContact:
        known = self._get(agent_id, call.stub_id)
        rang_at = known.rang_at if known else at
        contact = OpenContact(
            agent_id, call.stub_id, call.linkedid, Phase.ANSWERED, call, rang_at, answered_at=at
        )
        return self._put(contact)

    def ring_ended(self, agent_id: str, stub_id: str) -> OpenContact | None:
        """The phone stopped ringing; a call this agent did not take leaves their desk."""
        known = self._get(agent_id, stub_id)
        if known is None or known.phase is not Phase.RINGING:
            return None
        return self._pop(agent_id, stub_id)

    def ended(self, stub_id: str, call: CallSnapshot, at: datetime) -> list[OpenContact]:
        """The call ended: it stays (phase ended) on the desk of the agent who talked to the caller
        and leaves the desks where it was only ringing. Returns the contacts that changed."""
        changed: list[OpenContact] = []
        for agent_id in self._agents_with(stub_id):
            known = self._open[agent_id][stub_id]
            if known.phase is Phase.RINGING:
                self._pop(agent_id, stub_id)
                changed.append(replace(known, ended_at=at, disposition=call.disposition))
                continue
            changed.append(self._put(replace(
                known, phase=Phase.ENDED, call=call, ended_at=at, disposition=call.disposition
            )))
        self._trim_ended()
        return changed

    def closed(self, stub_id: str) -> list[str]:
        """The outcome was saved: the contact leaves every desk. Returns the agents it left."""
        agents = self._agents_with(stub_id)
        for agent_id in agents:
            self._pop(agent_id, stub_id)
        return agents

    def holding(self, stub_id: str) -> list[OpenContact]:
        """The open contacts showing this stub (one per agent it rang or is with)."""
        return [self._open[agent][stub_id] for agent in self._agents_with(stub_id)]

    def open_for(self, agent_id: str) -> list[OpenContact]:
        return list(self._open.get(agent_id, {}).values())

    def _get(self, agent_id: str, stub_id: str) -> OpenContact | None:
        desk = self._open.get(agent_id)
        return desk.get(stub_id) if desk is not None else None

    def _put(self, contact: OpenContact) -> OpenContact:
        desk = self._open.setdefault(contact.agent_id, OrderedDict())
        desk[contact.stub_id] = contact
        desk.move_to_end(contact.stub_id)
        return contact

    def _pop(self, agent_id: str, stub_id: str) -> OpenContact | None:
        desk = self._open.get(agent_id)
        if desk is None:
            return None
        contact = desk.pop(stub_id, None)
        if not desk:
            del self._open[agent_id]
        return contact

    def _agents_with(self, stub_id: str) -> list[str]:
        return [agent for agent, desk in self._open.items() if stub_id in desk]

    def _trim_ended(self) -> None:
        for agent_id in list(self._open):
            ended = [c for c in self._open[agent_id].values() if c.phase is Phase.ENDED]
            for old in ended[: max(0, len(ended) - self.keep_ended)]:
                self._pop(agent_id, old.stub_id)
