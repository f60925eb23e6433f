"""Duty leases: when several controllers share one PostgreSQL database (one controller per
Asterisk node, or a standby beside each), a duty such as "apply the roster to this Asterisk" or
"push stubs to the case store" is done by one of them at a time.

A lease is one row (duty, holder, expires_at). Taking or renewing it is one conditional UPDATE
(`... WHERE duty = :duty AND (expires_at < :now OR holder = :me)`), so two controllers can never
both win, on SQLite or PostgreSQL; the very first taker inserts the row, and the loser of that
insert race gets an IntegrityError, which reads as "someone else holds it".

`LeaseKeeper` renews a lease in the background well before it expires and tells the duty's loop
whether it may act (`held`). It stops claiming the duty locally *before* the lease can expire in
the database, so a controller cut off from the database (whose renewals fail) has stood down
before another one can take over. Controllers' clocks must agree to within `margin` (NTP).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

import structlog
from sqlalchemy import DateTime, String, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.db import Database

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
Monotonic = Callable[[], float]

# A dead controller's duties move to another within TTL; renewals come every TTL/3, so two
# renewals may fail (a database hiccup) before the holder stands down.
TTL: Final = timedelta(seconds=15)
MARGIN: Final = timedelta(seconds=2)


class LeaseRow(Base):
    __tablename__ = "duty_leases"

    duty: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the current holder took the duty (unchanged by renewals): hand-overs are visible.
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def controller_identity() -> str:
    """This controller process, as lease holders are named: host, pid and a random part (a pid
    is reused after a restart; the restarted process must not inherit the old one's leases)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:128]


def is_gone(identity: str, mine: str) -> bool:
    """True when `identity` (a `controller_identity()`) names a process on this host that no
    longer runs: its pid is dead, or is this process's under another identity (reused after a
    restart). A cut-off identity or another host's is never called gone."""
    parts = identity.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return identity != mine
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    duty: str
    holder: str
    expires_at: datetime
    acquired_at: datetime


class DutyLeases:
    """Take, renew, release and read duty leases for one holder."""

    def __init__(
        self, db: Database, holder: str, *, ttl: timedelta = TTL, clock: Clock = _utcnow,
    ) -> None:
        self._db = db
        self.holder = holder[:128]
        self.ttl = ttl
        self._clock = clock

    async def acquire(self, duty: str) -> bool:
        """Take the duty if it is free or expired, renew it if it is ours; False if another
        holder has it. Raises SQLAlchemyError when the database is out of reach."""
        now = self._clock()
        try:
            async with self._db.session() as session:
                if await self._take_or_renew(session, duty, now):
                    return True
                if await session.get(LeaseRow, duty) is not None:
                    return False
                session.add(LeaseRow(duty=duty, holder=self.holder, expires_at=now + self.ttl,
                                     acquired_at=now))
                await session.flush()
                return True
        except IntegrityError:
            return False  # another controller inserted the duty's first lease a moment before

    async def _take_or_renew(self, session: Any, duty: str, now: datetime) -> bool:
        row = await session.get(LeaseRow, duty)
        acquired_at = row.acquired_at if row is not None and row.holder == self.holder else now
        result = cast(CursorResult[Any], await session.execute(
            update(LeaseRow)
            .where(LeaseRow.duty == duty,
                   or_(LeaseRow.expires_at < now, LeaseRow.holder == self.holder))
            .values(holder=self.holder, expires_at=now + self.ttl, acquired_at=acquired_at)
            .execution_options(synchronize_session=False)
        ))
        return result.rowcount == 1

    async def release(self, duty: str) -> None:
        """Give the duty up now (shutdown), so another controller need not wait for expiry."""
        async with self._db.session() as session:
            await session.execute(
                update(LeaseRow).where(LeaseRow.duty == duty, LeaseRow.holder == self.holder)
                .values(expires_at=self._clock() - timedelta(microseconds=1))
                .execution_options(synchronize_session=False)
            )

    async def current(self, duty: str) -> LeaseInfo | None:
        """Who holds the duty now (None when nobody does or the lease expired)."""
        async with self._db.session() as session:
            row = (await session.execute(
                select(LeaseRow).where(LeaseRow.duty == duty))).scalar_one_or_none()
        if row is None or _aware(row.expires_at) < self._clock():
            return None
        return LeaseInfo(row.duty, row.holder, _aware(row.expires_at), _aware(row.acquired_at))


class LeaseKeeper:
    """Background renewal of one duty's lease; the duty's loop asks `held` before each pass.

    `on_gained` is called when this controller takes the duty over (the loop should act at once
    rather than at its next timer).
    """

    def __init__(
        self, leases: DutyLeases, duty: str, *, on_gained: Callable[[], None] | None = None,
        margin: timedelta = MARGIN, monotonic: Monotonic = time.monotonic,
    ) -> None:
        self._leases = leases
        self.duty = duty
        self.on_gained = on_gained
        self._margin = margin.total_seconds()
        self._monotonic = monotonic
        self._valid_until = 0.0  # on the monotonic clock
        self._was_held = False
        self.renew_every = leases.ttl.total_seconds() / 3

    @property
    def held(self) -> bool:
        """The lease is ours and cannot have expired in the database yet."""
        return self._monotonic() < self._valid_until

    async def renew(self) -> bool:
        started = self._monotonic()
        try:
            mine = await self._leases.acquire(self.duty)
        except SQLAlchemyError as exc:
            mine = False
            log.warning("lease.renew_failed", duty=self.duty, error=type(exc).__name__)
        if mine:
            # Counted from before the request: the database's expiry is at least this late.
            self._valid_until = started + self._leases.ttl.total_seconds() - self._margin
        elif self._monotonic() >= self._valid_until:
            self._valid_until = 0.0
        self._note_change()
        return self.held

    def _note_change(self) -> None:
        held = self.held
        if held == self._was_held:
            return
        self._was_held = held
        log.info("lease.gained" if held else "lease.lost", duty=self.duty,
                 holder=self._leases.holder)
        if held and self.on_gained is not None:
            self.on_gained()

    async def run(self) -> None:
        """Renew every TTL/3 until cancelled; then release the duty for the next controller."""
        try:
            while True:
                await self.renew()
                await asyncio.sleep(self.renew_every)
        finally:
            if self._was_held:
                await asyncio.shield(self._release_quietly())

    async def _release_quietly(self) -> None:
        self._valid_until = 0.0
        try:
            await self._leases.release(self.duty)
        except SQLAlchemyError:
            log.warning("lease.release_failed", duty=self.duty)
