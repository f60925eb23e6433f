"""Per-subscriber queues, so that one slow handler never stalls another one
(nor the socket reader).

Each subscriber owns an unbounded ``asyncio.Queue`` and a task that feeds its
handler. The queues are unbounded on purpose: on a crisis line a dropped
Hangup or AgentConnect event would leave a call tracker wrong about a live
call, which is worse than memory growth that is measured (high-water mark,
lag) and warned about. The socket reader itself only reads the next chunk
once the previous one is parsed and queued, so a flooding Asterisk is held
back by TCP flow control, not by dropping.
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import structlog

from .frames import Event

__all__ = ["EventHandler", "Mailbox", "SubscriberStats", "Subscription"]

_log = structlog.get_logger(__name__)

T = TypeVar("T")
Handler = Callable[[T], Awaitable[None] | None]
EventHandler = Callable[[Event], Awaitable[None] | None]

DEFAULT_WARN_DEPTH: Final = 1000


@dataclass(frozen=True, slots=True)
class SubscriberStats:
    name: str
    patterns: tuple[str, ...]
    delivered: int  # items handed to the handler (including those that raised)
    errors: int  # handler calls that raised
    queue_depth: int  # items waiting now
    high_water: int  # largest queue depth seen
    max_lag: float  # worst seconds between receipt and handler start
    dropped: int = 0  # always 0: queues are unbounded by design


class _Stop:
    """Queue marker: handle what is queued before it, then end the task."""


def _handler_name(handler: Callable[..., object]) -> str:
    name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    return f"{getattr(handler, '__module__', '?')}.{name}"


class Mailbox(Generic[T]):
    """An unbounded queue plus the task that feeds one handler, in order.

    Sync handlers are called on the event loop, so they must be quick;
    anything slow belongs in an async handler. A handler that raises is logged
    and counted; the mailbox keeps going.
    """

    def __init__(
        self,
        handler: Handler[T],
        *,
        name: str | None = None,
        warn_depth: int = DEFAULT_WARN_DEPTH,
        timestamp: Callable[[T], float | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name or _handler_name(handler)
        self._handler = handler
        self._queue: asyncio.Queue[T | _Stop] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._warn_depth = warn_depth
        self._next_warn = warn_depth
        self._timestamp = timestamp
        self._clock = clock
        self.delivered = 0
        self.errors = 0
        self.high_water = 0
        self.max_lag = 0.0

    @property
    def active(self) -> bool:
        return not self._stopped

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def put(self, item: T) -> None:
        """Queue an item; never blocks and never drops (see module docstring)."""
        if self._stopped:
            return
        self._ensure_task()
        self._queue.put_nowait(item)
        depth = self._queue.qsize()
        if depth > self.high_water:
            self.high_water = depth
        if depth >= self._next_warn:
            # Doubling thresholds: a stuck handler produces a handful of log
            # lines, not one per event.
            _log.warning("ami.subscriber_backlog", subscriber=self.name, depth=depth)
            self._next_warn *= 2
        elif depth < self._warn_depth // 2:
            self._next_warn = self._warn_depth

    def stop(self) -> None:
        """Stop taking items; what is already queued is still handled."""
        if self._stopped:
            return
        self._stopped = True
        if self._task is not None:
            self._queue.put_nowait(_Stop())

    async def aclose(self, drain_timeout: float = 1.0) -> None:
        """Stop, give queued items up to ``drain_timeout`` s, then cancel."""
        self.stop()
        task = self._task
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=drain_timeout)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _ensure_task(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"ami-subscriber:{self.name}"
            )

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Stop):
                return
            self._note_lag(item)
            try:
                result = self._handler(item)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                self.errors += 1
                _log.exception("ami.subscriber_failed", subscriber=self.name)
            finally:
                self.delivered += 1

    def _note_lag(self, item: T) -> None:
        if self._timestamp is None:
            return
        stamp = self._timestamp(item)
        if stamp is not None:
            self.max_lag = max(self.max_lag, self._clock() - stamp)


def _compile(patterns: Iterable[str]) -> tuple[frozenset[str], re.Pattern[str] | None, bool]:
    exact: set[str] = set()
    globs: list[str] = []
    for pattern in patterns:
        if pattern == "*":
            return frozenset(), None, True
        if any(ch in pattern for ch in "*?["):
            globs.append(fnmatch.translate(pattern.lower()))
        else:
            exact.add(pattern.lower())
    regex = re.compile("|".join(globs)) if globs else None
    return frozenset(exact), regex, False


class Subscription:
    """A handler registered for some event names (``"*"`` = all, globs allowed,
    case-insensitive). ``unsubscribe()`` stops new deliveries; events already
    queued are still handled."""

    def __init__(
        self,
        handler: EventHandler,
        patterns: Iterable[str],
        *,
        name: str | None = None,
        warn_depth: int = DEFAULT_WARN_DEPTH,
        clock: Callable[[], float] = time.monotonic,
        on_unsubscribe: Callable[[Subscription], None] | None = None,
    ) -> None:
        self.patterns = tuple(patterns) or ("*",)
        self._exact, self._regex, self._all = _compile(self.patterns)
        self._mailbox: Mailbox[Event] = Mailbox(
            handler,
            name=name,
            warn_depth=warn_depth,
            timestamp=lambda event: event.received_at,
            clock=clock,
        )
        self._on_unsubscribe = on_unsubscribe

    @property
    def name(self) -> str:
        return self._mailbox.name

    @property
    def active(self) -> bool:
        return self._mailbox.active

    def matches(self, event_name: str) -> bool:
        if self._all:
            return True
        lowered = event_name.lower()
        if lowered in self._exact:
            return True
        return self._regex is not None and self._regex.fullmatch(lowered) is not None

    def deliver(self, event: Event) -> None:
        self._mailbox.put(event)

    def unsubscribe(self) -> None:
        self._mailbox.stop()
        if self._on_unsubscribe is not None:
            callback, self._on_unsubscribe = self._on_unsubscribe, None
            callback(self)

    async def aclose(self, drain_timeout: float = 1.0) -> None:
        self.unsubscribe()
        await self._mailbox.aclose(drain_timeout)

    @property
    def stats(self) -> SubscriberStats:
        box = self._mailbox
        return SubscriberStats(
            name=box.name,
            patterns=self.patterns,
            delivered=box.delivered,
            errors=box.errors,
            queue_depth=box.depth,
            high_water=box.high_water,
            max_lag=box.max_lag,
        )
