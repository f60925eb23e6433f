"""How late the controller's event loop runs what is due: every AMI event, screen-pop and write
waits behind whatever holds the loop (a long synchronous step, or no CPU to be had).

A task asks to wake every `interval` and notes how late it woke. The last minute's figures are
on /health (for the operator's monitoring, and the benchmarks print them); a stall over
`warn_after` is logged once it is over, with how long it lasted.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Final

import structlog
from aiohttp import web

from web.keys import LOOP_LAG

log = structlog.get_logger(__name__)

INTERVAL: Final = 0.05
WINDOW: Final = 60.0
WARN_AFTER: Final = 1.0


@dataclass(frozen=True, slots=True)
class LagFigures:
    samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    def as_json(self) -> dict[str, float | int]:
        return {"window_seconds": WINDOW, "samples": self.samples, "p50_ms": self.p50_ms,
                "p99_ms": self.p99_ms, "max_ms": self.max_ms}


class LoopLag:
    def __init__(
        self, interval: float = INTERVAL, window: float = WINDOW, warn_after: float = WARN_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.warn_after = warn_after
        self._clock = clock
        self._lags: deque[float] = deque(maxlen=max(1, round(window / interval)))

    def figures(self) -> LagFigures:
        ordered = sorted(self._lags)
        if not ordered:
            return LagFigures(0, 0.0, 0.0, 0.0)

        def at(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

        return LagFigures(len(ordered), at(0.50), at(0.99), round(ordered[-1] * 1000, 1))

    async def run(self) -> None:
        while True:
            asked = self._clock()
            await asyncio.sleep(self.interval)
            self.note(self._clock() - asked - self.interval)

    def note(self, lag: float) -> None:
        lag = max(0.0, lag)
        self._lags.append(lag)
        if lag >= self.warn_after:
            log.warning("controller.loop_stalled", seconds=round(lag, 3))


def install(app: web.Application) -> None:
    app[LOOP_LAG] = LoopLag()
    app.cleanup_ctx.append(_watch)


async def _watch(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[LOOP_LAG].run(), name="loop-lag")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
