"""Write-behind of call records: the tracker hands a call's new state over and goes on at once.

A call crosses a dozen milestones and IVR steps; written one by one that was a dozen database
transactions a call, each in the AMI event path (at 40 calls/s, more than SQLite could take, and
every event behind a write waited for it, the screen-pop's AgentCalled included). Here the
changes of a call are merged while they wait, and every call changed in the last moment is
written in one transaction.

Nothing is lost: a batch the database refuses stays pending (merged with anything newer) and is
retried with backoff, and the tracker's failure hook starts the reconciler, which rebuilds calls
from Asterisk's CEL and queue_log; a controller that dies with writes pending is covered the
same way at its next start (the reconciler's watermark).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import structlog

from ami import Backoff
from call_log.record import CallSnapshot, StepEntry

log = structlog.get_logger(__name__)

# Long enough to gather the milestones of many calls in one transaction, short enough that the
# call-log pages and the reports see a call a moment after Asterisk does.
GATHER_SECONDS: Final = 0.05
RETRY: Final = Backoff(initial=0.2, maximum=5.0)


@dataclass(frozen=True, slots=True)
class PendingRecord:
    """A call's row as it now stands, and the change to its steps since it was last written:
    entries from `steps_from` on are replaced by `steps` (seq -> entry)."""

    snapshot: CallSnapshot
    steps_from: int
    steps: Mapping[int, StepEntry] = field(default_factory=dict)

    @classmethod
    def of(
        cls, snapshot: CallSnapshot, steps: Sequence[StepEntry], first_seq: int
    ) -> PendingRecord:
        return cls(snapshot, first_seq, {first_seq + i: s for i, s in enumerate(steps)})

    def then(self, newer: PendingRecord) -> PendingRecord:
        """This write followed by `newer`, as one write: the newer row; of the older steps those
        the newer write did not replace."""
        kept = {seq: s for seq, s in self.steps.items() if seq < newer.steps_from}
        return PendingRecord(
            newer.snapshot, min(self.steps_from, newer.steps_from), {**kept, **newer.steps}
        )


class BatchStore(Protocol):
    async def save_many(self, records: Sequence[PendingRecord]) -> None: ...


@dataclass
class WriterStats:
    batches: int = 0
    records: int = 0
    failures: int = 0
    largest_batch: int = 0


class RecordWriter:
    def __init__(
        self,
        store: BatchStore,
        *,
        gather: float = GATHER_SECONDS,
        retry: Backoff = RETRY,
        on_failure: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._gather = gather
        self._retry = retry
        self._on_failure = on_failure
        self._pending: dict[str, PendingRecord] = {}
        self._writing = asyncio.Lock()  # one batch at a time: a later one never overtakes
        self._in_flight: frozenset[str] = frozenset()
        self._task: asyncio.Task[None] | None = None
        self.stats = WriterStats()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def is_pending(self, linkedid: str) -> bool:
        return linkedid in self._pending

    def put(self, snapshot: CallSnapshot, steps: Sequence[StepEntry], first_seq: int) -> None:
        """Take the call's new state; it is written within `gather` seconds. Never waits."""
        record = PendingRecord.of(snapshot, steps, first_seq)
        older = self._pending.get(snapshot.linkedid)
        self._pending[snapshot.linkedid] = older.then(record) if older else record
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._drain(), name="call-record-writer"
            )

    async def flush(self) -> None:
        """Write everything pending now, and wait for a batch on its way; raises what the
        database raised."""
        await self._write_batch()
        while self._pending:
            await self._write_batch()

    async def flush_call(self, linkedid: str) -> None:
        """Before the call is read back from the database (it may have a write pending)."""
        if linkedid in self._pending or linkedid in self._in_flight:
            await self.flush()

    async def close(self) -> None:
        """Shutdown: a last try at what is pending, then stop the background writer."""
        with contextlib.suppress(Exception):
            await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pending:
            log.warning("call_writer.left_for_reconciler", calls=len(self._pending))

    async def _drain(self) -> None:
        await asyncio.sleep(self._gather)
        failures = 0
        while self._pending:
            try:
                await self._write_batch()
                failures = 0
            except Exception:
                failures += 1
                await asyncio.sleep(self._retry.delay(failures - 1))

    async def _write_batch(self) -> None:
        async with self._writing:
            batch, self._pending = self._pending, {}
            if not batch:
                return
            self._in_flight = frozenset(batch)
            try:
                await self._store.save_many(list(batch.values()))
            except Exception:
                self._keep(batch)
                raise
            finally:
                self._in_flight = frozenset()
        self.stats.batches += 1
        self.stats.records += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))

    def _keep(self, batch: dict[str, PendingRecord]) -> None:
        """A refused batch goes back in front of what came meanwhile."""
        self.stats.failures += 1
        log.exception("call_writer.failed", calls=len(batch), pending=len(self._pending))
        newer, self._pending = self._pending, batch
        for linkedid, record in newer.items():
            older = self._pending.get(linkedid)
            self._pending[linkedid] = older.then(record) if older else record
        if self._on_failure is not None:
            self._on_failure()
