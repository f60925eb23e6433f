"""What the controller supplies to the dialplan at run time: when each language is next on shift.

A caller who leaves a callback request hears when they will be called: "as soon as someone who
speaks your language is on duty, from 14 hundred hours". The roster lives in the controller's
database, so the controller publishes, per language, the hour the next shift with such an
agent starts, as the global ``L1300_NEXT_SHIFT_<lang>`` (AMI Setvar); the dialplan reads it
(context line1300-callback-when). Empty = nobody scheduled soon: the hour is not said.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol

import structlog

from agent_routing.skills import RoutingDefinition
from ami import AmiError, HeaderValue, LinkState, Response, StateChange
from shift_schedule.clock import Clock
from shift_schedule.model import Agent, instances_around
from shift_schedule.roster import RosterSnapshot
from shift_schedule.store import RosterStore
from storage import Database

log = structlog.get_logger(__name__)

GLOBAL_PREFIX = "L1300_NEXT_SHIFT_"
# Days ahead searched for the next shift of a language.
HORIZON_DAYS = 2
# A roster edit or a shift boundary changes the answer; re-publishing this often is cheap and
# keeps the dialplan right without listening to every roster change.
REFRESH_SECONDS = 300.0


class AmiSender(Protocol):
    async def send(
        self,
        action: Mapping[str, HeaderValue],
        *,
        timeout: float | None = None,
        idempotent: bool | None = None,
    ) -> Response: ...


class RosterReader(Protocol):
    async def read(self, first: date, last: date) -> RosterSnapshot: ...


class DatabaseRoster:
    def __init__(self, db: Database, tz: tzinfo) -> None:
        self._db = db
        self._tz = tz

    async def read(self, first: date, last: date) -> RosterSnapshot:
        async with self._db.session() as session:
            return await RosterStore(session).snapshot(first, last, self._tz)


def next_shift_hours(
    snapshot: RosterSnapshot, now: datetime, definition: RoutingDefinition
) -> dict[str, int | None]:
    """Per language: the local hour the next shift (starting after ``now``) with an agent who
    would join one of the language's queues starts; None if none within the snapshot."""
    upcoming = [
        i
        for i in instances_around(snapshot.shifts, now, snapshot.tz, HORIZON_DAYS)
        if i.start > now
    ]
    hours: dict[str, int | None] = {}
    for lang in definition.languages:
        start = next(
            (
                i.start
                for i in upcoming
                if any(_serves(o.agent, lang, definition) for o in snapshot.staff(i))
            ),
            None,
        )
        hours[lang] = start.astimezone(snapshot.tz).hour if start else None
    return hours


def _serves(agent: Agent, language: str, definition: RoutingDefinition) -> bool:
    return any(
        q.penalty_for(agent.skills, agent.languages) is not None
        for q in definition.queues
        if q.language == language
    )


class PublishNextShifts:
    """Compute each language's next shift hour and set it in Asterisk."""

    def __init__(
        self,
        roster: RosterReader,
        link: AmiSender,
        clock: Clock,
        definition: RoutingDefinition,
        tz: tzinfo,
    ) -> None:
        self._roster = roster
        self._link = link
        self._clock = clock
        self._definition = definition
        self._tz = tz

    async def execute(self) -> dict[str, int | None]:
        now = self._clock.now()
        snapshot = await self._read_roster(now)
        hours = next_shift_hours(snapshot, now, self._definition)
        await self._publish(hours)
        return hours

    async def _read_roster(self, now: datetime) -> RosterSnapshot:
        today = now.astimezone(self._tz).date()
        return await self._roster.read(today, today + timedelta(days=HORIZON_DAYS))

    async def _publish(self, hours: Mapping[str, int | None]) -> None:
        for lang, hour in hours.items():
            action = {
                "Action": "Setvar",
                "Variable": f"{GLOBAL_PREFIX}{lang}",
                "Value": "" if hour is None else str(hour),
            }
            answer = await self._link.send(action, idempotent=True)
            if not answer.ok:
                raise AmiError(f"Setvar {GLOBAL_PREFIX}{lang} refused: {answer.get('Message')}")


class NextShiftLoop:
    """Publishes at start, on every AMI (re)connection (an Asterisk restart forgets globals)
    and every REFRESH_SECONDS."""

    def __init__(
        self, publish: PublishNextShifts, refresh_seconds: float = REFRESH_SECONDS
    ) -> None:
        self._publish = publish
        self._refresh = refresh_seconds
        self._wake = asyncio.Event()

    def on_link_state(self, change: StateChange) -> None:
        if change.state is LinkState.CONNECTED:
            self._wake.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._refresh)
            self._wake.clear()
            await self._publish_once()

    async def _publish_once(self) -> None:
        try:
            hours = await self._publish.execute()
        except (AmiError, OSError) as exc:
            # Asterisk away: the next connection wakes the loop again.
            log.warning("ivr.next_shift_not_published", error=str(exc))
            return
        log.info("ivr.next_shift_published", hours=hours)
