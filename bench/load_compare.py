"""Load: how many calls per second the real Asterisk sustains alone, and with the controller.

    .venv/bin/python -m bench.load_compare [--rates 5,10,15,20,25,30,40] [--step-seconds 15]
                                           [--pop-seconds 30] [--asterisk-cpus 0]

Asterisk's own performance method: SIPp callers at a rising rate until calls fail. Each call
comes in on the carrier trunk to 1300, presses the emergency key at 1 s (the IVR, then the
critical-th queue), is answered by an agent phone (a SIPp UAS behind every endpoint: rings
0.1 s, talks 1.5 s) and hangs up at 4 s. A step passes when SIPp saw no failed call and the
queue connected every call to an agent (queue_log CONNECT); with the controller attached, also
when the controller kept up (every call of the step recorded and ended within 10 s).

Twice in one run, on one instance with the same dialplan and queues (the members the controller
applied from the roster with every agent called in to the shift in force, wrap-up 0: staffing
is not what is measured):
  1. Asterisk alone (the controller applied the roster, then was stopped);
  2. with the controller attached (`python -m controller --external-asterisk`).
Then, with the controller, at 80 % of its sustainable rate: screen-pop latency from AgentCalled
(Asterisk's own event time) to the message on each agent's page WebSocket, the controller's CPU
and RSS, and the books: calls Asterisk counted against call records (lost must be 0).

By default every process shares every core of the machine, so the controller's own CPU comes
out of Asterisk's. `--asterisk-cpus 0` gives Asterisk CPU 0 to itself and runs everything else
on the other cores (as on a host of Asterisk's own): the ratio is then what attaching the
controller costs Asterisk itself (its AMI events and actions).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench import harness as h
from sandbox.instance import AsteriskInstance

# Talks over a second: the IVR counts a call answered for under 1 s (ANSWEREDTIME 0) as not
# answered and queues the caller again.
RING, TALK, HANGUP_AFTER = 0.1, 1.5, 4.0
KEEP_UP = 10.0
# Counsellors hired for the run on the 20 phones the seed roster leaves free (agent-061...).
EXTRA_AGENTS = 20


@dataclass
class Step:
    rate: float
    created: int
    failed: int
    connected: int
    seconds: float
    asterisk_cpu: float  # % of one core over the step

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.created > 0 and self.connected >= self.created

    def line(self) -> str:
        verdict = "ok" if self.ok else "FAILS"
        return (f"  {self.rate:5.1f} calls/s: {self.created} calls, {self.failed} failed, "
                f"{self.connected} connected to an agent, Asterisk CPU "
                f"{self.asterisk_cpu:.0f} %  [{verdict}]")


def connects_since(instance: AsteriskInstance, since: float) -> int:
    """Calls (distinct callids) the queues connected to an agent since `since`."""
    calls = set()
    with contextlib.suppress(OSError):
        for line in instance.queue_log.read_text(errors="replace").splitlines():
            parts = line.split("|")
            if len(parts) > 4 and parts[4] == "CONNECT" and float(parts[0]) >= since:
                calls.add(parts[1])
    return len(calls)


async def step(instance: AsteriskInstance, rate: float, seconds: float) -> Step:
    calls = max(1, round(rate * seconds))
    started = time.time()
    assert instance.pid is not None
    cpu0 = h.cpu_seconds(instance.pid)
    traffic = await h.callers(instance, calls=calls, rate=rate, hangup_after=HANGUP_AFTER,
                              timeout=seconds + 60, name=f"callers-{rate:g}")
    result = await traffic.wait(seconds + 90)
    await asyncio.sleep(1.0)
    took = time.time() - started
    return Step(rate, result.created, result.failed + (calls - result.created),
                connects_since(instance, started), took,
                100 * (h.cpu_seconds(instance.pid) - cpu0) / took)


Meter = Callable[[], float]  # CPU seconds a process (tree) has used so far


async def ramp(instance: AsteriskInstance, rates: list[float], seconds: float, title: str,
               controller_database: str | None = None,
               meters: Mapping[str, Meter] | None = None,
               lag: Callable[[], Awaitable[Mapping[str, float]]] | None = None) -> float:
    """The highest rate whose step passed (0 if none). With the controller's database, a step
    passes only if the controller also kept up: every call of the step recorded and ended within
    `KEEP_UP` seconds of its end (otherwise its event backlog would only grow). `meters`: other
    processes whose CPU each step prints; `lag`: the controller's event-loop lag, printed too."""
    print(f"{title}:", flush=True)
    best, meters = 0.0, meters or {}
    for rate in rates:
        since = datetime.now(UTC)
        before, t0 = {name: meter() for name, meter in meters.items()}, time.monotonic()
        result = await step(instance, rate, seconds)
        took = time.monotonic() - t0
        used = "".join(f"; {name} CPU {100 * (meters[name]() - cpu) / took:.0f} %"
                       for name, cpu in before.items())
        behind = ""
        if controller_database is not None and result.ok:
            books = await h.settle(instance, controller_database, since, None, timeout=KEEP_UP)
            behind = "" if books.clean else (
                f"; controller behind: {len(books.lost)} calls not recorded, "
                f"{len(books.not_ended)} not ended {KEEP_UP:.0f} s after the step")
        if lag is not None:
            figures = await lag()
            used += (f"; controller loop lag (last 60 s) p99 {figures.get('p99_ms', 0):.0f} ms, "
                     f"max {figures.get('max_ms', 0):.0f} ms")
        print(result.line() + used + behind, flush=True)
        # The last calls end (and, past the limit, Asterisk's backlog drains) before the next
        # step or the next ramp.
        drained = await h.wait_idle(instance)
        if not result.ok or behind:
            print(f"  (Asterisk idle again {drained:.0f} s after the step)", flush=True)
            break
        best = rate
    return best


# --- screen-pop latency ------------------------------------------------------------------------


@dataclass
class PopWatch:
    latencies: list[float] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    pages: int = 0
    last_message: float = 0.0
    # Rings before this are not measured: a page that connects is first sent the agent's open
    # contacts again (the earlier steps' calls), long after they rang.
    since: float = float("inf")

    def take(self, message: dict[str, Any], received: float) -> None:
        self.last_message = received
        if message.get("type") != "pop" or not message.get("rang_at"):
            return
        key = f"{message.get('linkedid')}:{message.get('rang_at')}"
        rang = datetime.fromisoformat(str(message["rang_at"])).timestamp()
        if key in self.seen or rang < self.since:
            return  # the same ring again (answered, ended...): only its first pop counts
        self.seen.add(key)
        self.latencies.append(received - rang)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0

    def restart(self) -> None:
        """Measure from now on only."""
        self.latencies, self.seen, self.since = [], set(), time.time()


async def agent_pages(controller: h.ControllerProcess, agent_ids: list[str], watch: PopWatch,
                      stop: asyncio.Event) -> None:
    """One signed-in page per agent, each with its WebSocket open, until `stop`."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as sup:
        csrf = await controller.signed_in(sup)
        accounts = []
        for agent_id in agent_ids:
            async with sup.post(f"{controller.base_url}/api/roster/agents/{agent_id}/account",
                                json={"username": f"bench-{agent_id.lower()}"},
                                headers={"X-CSRF-Token": csrf}) as r:
                if r.status == 201:
                    accounts.append(await r.json())
                else:
                    print(f"  no page for {agent_id}: {r.status} {(await r.text())[:120]}")
    await asyncio.gather(*(_page(controller, a, watch, stop) for a in accounts))


async def _page(controller: h.ControllerProcess, account: dict[str, str], watch: PopWatch,
                stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{controller.base_url}/api/login",
                             json={"username": account["username"],
                                   "password": account["password"]}) as r:
            r.raise_for_status()
        async with http.ws_connect(f"{controller.base_url}/ws/agent") as ws:
            watch.pages += 1
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.receive(), 0.5)
                except TimeoutError:
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                watch.take(message.json(), time.time())


# --- the run -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    state = Path(tempfile.mkdtemp(prefix="line1300-load-"))
    os.environ["LINE1300_ROUTING_WRAPUP_SECONDS"] = "0"  # queues.conf: staffing is not measured
    settings = h.base_settings(state / "asterisk")
    instance = h.new_instance(h.asterisk_runtime(settings), settings, "load")
    cpus = CpuSets.of(args.asterisk_cpus)
    cpus.pin_rest()  # this process, and so SIPp, PostgreSQL and the controller it starts
    instance.start()
    cpus.pin_asterisk(instance)
    database, postgres = h.controller_database(args.database, state, "load")
    controller = h.ControllerProcess(instance, state / "controller", database,
                                     extra_env={"LINE1300_ROUTING_WRAPUP_SECONDS": "0"})
    phones = None
    try:
        await controller.start()
        await _members(instance)
        added = await h.staff_everyone(controller, extra=EXTRA_AGENTS)
        await asyncio.sleep(3.0)  # the roster change is applied at once
        members = await _members(instance)
        await controller.stop()  # the roster is applied; Asterisk keeps it on its own
        print(f"every agent called in: {added} assignments added")
        print(f"queues as applied by the controller: {members}")
        phones = await h.agent_phones(instance, ring=RING, talk=TALK)
        rates = [float(r) for r in args.rates.split(",") if r]
        alone = await ramp(instance, rates, args.step_seconds, "Asterisk alone")
        await controller.start()
        since = datetime.now(UTC)
        cpu0, t0 = controller.cpu_seconds(), time.monotonic()
        meters: dict[str, Meter] = {"controller": controller.cpu_seconds}
        if postgres is not None:
            meters["PostgreSQL"] = postgres.cpu_seconds
        attached = await ramp(instance, rates, args.step_seconds, "with the controller",
                              controller_database=database, meters=meters,
                              lag=controller.loop_lag)
        attached = attached or args.pop_rate / 0.8  # --rates "": screen-pops only
        ramp_cpu = 100 * (controller.cpu_seconds() - cpu0) / max(time.monotonic() - t0, 0.001)
        caught_up = await _caught_up(instance, database, since)
        at_80 = max(0.5, round((args.pop_rate or attached * 0.8), 1))
        lower = [float(r) for r in args.pop_rates.split(",") if r and float(r) < at_80]
        runs = await _pop_runs(instance, controller, database, [*lower, at_80],
                               args.pop_seconds)
        books = await h.settle(instance, database, since, None, timeout=60)
        _report(alone, attached, ramp_cpu, runs, books, args.database, cpus)
        print(f"  after the failing step the controller caught up in {caught_up:.0f} s")
        return 0 if books.lost == [] else 1
    finally:
        if phones is not None:
            await phones.stop()
        await controller.stop()
        instance.stop(remove=not args.keep)
        if postgres is not None:
            postgres.remove()


async def _members(instance: AsteriskInstance) -> dict[str, int]:
    async with asyncio.timeout(60):
        while not (found := await h.queue_members(instance)):
            await asyncio.sleep(0.5)
    return found


async def _caught_up(instance: AsteriskInstance, database: str, since: datetime) -> float:
    """Seconds until the controller has recorded every call so far (its backlog drained)."""
    started = time.monotonic()
    await h.settle(instance, database, since, None, timeout=600)
    return time.monotonic() - started


@dataclass
class PopRun:
    rate: float
    pages: int
    p50_ms: float
    p99_ms: float
    pops: int
    cpu_percent: float
    rss_mb: float
    fds: int
    lag: Mapping[str, float] = field(default_factory=dict)

    def line(self) -> str:
        return (f"  {self.rate:5.1f} calls/s, {self.pages} pages: screen-pop p50 "
                f"{self.p50_ms:.0f} ms, p99 {self.p99_ms:.0f} ms over {self.pops} pops; "
                f"controller CPU {self.cpu_percent:.0f} %, RSS {self.rss_mb:.0f} MB, "
                f"{self.fds} open files; loop lag (last 60 s) p99 "
                f"{self.lag.get('p99_ms', 0):.0f} ms, max {self.lag.get('max_ms', 0):.0f} ms")


async def _pop_runs(instance: AsteriskInstance, controller: h.ControllerProcess, database: str,
                    rates: list[float], seconds: float) -> list[PopRun]:
    """Screen-pop latency with every on-shift agent's page open, at each rate in turn (the
    controller's backlog drained between runs)."""
    agent_ids = await h.members_of(instance, "critical-th")
    watch, stop = PopWatch(), asyncio.Event()
    pages = asyncio.create_task(agent_pages(controller, agent_ids, watch, stop))
    # Signing 80 agents in costs seconds of CPU (argon2 hashes): not part of any measurement.
    async with asyncio.timeout(300):
        while watch.pages < len(agent_ids) and not pages.done():
            await asyncio.sleep(0.2)
        # Each page is first sent its agent's open contacts (the ramp's calls): wait until
        # that burst is over.
        while time.time() - watch.last_message < 3.0:
            await asyncio.sleep(0.5)
    runs = []
    print("screen-pops:", flush=True)
    for rate in rates:
        since = datetime.now(UTC)
        cpu0, t0 = controller.cpu_seconds(), time.monotonic()
        watch.restart()
        await step(instance, rate, seconds)
        cpu = 100 * (controller.cpu_seconds() - cpu0) / (time.monotonic() - t0)
        runs.append(PopRun(rate, watch.pages, watch.percentile(50) * 1000,
                           watch.percentile(99) * 1000, len(watch.latencies), cpu,
                           controller.rss_bytes() / 2**20, controller.open_fds(),
                           await controller.loop_lag()))
        print(runs[-1].line(), flush=True)
        await h.settle(instance, database, since, None, timeout=300)  # backlog drained
    stop.set()
    await pages
    return runs


def _report(alone: float, attached: float, ramp_cpu: float, runs: list[PopRun],
            books: h.Accounting, database: str, cpus: CpuSets) -> None:
    ratio = attached / alone if alone else 0.0
    headline = runs[-1]
    fast = [r.rate for r in runs if r.p99_ms <= 100 and r.pops]
    print(f"\nload benchmark (controller on {database}; {cpus.description()})")
    print(f"  max sustainable, Asterisk alone      {alone:g} calls/s")
    print(f"  max sustainable, with the controller {attached:g} calls/s")
    print(f"  ratio                                {ratio:.2f} (goal >= 0.95)")
    print(f"  controller CPU during the ramp       {ramp_cpu:.0f} % of one core")
    print(f"  at {headline.rate:g} calls/s (80 % of the controller's), {headline.pages} agent "
          "pages open:")
    print(f"    screen-pop AgentCalled -> page     p50 {headline.p50_ms:.0f} ms, p99 "
          f"{headline.p99_ms:.0f} ms over {headline.pops} pops (goal p99 <= 100 ms)")
    print(f"    controller CPU                     {headline.cpu_percent:.0f} % of one core")
    print(f"    controller RSS                     {headline.rss_mb:.0f} MB, "
          f"{headline.fds} open files")
    print(f"  highest rate with screen-pop p99 <= 100 ms: "
          f"{max(fast) if fast else 0:g} calls/s (of {', '.join(f'{r.rate:g}' for r in runs)})")
    print(f"  {books.line()}")


@dataclass
class CpuSets:
    """Where the processes run. Shared (the default): everything on every core of this machine.
    With `--asterisk-cpus`, Asterisk alone on those cores and everything else (SIPp, PostgreSQL,
    the controller, this benchmark's page clients) on the others, as when Asterisk has a host
    of its own: the ratio then shows what attaching the controller costs Asterisk itself, not
    what the controller's CPU takes from a machine both share."""

    asterisk: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, spec: str) -> CpuSets:
        if not spec:
            return cls()
        wanted = {int(c) for c in spec.split(",")}
        every = os.sched_getaffinity(0)
        if not wanted < every:
            raise SystemExit(f"--asterisk-cpus {spec}: this machine's usable CPUs are "
                             f"{sorted(every)}; leave at least one for the rest")
        return cls(wanted)

    def pin_rest(self) -> None:
        if self.asterisk:
            os.sched_setaffinity(0, os.sched_getaffinity(0) - self.asterisk)

    def pin_asterisk(self, instance: AsteriskInstance) -> None:
        if self.asterisk:
            assert instance.pid is not None
            h.pin(instance.pid, self.asterisk)

    def description(self) -> str:
        if not self.asterisk:
            return (f"{os.cpu_count()} CPU cores shared by Asterisk, SIPp and everything else "
                    "on this machine")
        return (f"Asterisk alone on CPU {_cpus(self.asterisk)}; SIPp, PostgreSQL, the "
                f"controller and the page clients on CPU {_cpus(os.sched_getaffinity(0))}")


def _cpus(cpus: set[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rates", default="5,10,15,20,25,30,35,40,45,50,55,60,80",
                   help='the ramp; "" skips it (screen-pops only, at --pop-rate)')
    p.add_argument("--step-seconds", type=float, default=15.0)
    p.add_argument("--pop-seconds", type=float, default=30.0)
    p.add_argument("--pop-rates", default="1,2,4,8",
                   help="lower rates to measure screen-pops at too, before 80 %%")
    p.add_argument("--pop-rate", type=float, default=0.0,
                   help="calls/s for the screen-pop run (default: 80 %% of the sustainable rate)")
    p.add_argument("--database", choices=("postgres", "sqlite"),
                   default="postgres" if h.ThrowawayPostgres.available() else "sqlite",
                   help="the controller's database: a throw-away PostgreSQL (production; the "
                        "default when installed) or a SQLite file (the embedded default)")
    p.add_argument("--asterisk-cpus", default="",
                   help="CPU numbers (e.g. 0) for Asterisk alone, everything else on the other "
                        "CPUs; default: every process shares every CPU")
    p.add_argument("--keep", action="store_true", help="keep the Asterisk instance folder")
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(run(_args())))
