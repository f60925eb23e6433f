"""The daily purge, at the configured local time ([retention] purge_time).

With several controllers on one database, only the one holding the purge's duty lease
(`may_act`) purges; the others skip that day's run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

import structlog

from retention.purge import PurgeExpired

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


class PurgeLoop:
    """Runs the purge once a day at `at` (the centre's local time)."""

    def __init__(
        self, purge: PurgeExpired, at: time, tz: tzinfo, clock: Clock,
        sleep: Callable[[float], Any] = asyncio.sleep,
        may_act: Callable[[], bool] = lambda: True,
    ) -> None:
        self._purge = purge
        self._at = at
        self._tz = tz
        self._clock = clock
        self._sleep = sleep
        self._may_act = may_act

    def next_run(self, now: datetime) -> datetime:
        local = now.astimezone(self._tz)
        run = datetime.combine(local.date(), self._at, self._tz)
        if run <= local:
            run = datetime.combine(local.date() + timedelta(days=1), self._at, self._tz)
        return run.astimezone(UTC)

    async def run(self) -> None:
        while True:
            now = self._clock()
            await self._sleep((self.next_run(now) - now).total_seconds())
            if not self._may_act():
                log.info("retention.purge_skipped", reason="another controller holds the duty")
                continue
            try:
                await self._purge.execute(dry_run=False)
            except Exception:  # a failed purge must not end the loop: tomorrow tries again
                log.exception("retention.purge_failed")


def parse_clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
