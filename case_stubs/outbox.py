"""Delivery of stubs to the external case store, from the outbox table.

The outbox row is the only state: a stub waits there across restarts until the store took it.
Rows are claimed for a lease before sending (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL),
so several controllers on one database never send the same stub at the same time, and a
controller that died mid-send only delays that stub by the lease.

What the store answers decides the row's fate (contracts/CASE_STORE.md): 2xx and 409 delivered;
408, 429, 5xx, timeouts and refused connections retried with exponential backoff, forever; any
other answer parked for a supervisor, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

import aiohttp
import structlog
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ami import Backoff
from case_stubs.models import OutboxRow, OutboxState, StubRow
from storage import Database
from storage.leases import is_gone

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
BATCH: Final = 50
PARALLEL_SENDS: Final = 8
# Even with nothing due, look again this often: a row changed by another controller has no
# way to wake this one.
IDLE_CHECK_SECONDS: Final = 30.0
ERROR_TEXT_MAX: Final = 500
# A claim token is "{owner}/{12 hex}" in a 64-character column.
OWNER_MAX: Final = 64 - 13


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Verdict(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PARK = "park"


def classify(status: int) -> Verdict:
    """The contract's reading of an HTTP status from the case store."""
    if 200 <= status < 300 or status == 409:
        return Verdict.DELIVERED
    if status in (408, 429) or status >= 500:
        return Verdict.RETRY
    return Verdict.PARK


@dataclass(frozen=True, slots=True)
class Answer:
    """What one PUT gave: an HTTP status, or `error` when no answer came (timeout, refused)."""

    status: int | None
    error: str | None = None
    retry_after: float | None = None

    @property
    def verdict(self) -> Verdict:
        return Verdict.RETRY if self.status is None else classify(self.status)


class StubSender(Protocol):
    async def put(self, stub_id: str, body: Mapping[str, Any]) -> Answer: ...


class HttpStubSender:
    """PUT {url}/case-stubs/{id} with the whole stub as JSON and the Bearer token."""

    def __init__(self, http: aiohttp.ClientSession, url: str, token: str, timeout: float) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def put(self, stub_id: str, body: Mapping[str, Any]) -> Answer:
        try:
            async with self._http.put(
                f"{self._url}/case-stubs/{stub_id}",
                json=body,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                text = "" if response.status < 300 else (await response.text())[:200]
                return Answer(response.status, text or None, _retry_after(response.headers))
        except TimeoutError:
            return Answer(None, "timed out")
        except (aiohttp.ClientError, OSError) as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_MAX])


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Claim:
    stub_id: str
    revision: int
    attempts: int
    body: dict[str, Any]


class OutboxQueue:
    """The outbox table: claim due rows, record what the store said, report and re-queue."""

    def __init__(
        self, db: Database, *, owner: str, lease: timedelta, clock: Clock = _utcnow
    ) -> None:
        self._db = db
        self._owner = owner[:OWNER_MAX]
        self._lease = lease
        self._clock = clock

    async def release_dead_claims(self) -> None:
        """At start-up: claims left by a controller on this host that is no longer running
        (a crash, a restart), so its stubs do not wait out the lease. Claims of a live
        process, or of another host, are left to their lease. The owner is the controller's
        identity (storage.leases.controller_identity); claim tokens are "{owner}/{12 hex}"."""
        now = self._clock()
        async with self._db.session() as session:
            tokens = (
                await session.execute(
                    select(OutboxRow.claimed_by)
                    .where(OutboxRow.claimed_until >= now, OutboxRow.claimed_by.is_not(None))
                    .distinct()
                )
            ).scalars()
            dead = [t for t in tokens if t and is_gone(t.partition("/")[0], self._owner)]
            if dead:
                await session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.claimed_by.in_(dead))
                    .values(claimed_until=None, claimed_by=None)
                )

    async def claim_due(self, limit: int = BATCH) -> list[Claim]:
        """Take up to `limit` due rows for this pass. The claim is a conditional UPDATE with a
        token of this pass, so two pushers never take the same row, whatever the database;
        on PostgreSQL, SKIP LOCKED also keeps them from waiting on each other."""
        now = self._clock()
        token = f"{self._owner}/{uuid.uuid4().hex[:12]}"
        free = or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now)
        due = (
            select(OutboxRow.stub_id)
            .where(
                OutboxRow.state == OutboxState.PENDING.value, OutboxRow.next_attempt_at <= now, free
            )
            .order_by(OutboxRow.next_attempt_at)
            .limit(limit)
        )
        if not self._db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        async with self._db.session() as session:
            ids = list((await session.execute(due)).scalars())
            if not ids:
                return []
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.stub_id.in_(ids), free)
                .values(claimed_until=now + self._lease, claimed_by=token)
                .execution_options(synchronize_session=False)
            )
            rows = (
                await session.execute(
                    select(OutboxRow.stub_id, OutboxRow.attempts).where(
                        OutboxRow.claimed_by == token
                    )
                )
            ).all()
            bodies = await self._bodies(session, [stub_id for stub_id, _ in rows])
        # The body read may already be a newer revision than the row said: send that one.
        return [
            Claim(stub_id, int(bodies[stub_id]["revision"]), attempts, bodies[stub_id])
            for stub_id, attempts in rows
            if stub_id in bodies
        ]

    @staticmethod
    async def _bodies(session: Any, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        rows = await session.execute(select(StubRow.id, StubRow.body).where(StubRow.id.in_(ids)))
        return {stub_id: body for stub_id, body in rows.all()}

    async def settle(self, claim: Claim, answer: Answer, verdict: Verdict, retry_in: float) -> None:
        """Record the store's answer for the claimed revision, and release the claim."""
        now = self._clock()
        values: dict[str, Any] = {
            "attempts": claim.attempts + 1,
            "last_status": answer.status,
            "last_error": answer.error,
            "claimed_until": None,
            "claimed_by": None,
            "updated_at": now,
        }
        if verdict is Verdict.DELIVERED:
            values.update(
                state=OutboxState.DELIVERED.value,
                delivered_revision=claim.revision,
                delivered_at=now,
                last_error=None,
            )
        elif verdict is Verdict.PARK:
            values.update(state=OutboxState.PARKED.value)
        else:
            values.update(next_attempt_at=now + timedelta(seconds=retry_in))
        async with self._db.session() as session:
            same = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.stub_id == claim.stub_id, OutboxRow.revision == claim.revision)
                .values(**values)
            )
            if same.rowcount == 0:  # type: ignore[attr-defined]
                # A newer revision was queued meanwhile: it stays pending, due now.
                extra = {}
                if verdict is Verdict.DELIVERED:
                    extra["delivered_revision"] = claim.revision
                await session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.stub_id == claim.stub_id)
                    .values(claimed_until=None, claimed_by=None, **extra)
                )

    async def seconds_until_due(self) -> float | None:
        """Seconds until the next pending row is due (0 if one is), None if none is pending."""
        async with self._db.session() as session:
            due = (
                await session.execute(
                    select(func.min(OutboxRow.next_attempt_at)).where(
                        OutboxRow.state == OutboxState.PENDING.value
                    )
                )
            ).scalar_one_or_none()
        if due is None:
            return None
        return max(0.0, (_aware(due) - self._clock()).total_seconds())

    async def summary(self, parked_limit: int = 100) -> dict[str, Any]:
        async with self._db.session() as session:
            grouped = await session.execute(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            )
            counts = {state: count for state, count in grouped.all()}
            oldest = (
                await session.execute(
                    select(func.min(OutboxRow.updated_at)).where(
                        OutboxRow.state == OutboxState.PENDING.value
                    )
                )
            ).scalar_one_or_none()
            parked = (
                (
                    await session.execute(
                        select(OutboxRow)
                        .where(OutboxRow.state == OutboxState.PARKED.value)
                        .order_by(OutboxRow.updated_at.desc())
                        .limit(parked_limit)
                    )
                )
                .scalars()
                .all()
            )
        return {
            "pending": int(counts.get(OutboxState.PENDING.value, 0)),
            "parked": int(counts.get(OutboxState.PARKED.value, 0)),
            "delivered": int(counts.get(OutboxState.DELIVERED.value, 0)),
            "oldest_pending_since": _aware(oldest).isoformat() if oldest else None,
            "parked_stubs": [_row_json(r) for r in parked],
        }

    async def requeue(self, stub_id: str) -> tuple[str, int] | None:
        """A parked stub back to pending, due now. Returns (state before, revision), or None
        if the stub has no outbox row; rows in another state are left as they are."""
        now = self._clock()
        async with self._db.session() as session:
            row = await session.get(OutboxRow, stub_id)
            if row is None:
                return None
            previous = row.state
            if previous == OutboxState.PARKED.value:
                row.state = OutboxState.PENDING.value
                row.attempts = 0
                row.next_attempt_at = now
                row.updated_at = now
            return previous, row.revision


def _row_json(row: OutboxRow) -> dict[str, Any]:
    return {
        "stub_id": row.stub_id,
        "revision": row.revision,
        "state": row.state,
        "attempts": row.attempts,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "updated_at": _aware(row.updated_at).isoformat(),
    }


class StubPusher:
    """Background task: send due stubs, sleep until the next is due or new work arrives."""

    def __init__(
        self,
        queue: OutboxQueue,
        sender: StubSender,
        backoff: Backoff,
        *,
        rng: random.Random | None = None,
        idle_check: float = IDLE_CHECK_SECONDS,
        may_act: Callable[[], bool] | None = None,
    ) -> None:
        """`may_act` (a duty lease, storage.leases) says whether this controller is the one
        pushing; a standby looks again every `idle_check` seconds or when woken."""
        self._queue = queue
        self._may_act = may_act
        self._sender = sender
        self._backoff = backoff
        self._rng = rng or random.Random()
        self._idle_check = idle_check
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(PARALLEL_SENDS)
        self._stopping = False
        self.sent = 0

    def wake(self) -> None:
        """New work: a stub was queued or re-queued."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the pass under way, then return from `run`. Cancelling instead would cut a
        database transaction in half and leave SQLite locked for its whole busy timeout."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        await self._queue.release_dead_claims()
        failures = 0
        while not self._stopping:
            self._wake.clear()
            if self._may_act is not None and not self._may_act():
                await self._sleep(None)  # another controller pushes
                continue
            try:
                full = await self.deliver_due() >= BATCH
                wait = 0.0 if full else await self._queue.seconds_until_due()
                failures = 0
            except SQLAlchemyError:
                # The database itself is unreachable: nothing is lost (the rows stay), try later.
                log.exception("case_store.outbox_db_error")
                wait = self._backoff.delay(failures, self._rng)
                failures += 1
            await self._sleep(wait)

    async def _sleep(self, wait: float | None) -> None:
        timeout = self._idle_check if wait is None else min(wait, self._idle_check)
        if timeout <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def deliver_due(self) -> int:
        """One pass over the due rows; returns how many were claimed."""
        claims = await self._queue.claim_due()
        await asyncio.gather(*(self._deliver(claim) for claim in claims))
        return len(claims)

    async def _deliver(self, claim: Claim) -> None:
        async with self._slots:
            answer = await self._sender.put(claim.stub_id, claim.body)
        verdict = answer.verdict
        delay = self._backoff.delay(claim.attempts, self._rng)
        if answer.retry_after is not None:
            delay = min(max(delay, answer.retry_after), self._backoff.maximum)
        await self._queue.settle(claim, answer, verdict, delay)
        if verdict is Verdict.DELIVERED:
            self.sent += 1
        report = log.info if verdict is Verdict.DELIVERED else log.warning
        report(
            "case_store.push",
            stub_id=claim.stub_id,
            revision=claim.revision,
            status=answer.status,
            verdict=verdict.value,
            error=answer.error,
            attempt=claim.attempts + 1,
        )
