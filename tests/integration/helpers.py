"""Helpers shared by the Asterisk integration tests."""

from __future__ import annotations

import socket


def dns_sink() -> socket.socket | None:
    """A UDP socket on 127.0.0.1:53 that swallows queries (the chroot's only DNS server),
    or None if the port is taken (another session runs the same test) or not ours to bind."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.1", 53))
    except OSError:
        sock.close()
        return None
    sock.setblocking(False)
    return sock
