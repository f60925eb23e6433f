"""Reconciliation from Asterisk's CEL and queue_log (recorded from the real Asterisk 22): calls
the controller missed are rebuilt once, with the same facts the live tracker would record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from call_log.asterisk_records import CelReader, QueueLogReader
from call_log.reconcile import Reconciler
from case_stubs.schema import problems
from tests.calls.asterisk_files import append_queue_log, cel_rows, queue_lines, write_cel
from tests.calls.conftest import BANGKOK, Calls, recorded_events
from tests.calls.dbview import call_rows, outbox_rows, step_names, stub_rows

ANSWERED, ABANDONED_IVR, LANGUAGE_ONLY, ABANDONED_QUEUE = (
    "1795591196.0",
    "1795591263.0",
    "1795591269.1",
    "1795591295.0",
)
LATER = datetime(2027, 1, 1, tzinfo=UTC)


class NoCallbacks:
    async def linkedids(self, callback_ids: object) -> dict[str, str]:
        return {}


def reconciler(calls: Calls, folder: Path) -> Reconciler:
    return Reconciler(
        CelReader(folder / "cel.db", BANGKOK),
        QueueLogReader(folder / "queue_log"),
        calls.store,
        calls.stubs,
        NoCallbacks(),
        clock=lambda: LATER,
    )


@pytest.fixture
def asterisk_log(tmp_path: Path) -> Path:
    write_cel(tmp_path / "cel.db", cel_rows())
    append_queue_log(tmp_path / "queue_log", queue_lines())
    return tmp_path


async def test_missed_calls_are_rebuilt_with_their_stubs(calls: Calls, asterisk_log: Path) -> None:
    report = await reconciler(calls, asterisk_log).reconcile()

    assert sorted(report.rebuilt) == [ANSWERED, ABANDONED_IVR, LANGUAGE_ONLY, ABANDONED_QUEUE]
    rows = {r.linkedid: r for r in await call_rows(calls.db)}
    assert rows.keys() == {ANSWERED, ABANDONED_IVR, LANGUAGE_ONLY, ABANDONED_QUEUE}, (
        "the queue announcement's Local/hook channels are not calls"
    )
    answered = rows[ANSWERED]
    assert (answered.disposition, answered.agent_id, answered.queue) == (
        "answered",
        "A001",
        "counsel-th",
    )
    assert (answered.caller_number, answered.ivr_path) == ("+66812345678", ["counselling"])
    assert answered.source == "reconcile"
    # queue_log: CONNECT holdtime 1, COMPLETEAGENT calltime 4 (whole seconds)
    assert answered.wait_seconds == pytest.approx(1.0, abs=0.5)
    assert answered.talk_seconds == pytest.approx(4.0, abs=0.5)
    assert rows[ABANDONED_IVR].disposition == "abandoned_ivr"
    assert rows[LANGUAGE_ONLY].disposition == "abandoned_ivr"
    assert rows[LANGUAGE_ONLY].language == "en" and rows[LANGUAGE_ONLY].ivr_path == ["en"]
    queue = rows[ABANDONED_QUEUE]
    assert (queue.disposition, queue.priority, queue.ringing_agents) == (
        "abandoned_queue",
        "critical",
        ["A002"],
    )
    assert queue.wait_seconds == pytest.approx(4.0, abs=1.0)  # ABANDON waittime 4
    stubs = await stub_rows(calls.db)
    assert len(stubs) == 4 and all(problems(s.body) == [] for s in stubs)
    assert all(o.state == "pending" for o in (await outbox_rows(calls.db)).values())


async def test_reconciling_again_changes_nothing(calls: Calls, asterisk_log: Path) -> None:
    await reconciler(calls, asterisk_log).reconcile()
    before = {s.id: s.revision for s in await stub_rows(calls.db)}

    second = await reconciler(calls, asterisk_log).reconcile()
    assert second.examined == 0, "the watermarks moved past what was done"
    await calls.store.set_watermark(f"cel:{asterisk_log / 'cel.db'}", 0)
    await calls.store.set_watermark(f"queue_log:{asterisk_log / 'queue_log'}", 0)
    third = await reconciler(calls, asterisk_log).reconcile()
    assert third.examined > 0
    assert {s.id: s.revision for s in await stub_rows(calls.db)} == before
    assert len(await call_rows(calls.db)) == 4


async def test_a_call_the_tracker_saw_is_kept_as_it_recorded_it(
    calls: Calls, asterisk_log: Path
) -> None:
    await calls.replay(recorded_events("answered.ami"))
    live = {s.id: s.revision for s in await stub_rows(calls.db)}

    report = await reconciler(calls, asterisk_log).reconcile()
    assert ANSWERED not in report.rebuilt
    rows = {r.linkedid: r for r in await call_rows(calls.db)}
    assert rows[ANSWERED].source == "ami"
    assert rows[ANSWERED].wait_seconds == pytest.approx(1.008, abs=0.001)
    stubs = {s.id: s.revision for s in await stub_rows(calls.db)}
    assert all(stubs[i] == r for i, r in live.items()), "no new revision for a known call"


async def test_a_call_half_seen_before_a_crash_is_completed(
    calls: Calls, asterisk_log: Path
) -> None:
    events = recorded_events("answered.ami")
    cut = next(i for i, e in enumerate(events) if e.name == "AgentCalled")
    await calls.replay(events[:cut])  # then the controller died; the call went on and ended
    [half] = await call_rows(calls.db)
    assert half.ended_at is None and half.disposition == "in_queue"

    await reconciler(calls, asterisk_log).reconcile()
    rows = {r.linkedid: r for r in await call_rows(calls.db)}
    done = rows[ANSWERED]
    assert done.ended_at is not None and done.disposition == "answered"
    assert done.agent_id == "A001" and done.source == "reconcile"
    steps = await step_names(calls.db, ANSWERED)
    assert steps.count("entered") == 1 and steps[-1] == "ended"
    [stub] = [s for s in await stub_rows(calls.db) if s.call_id == ANSWERED]
    assert stub.body["disposition"] == "answered" and stub.body["ended_at"] is not None


async def test_a_call_still_going_on_is_left_for_later(tmp_path: Path, calls: Calls) -> None:
    rows = [r for r in cel_rows() if r["linkedid"] == ANSWERED]
    cut = next(i for i, r in enumerate(rows) if r["eventtype"] == "BRIDGE_ENTER")
    write_cel(tmp_path / "cel.db", rows[:cut])
    append_queue_log(tmp_path / "queue_log", queue_lines()[:4])
    first = await reconciler(calls, tmp_path).reconcile()
    assert (first.rebuilt, first.still_live) == ((), 1)
    assert await call_rows(calls.db) == []

    write_cel(tmp_path / "cel.db", rows[cut:])  # the call ends
    append_queue_log(tmp_path / "queue_log", queue_lines()[4:5])
    second = await reconciler(calls, tmp_path).reconcile()
    assert second.rebuilt == (ANSWERED,)
    [call] = await call_rows(calls.db)
    assert call.disposition == "answered" and call.received_at is not None
