"""Child processes (Asterisk, SIPp) that must not outlive the test or command that started them."""

from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn`: the kernel sends SIGTERM to the child when its parent exits.

    The setting survives exec (of chroot, of asterisk, and Asterisk's own re-exec on
    "core restart now"), so a killed test run leaves no orphan holding its ports.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
