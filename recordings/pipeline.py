"""The media room's background loop: discover, archive, queue transcriptions.

It runs when a call that left a file ends (woken through the call bus, after Asterisk has closed
the file), and every few minutes anyway, so nothing the bus did not announce (a call rebuilt by
the reconciler, a pass that failed while the database was down) waits longer than that.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

import structlog

from call_log.bus import CallEnded
from recordings.archive import SETTLE, ArchiveMedia, DiscoverMedia
from recordings.transcription_service import TranscribeMessages

log = structlog.get_logger(__name__)

SCAN_SECONDS: Final = 300.0


class MediaLoop:
    def __init__(
        self, discover: DiscoverMedia, archive: ArchiveMedia, transcribe: TranscribeMessages,
        *, scan_seconds: float = SCAN_SECONDS, settle_seconds: float = SETTLE.total_seconds(),
    ) -> None:
        self._discover = discover
        self._archive = archive
        self._transcribe = transcribe
        self._scan = scan_seconds
        self._settle = settle_seconds
        self._woken = asyncio.Event()

    def wake(self) -> None:
        self._woken.set()

    async def on_call_ended(self, event: CallEnded) -> None:
        """Call-bus subscriber: a call that left a recording or a message."""
        if event.call.recording_path or event.call.callback_message:
            self.wake()

    async def run_once(self) -> None:
        await self._discover.execute()
        await self._archive.execute()
        await self._transcribe.submit_pending()

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the database may be down: the next pass tries again
                log.exception("media.pass_failed")
            # Each file bound its call's linkedid while it was handled; the pass is over.
            structlog.contextvars.unbind_contextvars("linkedid")
            await self._wait()

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), self._scan)
        if self._woken.is_set():
            self._woken.clear()
            await asyncio.sleep(self._settle)  # let Asterisk close the file
