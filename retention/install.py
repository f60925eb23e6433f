"""The retention room in the app: the retention preview (GET /api/retention) and the daily purge
of every kind of personal data, run by the controller holding the purge's duty lease when several
share one database.

Background work (cleanup_ctx, cancelled and awaited on shutdown): the purge loop and, with
several controllers, the keeper of its lease. `build_retention_room` is the same assembly for
tests and `python -m retention`, with any clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from recordings.asterisk_paths import AsteriskPaths
from recordings.keys import ASTERISK_PATHS
from retention import http
from retention.files import MediaFiles
from retention.keys import RETENTION, RETENTION_ROOM, RetentionServices
from retention.loop import PurgeLoop, parse_clock_time
from retention.policy import RetentionPolicy
from retention.purge import PurgeExpired
from settings import Settings
from storage import Database
from storage.leases import DutyLeases, LeaseKeeper
from web.background import stop_tasks
from web.keys import DATABASE, LEASES, SETTINGS

Clock = Callable[[], datetime]
# With several controllers on one database (PostgreSQL), one of them purges: this duty's holder.
PURGE_DUTY = "retention-purge"


def install(app: web.Application) -> None:
    http.setup_routes(app)
    app.cleanup_ctx.append(_retention)


@dataclass
class RetentionRoom:
    services: RetentionServices
    loop: PurgeLoop
    # With several controllers on one database, the holder of this lease purges.
    lease: LeaseKeeper | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self.tasks = [asyncio.create_task(self.loop.run(), name="retention-purge")]
        if self.lease is not None:
            self.tasks.append(asyncio.create_task(self.lease.run(), name="retention-purge-lease"))

    async def stop(self) -> None:
        await stop_tasks(self.tasks)
        self.tasks = []


def build_retention_room(
    settings: Settings, db: Database, paths: AsteriskPaths, clock: Clock,
    *, leases: DutyLeases | None = None,
) -> RetentionRoom:
    """Without `leases` (one controller, tests) this controller always purges."""
    policy = RetentionPolicy.from_settings(settings.retention)
    purge = PurgeExpired(db, policy, MediaFiles(paths, settings.recordings.archive_dir), clock)
    lease = LeaseKeeper(leases, PURGE_DUTY) if leases is not None else None
    loop = PurgeLoop(
        purge, parse_clock_time(settings.retention.purge_time), settings.timezone, clock,
        may_act=(lambda: lease.held) if lease is not None else lambda: True,
    )
    return RetentionRoom(RetentionServices(policy, purge), loop, lease)


async def _retention(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    paths = app.get(ASTERISK_PATHS) or AsteriskPaths.from_settings(settings)
    room = build_retention_room(settings, app[DATABASE], paths, _utcnow, leases=app[LEASES])
    app[RETENTION] = room.services
    app[RETENTION_ROOM] = room
    await room.start()
    yield
    await room.stop()


def _utcnow() -> datetime:
    return datetime.now(UTC)
