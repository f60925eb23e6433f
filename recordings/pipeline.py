"""The media room's background loop: discover, archive, queue transcriptions.

It runs when a call that left a file ends (woken through the call bus, after Asterisk has closed
the file), and every few minutes anyway, so nothing the bus did not announce (a call rebuilt by
the reconciler, a pass that failed while the database was down) waits longer than that.

A woken pass looks only at the calls of the last hours for files to register; the pass every
few minutes (and the first) at every call inside the retention period. A pass per ended call
over months of calls was a query over the whole call log for each call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

import structlog

from call_log.bus import CallEnded
from recordings.archive import SETTLE, ArchiveMedia, DiscoverMedia
from recordings.transcription_service import TranscribeMessages

log = structlog.get_logger(__name__)

SCAN_SECONDS: Final = 300.0
# A woken pass registers the files of calls received this recently: longer than any call.
RECENT: Final = timedelta(hours=12)


class MediaLoop:
    def __init__(
        self, discover: DiscoverMedia, archive: ArchiveMedia, transcribe: TranscribeMessages,
        *, scan_seconds: float = SCAN_SECONDS, settle_seconds: float = SETTLE.total_seconds(),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._discover = discover
        self._archive = archive
        self._transcribe = transcribe
        self._scan = scan_seconds
        self._settle = settle_seconds
        self._clock = clock
        self._woken = asyncio.Event()
        # One pass at a time: two passes would both take the same pending file, and the one
        # that finds it already archived and removed would mark it failed.
        self._pass = asyncio.Lock()

    def wake(self) -> None:
        self._woken.set()

    async def on_call_ended(self, event: CallEnded) -> None:
        """Call-bus subscriber: a call that left a recording or a message."""
        if event.call.recording_path or event.call.callback_message:
            self.wake()

    async def run_once(self, *, recent: bool = False) -> None:
        """One pass; `recent`: register only the files of calls received in the last hours."""
        async with self._pass:
            await self._discover.execute(self._clock() - RECENT if recent else None)
            await self._archive.execute()
            await self._transcribe.submit_pending()

    async def run(self) -> None:
        full_due = time.monotonic()  # the first pass looks at every call
        while True:
            full = time.monotonic() >= full_due
            try:
                await self.run_once(recent=not full)
                if full:
                    full_due = time.monotonic() + self._scan
                pause = max(0.0, full_due - time.monotonic())
            except Exception:  # the database may be down: the next pass tries again, whole
                log.exception("media.pass_failed")
                full_due, pause = time.monotonic(), self._scan
            # Each file bound its call's linkedid while it was handled; the pass is over.
            structlog.contextvars.unbind_contextvars("linkedid")
            await self._wait(pause)

    async def _wait(self, seconds: float) -> None:
        """Until a call leaves a file (and Asterisk has closed it), at most `seconds`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), seconds)
        if self._woken.is_set():
            self._woken.clear()
            await asyncio.sleep(self._settle)  # let Asterisk close the file
