"""The controller's event-loop lag: what a blocked loop looks like on /health and in the log."""

from __future__ import annotations

import asyncio
import gc
import time

from aiohttp import web
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from controller.loop_lag import GcPauses, LoopLag
from web.keys import LOOP_LAG


async def test_a_loop_held_for_300_ms_shows_in_the_figures_and_the_log() -> None:
    lag = LoopLag(interval=0.01, window=10.0, warn_after=0.2)
    watching = asyncio.create_task(lag.run())
    try:
        await asyncio.sleep(0.3)  # free running: lags of a fraction of a millisecond
        with capture_logs() as logs:
            time.sleep(0.3)  # a synchronous step holding the loop
            await asyncio.sleep(0.2)
    finally:
        watching.cancel()
    figures = lag.figures()
    assert figures.samples > 20
    assert figures.max_ms >= 250 and figures.p50_ms < 20, figures
    [stall] = [e for e in logs if e["event"] == "controller.loop_stalled"]
    assert stall["seconds"] >= 0.25 and stall["log_level"] == "warning"


async def test_health_shows_the_last_minutes_lag(
    web_app: TestClient[web.Request, web.Application],
) -> None:
    await asyncio.sleep(0.3)  # a few samples from the app's own watcher
    assert web_app.app is not None
    web_app.app[LOOP_LAG].note(0.5)
    body = await (await web_app.get("/health")).json()
    assert body["status"] == "ok"
    figures = body["event_loop_lag"]
    assert figures["samples"] >= 2 and figures["max_ms"] >= 500.0  # the app may stall too
    assert figures["window_seconds"] == 60.0
    assert set(body["gc_pauses"]) == {"window_seconds", "collections_over_1ms", "total_ms",
                                      "max_ms"}


def test_garbage_collections_are_timed() -> None:
    pauses = GcPauses(window=60.0)
    gc.callbacks.append(pauses)
    try:
        junk = [[i] for i in range(300_000)]  # enough objects for a full collection to take >1 ms
        gc.collect()
        del junk
    finally:
        gc.callbacks.remove(pauses)
    figures = pauses.figures()
    assert figures.collections >= 1 and figures.max_ms >= 1.0
    assert figures.total_ms >= figures.max_ms


def test_gc_pauses_older_than_the_window_are_dropped_even_if_nobody_asks() -> None:
    now = [0.0]
    pauses = GcPauses(window=60.0, clock=lambda: now[0])
    for second in range(600):
        now[0] = float(second)
        pauses("start", {})
        time.sleep(0.0011)
        pauses("stop", {})
    assert len(pauses._pauses) <= 61  # only the last minute's, though figures() was never called
