"""Live state of the skill queues, kept from AMI queue events (and reset from QueueStatus).

Nothing here does I/O: the feed hands events in and asks for a `Board`, so the logic is tested by
feeding recorded or hand-built `ami.Event`s.
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from agent_routing.skills import Language, SkillQueue
from ivr.events import IvrStep, Priority
from privacy import mask_number

Clock = Callable[[], float]
# Remembered IVR priorities of calls not yet seen joining a queue: enough for any burst.
_MAX_PENDING_PRIORITIES = 2000


class HeaderSource(Protocol):
    """What `ami.Event` offers (kept structural so tests may build events by hand)."""

    @property
    def name(self) -> str: ...

    @property
    def items(self) -> tuple[tuple[str, str], ...]: ...

    def get(self, key: str, default: str | None = None) -> str | None: ...


class AgentState(enum.StrEnum):
    AVAILABLE = "available"
    ON_CALL = "on_call"
    WRAPUP = "wrapup"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"


# Asterisk device states (AST_DEVICE_*) that mean the phone is busy with a call or ringing.
_BUSY_DEVICE = frozenset({2, 3, 6, 7, 8})
_GONE_DEVICE = frozenset({4, 5})
# When an agent is in several queues of one language, the state shown is the most "present" one.
_PRECEDENCE = (
    AgentState.ON_CALL, AgentState.AVAILABLE, AgentState.WRAPUP, AgentState.PAUSED,
    AgentState.UNAVAILABLE,
)


@dataclass(frozen=True)
class Member:
    """One agent in one queue, as Asterisk reports it."""

    queue: str
    agent_id: str
    interface: str
    paused: bool
    reason: str
    in_call: bool
    device: int
    last_call: float
    wrapup_seconds: int

    @classmethod
    def from_event(cls, event: HeaderSource) -> Member | None:
        # QueueStatus answers say Name/Location; the QueueMember* events say MemberName/Interface.
        queue = event.get("Queue")
        interface = event.get("Interface") or event.get("Location")
        if not queue or not interface:
            return None
        return cls(
            queue=queue,
            agent_id=event.get("MemberName") or event.get("Name") or interface,
            interface=interface,
            paused=event.get("Paused") == "1",
            reason=event.get("PausedReason") or "",
            in_call=event.get("InCall") == "1",
            device=_int(event.get("Status")),
            last_call=float(_int(event.get("LastCall"))),
            wrapup_seconds=_int(event.get("Wrapuptime")),
        )

    def state(self, now: float, default_wrapup: int, wrapup_reasons: frozenset[str]) -> AgentState:
        if self.device in _GONE_DEVICE:
            return AgentState.UNAVAILABLE
        if self.in_call or self.device in _BUSY_DEVICE:
            return AgentState.ON_CALL
        if self.paused:
            return AgentState.WRAPUP if self.reason.lower() in wrapup_reasons else AgentState.PAUSED
        wrapup = self.wrapup_seconds or default_wrapup
        if self.last_call and now < self.last_call + wrapup:
            return AgentState.WRAPUP
        return AgentState.AVAILABLE


@dataclass(frozen=True)
class Waiting:
    """A caller waiting in a queue."""

    queue: str
    uniqueid: str
    linkedid: str
    caller: str  # masked: the wallboard hangs where visitors can read it
    joined_at: float
    critical: bool


@dataclass(frozen=True)
class QueueRow:
    queue: SkillQueue
    callers: tuple[Waiting, ...]
    agents: Mapping[AgentState, int]

    def as_json(self, now: float) -> dict[str, Any]:
        waits = [now - c.joined_at for c in self.callers]
        return {
            "name": self.queue.name, "family": self.queue.family, "language": self.queue.language,
            "description": self.queue.description,
            "waiting": len(self.callers),
            "critical_waiting": sum(1 for c in self.callers if c.critical),
            "longest_wait": round(max(waits), 1) if waits else 0,
            "agents": {str(s): self.agents.get(s, 0) for s in AgentState},
            "callers": [
                {"wait": round(now - c.joined_at, 1), "critical": c.critical, "caller": c.caller,
                 "linkedid": c.linkedid}
                for c in self.callers
            ],
        }


@dataclass(frozen=True)
class LanguageRow:
    language: Language
    agents: Mapping[AgentState, int]
    waiting: int

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.language.code, "name_en": self.language.name_en,
            "name_native": self.language.name_native, "waiting": self.waiting,
            "agents": {str(s): self.agents.get(s, 0) for s in AgentState},
        }


@dataclass(frozen=True)
class Board:
    at: float
    queues: tuple[QueueRow, ...]
    languages: tuple[LanguageRow, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "queues": [q.as_json(self.at) for q in self.queues],
            "languages": [lang.as_json() for lang in self.languages],
        }


class LiveQueues:
    """The skill queues' callers and members; `apply(event)` says whether anything changed."""

    def __init__(
        self,
        queues: Sequence[SkillQueue],
        languages: Mapping[str, Language],
        *,
        critical_priority: int,
        default_wrapup: int = 0,
        wrapup_reasons: frozenset[str] = frozenset(),
        clock: Clock = time.time,
    ) -> None:
        self.queues = tuple(queues)
        self.languages = languages
        self.critical_priority = critical_priority
        self.default_wrapup = default_wrapup
        self.wrapup_reasons = frozenset(r.lower() for r in wrapup_reasons)
        self.clock = clock
        self._families = {q.name: q.family for q in self.queues}
        self._members: dict[tuple[str, str], Member] = {}
        self._callers: dict[tuple[str, str], Waiting] = {}
        # Priority the IVR reported per linkedid, remembered until the call joins a queue.
        self._critical_calls: OrderedDict[str, bool] = OrderedDict()

    def apply(self, event: HeaderSource) -> bool:
        handler = _HANDLERS.get(event.name)
        return handler(self, event) if handler else False

    def load(self, events: Iterable[HeaderSource]) -> None:
        """Replace everything with a QueueStatus answer (after a (re)connect nothing is trusted)."""
        self._members.clear()
        self._callers.clear()
        for event in events:
            if event.name in ("QueueMember", "QueueEntry"):
                self.apply(event)

    def board(self) -> Board:
        now = self.clock()
        rows = tuple(self._queue_row(q, now) for q in self.queues)
        return Board(now, rows, tuple(self._language_rows(rows, now)))

    # ------------------------------------------------------------------ events

    def _member_changed(self, event: HeaderSource) -> bool:
        member = Member.from_event(event)
        if member is None or member.queue not in self._families:
            return False
        key = (member.queue, member.interface)
        if self._members.get(key) == member:
            return False
        self._members[key] = member
        return True

    def _member_removed(self, event: HeaderSource) -> bool:
        interface = event.get("Interface") or event.get("Location") or ""
        return self._members.pop((event.get("Queue") or "", interface), None) is not None

    def _caller_joined(self, event: HeaderSource) -> bool:
        queue, uniqueid = event.get("Queue") or "", event.get("Uniqueid") or ""
        if queue not in self._families or not uniqueid:
            return False
        linkedid = event.get("Linkedid") or uniqueid
        wait = float(_int(event.get("Wait")))  # QueueEntry only: seconds already waited
        self._callers[(queue, uniqueid)] = Waiting(
            queue=queue, uniqueid=uniqueid, linkedid=linkedid,
            caller=mask_number(event.get("CallerIDNum") or ""),
            joined_at=self.clock() - wait,
            critical=self._is_critical(queue, linkedid, event),
        )
        return True

    def _caller_left(self, event: HeaderSource) -> bool:
        left = self._callers.pop((event.get("Queue") or "", event.get("Uniqueid") or ""), None)
        if left is not None:
            self._critical_calls.pop(left.linkedid, None)
        return left is not None

    def _ivr_step(self, event: HeaderSource) -> bool:
        step = IvrStep.from_event(event)
        if step is None or step.priority is not Priority.CRITICAL:
            return False
        self._critical_calls[step.linkedid] = True
        while len(self._critical_calls) > _MAX_PENDING_PRIORITIES:
            self._critical_calls.popitem(last=False)
        return self._mark_critical(step.linkedid)

    def _mark_critical(self, linkedid: str) -> bool:
        keys = [k for k, c in self._callers.items() if c.linkedid == linkedid and not c.critical]
        for key in keys:
            self._callers[key] = replace(self._callers[key], critical=True)
        return bool(keys)

    def _is_critical(self, queue: str, linkedid: str, event: HeaderSource) -> bool:
        return (
            self._families[queue] == "critical"
            or linkedid in self._critical_calls
            # QueueEntry's Priority is the queue priority (QUEUE_PRIO); elsewhere it is the
            # dialplan priority, so it only counts on QueueEntry.
            or (
                event.name == "QueueEntry"
                and _int(event.get("Priority")) >= self.critical_priority
            )
        )

    # ------------------------------------------------------------------ board

    def _queue_row(self, queue: SkillQueue, now: float) -> QueueRow:
        callers = sorted(
            (c for c in self._callers.values() if c.queue == queue.name),
            key=lambda c: (not c.critical, c.joined_at),
        )
        counts: dict[AgentState, int] = {}
        for member in self._members.values():
            if member.queue == queue.name:
                state = member.state(now, self.default_wrapup, self.wrapup_reasons)
                counts[state] = counts.get(state, 0) + 1
        return QueueRow(queue, tuple(callers), counts)

    def _language_rows(self, rows: Sequence[QueueRow], now: float) -> Iterable[LanguageRow]:
        queue_language = {q.name: q.language for q in self.queues}
        for code, language in self.languages.items():
            per_agent: dict[str, list[AgentState]] = {}
            for member in self._members.values():
                if queue_language.get(member.queue) == code:
                    per_agent.setdefault(member.agent_id, []).append(
                        member.state(now, self.default_wrapup, self.wrapup_reasons)
                    )
            counts: dict[AgentState, int] = {}
            for states in per_agent.values():
                shown = next(s for s in _PRECEDENCE if s in states)
                counts[shown] = counts.get(shown, 0) + 1
            waiting = sum(len(r.callers) for r in rows if r.queue.language == code)
            yield LanguageRow(language, counts, waiting)


def _int(value: str | None) -> int:
    try:
        return int(float(value)) if value else 0
    except ValueError:
        return 0


_HANDLERS: dict[str, Callable[[LiveQueues, HeaderSource], bool]] = {
    "QueueMember": LiveQueues._member_changed,
    "QueueMemberAdded": LiveQueues._member_changed,
    "QueueMemberStatus": LiveQueues._member_changed,
    "QueueMemberPause": LiveQueues._member_changed,
    "QueueMemberPenalty": LiveQueues._member_changed,
    "QueueMemberRinginuse": LiveQueues._member_changed,
    "QueueMemberRemoved": LiveQueues._member_removed,
    "QueueCallerJoin": LiveQueues._caller_joined,
    "QueueEntry": LiveQueues._caller_joined,
    "QueueCallerLeave": LiveQueues._caller_left,
    "QueueCallerAbandon": LiveQueues._caller_left,
    "UserEvent": LiveQueues._ivr_step,
}
EVENT_NAMES: tuple[str, ...] = tuple(_HANDLERS)
