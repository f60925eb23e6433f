"""The fault scenarios, with their durations as parameters: tests/fault runs them short in CI and
bench/faults_long.py runs them as long as the issue asks (a 5-minute controller outage, a
10-minute case-store outage, a 60-second database outage).

Each takes a `Rig` (a controller process attached to a real Asterisk, a case-store receiver) and
returns an `Outcome`: the books of the run — Asterisk's own count of calls (CDR) against the
controller's records and the stubs the case store received — and the scenario's own figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from ami import ActionLost, AmiLink, Backoff
from bench import harness as h
from sandbox.instance import AsteriskInstance
from tests.calls.receiver import CaseStore


@dataclass
class Rig:
    """A controller process attached to an Asterisk, and what to check it against."""

    instance: AsteriskInstance
    controller: h.ControllerProcess
    database: str  # its SQLAlchemy URL
    store: CaseStore
    since: datetime

    async def members(self, timeout: float = 30.0) -> dict[str, int]:
        """Asterisk's queue membership once the roster is applied (never empty by day: the seed
        roster has counsellors on every shift)."""
        async with asyncio.timeout(timeout):
            while not (found := await h.queue_members(self.instance)):
                await asyncio.sleep(0.3)
        return found

    async def books(self, timeout: float = 60.0) -> h.Accounting:
        return await h.settle(self.instance, self.database, self.since, self.store.accepted,
                              timeout)


@dataclass
class Outcome:
    title: str
    books: h.Accounting
    figures: dict[str, object] = field(default_factory=dict)

    def line(self) -> str:
        extra = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.figures.items())
        return f"[fault] {self.title}: {self.books.line()}" + (f"; {extra}" if extra else "")


class InFlightOriginate:
    """An Originate that is still waiting for its answer when the fault strikes: the carrier (a
    silent UDP port) never answers, so without Async the action waits for its Timeout. Sent on an
    AmiLink, the class the controller uses, as the controller's AMI user. Afterwards the carrier
    side tells how many times Asterisk executed it: one INVITE (one Call-ID) per execution."""

    def __init__(self, instance: AsteriskInstance, number: str) -> None:
        self.instance = instance
        self.number = number
        c = instance.config.controller
        self.link = AmiLink("127.0.0.1", instance.ports.ami, c.username, c.secret,
                            backoff=Backoff(0.1, 1.0), ping_interval=1.0, ping_timeout=1.0)
        self.sink: h.UdpSink | None = None
        self.task: asyncio.Task[object] | None = None

    async def send(self) -> None:
        self.sink = await h.UdpSink.listen(self.instance.ports.trunk)
        await self.link.start()
        await self.link.wait_connected(10)
        self.task = asyncio.create_task(self.link.send({
            "Action": "Originate", "Channel": f"PJSIP/{self.number}@trunk",
            "Application": "Wait", "Data": "1", "Timeout": "25000",
            "CallerID": f'"fault probe" <{self.number}>'}, timeout=40))
        await asyncio.sleep(1.5)  # ringing into the silent carrier now
        if self.task.done():
            raise RuntimeError(f"the probe Originate ended early: {self.task.result()}")

    async def outcome(self) -> str:
        """"lost" (the connection died under it) or Asterisk's own answer."""
        assert self.task is not None
        try:
            answer = await self.task
        except ActionLost:
            return "lost"
        return f"answered {answer.status}"  # type: ignore[attr-defined]

    async def executions(self) -> int:
        await self.link.wait_connected(20)  # a link that re-sends would have done it by now
        await asyncio.sleep(2.0)
        assert self.sink is not None
        return len(self.sink.invites(self.number))

    async def close(self) -> None:
        await self.link.close()
        if self.sink is not None:
            await self.sink.close()


async def _wait_members(instance: AsteriskInstance, wanted: dict[str, int],
                        timeout: float) -> float:
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(Exception):  # Asterisk may still be booting
                if await h.queue_members(instance) == wanted:
                    return time.monotonic() - started
            await asyncio.sleep(0.2)


async def core_restart(rig: Rig, calls: int = 24) -> Outcome:
    """`core restart now` mid-traffic, with an Originate in flight."""
    instance = rig.instance
    members = await rig.members()
    traffic = await h.callers(instance, calls=calls, rate=1.0)
    await asyncio.sleep(6)
    probe = InFlightOriginate(instance, "0891000001")
    try:
        await probe.send()
        boot = await asyncio.to_thread(instance.restart_now)
        outcome = await probe.outcome()
        recovery = boot + await _wait_members(instance, members, timeout=30)
        originates = await probe.executions()
    finally:
        await probe.close()
    sipp = await traffic.wait(120)
    return Outcome("core restart now", await rig.books(), {
        "seconds_to_recovery": round(recovery, 1), "asterisk_boot": f"{boot:.1f} s",
        "originate_in_flight": outcome, "originate_executed": originates,
        "sipp_calls": f"{sipp.successful} ok/{sipp.failed} cut by the restart"})


@contextlib.contextmanager
def silent_ami(port: int) -> Iterator[None]:
    """Drop every packet to and from this AMI port, both directions, without a reset: the socket
    stays open and goes quiet (half-open). iptables DROP on the loopback in this machine's
    namespace, limited to the test instance's own AMI port (AMI listens on loopback only, so a
    separate network namespace could not reach it); the rules carry a comment naming the port."""
    clear_silence(port)  # a run killed mid-test may have left its rules behind
    for rule in _silence_rules(port):
        subprocess.run(["iptables", "-I", *rule], check=True)
    try:
        yield
    finally:
        clear_silence(port)


def _silence_rules(port: int) -> list[list[str]]:
    tag = ["-m", "comment", "--comment", f"line1300-halfopen-{port}", "-j", "DROP"]
    return [["OUTPUT", "-p", "tcp", "--dport", str(port), *tag],
            ["OUTPUT", "-p", "tcp", "--sport", str(port), *tag]]


def clear_silence(port: int) -> None:
    """Remove this port's DROP rules, however many times they were inserted."""
    for rule in _silence_rules(port):
        while subprocess.run(["iptables", "-D", *rule], capture_output=True,
                             check=False).returncode == 0:
            pass


def iptables_usable() -> bool:
    try:
        return subprocess.run(["iptables", "-L", "OUTPUT", "-n"], capture_output=True,
                              check=False).returncode == 0
    except OSError:
        return False


def _controller_log(rig: Rig) -> str:
    path = rig.controller.log_file
    return path.read_text(errors="replace") if path.exists() else ""


async def half_open(rig: Rig, silence: float = 0.0, calls: int = 16) -> Outcome:
    """The AMI socket goes silent (no FIN, no RST) while calls go on; `silence` seconds more
    after the controller noticed, then the network comes back."""
    instance = rig.instance
    await rig.members()
    sessions = _controller_log(rig).count('"ami.connected"')
    traffic = await h.callers(instance, calls=calls, rate=1.0)
    await asyncio.sleep(3)
    probe = InFlightOriginate(instance, "0891000002")
    await probe.send()
    with silent_ami(instance.ports.ami):
        started = time.monotonic()
        async with asyncio.timeout(30):
            while '"ami.ping_timeout"' not in _controller_log(rig):
                await asyncio.sleep(0.1)
        detected = time.monotonic() - started
        await asyncio.sleep(2 + silence)  # calls go on while the controller cannot see them
    unblocked = time.monotonic()
    async with asyncio.timeout(30):
        while _controller_log(rig).count('"ami.connected"') <= sessions:
            await asyncio.sleep(0.1)
    reconnected = time.monotonic() - unblocked
    try:
        outcome = await probe.outcome()
        originates = await probe.executions()
    finally:
        await probe.close()
    await traffic.wait(120 + silence)
    return Outcome("half-open AMI socket (iptables DROP on the AMI port)", await rig.books(), {
        "detected_after": round(detected, 1), "reconnected_after_unblock": round(reconnected, 1),
        "originate_in_flight": outcome, "originate_executed": originates})


async def controller_killed(rig: Rig, outage: float = 20.0, rate: float = 1.0) -> Outcome:
    """SIGKILL the controller, calls continue for `outage` seconds, then start it again."""
    await rig.members()
    calls = round(rate * (outage + 10))
    traffic = await h.callers(rig.instance, calls=calls, rate=rate)
    await asyncio.sleep(4)
    rig.controller.kill()  # nothing flushed, nothing logged off
    killed = time.monotonic()
    await asyncio.sleep(outage)
    down = time.monotonic() - killed
    await rig.controller.start()
    await traffic.wait(outage + 120)
    return Outcome("controller killed (SIGKILL) while calls continue", await rig.books(90),
                   {"outage": f"{down:.0f} s"})


async def case_store_down(rig: Rig, outage: float = 20.0, calls: int = 16) -> Outcome:
    """The case store stops answering (connections refused) for `outage` seconds."""
    await rig.members()
    traffic = await h.callers(rig.instance, calls=calls, rate=1.0)
    await asyncio.sleep(2)
    await rig.store.stop()
    down = time.monotonic()
    await traffic.wait(120)
    await asyncio.sleep(max(0.0, outage - (time.monotonic() - down)))
    waiting = h.outbox_pending(rig.database)
    await rig.store.start()
    return Outcome("case store down, then back", await rig.books(60), {
        "outage": f"{time.monotonic() - down:.0f} s", "stubs_waiting_at_return": waiting})


def answered_by_agents(instance: AsteriskInstance, since: float, until: float) -> int:
    """Calls that started in [since, until) and that Asterisk connected to an agent (CDR)."""
    with contextlib.closing(sqlite3.connect(f"file:{instance.cdr_db}?mode=ro", uri=True)) as c:
        rows = c.execute("SELECT DISTINCT linkedid FROM cdr WHERE channel LIKE 'PJSIP/trunk-%' "
                         "AND dstchannel LIKE 'PJSIP/agent-%' AND disposition = 'ANSWERED'")
        starts = [float(str(r[0]).split(".")[0]) for r in rows]
    return sum(1 for s in starts if since <= s < until)


async def database_down(rig: Rig, postgres: h.ThrowawayPostgres,
                        outage: float = 20.0) -> Outcome:
    """The controller's PostgreSQL stops for `outage` seconds while calls come in."""
    before = sum((await rig.members()).values())
    # Every agent on the phones whatever the hour: the night shift's few counsellors, all busy,
    # keep calls waiting with the database up as well, and that is not what this measures.
    if await h.staff_everyone(rig.controller):
        async with asyncio.timeout(30):
            while sum((await rig.members()).values()) <= before:
                await asyncio.sleep(0.5)
    traffic = await h.callers(rig.instance, calls=int(outage) + 16, rate=1.0)
    await asyncio.sleep(4)
    down_at = time.time()
    await asyncio.to_thread(postgres.pause)
    await asyncio.sleep(outage)
    await asyncio.to_thread(postgres.resume)
    back_at = time.time()
    routed = answered_by_agents(rig.instance, down_at, back_at - 6)
    sipp = await traffic.wait(outage + 160)
    traffic_over = time.time()
    books = await rig.books(90)
    return Outcome("PostgreSQL down during traffic", books, {
        "outage": f"{back_at - down_at:.0f} s",
        "books_level_after": f"{time.time() - traffic_over:.0f} s",
        "calls_answered_by_agents_while_down": routed, "sipp_failed": sipp.failed})
