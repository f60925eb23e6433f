"""The audit entries of pops, written right after the pop is handed to the hub.

A pop is a view of a case stub and every view is audited (PDPA), but the agent's phone is ringing:
the entry is not written inside the pop's critical path (on SQLite a write transaction can wait
behind the tracker's writes). `PopAudit.viewed` only queues the entry, with the moment the stub
was read; one writer task stores what is queued, several entries per transaction under load.
A write that fails is retried (growing pauses) until it succeeds; at shutdown what still cannot
be written is logged entry by entry (`screen_pop.audit_unwritten`), never dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import structlog

from storage import Database, audit

log = structlog.get_logger(__name__)

RETRY_DELAYS: Final = (0.05, 0.2, 1.0, 5.0)  # then every 5 s, as long as the server runs
BATCH: Final = 200
CLOSE_ATTEMPTS: Final = 3


@dataclass(frozen=True, slots=True)
class View:
    actor: str
    stub_id: str
    at: datetime


class PopAudit:
    def __init__(
        self, db: Database, retry_delays: Sequence[float] = RETRY_DELAYS, batch: int = BATCH
    ) -> None:
        self.db = db
        self.retry_delays = tuple(retry_delays)
        self.batch = batch
        self.written = 0
        self.failures = 0
        self._pending: deque[View] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def pending(self) -> int:
        return len(self._pending)

    def viewed(self, actor: str, stub_id: str, at: datetime) -> None:
        """Queue the audit entry of one view (never waits)."""
        self._pending.append(View(actor, stub_id, at))
        self._idle.clear()
        if self._closing:
            return  # close() writes what is queued
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="screen-pop-audit"
            )
        self._wake.set()

    async def flushed(self) -> None:
        """Wait until every entry queued so far is written (tests, shutdown)."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop the writer (never inside a transaction), then write what is left; log each entry
        that still cannot be written."""
        self._closing = True
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        failed = 0
        while self._pending and failed < CLOSE_ATTEMPTS:
            if await self._write_some():
                continue
            failed += 1
            if failed < CLOSE_ATTEMPTS:
                await asyncio.sleep(self.retry_delays[min(failed - 1, len(self.retry_delays) - 1)])
        while self._pending:
            view = self._pending.popleft()
            log.error("screen_pop.audit_unwritten", actor=view.actor, action="view",
                      subject_type="case_stub", subject_id=view.stub_id, at=view.at.isoformat())
        self._idle.set()

    async def _run(self) -> None:
        failed = 0
        while not self._closing:
            if not self._pending:
                self._idle.set()
                await self._wake.wait()
                self._wake.clear()
                continue
            if await self._write_some():
                failed = 0
                continue
            delay = self.retry_delays[min(failed, len(self.retry_delays) - 1)]
            failed += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def _write_some(self) -> bool:
        """One transaction with up to `batch` queued entries; on failure they stay queued."""
        views = [self._pending[i] for i in range(min(self.batch, len(self._pending)))]
        try:
            async with self.db.session() as session:
                for view in views:
                    await audit.record(session, view.actor, "view", "case_stub", view.stub_id,
                                       at=view.at)
        except Exception as e:  # any failure: the entries stay queued, tried again
            self.failures += 1
            log.warning("screen_pop.audit_retry", entries=len(views), error=repr(e))
            return False
        for _ in views:
            self._pending.popleft()
        self.written += len(views)
        return True
