"""Callbacks: requests recorded by the IVR are placed when an agent who speaks the caller's
language is free. The controller rings the agent first (AMI Originate of the agent's phone into
the dialplan's `line1300-callback` context), and the dialplan then dials the caller and reports
the result. A caller who does not answer is tried again after `callback_retry_minutes`, up to
`callback_max_attempts` times; every attempt and its result is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from agent_routing.apply import QueuePort
from agent_routing.call_logs import about_call
from agent_routing.callback_store import (
    ANSWERED,
    CANCELLED,
    UNANSWERED,
    WAITING,
    Callback,
    CallbackStore,
    NewCallback,
)
from agent_routing.presence import Situation, members
from agent_routing.situations import SituationReader
from agent_routing.skills import RoutingDefinition
from ami import AmiError
from ivr.events import CallbackResult, IvrStep, Step
from privacy import mask_number
from shift_schedule.clock import Clock
from shift_schedule.model import RosterError
from storage import Database, audit

log = structlog.get_logger(__name__)
CALLBACK_CONTEXT = "line1300-callback"
ACTION_PREFIX = "l1300cb"
# An agent who let the callback ring out is not rung again for it at once.
AGENT_RETRY = timedelta(seconds=60)
# No result this long after the Originate: the attempt is written off (controller restart).
ATTEMPT_LOST_AFTER = timedelta(minutes=15)
IDLE_DEVICE = 1  # Asterisk AST_DEVICE_NOT_INUSE
# OriginateResponse "Reason": the last control frame of the agent's leg (AST_CONTROL_*).
AGENT_LEG_REASONS = {"0": "failed", "1": "hung_up", "3": "no_answer", "5": "busy",
                     "8": "congestion"}


class Originator(Protocol):
    async def originate(self, action_id: str, headers: Mapping[str, str | Sequence[str]]) -> bool:
        """True when Asterisk accepted the Originate (queued; the result comes as an event)."""
        ...


@dataclass(frozen=True)
class CallbackPolicy:
    max_attempts: int
    retry: timedelta
    agent_ring_seconds: int


@dataclass(frozen=True)
class Placement:
    callback: Callback
    agent_id: str
    attempt_id: int


@dataclass(frozen=True)
class NextStep:
    """Where a callback goes after a caller-leg result."""

    status: str
    attempts: int
    next_attempt_at: datetime | None = None
    finished_at: datetime | None = None


class RecordCallbackRequest:
    """Stores the callback asked for at IVR step `callback_requested` (once per call)."""

    def __init__(
        self, db: Database, clock: Clock, default_language: str, kick: Callable[[], None],
    ) -> None:
        self._db = db
        self._clock = clock
        self._default_language = default_language
        self._kick = kick

    async def handle(self, step: IvrStep) -> Callback | None:
        if step.step is not Step.CALLBACK_REQUESTED or not step.callback_number:
            return None
        async with self._db.session() as session:
            callback, created = await CallbackStore(session).add(self._request(step))
        if created:
            with about_call(step.linkedid):
                log.info("callback.requested", callback_id=callback.id,
                         language=callback.language, number=mask_number(callback.number))
            self._kick()
        return callback

    def _request(self, step: IvrStep) -> NewCallback:
        return NewCallback(
            linkedid=step.linkedid, line=str(step.line) if step.line else "domestic",
            language=step.lang or self._default_language, number=step.callback_number or "",
            message=step.message, requested_at=step.at, due_at=self._clock.now(),
        )


class PlaceCallbacks:
    """Pairs due callbacks with free agents who speak the language, and rings those agents."""

    def __init__(
        self, db: Database, reader: SituationReader, queues: QueuePort, originator: Originator,
        definition: RoutingDefinition, policy: CallbackPolicy,
    ) -> None:
        self._db = db
        self._reader = reader
        self._queues = queues
        self._originator = originator
        self._definition = definition
        self._policy = policy
        self._lock = asyncio.Lock()

    async def execute(self) -> list[Placement]:
        async with self._lock:
            now = self._reader.clock.now()
            await self._write_off_lost_attempts(now)
            due = await self._due(now)
            if not due:
                return []
            free = await self._free_agents()
            pairs = self._match(due, free)
            placed = [await self._place(callback, agent, now) for callback, agent in pairs]
            return [p for p in placed if p is not None]

    async def _write_off_lost_attempts(self, now: datetime) -> None:
        async with self._db.session() as session:
            store = CallbackStore(session)
            for callback_id, attempt_id in await store.stale_attempts(now - ATTEMPT_LOST_AFTER):
                await store.end_attempt(attempt_id, "lost", now)
                await store.update(callback_id, status=WAITING, next_attempt_at=now)

    async def _due(self, now: datetime) -> list[Callback]:
        async with self._db.session() as session:
            return await CallbackStore(session).due(now)

    async def _free_agents(self) -> list[Situation]:
        """On shift, logged in, not paused, phone idle, not already on a callback."""
        standing = await self._reader.read()
        async with self._db.session() as session:
            busy = await CallbackStore(session).agents_busy_with_callbacks()
        statuses: dict[str, set[int]] = {}
        for m in await self._queues.members():
            statuses.setdefault(m.spec.member_name, set()).add(m.status if not m.in_call else -1)
        return [
            s for s in members(standing.agents)
            if s.pause_reason is None and s.agent.id not in busy
            and statuses.get(s.agent.id) == {IDLE_DEVICE}
        ]

    def _match(
        self, due: list[Callback], free: list[Situation],
    ) -> list[tuple[Callback, Situation]]:
        pairs: list[tuple[Callback, Situation]] = []
        available = list(free)
        for callback in due:
            speakers = [s for s in available if callback.language in s.agent.languages]
            if not speakers:
                continue
            best = min(speakers, key=lambda s: (self._rank(s, callback.language), s.agent.id))
            available.remove(best)
            pairs.append((callback, best))
        return pairs

    def _rank(self, situation: Situation, language: str) -> int:
        # The agent the caller's language queue would ring first (lowest penalty) calls back.
        penalties = [
            p for q in self._definition.queues if q.language == language
            if (p := q.penalty_for(situation.agent.skills, situation.agent.languages)) is not None
        ]
        return min(penalties, default=99)

    async def _place(self, callback: Callback, agent: Situation, now: datetime) -> Placement | None:
        with about_call(callback.linkedid):
            return await self._place_call(callback, agent, now)

    async def _place_call(
        self, callback: Callback, agent: Situation, now: datetime,
    ) -> Placement | None:
        async with self._db.session() as session:
            store = CallbackStore(session)
            attempt_id = await store.start_attempt(callback.id, agent.agent.id, now)
        if attempt_id is None:
            return None  # another controller is placing it
        action_id = f"{ACTION_PREFIX}-{callback.id}-{attempt_id}"
        accepted = await self._originate(action_id, callback, agent)
        if not accepted:
            await self._agent_leg_failed(callback.id, attempt_id, "originate_failed", now)
            return None
        log.info("callback.placing", callback_id=callback.id, agent_id=agent.agent.id,
                 attempt=callback.attempts + 1)
        return Placement(callback, agent.agent.id, attempt_id)

    async def _originate(self, action_id: str, callback: Callback, agent: Situation) -> bool:
        try:
            return await self._originator.originate(action_id, self._headers(callback, agent))
        except AmiError as exc:
            log.warning("callback.originate_error", callback_id=callback.id, error=str(exc))
            return False

    def _headers(self, callback: Callback, agent: Situation) -> dict[str, str | Sequence[str]]:
        return {
            "Channel": agent.agent.interface, "Context": CALLBACK_CONTEXT, "Exten": "s",
            "Priority": "1", "Timeout": str(self._policy.agent_ring_seconds * 1000),
            "CallerID": f'"Callback {callback.language}" <1300>', "Async": "true",
            "Variable": [
                f"L1300_CALLBACK_ID={callback.id}", f"L1300_CALLBACK_NUMBER={callback.number}",
                f"L1300_LANG={callback.language}", "L1300_LINE=callback",
                f"L1300_RELATED_LINKEDID={callback.linkedid}",
            ],
        }

    async def _agent_leg_failed(
        self, callback_id: str, attempt_id: int, result: str, now: datetime,
    ) -> None:
        async with self._db.session() as session:
            store = CallbackStore(session)
            await store.end_attempt(attempt_id, result, now)
            await store.update(callback_id, status=WAITING, next_attempt_at=now + AGENT_RETRY)


class RecordCallbackResult:
    """Ends an attempt: from the dialplan's Line1300Callback event (the caller's leg), or from an
    OriginateResponse failure (the agent did not answer, so the caller was never dialled)."""

    def __init__(self, db: Database, reader: SituationReader, policy: CallbackPolicy,
                 kick: Callable[[], None]) -> None:
        self._db = db
        self._clock = reader.clock
        self._policy = policy
        self._kick = kick

    async def caller_result(self, result: CallbackResult) -> Callback | None:
        now = self._clock.now()
        async with self._db.session() as session:
            store = CallbackStore(session)
            callback = await store.get(result.callback_id)
            if callback is None:
                log.warning("callback.result_unknown", callback_id=result.callback_id)
                return None
            attempt = await store.open_attempt(callback.id)
            if attempt is not None:
                await store.end_attempt(attempt.id, str(result.result), now)
            step = self._next(callback, str(result.result), now)
            updated = await store.update(callback.id, status=step.status, attempts=step.attempts,
                                         next_attempt_at=step.next_attempt_at,
                                         finished_at=step.finished_at)
        with about_call(callback.linkedid):
            log.info("callback.result", callback_id=callback.id, result=str(result.result),
                     attempts=updated.attempts, status=updated.status)
        self._kick()
        return updated

    async def agent_leg_failed(self, action_id: str, reason: str) -> None:
        parsed = _parse_action_id(action_id)
        if parsed is None:
            return
        callback_id, attempt_id = parsed
        now = self._clock.now()
        async with self._db.session() as session:
            store = CallbackStore(session)
            await store.end_attempt(attempt_id, f"agent_{AGENT_LEG_REASONS.get(reason, reason)}",
                                    now)
            await store.update(callback_id, status=WAITING, next_attempt_at=now + AGENT_RETRY)
        log.info("callback.agent_no_answer", callback_id=callback_id, reason=reason)
        self._kick()

    def _next(self, callback: Callback, result: str, now: datetime) -> NextStep:
        attempts = callback.attempts + 1
        if result == "answered":
            return NextStep(ANSWERED, attempts, finished_at=now)
        if attempts >= self._policy.max_attempts:
            return NextStep(UNANSWERED, attempts, finished_at=now)
        return NextStep(WAITING, attempts, next_attempt_at=now + self._policy.retry)


class CallbackScheduler:
    """Runs PlaceCallbacks when kicked (a request, a result, an agent free or logging in, an AMI
    reconnect) and when the next retry falls due."""

    def __init__(self, place: PlaceCallbacks, db: Database, reader: SituationReader,
                 idle_check: float = 30.0) -> None:
        self._place = place
        self._db = db
        self._clock = reader.clock
        self._idle_check = idle_check
        self._kick = asyncio.Event()

    def kick(self) -> None:
        self._kick.set()

    async def run(self) -> None:
        while True:
            self._kick.clear()
            await self._sleep(await self._cycle())

    async def _cycle(self) -> float:
        """One placing round; the seconds until the next one is due."""
        try:
            await self._place.execute()
            return await self._timeout()
        except Exception:
            # Callbacks are someone waiting for help: the loop outlives any one failure.
            log.exception("callback.placing_crashed")
            return self._idle_check

    async def _timeout(self) -> float:
        async with self._db.session() as session:
            due = await CallbackStore(session).next_due_at()
        if due is None:
            return self._idle_check
        seconds = (due - self._clock.now()).total_seconds()
        # Already due means waiting for a free agent: a kick says when one is.
        return self._idle_check if seconds <= 0 else min(self._idle_check, seconds)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._kick.wait()


def _parse_action_id(action_id: str) -> tuple[str, int] | None:
    if not action_id.startswith(ACTION_PREFIX + "-"):
        return None
    body = action_id.removeprefix(ACTION_PREFIX + "-")
    callback_id, _, attempt = body.rpartition("-")
    return (callback_id, int(attempt)) if attempt.isdigit() and callback_id else None


class CancelCallback:
    """A supervisor closes a waiting callback (the caller called again, or it was a test call)."""

    def __init__(self, db: Database, reader: SituationReader) -> None:
        self._db = db
        self._clock = reader.clock

    async def execute(self, actor: str, callback_id: str) -> Callback:
        async with self._db.session() as session:
            store = CallbackStore(session)
            callback = await store.get(callback_id)
            if callback is None:
                raise RosterError("unknown callback", status=404, callback_id=callback_id)
            if callback.status != WAITING:
                raise RosterError("only a waiting callback can be cancelled", status=409,
                                  callback_id=callback_id, status_now=callback.status)
            cancelled = await store.update(callback_id, status=CANCELLED,
                                           finished_at=self._clock.now())
            await audit.record(session, actor, "callback.cancelled", "callback", callback_id,
                               before={"status": callback.status}, after={"status": CANCELLED})
        return cancelled
