"""Each call's stub changes, and the bus events that follow them, on a lane of the call's own:
the tracker hands them over and goes on.

A stub change is a few statements and a commit (row, revision, outbox, audit). Awaited in the
tracker, every AMI event of every call waited behind the stub writes of all calls before it: at
30 calls/s on PostgreSQL the tracker fell seconds behind, and an agent's screen-pop with it.
On lanes, one call's changes stay in order (revisions follow the call), calls don't wait for
each other, and a call's milestone reaches the bus after the stub writes before it (as when they
were awaited), so the screen-pop waits only for its own call's stub.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)

Job = Callable[[], Awaitable[object]]


class StubLanes:
    def __init__(self, on_failure: Callable[[], None] | None = None) -> None:
        self._on_failure = on_failure
        self._tails: dict[str, asyncio.Task[None]] = {}

    @property
    def busy(self) -> int:
        return len(self._tails)

    def put(self, linkedid: str, job: Job) -> None:
        """Run `job` after the call's earlier jobs; never waits."""
        previous = self._tails.get(linkedid)
        task = asyncio.get_running_loop().create_task(
            self._after(previous, job), name=f"stub-lane:{linkedid}"
        )
        self._tails[linkedid] = task
        task.add_done_callback(lambda done: self._forget(linkedid, done))

    async def drain(self) -> None:
        while self._tails:
            await asyncio.wait(set(self._tails.values()))

    async def close(self, timeout: float = 5.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), timeout)
        for task in list(self._tails.values()):
            task.cancel()
        if self._tails:
            # The reconciler brings these stubs level from Asterisk's records at the next start.
            log.warning("stub_lanes.left_for_reconciler", calls=len(self._tails))

    async def _after(self, previous: asyncio.Task[None] | None, job: Job) -> None:
        if previous is not None:
            await asyncio.wait({previous})
        try:
            await job()
        except Exception:
            log.exception("stub_lanes.failed")
            if self._on_failure is not None:
                self._on_failure()

    def _forget(self, linkedid: str, done: asyncio.Task[None]) -> None:
        if self._tails.get(linkedid) is done:
            del self._tails[linkedid]
