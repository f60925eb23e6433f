"""Throughput of the call log and the case-stub outbox on this machine.

    .venv/bin/python -m bench.call_log_throughput [--calls 300] [--stubs 1000] [--db URL]

1. Tracker: the AMI stream of one real answered call (tests/calls/fixtures/answered.ami,
   recorded from Asterisk 22 with the IVR) replayed ``--calls`` times with fresh linkedids into
   the real tracker, stub service and database. Prints calls/s, AMI events/s, and the time from
   an AgentCalled event to the screen-pop's bus event (median, p99, max).
2. Outbox: ``--stubs`` stubs queued, then pushed to a local aiohttp case store. Prints stubs/s.
SQLite in a temporary folder unless ``--db`` names another database (PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import aiohttp

from ami import Backoff, Event, load_recording, replay_into_parser
from ami.filters import admitted
from call_log.bus import AgentRinging, CallBus
from call_log.store import CallStore
from call_log.tracker import CallTracker
from case_stubs.agents import AgentDirectory
from case_stubs.outbox import HttpStubSender, OutboxQueue, StubPusher
from case_stubs.service import CaseStubService, StubWriter
from controller.ami_events import CONTROLLER_EVENTS
from storage import Database, upgrade_to_head
from tests.calls.receiver import CaseStore

FIXTURE = Path(__file__).resolve().parent.parent / "tests/calls/fixtures/answered.ami"
TZ = zoneinfo.ZoneInfo("Asia/Bangkok")
LINKEDID = "1795591196.0"


def recorded(unfiltered: bool = False) -> list[Event]:
    """The recorded call as the controller's manager user receives it (its eventfilter,
    controller/ami_events.py), or every event of it as an unfiltered user would."""
    frames = replay_into_parser(load_recording(FIXTURE))
    events = [Event.from_frame(f) for f in frames if f.kind == "event"]
    return events if unfiltered else [e for e in events if admitted(CONTROLLER_EVENTS, e.headers)]


def renamed(events: list[Event], n: int) -> list[Event]:
    """The same call as call number n: its own linkedid and uniqueids, n seconds later."""
    out = []
    for event in events:
        items = tuple((k, _rename(k, v, n)) for k, v in event.items)
        out.append(Event(event.name, MappingProxyType(dict(items)), event.raw, 0.0, items))
    return out


def _rename(key: str, value: str, n: int) -> str:
    if key in ("Linkedid", "Uniqueid", "DestLinkedid", "DestUniqueid") and value:
        return f"{value}{n:06d}"
    if key == "Timestamp":
        return f"{float(value) + n:.6f}"
    return value


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def bench(calls: int, stubs: int, url: str, unfiltered: bool) -> None:
    db = Database(url)
    bus = CallBus()
    pops: list[float] = []
    sent_at: dict[str, float] = {}
    bus.subscribe(lambda e: pops.append(time.perf_counter() - sent_at[e.linkedid]), AgentRinging)
    store = await CaseStore().start()
    async with aiohttp.ClientSession() as http:
        queue = OutboxQueue(db, owner="bench", lease=timedelta(seconds=30))
        pusher = StubPusher(
            queue,
            HttpStubSender(http, store.url, store.token, 10.0),
            Backoff(initial=0.1, maximum=1.0),
        )
        writer = StubWriter(
            db, push_enabled=True, on_queued=lambda: None, bus=bus, clock=_utcnow, tz=TZ
        )
        service = CaseStubService(db, writer, AgentDirectory(db), tz=TZ)
        tracker = CallTracker(CallStore(db), service, bus, AgentDirectory(db))
        base = recorded(unfiltered)

        started = time.perf_counter()
        events = 0
        for n in range(calls):
            for event in renamed(base, n):
                if event.name == "AgentCalled":
                    sent_at[event.get("Linkedid") or ""] = time.perf_counter()
                await tracker.on_event(event)
                events += 1
        await tracker.flush()  # the last records written too
        tracker_s = time.perf_counter() - started
        await bus.close()
        pops_ms = sorted(p * 1000 for p in pops)
        print(
            f"tracker: {calls} calls, {events} AMI events in {tracker_s:.2f} s = "
            f"{calls / tracker_s:.1f} calls/s, {events / tracker_s:.0f} events/s "
            f"({len(base)} events a call{', unfiltered' if unfiltered else ''})"
        )
        print(
            f"AgentCalled -> pop on the bus: median {statistics.median(pops_ms):.2f} ms, "
            f"p99 {pops_ms[int(len(pops_ms) * 0.99) - 1]:.2f} ms, max {pops_ms[-1]:.2f} ms"
        )

        from web.accounts import Role, User

        actor = User(1, "bench", "Bench", Role.AGENT, "A001")
        for i in range(stubs - calls):
            await service.create_contact(
                channel="walk_in",
                dialed="walk-in",
                caller_number=None,
                language="th",
                priority="normal",
                actor=actor,
                notes=f"bench {i}",
            )
        started = time.perf_counter()
        while (await pusher.deliver_due()) > 0:
            pass
        push_s = time.perf_counter() - started
        print(
            f"outbox: {len(store.stored)} stubs delivered in {push_s:.2f} s = "
            f"{len(store.stored) / push_s:.0f} stubs/s"
        )
    await store.stop()
    await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--stubs", type=int, default=1000)
    parser.add_argument("--db", default="")
    parser.add_argument("--unfiltered", action="store_true",
                        help="replay every event, as if manager.conf had no eventfilter")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        upgrade_to_head(url)
        asyncio.run(bench(args.calls, max(args.stubs, args.calls), url, args.unfiltered))


if __name__ == "__main__":
    main()
