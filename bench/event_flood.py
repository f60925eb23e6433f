"""Event flood: a recorded AMI stream replayed into the controller's AMI link faster than life.

    .venv/bin/python -m bench.event_flood [--speed 10] [--repeat 1] [--stream FILE]
    .venv/bin/python -m bench.event_flood --record FILE [--calls 12] [--members 80]

The stream (default: tests/fault/fixtures/flood.ami.gz, recorded from the real Asterisk 22 with
`--record`, gzipped) holds a burst of queue membership — `--members` agent phones added to every
queue, as the roster applier restores them after a queue reload — and then SIPp calls through the
IVR answered by agents. Replayed over a socket from a fake AMI server into `AmiLink`, with the
controller's real subscribers on it: the call tracker (writing to a fresh SQLite database and
the stub outbox) and the roster room's live board. Prints events/s handled, the lag from receipt
to the end of handling (p50/p99), the deepest subscriber queue, dropped events and calls recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_routing.live import EVENTS as PHONE_EVENTS
from agent_routing.live import LiveBoard
from ami import AmiLink, Backoff, Chunk, Event, StreamRecorder, load_recording
from shift_schedule.clock import SystemClock

REPO = Path(__file__).resolve().parents[1]
DEFAULT_STREAM = REPO / "tests" / "fault" / "fixtures" / "flood.ami.gz"


@dataclass
class Lags:
    """Seconds from the link's receipt of each event to the end of its handling."""

    values: list[float] = field(default_factory=list)
    handled: int = 0

    def timed(self, handler: Callable[[Event], Any], name: str) -> Callable[[Event], Any]:
        async def wrapper(event: Event) -> None:
            result = handler(event)
            if asyncio.iscoroutine(result):
                await result
            self.handled += 1
            if event.received_at:
                self.values.append(time.monotonic() - event.received_at)

        wrapper.__qualname__ = name
        return wrapper

    def percentile(self, p: float) -> float:
        if not self.values:
            return 0.0
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


@dataclass
class FloodFigures:
    events: int
    seconds: float
    stream_seconds: float
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    max_queue_depth: int
    dropped: int
    per_subscriber: dict[str, tuple[int, int]]  # name -> (delivered, errors)
    calls_recorded: int
    tracker_errors: int

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        subs = ", ".join(f"{n} {d} ({e} errors)" for n, (d, e) in self.per_subscriber.items())
        return [
            f"events replayed            {self.events} (recorded over {self.stream_seconds:.1f} s)",
            f"handled in                 {self.seconds:.2f} s = {self.events_per_second:.0f} "
            f"events/s",
            f"lag receipt->handled       p50 {self.lag_p50_ms:.1f} ms, p99 "
            f"{self.lag_p99_ms:.1f} ms, max {self.lag_max_ms:.1f} ms",
            f"deepest subscriber queue   {self.max_queue_depth}",
            f"dropped events             {self.dropped}",
            f"per subscriber             {subs}",
            f"calls recorded             {self.calls_recorded} (tracker errors "
            f"{self.tracker_errors})",
        ]


def load_stream(path: Path) -> list[Chunk]:
    """A recording, plain or gzipped (the committed fixture is gzipped: 4 MB -> 0.2 MB)."""
    if path.suffix != ".gz":
        return load_recording(path)
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / path.stem
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        return load_recording(plain)


def stream_events(chunks: list[Chunk]) -> int:
    from ami import replay_into_parser

    return sum(1 for f in replay_into_parser(chunks) if f.kind == "event")


def asterisk_filtered(chunks: list[Chunk]) -> list[Chunk]:
    """The stream as an AMI `eventfilter` in manager.conf would leave it: dialplan-step events
    (Newexten) only for VoiceMail, variable changes (VarSet) only for the variables the call
    tracker reads. What the controller would gain is the difference between the two runs."""
    from ami import FrameParser
    from call_log.facts import TRACKED_VARIABLES

    parser = FrameParser()
    kept: list[Chunk] = []
    for chunk in chunks:
        for frame in parser.feed(chunk.data):
            name = frame.get("Event") or ""
            if name == "Newexten" and (frame.get("Application") or "").lower() != "voicemail":
                continue
            if name == "VarSet" and (frame.get("Variable") or "").lstrip("_").upper() \
                    not in TRACKED_VARIABLES:
                continue
            kept.append(Chunk(chunk.at, (frame.raw + "\r\n\r\n").encode()))
    return kept


def repeated(chunks: list[Chunk], times: int) -> list[Chunk]:
    """The stream `times` over, each copy's call ids made distinct (".r<n>" suffixes would break
    Asterisk's id format, so the sequence part is offset instead)."""
    if times <= 1:
        return chunks
    span = (chunks[-1].at if chunks else 0.0) + 0.001
    out: list[Chunk] = []
    for n in range(times):
        for c in chunks:
            data = c.data
            if n:
                data = data.replace(b"Linkedid: 1", b"Linkedid: 9%d" % n).replace(
                    b"Uniqueid: 1", b"Uniqueid: 9%d" % n)
            out.append(Chunk(c.at + n * span, data, c.direction))
    return out


async def flood(chunks: list[Chunk], speed: float | None, database_url: str) -> FloodFigures:
    """Replay `chunks` through a fake AMI server into the controller's subscribers."""
    from storage import Database, upgrade_to_head
    from tests.ami.fake_ami import FakeAmi
    from tests.calls.conftest import build_calls

    upgrade_to_head(database_url)
    db = Database(database_url)
    server = await FakeAmi().start()
    calls = build_calls(db)
    link = AmiLink(server.host, server.port, server.username, server.secret,
                   ping_interval=30.0, backoff=Backoff(0.05, 0.5), subscriber_warn_depth=10**9)
    lags = Lags()
    from call_log.facts import EVENT_NAMES

    link.subscribe(lags.timed(calls.tracker.on_event, "call-tracker"), *EVENT_NAMES)
    board = LiveBoard(SystemClock(), 30)
    link.subscribe(lags.timed(board.on_event, "live-board"), *PHONE_EVENTS)
    await link.start()
    await link.wait_connected(5)
    body = [c for c in chunks if not c.data.startswith(b"Asterisk Call Manager")]
    expected = stream_events(body)
    started = time.monotonic()
    await server.replay(body, speed=speed)
    # An event two subscribers take (AgentConnect...) is handled twice.
    wanted = len(_subscribed(body, set(EVENT_NAMES))) + len(_subscribed(body, set(PHONE_EVENTS)))
    async with asyncio.timeout(600):
        while lags.handled < wanted:
            await asyncio.sleep(0.01)
    seconds = time.monotonic() - started
    stats = link.stats
    await link.close()
    await calls.bus.close()
    recorded = await calls.store.count()
    await server.stop()
    await db.close()
    return FloodFigures(
        events=expected, seconds=seconds, stream_seconds=body[-1].at - body[0].at if body else 0,
        lag_p50_ms=lags.percentile(50) * 1000, lag_p99_ms=lags.percentile(99) * 1000,
        lag_max_ms=max(lags.values, default=0.0) * 1000, max_queue_depth=stats.max_queue_depth,
        dropped=stats.events_dropped,
        per_subscriber={s.name.rsplit(".", 1)[-1]: (s.delivered, s.errors)
                        for s in stats.subscribers},
        calls_recorded=recorded, tracker_errors=calls.tracker.stats.errors,
    )


def _subscribed(chunks: list[Chunk], names: set[str]) -> list[str]:
    from ami import replay_into_parser

    found = []
    for frame in replay_into_parser(chunks):
        if frame.kind == "event":
            name = frame.get("Event") or ""
            if name in names:
                found.append(name)
    return found


# --- recording the stream from the real Asterisk ---------------------------------------------


async def record(path: Path, calls: int, members: int) -> None:
    from agent_routing.skills import routing
    from bench import harness as h

    state = Path(tempfile.mkdtemp(prefix="line1300-flood-"))
    settings = h.base_settings(state)
    instance = h.new_instance(h.asterisk_runtime(settings), settings, "flood")
    instance.start()
    c = instance.config.controller
    recorder = StreamRecorder(path)
    link = AmiLink("127.0.0.1", instance.ports.ami, c.username, c.secret, recorder=recorder)
    try:
        await link.start()
        await link.wait_connected(10)
        queues = routing().queue_names
        sends = [link.send({"Action": "QueueAdd", "Queue": q, "Interface": f"PJSIP/agent-{i:03d}",
                            "MemberName": f"A{i:03d}", "StateInterface": f"PJSIP/agent-{i:03d}",
                            "Penalty": "0"}, idempotent=True)
                 for i in range(1, members + 1) for q in queues]
        await asyncio.gather(*sends)
        phones = await h.agent_phones(instance, ring=0.3, talk=2.0)
        traffic = await h.callers(instance, calls=calls, rate=2.0)
        await traffic.wait(120)
        await asyncio.sleep(2)
        await phones.stop()
    finally:
        await link.close()
        recorder.close()
        instance.stop(remove=True)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(path.read_bytes(), 9))
    print(f"recorded {stream_events(load_stream(path))} events into {path}")


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stream", type=Path, default=DEFAULT_STREAM)
    p.add_argument("--speed", type=float, default=10.0,
                   help="times faster than recorded; 0: as fast as the socket takes it")
    p.add_argument("--repeat", type=int, default=1, help="replay the stream this many times")
    p.add_argument("--record", type=Path, help="record a new stream from a real Asterisk")
    p.add_argument("--asterisk-filter", action="store_true",
                   help="drop what a manager.conf eventfilter could (Newexten, untracked VarSet)")
    p.add_argument("--calls", type=int, default=12)
    p.add_argument("--members", type=int, default=80)
    return p.parse_args()


async def main() -> int:
    args = _args()
    if args.record:
        await record(args.record, args.calls, args.members)
        return 0
    chunks = repeated(load_stream(args.stream), args.repeat)
    if args.asterisk_filter:
        chunks = asterisk_filtered(chunks)
    folder = tempfile.mkdtemp(prefix="line1300-flood-db-")
    figures = await flood(chunks, args.speed or None,
                          f"sqlite+aiosqlite:///{folder}/flood.sqlite3")
    filtered = ", as an Asterisk eventfilter would leave it" if args.asterisk_filter else ""
    print(f"event flood: {args.stream.name} x{args.repeat} at {args.speed:g}x{filtered}")
    for line in figures.lines():
        print("  " + line)
    return 0 if figures.dropped == 0 and figures.tracker_errors == 0 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    sys.exit(asyncio.run(main()))
