"""Run SIPp from asyncio: a batch of calls (UAC) or a phone that answers in the background (UAS).

Results come from SIPp's statistics CSV (``-trace_stat``), written every second and at exit,
so a UAS that is stopped still reports how many calls it saw. Unexpected messages go to the
``-trace_err`` file, whose tail is part of a failed result.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import shutil
import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.ports import free_udp_port
from sandbox.process import die_with_parent

SIPP = "sipp"
# SIPp exits 0 when every call succeeded, 1 when some failed, 97/99 on a normal stop.
_CLEAN_EXITS = frozenset({0, 97, 99})


class SippError(Exception):
    """SIPp is missing or could not start."""


@dataclass(frozen=True)
class SippResult:
    returncode: int | None
    created: int
    successful: int
    failed: int
    current: int
    seconds: float
    workdir: Path
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.returncode in _CLEAN_EXITS

    def summary(self) -> str:
        return (
            f"sipp: {self.created} calls, {self.successful} ok, {self.failed} failed, "
            f"exit {self.returncode}, {self.seconds:.1f} s (logs in {self.workdir})"
        )


class SippProcess:
    """One running sipp. ``wait()`` for a UAC batch, ``stop()`` for a UAS."""

    def __init__(self, proc: asyncio.subprocess.Process, workdir: Path, name: str,
                 local_port: int, media_port: int) -> None:
        self._proc = proc
        self.workdir = workdir
        self.name = name
        self.local_port = local_port
        self.media_port = media_port
        self._started = time.monotonic()

    @property
    def running(self) -> bool:
        return self._proc.returncode is None

    async def wait(self, timeout: float | None = None) -> SippResult:
        try:
            await asyncio.wait_for(self._proc.wait(), timeout)
        except TimeoutError:
            await self.stop()
        return self.result()

    async def stop(self, grace: float = 5.0) -> SippResult:
        """SIGUSR1 (stop placing calls, finish), then SIGTERM, then SIGKILL."""
        for sig, wait in ((signal.SIGUSR1, grace), (signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
            if self._proc.returncode is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._proc.wait(), wait)
        return self.result()

    def result(self) -> SippResult:
        stats = read_stats(self.workdir / f"{self.name}_stats.csv")
        return SippResult(
            returncode=self._proc.returncode,
            created=stats.get("TotalCallCreated", 0),
            successful=stats.get("SuccessfulCall(C)", 0),
            failed=stats.get("FailedCall(C)", 0),
            current=stats.get("CurrentCall", 0),
            seconds=time.monotonic() - self._started,
            workdir=self.workdir,
            errors=_tail(self.workdir / f"{self.name}_errors.log"),
        )


async def start_sipp(
    scenario_xml: str,
    *,
    name: str,
    remote: str | None = None,
    service: str | None = None,
    calls: int | None = None,
    rate: float = 1.0,
    limit: int | None = None,
    local_port: int | None = None,
    media_port: int | None = None,
    timeout: float | None = None,
    workdir: Path | None = None,
    extra: Sequence[str] = (),
) -> SippProcess:
    """Start sipp with ``scenario_xml``. ``remote`` ("127.0.0.1:5060") makes it a UAC placing
    ``calls`` at ``rate`` per second (at most ``limit`` at once); without it, a UAS."""
    binary = shutil.which(SIPP)
    if binary is None:
        raise SippError("sipp is not installed: apt-get install sip-tester")
    workdir = workdir or Path(tempfile.mkdtemp(prefix=f"sipp-{name}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = workdir / f"{name}.xml"
    scenario.write_text(scenario_xml, encoding="utf-8")
    local_port = local_port or free_udp_port()
    media_port = media_port or _free_media_port()
    argv = [
        binary, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(local_port),
        "-mp", str(media_port), "-nostdin", "-trace_stat", "-stf",
        str(workdir / f"{name}_stats.csv"), "-fd", "1", "-trace_err", "-error_file",
        str(workdir / f"{name}_errors.log"), "-max_socket", "1024", *extra,
    ]
    argv += _uac_args(remote, service, calls, rate, limit, timeout)
    log = (workdir / f"{name}_screen.log").open("wb")
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            cwd=workdir, preexec_fn=die_with_parent,
        )
    finally:
        log.close()
    return SippProcess(proc, workdir, name, local_port, media_port)


def _uac_args(
    remote: str | None, service: str | None, calls: int | None, rate: float,
    limit: int | None, timeout: float | None,
) -> list[str]:
    args: list[str] = []
    if service:
        args += ["-s", service]
    if calls is not None:
        args += ["-m", str(calls)]
    if timeout is not None:
        args += ["-timeout", f"{int(timeout)}s", "-timeout_error"]
    if remote is None:
        return args
    # -r is calls per -rp milliseconds: 1000 ms gives calls per second with decimals kept.
    args += ["-r", str(round(rate * 1000)), "-rp", "1000000"]
    if limit is not None:
        args += ["-l", str(limit)]
    return [*args, remote]


async def run_sipp(scenario_xml: str, *, timeout: float = 120.0, **kwargs: object) -> SippResult:
    """Start a UAC batch and wait for it to finish (stopping it after ``timeout``)."""
    proc = await start_sipp(scenario_xml, timeout=timeout, **kwargs)  # type: ignore[arg-type]
    return await proc.wait(timeout + 10.0)


def read_stats(path: Path) -> dict[str, int]:
    """The last row of a ``-trace_stat`` CSV, numeric columns only."""
    try:
        rows = list(csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"))
    except OSError:
        return {}
    if len(rows) < 2:
        return {}
    last: dict[str, int] = {}
    for key, value in zip(rows[0], rows[-1], strict=False):
        with contextlib.suppress(ValueError):
            last[key.strip()] = int(value.strip())
    return last


def _free_media_port() -> int:
    """An even port whose next three (RTCP, video RTP/RTCP) are free too, as sipp binds them."""
    for _ in range(50):
        port = free_udp_port() & ~1
        if all(_udp_free(port + i) for i in range(4)):
            return port
    return free_udp_port()


def _udp_free(port: int) -> bool:
    from sandbox.ports import udp_port_free

    return udp_port_free(port)


def _tail(path: Path, lines: int = 40) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []
