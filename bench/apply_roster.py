"""Benchmark: applying a full roster (60 agents) to a real Asterisk.

    .venv/bin/python -m bench.apply_roster [--rounds 5] [--database-url URL]

Starts its own Asterisk (free ports, minimal dialplan), seeds the roster (60 agents) into a
throw-away SQLite database (or the given one, which must be empty and migrated), puts all 60 on
the morning shift, and times with the injected clock at 10:00 and 14:00:

* cold apply: Asterisk's queues empty -> all 60 agents in every queue their skills and
  languages give (one QueueStatus + a QueueAdd per membership);
* no-op apply: the same roster again (one QueueStatus, nothing sent);
* shift boundary: 10:00 -> 14:00 (the 60 leave, the seed afternoon's 18 come);
* restore after `core restart now`: from the AMI reconnect to membership back.

Prints figures per round and the median; exits 1 if a cold apply takes 2 s or more.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from agent_routing.apply import ApplyRoster
from agent_routing.asterisk_queues import AsteriskQueues
from agent_routing.situations import SituationReader
from agent_routing.skills import routing
from ami import AmiLink, LinkState, StateChange
from dialplans.minimal import minimal_extensions
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance
from sandbox.provision import ensure_asterisk
from settings import load_settings
from shift_schedule.bootstrap import GenerateRosterDays, SeedDefaultRoster
from shift_schedule.clock import FixedClock
from shift_schedule.seed import load_seed
from shift_schedule.store import RosterStore
from storage import Database, upgrade_to_head

DAY = date(2025, 3, 4)
LIMIT_SECONDS = 2.0


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--database-url", default="")
    return p.parse_args()


async def _full_morning(db: Database, clock: FixedClock) -> int:
    """Seed, generate, and put every agent not already on the morning shift on it too."""
    tz = clock.now().tzinfo
    assert tz is not None
    await SeedDefaultRoster(db, load_seed()).execute()
    await GenerateRosterDays(db, clock, tz, 2).execute()
    async with db.session() as session:
        store = RosterStore(session)
        snapshot = await store.snapshot(DAY, DAY, tz)
        morning = {a.agent_id for a in snapshot.assignments
                   if a.shift_id == "morning" and a.day == DAY}
        for agent_id in snapshot.agents:
            if agent_id not in morning:
                await store.add_assignment(agent_id, "morning", DAY)
        return len(snapshot.agents)


async def _admin_members(instance: AsteriskInstance) -> int:
    a = instance.config.admin
    client = await MiniAmi.connect("127.0.0.1", instance.ports.ami, a.username, a.secret)
    try:
        entries = await client.list_action("QueueStatus")
        return sum(1 for e in entries if e.get("Event") == "QueueMember")
    finally:
        await client.close()


async def _timed(apply: ApplyRoster) -> tuple[float, int]:
    started = time.perf_counter()
    report = await apply.execute()
    if not report.ok:
        raise SystemExit(f"apply failed: {report.failed[:3]}")
    return time.perf_counter() - started, len(report.changes)


async def _restore_after_restart(
    instance: AsteriskInstance, link: AmiLink, apply: ApplyRoster, expected: int,
) -> tuple[float, float]:
    """(Asterisk restart seconds, seconds from AMI reconnect to membership restored)."""
    reconnected: asyncio.Queue[float] = asyncio.Queue()

    def on_state(change: StateChange) -> None:
        if change.state is LinkState.CONNECTED:
            reconnected.put_nowait(time.perf_counter())

    box = link.on_state(on_state)
    await reconnected.get()  # told at once: the link is up now
    boot = await asyncio.to_thread(instance.restart_now)
    back_at = await asyncio.wait_for(reconnected.get(), 30)
    await apply.execute()  # what the room's scheduler does when woken by the reconnect
    restored = time.perf_counter() - back_at
    await box.aclose(1.0)
    if await _admin_members(instance) != expected:
        raise SystemExit("membership not restored after the restart")
    return boot, restored


async def main() -> int:
    args = _args()
    settings = load_settings()
    runtime = ensure_asterisk(settings.asterisk, lambda line: print(line, file=sys.stderr))
    instance = AsteriskInstance.for_tests(runtime, settings, dialplan=minimal_extensions)
    instance.start()
    workdir = Path(tempfile.mkdtemp(prefix="bench-roster-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    upgrade_to_head(url)
    db = Database(url)
    c = instance.config.controller
    link = AmiLink("127.0.0.1", instance.ports.ami, c.username, c.secret, ping_interval=1.0,
                   ping_timeout=2.0)
    try:
        return await _run(args.rounds, instance, db, link)
    finally:
        await link.close()
        await db.close()
        instance.stop(remove=True)


async def _run(rounds: int, instance: AsteriskInstance, db: Database, link: AmiLink) -> int:
    tz = load_settings().timezone
    clock = FixedClock(datetime(DAY.year, DAY.month, DAY.day, 10, 0, tzinfo=tz))
    agents = await _full_morning(db, clock)
    await link.start()
    await link.wait_connected(timeout=10)
    apply = ApplyRoster(SituationReader(db, clock, tz, True), AsteriskQueues(link), routing())
    cold, noop, boundary = [], [], []
    memberships = 0
    for n in range(1, rounds + 1):
        clock.set(clock.now().replace(hour=10))
        await _clear(instance)  # Asterisk's queues empty, as after a fresh install
        seconds, memberships = await _timed(apply)
        cold.append(seconds)
        noop.append((await _timed(apply))[0])
        clock.set(clock.now().replace(hour=14))
        seconds, changes = await _timed(apply)
        boundary.append(seconds)
        print(f"round {n}: cold {cold[-1] * 1000:.1f} ms ({memberships} QueueAdd), no-op "
              f"{noop[-1] * 1000:.1f} ms, 10:00->14:00 {seconds * 1000:.1f} ms ({changes} changes)")
    clock.set(clock.now().replace(hour=10))
    await apply.execute()
    boot, restored = await _restore_after_restart(instance, link, apply, memberships)
    print(f"\nagents on shift: {agents}; queue memberships: {memberships}")
    print(f"cold apply (60 agents)   median {statistics.median(cold) * 1000:.1f} ms, "
          f"max {max(cold) * 1000:.1f} ms")
    print(f"no-op apply              median {statistics.median(noop) * 1000:.1f} ms")
    print(f"shift boundary 10->14    median {statistics.median(boundary) * 1000:.1f} ms")
    print(f"Asterisk restart {boot:.2f} s; membership restored {restored * 1000:.1f} ms "
          "after the AMI reconnect")
    return 0 if max(cold) < LIMIT_SECONDS else 1


async def _clear(instance: AsteriskInstance) -> None:
    a = instance.config.admin
    client = await MiniAmi.connect("127.0.0.1", instance.ports.ami, a.username, a.secret)
    try:
        for e in await client.list_action("QueueStatus"):
            if e.get("Event") == "QueueMember":
                await client.action("QueueRemove", Queue=e["Queue"],
                                    Interface=e.get("Interface") or e["Location"])
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
