"""argon2 (~100 ms of CPU a hash) runs beside the event loop, never on it: AMI events and
screen-pops keep flowing while someone signs in."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from storage import Database
from web import accounts
from web.accounts import Role, authenticate, create_user


class WatchedHasher:
    def __init__(self, real: Any) -> None:
        self.real = real
        self.threads: list[threading.Thread] = []

    def hash(self, password: str) -> str:
        self.threads.append(threading.current_thread())
        return str(self.real.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        self.threads.append(threading.current_thread())
        return bool(self.real.verify(stored, password))


async def test_hashes_and_checks_run_off_the_event_loop(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched = WatchedHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", watched)
    async with database.session() as session:
        await create_user(session, "agent9", "Agent Nine", Role.AGENT, "pass-9", "A009")
    async with database.session() as session:
        assert (await authenticate(session, "agent9", "pass-9")) is not None
        assert await authenticate(session, "agent9", "wrong") is None
        assert await authenticate(session, "nobody", "pass-9") is None

    assert len(watched.threads) == 4
    assert threading.main_thread() not in watched.threads
