"""Screen-pop latency: Asterisk's AgentCalled → the pop frame received by the agent's page.

    .venv/bin/python -m bench.pop_latency [--source asterisk|frames] [--agents 40]
        [--calls 200] [--rate 10] [--stalled 4] [--database-url URL]

The whole server runs (every room, SQLite unless --database-url), with `--agents` agent accounts;
a separate process signs each agent in and keeps one WebSocket per agent open on /ws/agent, like
the agents' browsers. `--stalled` agents also have a second tab that completes the WebSocket
handshake and never reads again (a frozen browser): their pops must not slow anyone else.

Sources of AgentCalled:
  asterisk  real calls: a sandbox Asterisk (minimal dialplan: every call into the default queue)
            with the agents as queue members, SIPp carrier calls and SIPp agent phones; the
            controller's AMI link and call tracker turn Asterisk's events into pops.
  frames    without Asterisk: the same AMI frames Asterisk 22 sends, written by a fake AMI
            server through the real AMI link and tracker.

Latency is measured per pop as (client's wall clock when the frame arrived) − (the pop's
`rang_at`, which is Asterisk's own Timestamp header of AgentCalled), on one machine's clock.
Prints count, p50, p90, p99 and max.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import statistics
import sys
import tempfile
import time
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import WSCloseCode, web

PASSWORD = "bench-pass"


def agent_id(n: int) -> str:
    return f"A{n:03d}"


def endpoint(n: int) -> str:
    return f"agent-{n:03d}"


# ------------------------------------------------------------------ the pages (child process)


@dataclass
class PageFigures:
    latencies_ms: list[float] = field(default_factory=list)
    pops: int = 0
    closed_codes: list[int] = field(default_factory=list)


def pages_main(base: str, agents: int, stalled: int, pipe: Connection) -> None:
    """The agents' browsers, in their own process (own CPU, own event loop)."""
    figures = asyncio.run(_pages(base, agents, stalled, pipe))
    pipe.send(figures)


async def _pages(base: str, agents: int, stalled: int, pipe: Connection) -> PageFigures:
    figures = PageFigures()
    # unsafe=True: keep the session cookie of a server addressed by IP (127.0.0.1).
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
                for _ in range(agents)]
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    frozen: list[socket.socket] = []
    try:
        for n, session in enumerate(sessions, start=1):
            r = await session.post(f"{base}/api/login",
                                   json={"username": f"agent{n}", "password": PASSWORD})
            r.raise_for_status()
            sockets.append(await session.ws_connect(f"{base}/ws/agent"))
            if n <= stalled:
                frozen.append(await _frozen_tab(base, session))
        readers = [asyncio.create_task(_read(ws, figures)) for ws in sockets]
        pipe.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
        for reader in readers:
            reader.cancel()
    finally:
        for ws in sockets:
            await ws.close()
        for session in sessions:
            await session.close()
        for sock in frozen:
            sock.close()
    return figures


async def _read(ws: aiohttp.ClientWebSocketResponse, figures: PageFigures) -> None:
    first_ring: set[str] = set()
    async for message in ws:
        arrived = time.time()
        if message.type is not aiohttp.WSMsgType.TEXT:
            continue
        body = message.json()
        ringing = body["type"] == "pop" and body["phase"] == "ringing"
        if ringing and body["linkedid"] not in first_ring:
            first_ring.add(body["linkedid"])
            rang = datetime.fromisoformat(body["rang_at"]).timestamp()
            figures.latencies_ms.append((arrived - rang) * 1000)
            figures.pops += 1
    figures.closed_codes.append(ws.close_code or 0)


async def _frozen_tab(base: str, session: aiohttp.ClientSession) -> socket.socket:
    """A second tab of the agent that shakes hands and then never reads (a frozen browser)."""
    host, port = base.removeprefix("http://").split(":")
    cookies = "; ".join(f"{c.key}={c.value}" for c in session.cookie_jar)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    key = b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, (
        f"GET /ws/agent HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Cookie: {cookies}\r\n\r\n").encode())
    head = await loop.sock_recv(sock, 1024)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"frozen tab refused: {head[:80]!r}")
    return sock


# ------------------------------------------------------------------------ the server side


@dataclass
class Server:
    app: web.Application
    runner: web.AppRunner
    base: str


async def start_server(args: argparse.Namespace, state: str) -> Server:
    from controller.wiring import build_app
    from settings import load_settings
    from web.accounts import Role, create_user
    from web.keys import DATABASE

    env = {"LINE1300_GENERAL_STATE_DIR": state, "LINE1300_SUPERVISOR_PASSWORD": "bench"}
    if args.database_url:
        env["LINE1300_DATABASE_URL"] = args.database_url
    os.environ.update(env)
    app = build_app(load_settings(env={**os.environ, **env}), with_ami=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with app[DATABASE].session() as session:
        for n in range(1, args.agents + 1):
            await create_user(session, f"agent{n}", f"Agent {n}", Role.AGENT, PASSWORD,
                              agent_id=agent_id(n))
    return Server(app, runner, f"http://127.0.0.1:{port}")


def attach_tracker(server: Server, link: Any) -> Callable[[], int]:
    """The app's call tracker on `link`; returns a counter of AgentCalled events seen."""
    from call_log.keys import CALL_TRACKER

    seen = [0]

    def count(_event: Any) -> None:
        seen[0] += 1

    server.app[CALL_TRACKER].attach(link)
    link.subscribe(count, "AgentCalled")
    return lambda: seen[0]


async def drive_asterisk(args: argparse.Namespace, server: Server, settings_env: str) -> int:
    """Real calls through a sandbox Asterisk; returns the AgentCalled events seen."""
    from agent_routing.skills import routing
    from ami import AmiLink
    from dialplans.minimal import minimal_extensions
    from sandbox.amiclient import MiniAmi
    from sandbox.instance import AsteriskInstance
    from sandbox.provision import ensure_asterisk
    from settings import load_settings
    from sip_traffic.runner import run_sipp, start_sipp
    from sip_traffic.scenarios import agent_scenario, caller_scenario

    settings = load_settings(env={**os.environ, "LINE1300_GENERAL_STATE_DIR": settings_env,
                                  "LINE1300_ROUTING_WRAPUP_SECONDS": "0"})
    runtime = ensure_asterisk(settings.asterisk, progress=print)
    instance = AsteriskInstance.for_tests(runtime, settings, name=f"bench-{os.getpid()}-pop",
                                          agent_count=args.agents, dialplan=minimal_extensions)
    instance.start()
    try:
        queue = routing().ivr.default_queue
        a, c = instance.config.admin, instance.config.controller
        admin = await MiniAmi.connect("127.0.0.1", instance.ports.ami, a.username, a.secret)
        for n in range(1, args.agents + 1):
            await admin.action("QueueAdd", Queue=queue, Interface=f"PJSIP/{endpoint(n)}",
                               MemberName=agent_id(n), StateInterface=f"PJSIP/{endpoint(n)}")
        await admin.close()
        link = AmiLink("127.0.0.1", instance.ports.ami, c.username, c.secret)
        seen = attach_tracker(server, link)
        await link.start()
        await link.wait_connected(timeout=10)
        phones = await start_sipp(agent_scenario(ring=0.5, talk=args.talk), name="agents",
                                  local_port=instance.ports.agent_sip)
        await asyncio.sleep(0.3)
        result = await run_sipp(
            caller_scenario(caller="0899[call_number]", hangup_after=None), name="callers",
            remote=f"127.0.0.1:{instance.ports.sip}", service="1300", calls=args.calls,
            rate=args.rate, limit=args.calls, local_port=_caller_port(instance),
            timeout=args.calls / args.rate + args.talk + 60,
        )
        await asyncio.sleep(1.0)
        await phones.stop()
        await link.close()
        print(f"carrier calls                {result.created} placed, {result.successful} ok, "
              f"{result.failed} failed")
        if result.errors or not result.created:
            print("sipp (tail):\n  " + "\n  ".join([result.summary(), *result.errors[-10:]]))
        return seen()
    finally:
        instance.stop(remove=True)


def _caller_port(instance: Any) -> int | None:
    # A spare port of the instance's slot: the trunk port may be held by another SIPp.
    return instance.lease.spare_udp_port() if instance.lease else None


async def drive_frames(args: argparse.Namespace, server: Server) -> int:
    """AMI frames of calls written by a fake AMI server; returns the AgentCalled frames sent."""
    sys.path.insert(0, os.getcwd())
    from ami import AmiLink
    from tests.ami.fake_ami import FakeAmi, event

    fake = await FakeAmi().start()
    link = AmiLink(fake.host, fake.port, fake.username, fake.secret)
    seen = attach_tracker(server, link)
    await link.start()
    await link.wait_connected(timeout=10)
    tasks = []
    for i in range(args.calls):
        tasks.append(asyncio.create_task(_frame_call(fake, event, i, args)))
        await asyncio.sleep(1 / args.rate)
    await asyncio.gather(*tasks)
    await asyncio.sleep(1.0)
    await link.close()
    await fake.stop()
    return seen()


async def _frame_call(fake: Any, event: Any, i: int, args: argparse.Namespace) -> None:
    linkedid = f"{int(time.time())}.{i + 1}"
    n = i % args.agents + 1
    caller = {"Channel": f"PJSIP/trunk-{i:08x}", "CallerIDNum": f"0899{i:06d}",
              "Exten": "1300", "Uniqueid": linkedid, "Linkedid": linkedid}
    member = {**caller, "Queue": "counsel-th", "MemberName": agent_id(n),
              "Interface": f"PJSIP/{endpoint(n)}"}
    fake.send_raw(event("Newchannel", caller))
    for name, value in (("L1300_LINE", "domestic"), ("L1300_LANG", "th"),
                        ("L1300_PATH", "th,counselling")):
        fake.send_raw(event("VarSet", caller, Variable=f"__{name}", Value=value))
    fake.send_raw(event("QueueCallerJoin", caller, Queue="counsel-th", Position="1"))
    await asyncio.sleep(0.05)
    fake.send_raw(event("AgentCalled", member, Timestamp=f"{time.time():.6f}"))
    await asyncio.sleep(0.5)
    fake.send_raw(event("AgentConnect", member, HoldTime="1", RingTime="1"))
    await asyncio.sleep(args.talk)
    fake.send_raw(event("AgentComplete", member, TalkTime=str(int(args.talk)), Reason="agent"))
    fake.send_raw(event("Hangup", caller, Cause="16"))


# ---------------------------------------------------------------------------------- main


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--source", choices=("asterisk", "frames"), default="asterisk")
    p.add_argument("--agents", type=int, default=40, help="agents with an open page")
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--rate", type=float, default=10.0, help="calls per second")
    p.add_argument("--talk", type=float, default=2.0, help="seconds each call is talked")
    p.add_argument("--stalled", type=int, default=4, help="agents with a frozen second tab")
    p.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    return p.parse_args()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> int:
    from controller.logs import configure
    from screen_pop.keys import POP_HUB

    args = _args()
    state = tempfile.mkdtemp(prefix="line1300-bench-pop-")
    configure(Path(state) / "bench.jsonl", level=30)  # warnings only on the console
    server = await start_server(args, state)
    parent, child = mp.get_context("spawn").Pipe()
    pages = mp.get_context("spawn").Process(
        target=pages_main, args=(server.base, args.agents, args.stalled, child), daemon=True)
    pages.start()
    if not await asyncio.get_running_loop().run_in_executor(None, parent.poll, 120):
        raise RuntimeError("the pages did not connect within 2 minutes")
    if not pages.is_alive() or parent.recv() != "ready":
        raise RuntimeError("the pages process failed (see its traceback above)")
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    if args.source == "asterisk":
        called = await drive_asterisk(args, server, state)
    else:
        called = await drive_frames(args, server)
    wall = time.monotonic() - started
    let_go = server.app[POP_HUB].closed[WSCloseCode.TRY_AGAIN_LATER]
    parent.send("stop")
    figures: PageFigures = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
    pages.join(10)
    await server.runner.cleanup()
    _report(args, called, figures, wall, let_go)
    # Figures from a shared machine mean little without its load (2 cores here).
    print(f"machine load (1-min average) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"on {os.cpu_count()} CPUs")
    return 0 if figures.pops == called and called > 0 else 1


def _report(
    args: argparse.Namespace, called: int, f: PageFigures, wall: float, let_go: int
) -> None:
    lat = f.latencies_ms
    print(f"source                       {args.source}")
    print(f"agents with a page open      {args.agents} ({args.stalled} with a frozen second tab)")
    print(f"calls                        {args.calls} at {args.rate:g}/s over {wall:.1f} s")
    print(f"AgentCalled events           {called}")
    print(f"pops received by the pages   {f.pops}")
    print(f"frozen tabs let go (1013)    {let_go}")
    if lat:
        print(f"AgentCalled → page latency   p50 {statistics.median(lat):.1f} ms · "
              f"p90 {_percentile(lat, 0.90):.1f} ms · p99 {_percentile(lat, 0.99):.1f} ms · "
              f"max {max(lat):.1f} ms")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
