"""Fixtures of the call-log and case-stub tests: the real services on a fresh database."""

from __future__ import annotations

import zoneinfo
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ami import Event, load_recording, replay_into_parser
from call_log.bus import CallBus
from call_log.store import CallStore
from call_log.tracker import CallTracker
from case_stubs.agents import AgentDirectory
from case_stubs.service import CaseStubService, StubWriter
from storage import Database

FIXTURES = Path(__file__).parent / "fixtures"
BANGKOK = zoneinfo.ZoneInfo("Asia/Bangkok")


def recorded_events(name: str) -> list[Event]:
    """The events of an AMI stream recorded from the real Asterisk (ami.StreamRecorder)."""
    frames = replay_into_parser(load_recording(FIXTURES / name))
    return [Event.from_frame(f) for f in frames if f.kind == "event"]


@dataclass
class Calls:
    """The call tracker wired to the real store, stub service and bus, as controller/wiring does."""

    db: Database
    store: CallStore
    bus: CallBus
    stubs: CaseStubService
    tracker: CallTracker
    seen: list[Any] = field(default_factory=list)
    queued: int = 0

    async def replay(self, events: list[Event]) -> None:
        """The events into the tracker, then its record writes into the database."""
        for event in events:
            await self.tracker.on_event(event)
        await self.tracker.flush()

    async def drained_bus(self) -> list[Any]:
        """Every bus event published so far (the bus delivers through per-subscriber tasks)."""
        await self.bus.close()
        return self.seen

    def new_tracker(self) -> CallTracker:
        """Another controller process on the same database (a restart)."""
        return CallTracker(self.store, self.stubs, self.bus, AgentDirectory(self.db))


def build_calls(db: Database, *, push: bool = True) -> Calls:
    bus = CallBus()
    holder: list[Calls] = []

    def queued() -> None:
        holder[0].queued += 1

    writer = StubWriter(db, push_enabled=push, on_queued=queued, bus=bus, clock=_utcnow, tz=BANGKOK)
    stubs = CaseStubService(db, writer, AgentDirectory(db), tz=BANGKOK)
    store = CallStore(db)
    tracker = CallTracker(store, stubs, bus, AgentDirectory(db))
    calls = Calls(db, store, bus, stubs, tracker)
    holder.append(calls)
    bus.subscribe(calls.seen.append)
    return calls


def _utcnow():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


@pytest.fixture
async def calls(database: Database) -> AsyncIterator[Calls]:
    yield build_calls(database)
