"""Load test: a burst of carrier calls through the default queue to a pool of SIPp agents.

    .venv/bin/python -m bench.load_queue [--calls 200] [--rate 40] [--agents 120]

Starts its own Asterisk instance (free ports, minimal dialplan: every call straight into the
default queue, recorded if the queue records), adds ``--agents`` members over AMI, all pointing
at one SIPp UAS that rings briefly, answers and hangs up after ``--talk`` seconds. Wrap-up is
set to 0 so the figure measures Asterisk, not staffing. Prints calls attempted/succeeded/
failed, the achieved call rate, queue hold times and Asterisk's CPU; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass

from agent_routing.skills import routing
from bench import harness as h
from dialplans.minimal import minimal_extensions
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance
from sandbox.provision import ensure_asterisk
from settings import load_settings
from sip_traffic.runner import SippResult, run_sipp, start_sipp
from sip_traffic.scenarios import agent_scenario, caller_scenario


@dataclass
class Figures:
    caller: SippResult
    agents: SippResult
    wall: float
    cpu_seconds: float
    rate: float
    holds: list[int]
    boot: float


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--rate", type=float, default=40.0, help="calls per second")
    p.add_argument("--agents", type=int, default=120, help="queue members (agent endpoints)")
    p.add_argument("--ring", type=float, default=0.2, help="seconds an agent phone rings")
    p.add_argument("--talk", type=float, default=2.0, help="seconds of conversation")
    p.add_argument("--keep", action="store_true", help="keep the instance folder")
    return p.parse_args()


async def _add_members(instance: AsteriskInstance, queue: str, count: int) -> None:
    a = instance.config.admin
    ami = await MiniAmi.connect("127.0.0.1", instance.ports.ami, a.username, a.secret,
                                events="off")
    try:
        for name in sorted(instance.config.agent_passwords)[:count]:
            answer = await ami.action("QueueAdd", Queue=queue, Interface=f"PJSIP/{name}",
                                      MemberName=name)
            if answer.get("Response") != "Success":
                raise RuntimeError(f"QueueAdd {name}: {answer}")
    finally:
        await ami.close()


async def _run(args: argparse.Namespace, instance: AsteriskInstance, boot: float) -> Figures:
    queue = routing().ivr.default_queue
    await _add_members(instance, queue, args.agents)
    agents = await start_sipp(agent_scenario(ring=args.ring, talk=args.talk), name="agents",
                              local_port=instance.ports.agent_sip)
    await asyncio.sleep(0.3)
    pid = instance.pid
    assert pid is not None
    cpu0, t0 = h.cpu_seconds(pid), time.monotonic()
    caller_port = instance.lease.spare_udp_port() if instance.lease else None
    caller = await run_sipp(
        caller_scenario(caller="0899[call_number]", hangup_after=None),
        name="callers", remote=f"127.0.0.1:{instance.ports.sip}", service="1300",
        calls=args.calls, rate=args.rate, limit=args.calls, local_port=caller_port,
        timeout=args.calls / args.rate + args.talk + 60,
    )
    wall, cpu = time.monotonic() - t0, h.cpu_seconds(pid) - cpu0
    await asyncio.sleep(1.5)  # the UAS's last stats line
    agent_result = await agents.stop()
    return Figures(caller, agent_result, wall, cpu, _achieved_rate(instance),
                   _hold_times(instance, queue), boot)


def _achieved_rate(instance: AsteriskInstance) -> float:
    """Calls per second between the first and the last trunk channel (CEL, epoch floats)."""
    with sqlite3.connect(instance.cel_db) as con:
        starts = [float(r[0]) for r in con.execute(
            "SELECT eventtime FROM cel WHERE eventtype = 'CHAN_START' "
            "AND channame LIKE 'PJSIP/trunk-%' ORDER BY eventtime")]
    if len(starts) < 2:
        return 0.0
    return (len(starts) - 1) / (starts[-1] - starts[0])


def _hold_times(instance: AsteriskInstance, queue: str) -> list[int]:
    """Seconds each caller waited (queue_log CONNECT: holdtime is the first data field)."""
    holds = []
    for line in instance.queue_log.read_text().splitlines():
        parts = line.split("|")
        if len(parts) > 5 and parts[2] == queue and parts[4] == "CONNECT":
            holds.append(int(parts[5]))
    return holds


def _report(args: argparse.Namespace, f: Figures) -> None:
    c = f.caller
    print(f"Asterisk boot                {f.boot:.2f} s")
    print(f"calls attempted              {c.created} (asked {args.calls} at {args.rate:g}/s)")
    print(f"calls succeeded              {c.successful}")
    print(f"calls failed                 {c.failed}")
    print(f"agent phones: answered       {f.agents.successful} (failed {f.agents.failed})")
    print(f"achieved call rate           {f.rate:.1f} calls/s")
    print(f"duration (first INVITE..last BYE) {f.wall:.1f} s")
    if f.holds:
        print(f"queue hold time              mean {statistics.mean(f.holds):.2f} s, "
              f"max {max(f.holds)} s ({len(f.holds)} connects)")
    print(f"Asterisk CPU                 {f.cpu_seconds:.2f} s "
          f"({100 * f.cpu_seconds / f.wall:.0f}% of one core over the run)")
    if c.errors:
        print("sipp errors (tail):\n  " + "\n  ".join(c.errors[-10:]))


async def main() -> int:
    args = _args()
    state = tempfile.mkdtemp(prefix="line1300-bench-")
    settings = load_settings(env={**os.environ, "LINE1300_GENERAL_STATE_DIR": state,
                                  "LINE1300_ROUTING_WRAPUP_SECONDS": "0"})
    runtime = ensure_asterisk(settings.asterisk, progress=print)
    instance = AsteriskInstance.for_tests(runtime, settings, name=f"bench-{os.getpid()}-load",
                                          agent_count=args.agents, dialplan=minimal_extensions)
    try:
        boot = instance.start()
        figures = await _run(args, instance, boot)
    finally:
        instance.stop(remove=not args.keep)
    _report(args, figures)
    return 0 if figures.caller.failed == 0 and figures.caller.created == args.calls else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
