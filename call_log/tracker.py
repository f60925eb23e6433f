"""The call tracker: AMI events in, one call record per linkedid out, milestones on the bus.

For each event: parse the fact, find the call's record, apply the fact, publish what it crossed
(a call's arrival and an agent's ring at once, from memory: the screen-pop goes out before any
database write), hand the record to the write-behind writer (call_log.writer: many calls a
transaction), keep the call's stub current (created when the call enters a queue or ends, updated
at answer and end), and publish the milestones that need the stub (queued, answered, ended) on
the call's lane after its stub writes.

A controller restarted mid-call takes calls up again from the database, learns which channels
are still up from Asterisk (CoreShowChannels), and marks such records "partial": the reconciler
completes them from Asterisk's CEL and queue_log once they end.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Final, Protocol

import structlog

from ami import AmiLink, Event, LinkState, StateChange
from call_log import bus as b
from call_log.facts import (
    EVENT_NAMES,
    ChannelCreated,
    Fact,
    MemberSeen,
    channel_variables,
    parse_fact,
)
from call_log.record import CallRecord, CallSnapshot, Crossed, Milestone
from call_log.store import CallStore
from call_log.stub_lanes import StubLanes
from call_log.writer import RecordWriter
from controller.logs import bind_call

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
# How long an ended call stays in memory to take late events (the agent leg's Hangup, a
# survey step) before they must be looked up in the database.
LINGER: Final = timedelta(minutes=2)
COMPLETE_MEMORY: Final = 10_000
FRESH_START: Final = timedelta(seconds=60)
STUB_MILESTONES: Final = frozenset(
    {
        Milestone.QUEUED,
        Milestone.ANSWERED,
        Milestone.ENDED,
        Milestone.CALLBACK_RESULT,
    }
)


class CallStubs(Protocol):
    """What the tracker needs from the case-stub service."""

    async def upsert_from_call(self, call: CallSnapshot) -> object: ...

    async def note_callback_attempt(self, callback_call: CallSnapshot, attempts: int) -> object: ...


class AgentLookup(Protocol):
    async def by_endpoint(self, endpoint: str) -> str | None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Live:
    record: CallRecord
    stubbed: bool = False
    ended_seen_at: datetime | None = None


@dataclass
class TrackerStats:
    events: int = 0
    calls_started: int = 0
    calls_ended: int = 0
    errors: int = 0
    last_pop_latency_ms: float | None = None


class CallTracker:
    """Keeps one record per call from the AMI event stream."""

    def __init__(
        self,
        store: CallStore,
        stubs: CallStubs,
        bus: b.CallBus,
        agents: AgentLookup,
        *,
        clock: Clock = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        writer: RecordWriter | None = None,
    ) -> None:
        self._store = store
        self.writer = writer or RecordWriter(store, on_failure=self._write_failed)
        self.stub_lanes = StubLanes(on_failure=self._write_failed)
        self._stubs = stubs
        self._bus = bus
        self._agents = agents
        self._clock = clock
        self._monotonic = monotonic
        self._live: dict[str, _Live] = {}
        self._complete: dict[str, None] = {}  # insertion-ordered set, oldest dropped first
        self._ended: deque[tuple[datetime, str]] = deque()  # (seen ended at, linkedid), in order
        self.stats = TrackerStats()
        # Told when an event could not be recorded (the database was unreachable...): the
        # reconciler then rebuilds the call from Asterisk's records, instead of at its next pass.
        self.on_failure: Callable[[], None] | None = None

    def _write_failed(self) -> None:
        self.stats.errors += 1
        if self.on_failure is not None:
            self.on_failure()

    async def flush(self) -> None:
        """Every record and stub change so far is in the database when this returns."""
        await self.stub_lanes.drain()
        await self.writer.flush()

    async def close(self) -> None:
        await self.stub_lanes.close()
        await self.writer.close()

    def attach(self, link: AmiLink) -> None:
        link.subscribe(self.on_event, *EVENT_NAMES)
        link.on_state(self._state_handler(link))

    @property
    def live_calls(self) -> list[CallSnapshot]:
        return [c.record.snapshot() for c in self._live.values() if c.record.ended_at is None]

    async def on_event(self, event: Event) -> None:
        fact = parse_fact(event, self._clock)
        if fact is None or isinstance(fact, MemberSeen):
            return
        self.stats.events += 1
        bind_call(fact.linkedid)
        try:
            await self.handle(
                fact, received_at=event.received_at or None, variables=channel_variables(event)
            )
        except Exception:
            self.stats.errors += 1
            log.exception("call_tracker.failed", ami_event=event.name)
            if self.on_failure is not None:
                self.on_failure()

    async def handle(
        self,
        fact: Fact,
        *,
        received_at: float | None = None,
        variables: tuple[tuple[str, str], ...] = (),
    ) -> CallSnapshot | None:
        """Take one fact, and the call variables its event carried: record, publish, save,
        stubs. Returns the call as it now stands (None for a call that was already recorded
        complete: a replayed stream)."""
        live = await self._live_call(fact)
        if live is None:
            return None
        first_new_step = len(live.record.steps)
        live.record.take_variables(variables)
        crossed = live.record.apply(fact)
        await self._name_callback_agent(live.record)
        snapshot = live.record.snapshot()
        self._publish_now(crossed, snapshot, received_at)
        if crossed or len(live.record.steps) > first_new_step:
            self.writer.put(snapshot, live.record.steps[first_new_step:], first_new_step)
        self._keep_stubs(live, crossed, snapshot)
        self._publish_after_stub(crossed, snapshot)
        self._forget_old(live, crossed)
        return snapshot

    # ------------------------------------------------------------------ steps

    async def _live_call(self, fact: Fact) -> _Live | None:
        live = self._live.get(fact.linkedid)
        if live is not None:
            return live
        if fact.linkedid in self._complete:
            return None
        starts = isinstance(fact, ChannelCreated) and fact.starts_call
        known = None if starts and self._just_now(fact.at) else await self._stored(fact.linkedid)
        if known is not None and known.ended and starts:
            # The whole call again (a second controller's replay, a re-sent stream): it is
            # recorded already, and going through it again would only rewind the record.
            self._remember_complete(fact.linkedid)
            return None
        record = await self._record_for(fact, known, starts)
        live = _Live(record, stubbed=record.partial and record.queued_at is not None)
        if record.ended_at is not None:  # a late event of an ended call: linger, then go
            live.ended_seen_at = self._clock()
            self._ended.append((live.ended_seen_at, fact.linkedid))
        self._live[fact.linkedid] = live
        return live

    async def _record_for(self, fact: Fact, known: CallSnapshot | None, starts: bool) -> CallRecord:
        if known is not None:
            record = CallRecord.resume(known, await self._store.steps(fact.linkedid))
            # Taken up after a restart it may have missed events; ended, it is as complete as
            # its source said.
            record.partial = not known.ended or known.source == "partial"
            return record
        if starts:
            self.stats.calls_started += 1
            return CallRecord(fact.linkedid, received_at=fact.at)
        log.info("call_tracker.joined_mid_call")
        return CallRecord(fact.linkedid, received_at=fact.at, partial=True)

    def _just_now(self, at: datetime) -> bool:
        """A channel Asterisk created a moment ago starts a call nobody has recorded yet: no
        database read on the event path (one per call, each waiting for a pooled connection
        behind the stub and pop work, held the whole tracker up under load). An older start is
        a replayed stream, looked up so that a recorded call is not gone through again."""
        return abs(self._clock() - at) <= FRESH_START

    async def _stored(self, linkedid: str) -> CallSnapshot | None:
        await self.writer.flush_call(linkedid)
        return await self._store.get(linkedid)

    async def _resume(self, linkedid: str, at: datetime) -> CallRecord:
        known = await self._stored(linkedid)
        if known is None:
            return CallRecord(linkedid, received_at=at, partial=True)
        return CallRecord.resume(known, await self._store.steps(linkedid))

    def _remember_complete(self, linkedid: str) -> None:
        if len(self._complete) >= COMPLETE_MEMORY:
            self._complete.pop(next(iter(self._complete)))
        self._complete[linkedid] = None

    async def _name_callback_agent(self, record: CallRecord) -> None:
        if record.needs_callback_agent() and record.origin_endpoint:
            record.agent_id = await self._agents.by_endpoint(record.origin_endpoint)

    def _publish_now(
        self, crossed: list[Crossed], snapshot: CallSnapshot, received_at: float | None
    ) -> None:
        """Arrival and rings, straight from the record in memory: nothing on their way waits
        for the database (the screen-pop is built from the call and the caller's context)."""
        for step in crossed:
            event = _immediate_event(step, snapshot)
            if event is None:
                continue
            self._bus.publish(event)
            if received_at is not None and isinstance(event, b.AgentRinging):
                self.stats.last_pop_latency_ms = (self._monotonic() - received_at) * 1000

    def _publish_after_stub(self, crossed: list[Crossed], snapshot: CallSnapshot) -> None:
        """On the call's lane, after its stub writes so far: whoever hears these (the screen-pop's
        full view, the flag stamp) finds the call's stub stored."""
        for step in crossed:
            event = _after_stub_event(step, snapshot)
            if event is not None:
                self.stub_lanes.put(snapshot.linkedid, partial(self._announce, event))

    async def _announce(self, event: b.BusEvent) -> None:
        self._bus.publish(event)

    def _keep_stubs(self, live: _Live, crossed: list[Crossed], snapshot: CallSnapshot) -> None:
        milestones = {c.milestone for c in crossed}
        if Milestone.RINGING in milestones and not live.stubbed:
            milestones.add(Milestone.QUEUED)  # joined mid-call: the agent's contact needs a stub
        if not milestones & STUB_MILESTONES:
            return
        if Milestone.CALLBACK_RESULT in milestones and snapshot.answered_at is None:
            milestones.discard(Milestone.CALLBACK_RESULT)  # a failed callback: stub at its end
            if not milestones & STUB_MILESTONES:
                return
        self._stub(snapshot)
        live.stubbed = True
        if Milestone.ENDED in milestones and snapshot.related_linkedid:
            self.stub_lanes.put(snapshot.linkedid, partial(self._note_attempt, snapshot))

    def _stub(self, call: CallSnapshot) -> None:
        self.stub_lanes.put(call.linkedid, partial(self._stubs.upsert_from_call, call))

    async def _note_attempt(self, callback_call: CallSnapshot) -> None:
        """A callback call ended: its contact's stub counts the attempts so far."""
        assert callback_call.related_linkedid is not None
        await self.writer.flush()  # this call is one of those counted
        attempts = await self._store.count_callback_calls(callback_call.related_linkedid)
        await self._stubs.note_callback_attempt(callback_call, attempts)

    def _forget_old(self, live: _Live, crossed: list[Crossed]) -> None:
        now = self._clock()
        if any(c.milestone is Milestone.ENDED for c in crossed):
            self.stats.calls_ended += 1
            live.ended_seen_at = now
            self._ended.append((now, live.record.linkedid))
            if live.record.partial:
                # The reconciler will complete it from CEL; late events must read that version.
                self._live.pop(live.record.linkedid, None)
        # Oldest end first: a look at the front, not a pass over every call on each event.
        while self._ended and now - self._ended[0][0] > LINGER:
            _, linkedid = self._ended.popleft()
            other = self._live.get(linkedid)
            if other is not None and other.ended_seen_at is not None and (
                now - other.ended_seen_at > LINGER
            ):
                del self._live[linkedid]

    # ------------------------------------------------------------- link state

    def _state_handler(self, link: AmiLink) -> Callable[[StateChange], Awaitable[None]]:
        async def on_state(change: StateChange) -> None:
            if change.state is LinkState.CONNECTED:
                await self.sync_live_channels(link)

        return on_state

    async def sync_live_channels(self, link: AmiLink) -> None:
        """After (re)connecting: which channels are up now, and so which calls are still live."""
        answer = await link.send({"Action": "CoreShowChannels"})
        up: dict[str, set[str]] = {}
        for item in answer.events:
            linkedid, uniqueid = item.get("Linkedid") or "", item.get("Uniqueid") or ""
            if linkedid and uniqueid:
                up.setdefault(linkedid, set()).add(uniqueid)
        for linkedid in [k for k, v in self._live.items() if v.record.ended_at is None]:
            if linkedid not in up:
                # Ended while we were away: the reconciler has the facts, not us.
                self._live.pop(linkedid)
        for linkedid, channels in up.items():
            live = self._live.get(linkedid) or await self._take_up(linkedid)
            live.record.channels |= channels
        log.info("call_tracker.synced", live_calls=len(up))

    async def _take_up(self, linkedid: str) -> _Live:
        record = await self._resume(linkedid, self._clock())
        record.partial = True
        live = _Live(record, stubbed=record.queued_at is not None)
        self._live[linkedid] = live
        return live


def _immediate_event(step: Crossed, call: CallSnapshot) -> b.BusEvent | None:
    match step.milestone:
        case Milestone.STARTED:
            return b.CallArrived(call.linkedid, call.stub_id, call.caller_number, step.at)
        case Milestone.RINGING if step.agent_id:
            return b.AgentRinging(step.agent_id, call.linkedid, call.stub_id, step.at, call)
        case Milestone.RING_ENDED if step.agent_id:
            return b.AgentRingEnded(
                step.agent_id, call.linkedid, call.stub_id, step.at, step.reason or "no_answer"
            )
    return None


def _after_stub_event(step: Crossed, call: CallSnapshot) -> b.BusEvent | None:
    match step.milestone:
        case Milestone.QUEUED:
            return b.CallQueued(call.linkedid, call.stub_id, step.at, call)
        case Milestone.ANSWERED if step.agent_id:
            return b.AgentAnswered(step.agent_id, call.linkedid, call.stub_id, step.at, call)
        case Milestone.ENDED:
            return b.CallEnded(call.linkedid, call.stub_id, call.disposition, step.at, call)
    return None
