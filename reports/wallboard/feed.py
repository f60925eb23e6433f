"""Keeps the wallboard current: queue events from AMI, today's figures from the call log, coverage
warnings from the roster, one board pushed to every screen on each change (and every few
seconds, so figures and warnings that change without an AMI event still show)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from ami import AmiError, AmiLink, Event, LinkState, StateChange
from reports.kpis import ComputeKpis, KpiFilter, QueueFigures
from reports.period import DateRange
from reports.wallboard.hub import WallboardHub
from reports.wallboard.live import EVENT_NAMES, LiveQueues

log = structlog.get_logger(__name__)

# Events after which today's figures change (a caller left a queue one way or another).
_CALL_DONE = frozenset({"QueueCallerLeave", "QueueCallerAbandon"})


class CoverageWarning(Protocol):
    def as_json(self) -> dict[str, object]: ...


CoverageSource = Callable[[], Awaitable[Sequence[CoverageWarning]]]


class WallboardFeed:
    def __init__(
        self,
        live: LiveQueues,
        kpis: ComputeKpis,
        hub: WallboardHub,
        tz: ZoneInfo,
        *,
        coverage: CoverageSource | None = None,
        refresh_seconds: float = 5.0,
        min_interval: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.live = live
        self.kpis = kpis
        self.hub = hub
        self.tz = tz
        self.coverage = coverage
        self.refresh_seconds = refresh_seconds
        self.min_interval = min_interval
        self.clock = clock
        self.link: AmiLink | None = None
        self.link_state = LinkState.DISCONNECTED
        self._changed = asyncio.Event()
        self._figures: dict[str, Any] = {}
        self._warnings: list[dict[str, object]] = []
        self._warnings_loaded = False

    def attach(self, link: AmiLink) -> None:
        self.link = link
        link.subscribe(self.on_event, *EVENT_NAMES)
        link.on_state(self.on_state)

    def on_event(self, event: Event) -> None:
        if self.live.apply(event):
            self._changed.set()
        if event.name in _CALL_DONE:
            self._figures.clear()  # recomputed before the next board

    async def on_state(self, change: StateChange) -> None:
        self.link_state = change.state
        if change.state is LinkState.CONNECTED and self.link is not None:
            await self._load_status(self.link)
        self._changed.set()

    async def run(self) -> None:
        """Publish a board at once, then after changes and at least every `refresh_seconds`.
        Changes are gathered for `min_interval` between boards: under load every call's end is
        a change, and a board per change meant a query of today's figures per call (at 40
        calls/s, a busy loop of the controller and the database for a screen read by eye)."""
        self._changed.set()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.refresh_seconds):
                    await self._changed.wait()
            timed_out = not self._changed.is_set()
            self._changed.clear()
            try:
                self.hub.publish(await self.board(refresh=timed_out))
            except Exception:  # a failed board must not end the feed: the next one may work
                log.exception("wallboard board failed")
            await asyncio.sleep(self.min_interval)

    async def board(self, *, refresh: bool = False) -> dict[str, Any]:
        if refresh or not self._figures:
            self._figures = await self._today()
        if refresh or not self._warnings_loaded:
            self._warnings = await self._coverage()
            self._warnings_loaded = True
        return {
            **self.live.board().as_json(),
            "today": self._figures,
            "coverage": self._warnings,
            "ami": self.link_state.value,
        }

    async def _load_status(self, link: AmiLink) -> None:
        try:
            answer = await link.send({"Action": "QueueStatus"})
        except AmiError as exc:
            log.warning("wallboard queue status failed", error=str(exc))
            return
        self.live.load(answer.events)

    async def _today(self) -> dict[str, Any]:
        today = self.clock().astimezone(self.tz).date()
        total, by_queue = await self.kpis.summary(KpiFilter(_day(today)))
        return {
            "date": today.isoformat(), "service_level_seconds": self.kpis.threshold,
            "total": _today_json(total), "queues": {f.key: _today_json(f) for f in by_queue},
        }

    async def _coverage(self) -> list[dict[str, object]]:
        if self.coverage is None:
            return self._warnings
        try:
            return [w.as_json() for w in await self.coverage()]
        except Exception:  # the roster's trouble must not blank the queues
            log.exception("wallboard coverage failed")
            return self._warnings


def _day(day: date) -> DateRange:
    return DateRange(day, day)


def _today_json(figures: QueueFigures) -> dict[str, Any]:
    body = figures.as_json()
    return {k: body[k] for k in (
        "offered", "answered", "abandoned", "service_level", "abandon_rate", "asa",
        "longest_wait",
    )}
