"""In-process bus of call milestones: the tracker publishes, the screen-pop hub (and others) listen.

Each subscriber gets its own mailbox (queue + task, `ami.Mailbox`), so a slow subscriber never
holds up the tracker or another subscriber, and events reach each one in order. Publishing never
blocks: the screen-pop must leave within milliseconds of Asterisk's AgentCalled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from ami import Mailbox
from call_log.record import CallSnapshot

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CallArrived:
    """A call reached Asterisk (its first channel): the caller's number is known from now on,
    seconds before the IVR hands the call to a queue."""

    linkedid: str
    stub_id: str
    caller_number: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class CallQueued:
    """The call entered its first queue, and its stub is stored."""

    linkedid: str
    stub_id: str
    at: datetime
    call: CallSnapshot


@dataclass(frozen=True, slots=True)
class AgentRinging:
    """An agent's phone started ringing with this call (Asterisk's AgentCalled). Published at
    once, from the tracker's memory: the call's stub may still be on its way to the database."""

    agent_id: str
    linkedid: str
    stub_id: str
    at: datetime
    call: CallSnapshot


@dataclass(frozen=True, slots=True)
class AgentRingEnded:
    """The agent's phone stopped ringing without the agent taking the call
    (not answered in time, refused, another agent answered, or the caller hung up)."""

    agent_id: str
    linkedid: str
    stub_id: str
    at: datetime
    reason: str  # "no_answer" | "answered_elsewhere" | "caller_left"


@dataclass(frozen=True, slots=True)
class AgentAnswered:
    agent_id: str
    linkedid: str
    stub_id: str
    at: datetime
    call: CallSnapshot


@dataclass(frozen=True, slots=True)
class CallEnded:
    linkedid: str
    stub_id: str
    disposition: str
    at: datetime
    call: CallSnapshot


@dataclass(frozen=True, slots=True)
class StubChanged:
    """A stub got a new revision (call milestone, outcome saved, transcript attached...)."""

    stub_id: str
    revision: int
    call_id: str | None
    agent_ids: tuple[str, ...]


BusEvent = (
    CallArrived | CallQueued | AgentRinging | AgentRingEnded | AgentAnswered | CallEnded
    | StubChanged
)
BusHandler = Callable[[Any], Awaitable[None] | None]


class CallBus:
    """Publish/subscribe of `BusEvent`s inside one controller process."""

    def __init__(self) -> None:
        self._boxes: list[tuple[tuple[type, ...], Mailbox[Any]]] = []

    def subscribe(self, handler: BusHandler, *kinds: type) -> Mailbox[Any]:
        """Call `handler(event)` for events of `kinds` (none given: every event).

        Returns the subscriber's mailbox; `await mailbox.aclose()` stops it.
        """
        box: Mailbox[Any] = Mailbox(handler)
        self._boxes.append((kinds, box))
        return box

    def publish(self, event: BusEvent) -> None:
        for kinds, box in self._boxes:
            if box.active and (not kinds or isinstance(event, kinds)):
                box.put(event)

    async def close(self) -> None:
        boxes, self._boxes = self._boxes, []
        for _, box in boxes:
            await box.aclose()
