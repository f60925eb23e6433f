"""How late the controller's event loop runs what is due: every AMI event, screen-pop and write
waits behind whatever holds the loop (a long synchronous step, a garbage collection, or no CPU
to be had).

A task asks to wake every `interval` and notes how late it woke. The last minute's figures are
on /health (for the operator's monitoring, and the benchmarks print them); a stall over
`warn_after` is logged once it is over, with how long it lasted. Garbage collections are timed
too: at 20 calls/s full collections came every ~10 s and held the loop 100-230 ms each, most of
it walking objects that live as long as the process (modules, schemas, SQLAlchemy's tables). So
once every room has started, those are moved out of the collector's sight (`gc.freeze`).
"""

from __future__ import annotations

import asyncio
import gc
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


@dataclass(frozen=True, slots=True)
class GcFigures:
    collections: int  # of at least 1 ms, in the window
    total_ms: float
    max_ms: float

    def as_json(self) -> dict[str, float | int]:
        return {"window_seconds": WINDOW, "collections_over_1ms": self.collections,
                "total_ms": self.total_ms, "max_ms": self.max_ms}


class GcPauses:
    """Times every garbage collection (gc.callbacks); keeps those of at least 1 ms."""

    def __init__(self, window: float = WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._started = 0.0
        self._pauses: deque[tuple[float, float]] = deque()

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
        elif now - self._started >= 0.001:
            self._pauses.append((self._clock(), now - self._started))
            self._forget_old()  # here, not only in figures(): nobody may ask for /health

    def figures(self) -> GcFigures:
        self._forget_old()
        pauses = [d for _, d in self._pauses]
        return GcFigures(len(pauses), round(sum(pauses) * 1000, 1),
                         round(max(pauses, default=0.0) * 1000, 1))


    def _forget_old(self) -> None:
        since = self._clock() - self.window
        while self._pauses and self._pauses[0][0] < since:
            self._pauses.popleft()


class LoopLag:
    def __init__(
        self, interval: float = INTERVAL, window: float = WINDOW, warn_after: float = WARN_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.warn_after = warn_after
        self._clock = clock
        self._lags: deque[float] = deque(maxlen=max(1, round(window / interval)))
        self.gc = GcPauses(window, clock)

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
    """The watcher, started before everything else."""
    app[LOOP_LAG] = LoopLag()
    app.cleanup_ctx.append(_watch)


def freeze_after_start(app: web.Application) -> None:
    """Once every room has started (append after them), freeze the heap: for the controller
    process's own app (tests build many apps in one process)."""
    app.cleanup_ctx.append(_freeze_heap)


async def _watch(app: web.Application) -> AsyncIterator[None]:
    pauses = app[LOOP_LAG].gc
    gc.callbacks.append(pauses)
    task = asyncio.create_task(app[LOOP_LAG].run(), name="loop-lag")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    gc.callbacks.remove(pauses)


async def _freeze_heap(_app: web.Application) -> AsyncIterator[None]:
    gc.collect()
    gc.freeze()  # what exists now lives as long as the process: no collection walks it again
    log.info("controller.heap_frozen", objects=gc.get_freeze_count())
    yield
    gc.unfreeze()
