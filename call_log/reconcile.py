"""Reconciliation: calls the tracker missed (controller down, AMI link lost) rebuilt from
Asterisk's own CEL and queue_log, then stored with idempotent upserts and given their stubs.

Each run reads what Asterisk wrote since the watermarks (a CEL rowid, a queue_log byte offset).
A watermark never passes the first record of a call that was still going on, so when that call
ends the next run sees it whole. Running twice changes nothing: a call already recorded as ended
by the live tracker is left as it is (only its stub is checked), a rebuilt one is rebuilt the
same way, and the stub gets no new revision when its content did not change.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

import structlog
from sqlalchemy import select

from call_log import facts as f
from call_log.asterisk_records import CelReader, CelRow, QueueLogLine, QueueLogReader
from call_log.record import CallRecord, CallSnapshot
from call_log.store import CallStore
from call_log.tracker import CallStubs
from ivr.events import (
    CALLBACK_EVENT,
    IVR_EVENT,
    CallbackOutcome,
    CallbackResult,
    IvrStep,
    parse_payload,
)
from storage import Database

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
# A call that ended this recently may still be getting its last live events: leave it one run.
GRACE: Final = timedelta(seconds=10)
INTERVAL_SECONDS: Final = 120.0
CALLBACK_CONTEXT: Final = "line1300-callback"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CallbackOrigins(Protocol):
    async def linkedids(self, callback_ids: Iterable[str]) -> dict[str, str]:
        """Callback id → linkedid of the call that asked for it."""
        ...


class CallbackTable:
    """Reads the routing room's callbacks table (id → original call's linkedid)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def linkedids(self, callback_ids: Iterable[str]) -> dict[str, str]:
        from agent_routing.tables import CallbackRow

        ids = sorted(set(callback_ids))
        if not ids:
            return {}
        async with self._db.session() as session:
            rows = await session.execute(
                select(CallbackRow.id, CallbackRow.linkedid).where(CallbackRow.id.in_(ids))
            )
            return {str(i): str(linkedid) for i, linkedid in rows.all()}


@dataclass
class AsteriskCall:
    """Everything Asterisk wrote about one call."""

    linkedid: str
    cel: list[CelRow] = field(default_factory=list)
    queue: list[QueueLogLine] = field(default_factory=list)

    @property
    def ended_at(self) -> datetime | None:
        return next((r.at for r in self.cel if r.eventtype == "LINKEDID_END"), None)

    @property
    def first_channel(self) -> CelRow | None:
        return next(
            (r for r in self.cel if r.eventtype == "CHAN_START" and r.uniqueid == self.linkedid),
            None,
        )

    @property
    def is_call(self) -> bool:
        """A caller's call (not one of Asterisk's helper channels), seen from its start."""
        first = self.first_channel
        return first is not None and not f.is_internal(first.channame)

    @property
    def first_cel_rowid(self) -> int | None:
        return min((r.rowid for r in self.cel), default=None)

    @property
    def first_queue_offset(self) -> int | None:
        return min((q.offset for q in self.queue), default=None)

    @property
    def callback_ids(self) -> list[str]:
        return [r.callback_id for r in _callback_results(self)]


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    examined: int
    rebuilt: tuple[str, ...]
    kept: int
    still_live: int
    # Calls that ended less than the grace ago: left for a run soon after, not in 120 s.
    settling: int = 0


class Reconciler:
    """Brings the call log level with Asterisk's own records since the watermarks."""

    def __init__(
        self,
        cel: CelReader,
        queue_log: QueueLogReader,
        store: CallStore,
        stubs: CallStubs,
        callbacks: CallbackOrigins,
        *,
        clock: Clock = _utcnow,
        grace: timedelta = GRACE,
    ) -> None:
        self._cel = cel
        self._queue_log = queue_log
        self._store = store
        self._stubs = stubs
        self._callbacks = callbacks
        self._clock = clock
        self._grace = grace
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    def trigger(self) -> None:
        """Run soon (AMI link back up: events may have been missed meanwhile)."""
        self._wake.set()

    async def run(self, interval: float = INTERVAL_SECONDS) -> None:
        """Background task: reconcile now, then on every trigger and every `interval` s; sooner
        (just after the grace) while calls that just ended wait for it, or after a failure
        (the database was unreachable: the calls it missed are in Asterisk's records)."""
        soon = self._grace.total_seconds() + 1.0
        while True:
            self._wake.clear()
            try:
                wait = soon if (await self.reconcile()).settling else interval
            except Exception:
                log.exception("call_reconcile.failed")
                wait = soon
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def reconcile(self) -> ReconcileReport:
        async with self._lock:
            cel_mark, queue_mark = await self._marks()
            calls, cel_end, queue_end = await self._read_since(cel_mark, queue_mark)
            finished = self._finished(calls)
            related = await self._callbacks.linkedids(
                cid for call in finished for cid in call.callback_ids
            )
            rebuilt = [c.linkedid for c in finished if c.is_call and await self._settle(c, related)]
            await self._advance(calls, finished, cel_end, queue_end)
        report = ReconcileReport(
            len(calls),
            tuple(rebuilt),
            sum(c.is_call for c in finished) - len(rebuilt),
            sum(c.is_call for c in calls) - sum(c.is_call for c in finished),
            sum(c.is_call and c.ended_at is not None for c in calls)
            - sum(c.is_call for c in finished),
        )
        if rebuilt:
            log.info("call_reconcile.rebuilt", calls=len(rebuilt), examined=report.examined)
        return report

    # ------------------------------------------------------------------ steps

    async def _marks(self) -> tuple[int, int]:
        cel_mark = await self._store.watermark(self._cel.source)
        queue_mark = await self._store.watermark(self._queue_log.source)
        # A database or log file that was replaced starts again from the beginning.
        last_rowid = await asyncio.to_thread(self._cel.last_rowid) if self._cel.exists() else 0
        if last_rowid < cel_mark:
            cel_mark = 0
        if queue_mark > self._queue_log.size():
            queue_mark = 0
        return cel_mark, queue_mark

    async def _read_since(
        self, cel_mark: int, queue_mark: int
    ) -> tuple[list[AsteriskCall], int, int]:
        rows = await asyncio.to_thread(self._cel.rows_after, cel_mark) if self._cel.exists() else []
        lines, queue_end = await asyncio.to_thread(self._queue_log.lines_from, queue_mark)
        calls: dict[str, AsteriskCall] = {}
        linkedid_of: dict[str, str] = {}
        for row in rows:
            if row.linkedid:
                calls.setdefault(row.linkedid, AsteriskCall(row.linkedid)).cel.append(row)
                linkedid_of[row.uniqueid] = row.linkedid
        for line in lines:
            linkedid = linkedid_of.get(line.callid, line.callid)
            if line.callid not in ("", "NONE") and linkedid in calls:
                calls[linkedid].queue.append(line)
        cel_end = rows[-1].rowid if rows else cel_mark
        return list(calls.values()), cel_end, queue_end

    def _finished(self, calls: Sequence[AsteriskCall]) -> list[AsteriskCall]:
        now = self._clock()
        return [
            c for c in calls if (ended := c.ended_at) is not None and now - ended >= self._grace
        ]

    async def _settle(self, call: AsteriskCall, related: Mapping[str, str]) -> bool:
        """Make sure the call is recorded and its stub current; True if it was rebuilt."""
        known = await self._store.get(call.linkedid)
        if known is not None and known.ended and known.source != "partial":
            await self._stubs.upsert_from_call(known)  # no new revision unless it was behind
            return False
        record = rebuild(call, related)
        snapshot = _fill_gaps(record.snapshot().with_source("reconcile"), known)
        # Stub first: a crash between the two leaves the call "not ended", so it is redone.
        await self._stubs.upsert_from_call(snapshot)
        await self._store.save(snapshot, record.steps, replace_steps=True)
        if snapshot.related_linkedid:
            attempts = await self._store.count_callback_calls(snapshot.related_linkedid)
            await self._stubs.note_callback_attempt(snapshot, attempts)
        return True

    async def _advance(
        self,
        calls: Sequence[AsteriskCall],
        finished: Sequence[AsteriskCall],
        cel_end: int,
        queue_end: int,
    ) -> None:
        done = {c.linkedid for c in finished}
        pending = [c for c in calls if c.linkedid not in done]
        cel_starts = [r for c in pending if (r := c.first_cel_rowid) is not None]
        queue_starts = [q for c in pending if (q := c.first_queue_offset) is not None]
        await self._store.set_watermark(
            self._cel.source, min(cel_starts) - 1 if cel_starts else cel_end
        )
        await self._store.set_watermark(
            self._queue_log.source, min(queue_starts) if queue_starts else queue_end
        )


def rebuild(call: AsteriskCall, related: Mapping[str, str]) -> CallRecord:
    """The call's record from Asterisk's records, through the same state machine as live."""
    first = call.first_channel
    assert first is not None, "only calls with their first channel are rebuilt"
    record = CallRecord(call.linkedid, received_at=first.at)
    if any(r.context == CALLBACK_CONTEXT for r in call.cel):
        record.line = "callback"
    for fact in sorted(_facts(call), key=lambda x: x.at):
        record.apply(fact)
    for result in _callback_results(call):
        record.related_linkedid = related.get(result.callback_id, record.related_linkedid)
    return record


@dataclass(frozen=True, slots=True)
class _Moments:
    """Precise CEL times that queue_log's whole seconds are matched to."""

    queued: tuple[datetime, ...]
    bridged: tuple[datetime, ...]
    unbridged: tuple[datetime, ...]
    hung_up: tuple[datetime, ...]

    @classmethod
    def of(cls, call: AsteriskCall) -> _Moments:
        def times(match: Callable[[CelRow], bool]) -> tuple[datetime, ...]:
            return tuple(sorted(r.at for r in call.cel if match(r)))

        return cls(
            queued=times(lambda r: r.userdeftype == IVR_EVENT and '"Step: queued' in r.extra),
            bridged=times(lambda r: r.eventtype == "BRIDGE_ENTER"),
            unbridged=times(lambda r: r.eventtype == "BRIDGE_EXIT"),
            hung_up=times(lambda r: r.eventtype == "HANGUP" and r.uniqueid == call.linkedid),
        )


def _facts(call: AsteriskCall) -> list[f.Fact]:
    moments = _Moments.of(call)
    facts: list[f.Fact] = []
    for row in call.cel:
        facts.extend(_cel_facts(row))
    for line in call.queue:
        facts.extend(_queue_facts(line, call.linkedid, moments))
    return facts


def _cel_facts(row: CelRow) -> list[f.Fact]:
    match row.eventtype:
        case "CHAN_START":
            return [
                f.ChannelCreated(
                    row.linkedid,
                    row.uniqueid,
                    row.channame,
                    row.cidnum or None,
                    row.exten or None,
                    row.at,
                )
            ]
        case "CHAN_END":
            return [f.ChannelHungUp(row.linkedid, row.uniqueid, row.channame, None, row.at)]
        case "APP_START" if row.appname.lower() == "voicemail":
            return [f.VoicemailStarted(row.linkedid, row.uniqueid, row.at)]
        case _ if row.userdeftype == IVR_EVENT:
            # Asterisk writes a CELGenUserEvent with its own name as the event type.
            step = IvrStep.from_cel(
                extra=row.extra, linkedid=row.linkedid, uniqueid=row.uniqueid, at=row.at
            )
            return [f.IvrReported(step)] if step is not None else []
        case _ if row.userdeftype == CALLBACK_EVENT:
            result = _callback_result(row)
            return [f.CallbackReported(result)] if result is not None else []
        case "BLINDTRANSFER" | "ATTENDEDTRANSFER":
            kind = "blind" if row.eventtype == "BLINDTRANSFER" else "attended"
            to = parse_payload(row.extra.strip("{}").replace('"', "")).get("extension")
            return [f.Transferred(row.linkedid, kind, row.channame, to, None, row.at)]
    return []


def _queue_facts(line: QueueLogLine, linkedid: str, moments: _Moments) -> list[f.Fact]:
    agent, queue, at = line.agent, line.queue, line.at
    match line.event:
        case "ENTERQUEUE":
            # The IVR reports "queued" just before Queue() starts: the same moment, precisely.
            joined = _precise(at, moments.queued)
            return [f.QueueJoined(linkedid, "", queue, _int(line.field(3)), joined)]
        case "RINGNOANSWER" | "RINGCANCELED":
            rang_at = at - timedelta(milliseconds=_int(line.field(1)) or 0)
            return [
                f.AgentRang(linkedid, agent, "", queue, rang_at),
                f.AgentStoppedRinging(linkedid, agent, queue, at),
            ]
        case "CONNECT":
            answered = _precise(at, moments.bridged)
            ring = _int(line.field(3)) or 0
            return [
                f.AgentRang(linkedid, agent, "", queue, answered - timedelta(seconds=ring)),
                f.AgentAnswered(linkedid, agent, "", queue, _int(line.field(1)), answered),
            ]
        case "ABANDON":
            # No uniqueid: a queue_log line must not count as a sign that a channel is up.
            left = _precise(at, moments.hung_up)
            return [f.QueueAbandoned(linkedid, "", queue, _int(line.field(3)), left)]
        case "EXITWITHTIMEOUT" | "EXITEMPTY" | "EXITWITHKEY":
            return [f.QueueLeft(linkedid, "", queue, at)]
        case "COMPLETECALLER" | "COMPLETEAGENT":
            reason = "caller" if line.event == "COMPLETECALLER" else "agent"
            return [
                f.AgentFinished(
                    linkedid,
                    agent,
                    queue,
                    _int(line.field(2)),
                    reason,
                    _precise(at, moments.unbridged),
                )
            ]
        case "BLINDTRANSFER" | "ATTENDEDTRANSFER":
            return [f.AgentFinished(linkedid, agent, queue, None, "transfer", at)]
    return []


def _precise(at: datetime, candidates: Sequence[datetime]) -> datetime:
    """queue_log has whole seconds; CEL has the same moment with its fraction (the IVR's
    report may also come a few milliseconds before the second turned)."""
    close = [c for c in candidates if at - timedelta(seconds=1) < c < at + timedelta(seconds=1)]
    return min(close, key=lambda c: abs((c - at).total_seconds() - 0.5)) if close else at


def _callback_results(call: AsteriskCall) -> list[CallbackResult]:
    results = (_callback_result(r) for r in call.cel if r.userdeftype == CALLBACK_EVENT)
    return [r for r in results if r is not None]


def _callback_result(row: CelRow) -> CallbackResult | None:
    body = parse_payload(_unwrap(row.extra))
    try:
        outcome = CallbackOutcome((body.get("Result") or "").strip().lower())
    except ValueError:
        return None
    callback_id = (body.get("CallbackId") or "").strip()
    if not callback_id:
        return None
    return CallbackResult(
        callback_id, outcome, row.linkedid, row.uniqueid, body.get("DialStatus"), row.at
    )


def _unwrap(extra: str) -> str:
    try:
        decoded = json.loads(extra)
    except ValueError:
        return extra
    return str(decoded.get("extra", extra)) if isinstance(decoded, dict) else extra


def _fill_gaps(rebuilt: CallSnapshot, known: CallSnapshot | None) -> CallSnapshot:
    """Facts only the live tracker saw (hold time, ringing agents) are kept from its record."""
    if known is None:
        return rebuilt
    empty: tuple[object, ...] = (None, (), 0.0)
    missing = {
        fd.name: getattr(known, fd.name)
        for fd in fields(rebuilt)
        if getattr(rebuilt, fd.name) in empty and getattr(known, fd.name) not in empty
    }
    return replace(rebuilt, **missing)


def _int(text: str) -> int | None:
    try:
        return int(float(text))
    except ValueError:
        return None
