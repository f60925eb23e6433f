"""What the fault tests (tests/fault) and the benchmarks (bench/) share: a real Asterisk of their
own, the controller as a separate process that can be killed, SIPp callers and agent phones, and
the accounting of a run — Asterisk's own count of calls (CDR) against the controller's records
and the stubs the case store received.

The controller runs as `python -m controller --external-asterisk` with its settings given as
environment variables (LINE1300_<SECTION>_<KEY>), exactly as an operator would run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dialplans.render import DialplanRenderer
from sandbox.amiclient import MiniAmi
from sandbox.instance import AsteriskInstance
from sandbox.provision import AsteriskRuntime, ensure_asterisk
from settings import Settings, load_settings
from sip_traffic.runner import SippProcess, start_sipp
from sip_traffic.scenarios import agent_scenario, caller_scenario, keys
from storage import sync_url

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SUPERVISOR_PASSWORD = "bench-sup-pass"
# The IVR's emergency key: straight into critical-th, the queue every Thai counsellor is in.
EMERGENCY = "9"


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_settings(state_dir: Path) -> Settings:
    return load_settings(env={**os.environ, "LINE1300_GENERAL_STATE_DIR": str(state_dir)})


def asterisk_runtime(settings: Settings) -> AsteriskRuntime:
    return ensure_asterisk(settings.asterisk, progress=lambda line: print(line, flush=True))


def new_instance(
    runtime: AsteriskRuntime, settings: Settings, label: str,
    dialplan: DialplanRenderer | None = None,
) -> AsteriskInstance:
    """An instance named bench-<pid>-<label> on free ports (reaped if this process dies)."""
    return AsteriskInstance.for_tests(runtime, settings, name=f"bench-{os.getpid()}-{label}",
                                      dialplan=dialplan)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children, those running and those already ended (a
    server that forks a process per connection: PostgreSQL)."""
    total = 0.0
    for process in [pid, *_descendants(pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def pin(pid: int, cpus: set[int]) -> int:
    """Restrict a process, every thread of it and every descendant to `cpus` (threads and
    children made later inherit it). Returns how many threads were pinned."""
    pinned = 0
    for process in [pid, *_descendants(pid)]:
        with contextlib.suppress(FileNotFoundError):
            for task in os.listdir(f"/proc/{process}/task"):
                with contextlib.suppress(ProcessLookupError):
                    os.sched_setaffinity(int(task), cpus)
                    pinned += 1
    return pinned


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


async def admin(instance: AsteriskInstance, events: str = "off") -> MiniAmi:
    a = instance.config.admin
    return await MiniAmi.connect("127.0.0.1", instance.ports.ami, a.username, a.secret,
                                 events=events)


async def queue_members(instance: AsteriskInstance) -> dict[str, int]:
    """Members per queue, as Asterisk itself reports them (QueueStatus as sandbox-admin)."""
    client = await admin(instance)
    try:
        counts: dict[str, int] = {}
        for entry in await client.list_action("QueueStatus"):
            if entry.get("Event") == "QueueMember":
                counts[entry["Queue"]] = counts.get(entry["Queue"], 0) + 1
        return counts
    finally:
        await client.close()


async def members_of(instance: AsteriskInstance, queue: str) -> list[str]:
    """The agent ids (MemberName) in one queue, as Asterisk reports them."""
    client = await admin(instance)
    try:
        return sorted({e["Name"] for e in await client.list_action("QueueStatus", Queue=queue)
                       if e.get("Event") == "QueueMember"})
    finally:
        await client.close()


async def wait_idle(instance: AsteriskInstance, timeout: float = 300.0,
                    backlog: int = 500) -> float:
    """Seconds until Asterisk has no call up and no internal queue (taskprocessor) holds more
    than `backlog` messages. A step past Asterisk's limit leaves calls and a backlog of
    stasis messages (CEL, manager) behind it that take a while to drain; the next step must not
    start on top of them, or it measures the previous one's overload. Calls still up after
    `timeout` (callers SIPp gave up on, stuck in a queue) are hung up, and said so."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            await _until_idle(instance, backlog)
    except TimeoutError:
        left = await _rx_patiently(instance, "core show channels count")
        print(f"  (Asterisk not idle {timeout:.0f} s after the step: "
              f"{' '.join(left.split()[:3])}; the benchmark hangs them up)", flush=True)
        await _rx_patiently(instance, "channel request hangup all")
        async with asyncio.timeout(300):
            await _until_idle(instance, backlog)
    return time.monotonic() - started


async def _until_idle(instance: AsteriskInstance, backlog: int) -> None:
    while True:
        calls = await _rx_patiently(instance, "core show channels count")
        queued = await _rx_patiently(instance, "core show taskprocessors")
        if re.search(r"^0 active channels", calls, re.M) and _max_queued(queued) <= backlog:
            return
        await asyncio.sleep(1.0)


async def _rx_patiently(instance: AsteriskInstance, command: str) -> str:
    """A CLI command for an Asterisk that may be overloaded: on one core, after a step past its
    limit, it took over 10 s to answer `channel request hangup all` (and the run ended)."""
    return await asyncio.to_thread(instance.rx, command, 120.0)


def _max_queued(taskprocessors: str) -> int:
    """The largest "In Queue" column of `core show taskprocessors`."""
    depths = [int(m.group(1)) for m in re.finditer(r"^\S+\s+\d+\s+(\d+)\s", taskprocessors, re.M)]
    return max(depths, default=0)


# --- the controller as a process ------------------------------------------------------------


@dataclass
class ControllerProcess:
    """`python -m controller --external-asterisk` against `instance`, on its own database."""

    instance: AsteriskInstance
    state_dir: Path
    database_url: str
    case_store_url: str = ""
    case_store_token: str = "store-token"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    web_port: int = field(default_factory=free_tcp_port)
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "logs" / "controller.jsonl"

    def env(self) -> dict[str, str]:
        c = self.instance.config.controller
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "LINE1300_GENERAL_STATE_DIR": str(self.state_dir),
            "LINE1300_DATABASE_URL": self.database_url,
            "LINE1300_AMI_PORT": str(self.instance.ports.ami),
            "LINE1300_AMI_USERNAME": c.username,
            "LINE1300_AMI_SECRET": c.secret,
            "LINE1300_ASTERISK_RECORDS_DIR": str(self.instance.log_dir),
            # Recordings are named by Asterisk's path: the chroot's, when it is the sandbox's.
            "LINE1300_ASTERISK_ROOT_DIR": str(self.instance.runtime.root),
            "LINE1300_WEB_PORT": str(self.web_port),
            "LINE1300_CASE_STORE_URL": self.case_store_url,
            "LINE1300_CASE_STORE_TOKEN": self.case_store_token,
            "LINE1300_SUPERVISOR_PASSWORD": SUPERVISOR_PASSWORD,
        }
        env.update(self.extra_env)
        return env

    async def start(self, timeout: float = 60.0) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        out = (self.state_dir / f"controller-{self.starts}.out").open("ab")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                PYTHON, "-m", "controller", "--external-asterisk", cwd=REPO, env=self.env(),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )
        finally:
            out.close()
        self.starts += 1
        await self.wait_ready(timeout)

    async def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.returncode is not None:
                    raise RuntimeError(f"the controller exited with {self.proc.returncode}: "
                                       f"{self.output_tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(f"{self.base_url}/health") as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise TimeoutError(f"the controller did not answer in {timeout:.0f} s: "
                           f"{self.output_tail()}")

    def output_tail(self, lines: int = 20) -> str:
        outs = sorted(self.state_dir.glob("controller-*.out"))
        if not outs:
            return ""
        return "\n".join(outs[-1].read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown, no logoff, whatever was in flight is lost."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        else:
            await self.proc.wait()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    async def loop_lag(self) -> dict[str, float]:
        """The controller's event-loop lag over the last minute, from its /health."""
        async with aiohttp.ClientSession() as http, http.get(f"{self.base_url}/health") as r:
            body: dict[str, dict[str, float]] = await r.json()
        return body.get("event_loop_lag", {})

    async def signed_in(self, http: aiohttp.ClientSession) -> str:
        """Sign `http` in as the supervisor; returns the CSRF token."""
        async with http.post(f"{self.base_url}/api/login",
                             json={"username": "supervisor",
                                   "password": SUPERVISOR_PASSWORD}) as r:
            r.raise_for_status()
            return str((await r.json())["csrf"])


# --- traffic ---------------------------------------------------------------------------------


async def agent_phones(instance: AsteriskInstance, ring: float = 0.3,
                       talk: float = 2.0) -> SippProcess:
    """One SIPp UAS behind every agent endpoint: rings, answers, talks, hangs up."""
    phone = await start_sipp(agent_scenario(ring=ring, talk=talk), name="agents",
                             local_port=instance.ports.agent_sip)
    await asyncio.sleep(0.3)
    return phone


async def callers(
    instance: AsteriskInstance, *, calls: int, rate: float, digits: str = EMERGENCY,
    caller: str = "0899[call_number]", hangup_after: float | None = 6.0,
    limit: int | None = None, local_port: int | None = None, timeout: float | None = None,
    name: str = "callers",
) -> SippProcess:
    """Carrier calls to 1300 pressing `digits` (the emergency key: into critical-th)."""
    port = local_port or (instance.lease.spare_udp_port() if instance.lease else None)
    return await start_sipp(
        caller_scenario(caller=caller, keys_pressed=keys(digits, first_pause=1.0),
                        hangup_after=hangup_after, audio=False),
        name=name, remote=f"127.0.0.1:{instance.ports.sip}", service="1300", calls=calls,
        rate=rate, limit=limit or calls, local_port=port,
        timeout=timeout if timeout is not None else calls / rate + 90,
    )


class UdpSink(asyncio.DatagramProtocol):
    """A carrier that never answers: takes every datagram sent to its port and keeps it, so a
    test can count the INVITEs Asterisk really sent (one Call-ID per executed Originate)."""

    def __init__(self) -> None:
        self.datagrams: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def listen(cls, port: int) -> UdpSink:
        loop = asyncio.get_running_loop()
        _, sink = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", port))
        return sink

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.datagrams.append(data)

    def invites(self, number: str) -> set[str]:
        """Call-IDs of the INVITEs to `number` (retransmissions share theirs)."""
        found = set()
        for data in self.datagrams:
            text = data.decode(errors="replace")
            if text.startswith(f"INVITE sip:{number}@"):
                for line in text.split("\r\n"):
                    if line.lower().startswith("call-id:"):
                        found.add(line.split(":", 1)[1].strip())
        return found

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            await asyncio.sleep(0.05)  # the socket itself is closed on the next loop turns


# --- accounting ------------------------------------------------------------------------------


def asterisk_calls(instance: AsteriskInstance, since: datetime) -> set[str]:
    """Linkedids of the carrier calls Asterisk itself recorded (CDR) since `since`. A linkedid is
    the first channel's uniqueid, "<epoch seconds>.<sequence>": its start, whatever time zone the
    CDR's own date columns were written in."""
    with contextlib.closing(sqlite3.connect(f"file:{instance.cdr_db}?mode=ro", uri=True,
                                            timeout=5)) as conn:
        rows = conn.execute("SELECT DISTINCT linkedid FROM cdr WHERE channel LIKE 'PJSIP/trunk-%'")
        started = {str(r[0]): float(str(r[0]).split(".")[0]) for r in rows}
    return {k for k, epoch in started.items() if epoch >= int(since.timestamp())}


def cel_rows(instance: AsteriskInstance, where: str, args: Sequence[Any] = ()) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{instance.cel_db}?mode=ro", uri=True,
                                            timeout=5)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM cel WHERE {where}", args).fetchone()[0])


@dataclass
class Accounting:
    """A run's books: every figure the fault tests assert and the benchmarks print."""

    asterisk: int
    recorded: int
    lost: list[str]
    duplicated: list[str]
    not_ended: list[str]
    stubs_missing: list[str]
    stubs_not_delivered: list[str]
    deliveries_repeated: list[tuple[str, int]]

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.not_ended or self.stubs_missing
                    or self.stubs_not_delivered or self.deliveries_repeated)

    def line(self) -> str:
        return (f"calls: Asterisk {self.asterisk}, recorded {self.recorded}; lost "
                f"{len(self.lost)}, duplicated {len(self.duplicated)}, not ended "
                f"{len(self.not_ended)}; stubs missing {len(self.stubs_missing)}, not delivered "
                f"{len(self.stubs_not_delivered)}, delivered twice "
                f"{len(self.deliveries_repeated)}")


def controller_books(database_url: str) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """The controller's call rows (not callbacks) and stub revisions, read from its database
    (SQLite or PostgreSQL) with plain queries."""
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            calls = {r.linkedid: dict(r._mapping) for r in conn.execute(text(
                "SELECT linkedid, line, ended_at, stub_id, received_at FROM calls "
                "WHERE line != 'callback'"))}
            stubs = {r.id: int(r.revision) for r in conn.execute(text(
                "SELECT id, revision FROM case_stubs"))}
    finally:
        engine.dispose()
    return calls, stubs


def outbox_pending(database_url: str) -> int:
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM case_stub_outbox WHERE state = 'pending'")).scalar_one())
    finally:
        engine.dispose()


def account(
    asterisk_ids: set[str], calls: Mapping[str, Mapping[str, Any]], stubs: Mapping[str, int],
    accepted: Sequence[tuple[str, int]] | None, since: datetime,
) -> Accounting:
    """Asterisk's calls against the controller's records; with `accepted` (the case store's
    (stub id, revision) list), each stub's highest revision delivered exactly once."""
    mine = {k: v for k, v in calls.items() if _at(v["received_at"]) >= since}
    lost = sorted(asterisk_ids - set(mine))
    duplicated = sorted(set(mine) - asterisk_ids)
    not_ended = sorted(k for k in asterisk_ids & set(mine) if mine[k]["ended_at"] is None)
    stub_ids = {mine[k]["stub_id"] for k in asterisk_ids & set(mine)}
    missing = sorted(s for s in stub_ids if s not in stubs)
    undelivered: list[str] = []
    repeated: list[tuple[str, int]] = []
    if accepted is not None:
        counts: dict[tuple[str, int], int] = {}
        for item in accepted:
            counts[item] = counts.get(item, 0) + 1
        repeated = sorted(k for k, n in counts.items() if n > 1)
        undelivered = sorted(s for s in stub_ids if s in stubs and (s, stubs[s]) not in counts)
    return Accounting(len(asterisk_ids), len(set(mine) & asterisk_ids), lost, duplicated,
                      not_ended, missing, undelivered, repeated)


def _at(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def settle(
    instance: AsteriskInstance, database: str, since: datetime,
    accepted: Sequence[tuple[str, int]] | None, timeout: float = 60.0,
) -> Accounting:
    """The books once they stop changing for the better (or at `timeout`)."""
    deadline = time.monotonic() + timeout
    books = account(asterisk_calls(instance, since), *controller_books(database), accepted, since)
    while not books.clean and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        books = account(asterisk_calls(instance, since), *controller_books(database), accepted,
                        since)
    return books


def controller_database(kind: str, folder: Path, name: str) -> tuple[str, ThrowawayPostgres | None]:
    """The controller's database for a benchmark: a throw-away PostgreSQL (remove it after) or a
    SQLite file in `folder`."""
    if kind != "postgres":
        return sqlite_url(folder / "controller.sqlite3"), None
    postgres = ThrowawayPostgres(Path(f"/tmp/line1300-{name}-pg-{os.getpid()}"))
    postgres.start()
    return postgres.database(name), postgres


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


# --- a PostgreSQL that can be stopped ----------------------------------------------------------


class ThrowawayPostgres:
    """scripts/postgres in a folder of its own, which can be stopped (as if the database server
    went away) and started again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = ""

    @staticmethod
    def available() -> bool:
        return any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))

    def start(self) -> str:
        out = subprocess.run([str(REPO / "scripts" / "postgres"), "start"], check=True,
                             capture_output=True, text=True, env=self._env())
        self.url = out.stdout.strip().splitlines()[-1]
        return self.url

    def cpu_seconds(self) -> float:
        """CPU seconds the server has used so far: the postmaster and every backend."""
        pid = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        return tree_cpu_seconds(pid)

    def database(self, name: str) -> str:
        """A new, empty database on the server; its URL."""
        admin_url = sync_url(self.url)
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def pause(self) -> None:
        """Stop the server at once (connections cut, no new ones accepted)."""
        self._pg_ctl("-m", "immediate", "stop")

    def resume(self) -> None:
        port = (self.folder / "port").read_text().strip()
        self._pg_ctl("-l", str(self.folder / "log"), "-w", "-o",
                     f"-c listen_addresses=127.0.0.1 -p {port} -k {self.folder} -c fsync=off",
                     "start")

    def remove(self) -> None:
        subprocess.run([str(REPO / "scripts" / "postgres"), "stop"], check=False,
                       capture_output=True, env=self._env())

    def _env(self) -> dict[str, str]:
        return {**os.environ, "LINE1300_PG_DIR": str(self.folder)}

    def _pg_ctl(self, *args: str) -> None:
        binary = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
        run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*run_as, str(binary), "-D", str(self.folder / "data"), *args],
                       check=True, capture_output=True)


async def staff_everyone(controller: ControllerProcess, extra: int = 0,
                         tz_name: str = "Asia/Bangkok") -> int:
    """Put every agent of the roster, and `extra` new Thai counsellors on the phones nobody has,
    on the shift in force now (through the supervisor API, as a supervisor calling everyone in
    would): staffing is then not what a load test measures. Returns the assignments added."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo(tz_name))
    added = 0
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await controller.signed_in(http)
        base = controller.base_url
        async with http.get(f"{base}/api/roster/shifts") as r:
            shifts = (await r.json())["shifts"]
        async with http.get(f"{base}/api/roster/agents") as r:
            agents = [a["id"] for a in (await r.json())["agents"] if a["active"]]
        agents += await _hire(http, base, csrf, extra, taken=len(agents))
        shift_id, day = _shift_in_force(shifts, now, timedelta)
        for agent_id in agents:
            async with http.post(f"{base}/api/roster/assignments",
                                 json={"agent_id": agent_id, "shift_id": shift_id, "day": day},
                                 headers={"X-CSRF-Token": csrf}) as r:
                added += r.status == 201
    return added


async def _hire(http: aiohttp.ClientSession, base: str, csrf: str, count: int,
                taken: int) -> list[str]:
    hired: list[str] = []
    for n in range(taken + 1, taken + count + 1):
        agent_id = f"A{n:03d}"
        body = {"id": agent_id, "name": f"Bench counsellor {n}", "endpoint": f"agent-{n:03d}",
                "languages": ["th"], "skills": ["counselling"]}
        async with http.post(f"{base}/api/roster/agents", json=body,
                             headers={"X-CSRF-Token": csrf}) as r:
            if r.status == 201:
                hired.append(agent_id)
    return hired


def _shift_in_force(shifts: Sequence[Mapping[str, Any]], now: datetime,
                    timedelta: Any) -> tuple[str, str]:
    minute = now.hour * 60 + now.minute
    for shift in shifts:
        start = _minutes(str(shift["start"]))
        end = _minutes(str(shift["end"]))
        if start < end and start <= minute < end:
            return str(shift["id"]), now.date().isoformat()
        if start >= end and minute >= start:
            return str(shift["id"]), now.date().isoformat()
        if start >= end and minute < end:  # crossed midnight: it began yesterday
            return str(shift["id"]), (now.date() - timedelta(days=1)).isoformat()
    raise LookupError("no shift covers this moment")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)
