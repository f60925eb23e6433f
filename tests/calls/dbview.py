"""The database's own record of calls and stubs, read with plain queries (not the services)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from call_log.models import CallRow, CallStepRow
from case_stubs.models import OutboxRow, StubRow
from storage import Database


async def call_rows(db: Database) -> list[CallRow]:
    async with db.session() as s:
        return list((await s.execute(select(CallRow).order_by(CallRow.received_at))).scalars())


async def step_names(db: Database, linkedid: str) -> list[str]:
    async with db.session() as s:
        rows = await s.execute(
            select(CallStepRow.step)
            .where(CallStepRow.linkedid == linkedid)
            .order_by(CallStepRow.seq)
        )
        return list(rows.scalars())


async def stub_rows(db: Database) -> list[StubRow]:
    async with db.session() as s:
        return list((await s.execute(select(StubRow).order_by(StubRow.created_at))).scalars())


async def stub_body(db: Database, stub_id: str) -> dict[str, Any]:
    async with db.session() as s:
        row = await s.get(StubRow, stub_id)
        assert row is not None, f"no stub {stub_id}"
        return dict(row.body)


async def outbox_rows(db: Database) -> dict[str, OutboxRow]:
    async with db.session() as s:
        return {r.stub_id: r for r in (await s.execute(select(OutboxRow))).scalars()}
