"""The caller's context on a screen-pop (previous contacts and active flags), read once per call
as soon as the call arrives: seconds of IVR later, when an agent's phone rings, the pop is built
from memory and does not wait for the database.

The pop at answer time is read from the database again (screen_pop.build), so a flag set or a
contact closed while this call was in the IVR shows from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from typing import Final

import structlog

from caller_flags.store import FlagStore
from screen_pop.build import PREVIOUS_LIMIT, CallerContext, StubViews, read_caller_context
from storage import Database

log = structlog.get_logger(__name__)

# Calls whose context is kept: far more than can be live at once (a call's context is dropped
# when it ends); the bound only matters if ends were missed (a lost AMI link).
KEEP_CALLS: Final = 5_000


class CallerContexts:
    def __init__(
        self, stubs: StubViews, flags: FlagStore, db: Database,
        previous_limit: int = PREVIOUS_LIMIT, keep: int = KEEP_CALLS,
    ) -> None:
        self._stubs = stubs
        self._flags = flags
        self._db = db
        self._previous_limit = previous_limit
        self._keep = keep
        self._calls: OrderedDict[str, tuple[str | None, asyncio.Task[CallerContext]]] = (
            OrderedDict()
        )
        self._reading: set[asyncio.Task[CallerContext]] = set()  # held until done

    def prefetch(self, linkedid: str, stub_id: str, number: str | None) -> None:
        """Start reading the context of a call that just arrived; never waits."""
        if linkedid in self._calls:
            return
        task = asyncio.get_running_loop().create_task(
            self._read(number, stub_id), name=f"caller-context:{linkedid}"
        )
        self._calls[linkedid] = (number, task)
        self._reading.add(task)
        task.add_done_callback(self._read_done)
        while len(self._calls) > self._keep:
            self._calls.popitem(last=False)

    async def for_call(self, linkedid: str, stub_id: str, number: str | None) -> CallerContext:
        """The context read at the call's arrival (waiting for it if still under way), or read
        now: the controller started mid-call, or the number is not the one first seen."""
        known = self._calls.get(linkedid)
        if known is not None and known[0] == number:
            with contextlib.suppress(Exception):
                return await asyncio.shield(known[1])
        try:
            return await self._read(number, stub_id)
        except Exception:
            # The pop still goes out (the call's own details are in memory); the pop at answer
            # reads the context again.
            log.warning("screen_pop.context_unavailable", exc_info=True)
            return CallerContext(number)

    def _read_done(self, task: asyncio.Task[CallerContext]) -> None:
        self._reading.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("screen_pop.context_prefetch_failed", error=str(task.exception()))

    def forget(self, linkedid: str) -> None:
        self._calls.pop(linkedid, None)

    async def close(self) -> None:
        self._calls.clear()
        reading, self._reading = set(self._reading), set()
        for task in reading:
            task.cancel()
        await asyncio.gather(*reading, return_exceptions=True)

    async def _read(self, number: str | None, stub_id: str) -> CallerContext:
        if not number:
            return CallerContext(number)
        async with self._db.session() as session:
            return await read_caller_context(
                session, self._stubs, self._flags, number,
                exclude=stub_id, limit=self._previous_limit,
            )
