"""Benchmark: the media room's work on a year of the line.

    .venv/bin/python -m bench.media_pipeline [--calls 120000] [--files 20] [--minutes 3]
                                             [--database-url URL] [--only PHASE]

1. Discovery: the scan of the call log for new recordings and messages, over `--calls` call
   records (a year at 326 a day is ~120,000; half recorded, 3 % with a callback message), with
   nothing new and with the files of one busy hour to register.
2. Archiving: `--files` recordings of `--minutes` minutes (8 kHz WAV as MixMonitor writes it)
   converted to the archive format: seconds per recording, real-time factor, size ratio.
3. Retention: the dry run and the real purge of a year's call records past their period.

Prints figures. Default database: a throw-away SQLite file; pass a PostgreSQL URL to measure
production.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from call_log.models import CallRow
from recordings.archive import ArchiveMedia, DiscoverMedia
from recordings.asterisk_paths import AsteriskPaths
from retention.files import MediaFiles
from retention.policy import RetentionPolicy
from retention.purge import PurgeExpired
from storage import Database, upgrade_to_head

MONITOR = "/srv/line1300/default/spool/monitor"
MESSAGES = "/srv/line1300/default/spool/callbacks"
T = TypeVar("T")
# The periods of config/settings.toml [retention].
POLICY = RetentionPolicy(
    call_recordings=timedelta(days=90), callback_messages=timedelta(days=365),
    call_records=timedelta(days=1825), case_stubs=timedelta(days=1825),
    delivered_outbox=timedelta(days=30), closed_callbacks=timedelta(days=90),
    ended_caller_flags=timedelta(days=365), expired_sessions=timedelta(days=7),
    agent_activity=timedelta(days=730), audit_log=timedelta(days=3650),
)


class NoStubs:
    """The bench measures the media room; stub writes are the stub room's bench."""

    async def add_details(self, stub_id: str, details: Any, *, actor: str | None = None) -> None:
        return None

    async def add_message_transcript(self, stub_id: str, **_: Any) -> None:
        return None


def call_rows(count: int, now: datetime, days: float) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        received = now - timedelta(days=days * i / count) - timedelta(minutes=10)
        linkedid = f"{received.timestamp():.0f}.{i}"
        recorded, message = i % 2 == 0, i % 33 == 0
        rows.append({
            "linkedid": linkedid, "line": "domestic", "dialed": "1300",
            "caller_number": f"+66812{i % 1_000_000:06d}", "caller_country": "TH",
            "language": "th", "ivr_path": ["th", "counselling"], "priority": "normal",
            "queue": "counsel-th", "received_at": received,
            "queued_at": received, "answered_at": received if recorded else None,
            "ended_at": received + timedelta(minutes=4), "wait_seconds": 10.0,
            "talk_seconds": 200.0, "hold_seconds": 0.0, "agent_id": "A001",
            "ringing_agents": ["A001"], "transfers": [],
            "disposition": "callback_requested" if message else "answered",
            "fallback": None, "callback_number": None,
            "callback_message": f"{MESSAGES}/{linkedid}.wav" if message else None,
            "callback_id": None, "callback_result": None, "related_linkedid": None,
            "survey_score": None,
            "recording_path": f"{MONITOR}/{linkedid}.wav" if recorded else None,
            "stub_id": str(uuid.uuid4()), "source": "ami", "updated_at": now,
        })
    return rows


async def timed(label: str, work: Awaitable[T]) -> T:
    started = time.perf_counter()
    result = await work
    print(f"{label}: {time.perf_counter() - started:.3f} s")
    return result


async def discovery(db: Database, calls: int, root: Path) -> None:
    now = datetime.now(UTC)
    rows = call_rows(calls, now, days=365)
    async with db.session() as s:
        for start in range(0, len(rows), 5000):
            await s.execute(insert(CallRow), rows[start : start + 5000])
    policy = POLICY
    discover = DiscoverMedia(db, policy, lambda: now)
    registered = await timed(f"discovery, first scan of {calls} calls (registers all)",
                             discover.execute())
    print(f"  registered {len(registered)} recordings and messages")
    await timed(f"discovery, a scan of {calls} calls with nothing new (every pass)",
                discover.execute())


async def archiving(db: Database, files: int, minutes: float, folder: Path) -> None:
    root = folder / "chroot"
    source = folder / "speech.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(source), "synth",
                    str(minutes * 60), "pinknoise", "vol", "0.2"], check=True)
    now = datetime.now(UTC)
    rows = call_rows(files * 2, now, days=0.01)[::2]  # every other one is recorded
    for row in rows:
        row["callback_message"], row["disposition"] = None, "answered"
        target = root / row["recording_path"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    async with db.session() as s:
        await s.execute(insert(CallRow), rows)
    policy = POLICY
    later = now + timedelta(hours=1)
    await DiscoverMedia(db, policy, lambda: later).execute()
    archive = ArchiveMedia(db, AsteriskPaths(root, None), folder / "archive", NoStubs(),
                           lambda: later, UTC)
    started = time.perf_counter()
    done = await archive.execute()
    elapsed = time.perf_counter() - started
    kept = sum(m.size_bytes or 0 for m in done)
    print(f"archiving {len(done)} recordings of {minutes:g} min: {elapsed:.2f} s, "
          f"{elapsed / max(1, len(done)):.3f} s each, real-time factor "
          f"{elapsed / (len(done) * minutes * 60):.4f}")
    print(f"  size: WAV {source.stat().st_size / 1e6:.2f} MB -> archive "
          f"{kept / max(1, len(done)) / 1e6:.3f} MB each "
          f"({source.stat().st_size * len(done) / max(1, kept):.1f}x smaller)")


async def retention(db: Database, calls: int, folder: Path) -> None:
    now = datetime.now(UTC)
    rows = call_rows(calls, now - timedelta(days=1830), days=365)
    for row in rows:
        row["linkedid"] = "old-" + row["linkedid"]
        row["recording_path"] = row["callback_message"] = None
    async with db.session() as s:
        for start in range(0, len(rows), 5000):
            await s.execute(insert(CallRow), rows[start : start + 5000])
    policy = POLICY
    purge = PurgeExpired(db, policy, MediaFiles(AsteriskPaths(folder, None), folder / "archive"),
                         lambda: now)
    report = await timed("retention dry run", purge.execute(dry_run=True))
    print(f"  would remove {report.counts()}")
    report = await timed("retention purge", purge.execute(dry_run=False))
    print(f"  removed {report.counts()}, {report.files_removed} files")


async def main_async(args: argparse.Namespace) -> None:
    phases: dict[str, Callable[[Database, Path], Awaitable[None]]] = {
        "discovery": lambda db, folder: discovery(db, args.calls, folder),
        "archiving": lambda db, folder: archiving(db, args.files, args.minutes, folder),
        "retention": lambda db, folder: retention(db, args.calls, folder),
    }
    chosen = [args.only] if args.only else list(phases)
    for n, name in enumerate(chosen):
        phase = phases[name]
        with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
            folder = Path(tmp)
            # Each phase on a database of its own (with a PostgreSQL URL: one --only per run).
            url = args.database_url or f"sqlite+aiosqlite:///{folder / f'bench{n}.sqlite3'}"
            upgrade_to_head(url)
            db = Database(url)
            try:
                await phase(db, folder)
            finally:
                await db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=120_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--only", choices=("discovery", "archiving", "retention"))
    args = parser.parse_args()
    from controller.logs import configure

    configure(level=30)  # warnings only: the figures are the output
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
