"""Apply the roster to Asterisk: compute who should be in which queue now, compare with what
Asterisk has, send only the difference. Idempotent: a second run with nothing changed sends
nothing. An agent removed while on a call keeps the call (QueueRemove never hangs up)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol

import structlog

from agent_routing.asterisk_queues import ApplyResult
from agent_routing.membership import ActualMember, MemberChange, desired_members, reconcile
from agent_routing.presence import members
from agent_routing.situations import SituationReader
from agent_routing.skills import RoutingDefinition
from ami import AmiError
from shift_schedule.clock import Clock
from shift_schedule.model import ShiftDef, next_boundary

log = structlog.get_logger(__name__)


class QueuePort(Protocol):
    async def members(self, queues: Sequence[str] | None = None) -> list[ActualMember]: ...

    async def apply(self, changes: Iterable[MemberChange]) -> ApplyResult: ...


@dataclass(frozen=True)
class ApplyReport:
    at: datetime
    desired: int
    changes: tuple[MemberChange, ...]
    failed: tuple[tuple[MemberChange, str], ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(), "desired_members": self.desired, "ok": self.ok,
            "changes": [c.as_json() for c in self.changes], "seconds": round(self.seconds, 4),
            "failed": [{**c.as_json(), "error": e} for c, e in self.failed],
        }


class ApplyRoster:
    def __init__(
        self, reader: SituationReader, queues: QueuePort, definition: RoutingDefinition,
    ) -> None:
        self._reader = reader
        self._queues = queues
        self._definition = definition
        self._lock = asyncio.Lock()  # two reconciliations at once would both add the same member
        self.last: ApplyReport | None = None

    async def execute(self) -> ApplyReport:
        async with self._lock:
            started = time.perf_counter()
            standing = await self._reader.read()
            desired = desired_members(self._definition, members(standing.agents))
            actual = await self._queues.members()
            changes = reconcile(desired, actual, self._definition.queue_names)
            result = await self._queues.apply(changes)
            self.last = ApplyReport(standing.now, len(desired), tuple(changes),
                                    tuple(result.failed), time.perf_counter() - started)
        self._log(self.last)
        return self.last

    @staticmethod
    def _log(report: ApplyReport) -> None:
        if report.changes or report.failed:
            log.info("roster.applied", desired=report.desired, changes=len(report.changes),
                     failed=len(report.failed), seconds=round(report.seconds, 3))


ShiftSource = Callable[[], Awaitable[list[ShiftDef]]]
Chore = Callable[[], Awaitable[object]]


class RosterScheduler:
    """Wakes ApplyRoster at every shift boundary (computed from the shift definitions), when
    told something changed (`wake()`: roster edits, log-ins, pauses, AMI reconnects), and every
    `resync` seconds as a safety net against changes made behind its back."""

    def __init__(
        self, apply: ApplyRoster, shifts: ShiftSource, clock: Clock, tz: tzinfo, *,
        before_apply: Chore | None = None, resync: float = 300.0, retry: float = 5.0,
        may_act: Callable[[], bool] | None = None,
    ) -> None:
        """`may_act` (a duty lease, storage.leases) says whether this controller is the one
        applying the roster to its Asterisk; a standby checks again every `retry` seconds."""
        self._apply = apply
        self._may_act = may_act
        self._shifts = shifts
        self._clock = clock
        self._tz = tz
        self._before = before_apply
        self._resync = resync
        self._retry = retry
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            ok = await self._apply_safely()
            await self._sleep(await self._timeout(ok))

    async def _apply_safely(self) -> bool:
        if self._may_act is not None and not self._may_act():
            return False  # another controller applies it
        try:
            if self._before is not None:
                await self._before()
            return (await self._apply.execute()).ok
        except (AmiError, OSError, TimeoutError) as exc:
            log.warning("roster.apply_failed", error=str(exc))
            return False
        except Exception:
            # The loop outlives any one failure (a database hiccup): the queues must keep
            # following the roster.
            log.exception("roster.apply_crashed")
            return False

    async def _timeout(self, ok: bool) -> float:
        if not ok:
            return self._retry
        now = self._clock.now()
        boundary = next_boundary(await self._shifts(), now, self._tz)
        if boundary is None:
            return self._resync
        # A hair past the boundary, so the new shift is the one in force when we look.
        return min(self._resync, (boundary - now).total_seconds() + 0.05)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0.0)):
                await self._wake.wait()
