"""Every pop is an audited view of the stub, but the audit entry is written right after the pop is
handed to the hub, not on the ringing path: a slow or failing audit write never holds a pop back,
and is retried until written (or, at shutdown, logged), never lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from screen_pop.audit import PopAudit
from screen_pop.keys import POP_FEED
from storage import Database
from storage.audit import AuditEntry
from tests.agent_desk.calls import AmiCall
from tests.agent_desk.conftest import Desk, receive_until
from tests.conftest import sign_in

AT = datetime(2024, 2, 1, 2, 0, 0, 123000, tzinfo=UTC)


class FlakyDatabase:
    """The real database behind a switch: while `failing`, every session fails at commit; while
    `held`, sessions wait for the switch to open."""

    def __init__(self, db: Database, failing: int = 0) -> None:
        self.db = db
        self.failing = failing
        self.attempts = 0
        self.held = asyncio.Event()
        self.held.set()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        self.attempts += 1
        await self.held.wait()
        async with self.db.session() as session:
            yield session
            if self.failing:
                self.failing -= 1
                raise OSError("database unreachable")


async def views(db: Database, stub_id: str | None = None) -> list[tuple[str, str, datetime]]:
    async with db.session() as session:
        query = select(AuditEntry).where(AuditEntry.action == "view").order_by(AuditEntry.id)
        if stub_id is not None:
            query = query.where(AuditEntry.subject_id == stub_id)
        rows = (await session.execute(query)).scalars().all()
    return [(r.actor, r.subject_id, _utc(r.at)) for r in rows]


def _utc(moment: datetime) -> datetime:
    # SQLite gives the stored UTC moment back naive; PostgreSQL gives it aware.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def flaky(database: Database, **kw: Any) -> Any:
    return FlakyDatabase(database, **kw)


async def test_queued_views_are_written_with_the_moment_the_stub_was_read(
    database: Database,
) -> None:
    audit = PopAudit(database)
    audit.viewed("agent1", "stub-1", AT)
    audit.viewed("supervisor", "stub-1", AT)
    await asyncio.wait_for(audit.flushed(), 5)

    assert await views(database) == [("agent1", "stub-1", AT), ("supervisor", "stub-1", AT)]
    await audit.close()


async def test_a_failed_audit_write_is_retried_until_it_is_written(database: Database) -> None:
    db = flaky(database, failing=2)
    audit = PopAudit(db, retry_delays=(0.01,))
    audit.viewed("agent1", "stub-1", AT)
    await asyncio.wait_for(audit.flushed(), 5)

    assert db.attempts == 3 and audit.failures == 2
    assert await views(database) == [("agent1", "stub-1", AT)]  # once, not lost, not doubled
    await audit.close()


async def test_shutdown_writes_what_is_queued_and_logs_what_it_cannot(database: Database) -> None:
    db = flaky(database, failing=100)
    audit = PopAudit(db, retry_delays=(0.01,))
    audit.viewed("agent1", "stub-1", AT)
    await asyncio.sleep(0.05)
    with structlog.testing.capture_logs() as logs:
        await audit.close()

    [lost] = [e for e in logs if e["event"] == "screen_pop.audit_unwritten"]
    assert (lost["actor"], lost["subject_id"], lost["at"]) == ("agent1", "stub-1", AT.isoformat())
    assert lost["log_level"] == "error"
    assert audit.pending == 0


async def test_shutdown_writes_views_queued_after_the_writer_stopped(database: Database) -> None:
    audit = PopAudit(database)
    audit.viewed("agent1", "stub-1", AT)
    close = asyncio.create_task(audit.close())
    audit.viewed("agent2", "stub-2", AT)  # a lane finishing its last pop while shutting down
    await close
    assert [v[1] for v in await views(database)] == ["stub-1", "stub-2"]


async def test_the_pop_leaves_before_its_audit_entry_is_written_and_is_audited_after(
    desk: Desk,
) -> None:
    feed = desk.app[POP_FEED]
    db = flaky(desk.db, failing=1)
    db.held.clear()  # the audit trail's writes wait (a busy database)
    feed.audit = PopAudit(db, retry_delays=(0.01,))
    await sign_in(desk.client, "agent1", "agent-pass")
    ws = await desk.client.ws_connect("/ws/agent")
    call = AmiCall()

    await desk.feed(call.arrives(), call.rings("A001"))
    pop = await receive_until(ws, lambda m: m["type"] == "pop" and m["phase"] == "ringing")
    assert await views(desk.db, pop["stub_id"]) == []  # on the page, audit not yet written

    db.held.set()  # the database is free again; the first write fails, the retry succeeds
    await asyncio.wait_for(feed.audit.flushed(), 5)
    [(actor, stub_id, at)] = await views(desk.db, pop["stub_id"])
    assert (actor, stub_id) == ("agent1", pop["stub_id"])
    assert at <= datetime.fromisoformat(pop["sent_at"])  # when the stub was read
    await ws.close()
    await feed.audit.close()
