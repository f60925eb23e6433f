"""Ports for Asterisk instances and SIPp, free even when several test sessions run at once.

A test instance takes one "slot": a block of ports below the kernel's ephemeral range (so no
outgoing connection can be handed one of them), claimed with an flock that lives as long as
the lease. Probing a port with bind() alone is racy between two sessions; the lock is not.
RTP ports are only bound during calls, so a probe could not see another instance's range at
all: the slot gives each instance a range of its own.
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

SLOT_BASE = 11000
SLOT_SIZE = 1000
SLOT_COUNT = 21  # 11000-31999: below Linux's default ephemeral range (32768-60999)
RTP_OFFSET = 100  # RTP range: base+100 .. base+999 (225 two-leg calls at once)
SPARE_FIRST, SPARE_LAST = 10, 99  # for SIPp processes started by tests and benchmarks
LOCK_DIR = Path(tempfile.gettempdir()) / "line1300-port-slots"


class NoFreePorts(Exception):
    """Every slot is taken or busy."""


@dataclass(frozen=True)
class InstancePorts:
    sip: int  # Asterisk's UDP transport: the trunk and the agents talk to it
    ami: int
    rtp_start: int
    rtp_end: int
    agent_sip: int  # where agent AORs point in tests (one SIPp UAS for every agent)
    trunk: int  # the carrier side's port (SIPp UAC) Asterisk sends to for outbound calls

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class PortLease:
    """A claimed slot. ``release()`` (or process exit) gives it back."""

    def __init__(self, slot: int, lock: IO[str]) -> None:
        self.slot = slot
        self._lock: IO[str] | None = lock
        base = SLOT_BASE + slot * SLOT_SIZE
        self.ports = InstancePorts(
            sip=base, ami=base + 1, rtp_start=base + RTP_OFFSET, rtp_end=base + SLOT_SIZE - 1,
            agent_sip=base + 2, trunk=base + 3,
        )
        self._next_spare = base + SPARE_FIRST

    def spare_udp_port(self) -> int:
        """A UDP port of this slot for one more SIPp process (caller, extra agent pool...)."""
        base = SLOT_BASE + self.slot * SLOT_SIZE
        while self._next_spare <= base + SPARE_LAST:
            port, self._next_spare = self._next_spare, self._next_spare + 1
            if udp_port_free(port):
                return port
        return free_udp_port()

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def lease_ports() -> PortLease:
    """Claim the first slot that no other process holds and whose main ports are free."""
    LOCK_DIR.mkdir(mode=0o1777, parents=True, exist_ok=True)
    for slot in range(SLOT_COUNT):
        fh = (LOCK_DIR / f"slot-{slot:02d}.lock").open("a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            continue
        lease = PortLease(slot, fh)
        p = lease.ports
        if udp_port_free(p.sip) and tcp_port_free(p.ami) and udp_port_free(p.agent_sip):
            fh.write(f"{os.getpid()}\n")
            fh.flush()
            return lease
        lease.release()  # something outside our scheme uses the block: skip it
    raise NoFreePorts(f"all {SLOT_COUNT} port slots ({SLOT_BASE}-...) are in use")


def udp_port_free(port: int, host: str = "127.0.0.1") -> bool:
    return _bindable(socket.SOCK_DGRAM, host, port)


def tcp_port_free(port: int, host: str = "127.0.0.1") -> bool:
    return _bindable(socket.SOCK_STREAM, host, port)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free now (ephemeral range; for short-lived SIPp runs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _bindable(kind: socket.SocketKind, host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
