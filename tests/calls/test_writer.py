"""The call records' write-behind: merged while waiting, many calls a transaction, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ami import Backoff
from call_log.record import CallRecord, CallSnapshot, StepEntry
from call_log.store import CallStore
from call_log.writer import PendingRecord, RecordWriter
from storage import Database
from tests.calls.dbview import call_rows, step_names

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
FAST = Backoff(initial=0.01, maximum=0.02)


def snap(linkedid: str, **changes: object) -> CallSnapshot:
    return replace(CallRecord(linkedid, received_at=T0).snapshot(), **changes)  # type: ignore[arg-type]


def steps(*names: str) -> list[StepEntry]:
    return [StepEntry(T0, name, {}) for name in names]


def test_a_later_write_wins_and_keeps_the_earlier_steps_it_did_not_replace() -> None:
    first = PendingRecord.of(snap("1.1"), steps("entered", "menu"), 0)
    second = PendingRecord.of(snap("1.1", queue="counsel-th"), steps("queued"), 2)
    merged = first.then(second)
    assert merged.snapshot.queue == "counsel-th"
    assert (merged.steps_from, [s.step for _, s in sorted(merged.steps.items())]) == (
        0, ["entered", "menu", "queued"]
    )


def test_a_rewound_write_replaces_what_it_overlaps() -> None:
    first = PendingRecord.of(snap("1.1"), steps("a", "b", "c"), 3)
    rewound = PendingRecord.of(snap("1.1"), steps("x"), 1)
    merged = first.then(rewound)
    assert (merged.steps_from, dict(merged.steps)) == (1, {1: rewound.steps[1]})


class CountingStore:
    """The real store, counting its transactions; refuses the first `refuse` of them."""

    def __init__(self, store: CallStore, refuse: int = 0) -> None:
        self.store, self.refuse = store, refuse
        self.batches: list[int] = []

    async def save_many(self, records: Sequence[PendingRecord]) -> None:
        if self.refuse:
            self.refuse -= 1
            raise ConnectionError("database gone")
        await self.store.save_many(records)
        self.batches.append(len(records))


async def test_many_calls_changed_together_are_one_transaction(database: Database) -> None:
    store = CountingStore(CallStore(database))
    writer = RecordWriter(store, gather=0.05)
    for n in range(50):
        for i, name in enumerate(["entered", "menu", "queued"]):
            writer.put(snap(f"9.{n}", disposition=name), steps(name), i)
    async with asyncio.timeout(10):
        while not store.batches:  # the background writer, after its gathering moment
            await asyncio.sleep(0.01)

    assert store.batches == [50]
    rows = await call_rows(database)
    assert len(rows) == 50 and {r.disposition for r in rows} == {"queued"}
    assert await step_names(database, "9.7") == ["entered", "menu", "queued"]


async def test_a_refused_batch_is_retried_and_newer_changes_still_win(database: Database) -> None:
    failures: list[int] = []
    store = CountingStore(CallStore(database), refuse=3)
    writer = RecordWriter(store, gather=0.0, retry=FAST, on_failure=lambda: failures.append(1))
    writer.put(snap("5.1", disposition="in_ivr"), steps("entered"), 0)
    await asyncio.sleep(0.005)  # the first batch is refused...
    writer.put(snap("5.1", disposition="answered"), steps("answered"), 1)  # ...meanwhile
    async with asyncio.timeout(5):
        while writer.pending or not store.batches:
            await asyncio.sleep(0.01)

    assert len(failures) == 3 and writer.stats.failures == 3
    [row] = await call_rows(database)
    assert row.disposition == "answered"
    assert await step_names(database, "5.1") == ["entered", "answered"]


async def test_flush_waits_for_the_batch_already_on_its_way(database: Database) -> None:
    gate = asyncio.Event()

    class SlowStore(CountingStore):
        async def save_many(self, records: Sequence[PendingRecord]) -> None:
            await gate.wait()
            await super().save_many(records)

    writer = RecordWriter(SlowStore(CallStore(database)), gather=0.0)
    writer.put(snap("6.1", disposition="ended"), steps("ended"), 0)
    await asyncio.sleep(0.01)  # the background batch took it and waits on the database
    assert writer.pending == 0
    flushed = asyncio.create_task(writer.flush())
    await asyncio.sleep(0.01)
    assert not flushed.done()
    gate.set()
    await flushed
    assert [r.disposition for r in await call_rows(database)] == ["ended"]


async def test_close_reports_what_it_could_not_write(database: Database) -> None:
    store = CountingStore(CallStore(database), refuse=1000)
    writer = RecordWriter(store, gather=10.0, retry=FAST)
    writer.put(snap("7.1"), steps("entered"), 0)
    await writer.close()
    assert writer.pending == 1  # left for the reconciler, which rebuilds it from CEL
    with pytest.raises(ConnectionError):
        await writer.flush()
