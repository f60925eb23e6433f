"""The daily purge loop: with several controllers on one database, only the holder of the
purge's duty lease purges."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from typing import Any

import pytest

from retention.install import PURGE_DUTY
from retention.loop import PurgeLoop
from storage import Database
from storage.leases import DutyLeases, LeaseKeeper

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


class CountingPurge:
    def __init__(self) -> None:
        self.runs = 0

    async def execute(self, *, dry_run: bool) -> None:
        assert dry_run is False
        self.runs += 1


async def one_day(may_act: Any) -> int:
    """Runs the loop through one purge time; returns how many times it purged."""
    purge = CountingPurge()
    sleeps = 0

    async def sleep(_seconds: float) -> None:
        nonlocal sleeps
        sleeps += 1
        if sleeps > 1:
            raise asyncio.CancelledError

    loop = PurgeLoop(purge, time(3, 30), UTC, lambda: NOW, sleep=sleep,  # type: ignore[arg-type]
                     may_act=may_act)
    with pytest.raises(asyncio.CancelledError):
        await loop.run()
    return purge.runs


async def test_only_the_duty_holder_purges(database: Database) -> None:
    first = LeaseKeeper(DutyLeases(database, "controller-a"), PURGE_DUTY)
    second = LeaseKeeper(DutyLeases(database, "controller-b"), PURGE_DUTY)
    assert await first.renew() is True
    assert await second.renew() is False
    assert await one_day(lambda: first.held) == 1
    assert await one_day(lambda: second.held) == 0


async def test_without_a_lease_it_purges() -> None:
    assert await one_day(lambda: True) == 1
