"""Soak: the controller under a steady call rate for a long time, watched for leaks.

    .venv/bin/python -m bench.soak [--minutes 60] [--rate 1.0] [--database postgres|sqlite]

Real Asterisk with the IVR, SIPp callers at a steady rate pressing the emergency key, agent
phones answering, agent pages with their WebSockets open, a case-store receiver taking every
stub: the whole controller as a separate process. Prints the controller's RSS, open file
descriptors and CPU at the start (after a minute's warm-up), every few minutes, and at the end,
then the books of the run (lost call records must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import harness as h
from bench.load_compare import PopWatch, agent_pages
from tests.calls.receiver import CaseStore

WARM_UP = 60.0


def sample(controller: h.ControllerProcess, label: str, started: float) -> tuple[float, int]:
    rss = controller.rss_bytes() / 2**20
    fds = controller.open_fds()
    cpu = controller.cpu_seconds()
    print(f"  {label:>8} ({(time.monotonic() - started) / 60:5.1f} min): RSS {rss:6.1f} MB, "
          f"{fds:3d} open files, {cpu:7.1f} CPU s", flush=True)
    return rss, fds


async def run(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="line1300-soak-"))
    settings = h.base_settings(root / "asterisk")
    instance = h.new_instance(h.asterisk_runtime(settings), settings, "soak")
    instance.start()
    store = await CaseStore().start()
    database, postgres = h.controller_database(args.database, root, "soak")
    controller = h.ControllerProcess(instance, root / "controller", database, store.url)
    phones = await h.agent_phones(instance, ring=0.3, talk=3.0)
    watch, stop = PopWatch(), asyncio.Event()
    try:
        await controller.start()
        async with asyncio.timeout(60):
            while not (members := await h.queue_members(instance)):
                await asyncio.sleep(0.5)
        # The pages of the agents on shift now (the emergency key rings critical-th).
        agent_ids = await h.members_of(instance, "critical-th")
        pages = asyncio.create_task(agent_pages(controller, agent_ids, watch, stop))
        seconds = WARM_UP + args.minutes * 60
        since = datetime.now(UTC)
        traffic = await h.callers(instance, calls=max(1, round(args.rate * seconds)),
                                  rate=args.rate, hangup_after=8.0, timeout=seconds + 120)
        started = time.monotonic()
        print(f"soak: {args.rate:g} calls/s for {args.minutes:g} min after {WARM_UP:.0f} s "
              f"warm-up; controller on {args.database}; queues {members}", flush=True)
        await asyncio.sleep(WARM_UP)
        watch.since = time.time()
        first = sample(controller, "start", started)
        next_at = time.monotonic() + args.every * 60
        while traffic.running:
            await asyncio.sleep(1.0)
            if time.monotonic() >= next_at:
                sample(controller, "", started)
                next_at += args.every * 60
        sipp = await traffic.wait(120)
        last = sample(controller, "end", started)
        stop.set()
        await pages
        books = await h.settle(instance, database, since, store.accepted, timeout=120)
    finally:
        stop.set()
        await phones.stop()
        await controller.stop()
        await store.stop()
        instance.stop(remove=True)
        if postgres is not None:
            postgres.remove()
    print(f"  RSS {first[0]:.1f} -> {last[0]:.1f} MB ({last[0] - first[0]:+.1f}), open files "
          f"{first[1]} -> {last[1]} ({last[1] - first[1]:+d})")
    print(f"  calls: SIPp {sipp.successful} ok, {sipp.failed} failed; screen-pops "
          f"{len(watch.latencies)}, p50 {watch.percentile(50) * 1000:.0f} ms, p99 "
          f"{watch.percentile(99) * 1000:.0f} ms")
    print(f"  {books.line()}")
    return 0 if books.clean else 1


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=1.0, help="calls per second")
    p.add_argument("--every", type=float, default=5.0, help="minutes between samples")
    p.add_argument("--database", choices=("postgres", "sqlite"),
                   default="postgres" if h.ThrowawayPostgres.available() else "sqlite")
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(run(_args())))
