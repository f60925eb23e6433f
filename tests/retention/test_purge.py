"""The purge per kind of personal data, on a real database: a row older than its period goes, a
younger one stays, a held-back one stays (a stub not yet in the case store, an open callback, an
active flag); a dry run removes nothing and reports the same ids; logs carry ids, no numbers.
Media files are covered in tests/recordings/test_retention.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import select

from agent_routing.tables import CallbackAttemptRow, CallbackRow
from call_log.models import CallRow, CallStepRow
from caller_flags.models import CallerFlagRow
from case_stubs.models import OutboxRow, OutboxState, StubRow
from recordings.asterisk_paths import AsteriskPaths
from reports.activity import AgentActivityRow
from reports.facts import ReportContactRow, ReportProblemRow
from retention.__main__ import render
from retention.files import MediaFiles
from retention.policy import Kind, RetentionPolicy
from retention.purge import PurgeExpired
from settings import Settings
from storage import Database, audit
from storage.audit import AuditEntry
from web.accounts import Role, create_user
from web.auth import SessionRow

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
NUMBER = "+66812345678"
# Per table, the column the inventory lists.
TABLES: tuple[Any, ...] = (
    CallRow.linkedid, CallStepRow.linkedid, StubRow.id, OutboxRow.stub_id,
    ReportContactRow.stub_id, ReportProblemRow.stub_id, CallbackRow.id,
    CallbackAttemptRow.callback_id, CallerFlagRow.id, SessionRow.token_hash, AgentActivityRow.id,
    AuditEntry.id,
)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@dataclass
class Site:
    db: Database
    policy: RetentionPolicy
    purge: PurgeExpired

    def days(self, kind: Kind) -> int:
        return self.policy.of(kind).days

    async def add(self, *rows: Any) -> None:
        async with self.db.session() as s:
            for row in rows:
                s.add(row)
                await s.flush()

    async def inventory(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        async with self.db.session() as s:
            for column in TABLES:
                values = (await s.execute(select(column))).scalars()
                out[column.class_.__tablename__] = {str(v) for v in values}
        return out


@pytest.fixture
async def site(settings: Settings, database: Database, tmp_path: Path) -> AsyncIterator[Site]:
    policy = RetentionPolicy.from_settings(settings.retention)
    files = MediaFiles(AsteriskPaths(tmp_path / "asterisk", None), tmp_path / "archive")
    yield Site(database, policy, PurgeExpired(database, policy, files, lambda: NOW))


# --- row factories ---------------------------------------------------------------------------

def stub(at: datetime, call_id: str | None = None) -> StubRow:
    return StubRow(id=str(uuid.uuid4()), call_id=call_id, revision=1,
                   body={"caller": {"number": NUMBER}}, caller_number=NUMBER, handled_by=[],
                   created_at=at, updated_at=at)


def outbox(stub_id: str, state: OutboxState, at: datetime) -> OutboxRow:
    delivered = state is OutboxState.DELIVERED
    return OutboxRow(stub_id=stub_id, revision=1, state=state.value, attempts=1,
                     next_attempt_at=at, updated_at=at, delivered_revision=1 if delivered else None,
                     delivered_at=at if delivered else None)


def call(at: datetime, stub_id: str) -> CallRow:
    return CallRow(linkedid=f"{at.timestamp():.0f}.{uuid.uuid4().int % 1000}", line="domestic",
                   caller_number=NUMBER, callback_number=NUMBER, received_at=at,
                   disposition="answered", stub_id=stub_id, updated_at=at, ivr_path=[],
                   ringing_agents=[], transfers=[])


def step(linkedid: str, at: datetime) -> CallStepRow:
    return CallStepRow(linkedid=linkedid, seq=1, at=at, step="entered", detail={})


def fact(stub_id: str, at: datetime) -> list[Any]:
    return [ReportContactRow(stub_id=stub_id, received_at=at, stub_updated_at=at,
                             line="domestic", channel="phone_1300", disposition="answered",
                             outcome_source="agent"),
            ReportProblemRow(stub_id=stub_id, problem_type="violence_family")]


def callback(status: str, finished: datetime | None, requested: datetime) -> CallbackRow:
    return CallbackRow(id=str(uuid.uuid4()), linkedid=str(uuid.uuid4()), line="international",
                       language="km", number=NUMBER, message=None, status=status, attempts=1,
                       next_attempt_at=requested, requested_at=requested, finished_at=finished)


def flag(expires: datetime, lifted: datetime | None = None) -> CallerFlagRow:
    return CallerFlagRow(number=NUMBER, kind="abusive", reason=f"called from {NUMBER}",
                         created_by="sup", created_at=expires - timedelta(days=30),
                         expires_at=expires, lifted_by="sup" if lifted else None,
                         lifted_at=lifted)


def session(user_id: int, expires: datetime) -> SessionRow:
    return SessionRow(token_hash=uuid.uuid4().hex, user_id=user_id, csrf_token="x",
                      created_at=expires - timedelta(hours=12), expires_at=expires)


def activity(ended: datetime | None, started: datetime) -> AgentActivityRow:
    return AgentActivityRow(agent_id="A001", kind="logged_in", started_at=started, ended_at=ended)


def entry(at: datetime) -> AuditEntry:
    return AuditEntry(at=at, actor="sup", action="view_stub", subject_type="case_stub",
                      subject_id="x", before=None, after=None)


# --- the tests ----------------------------------------------------------------------------------

async def test_each_kind_old_goes_young_and_held_back_stay(site: Site) -> None:
    d = site.days
    expected: dict[Kind, set[str]] = {kind: set() for kind in Kind}
    kept: dict[Kind, set[str]] = {kind: set() for kind in Kind}

    # Case stubs: past their own period (a walk-in, no call), young, past but not yet in the
    # case store (pending, parked): only the first goes, with its facts and delivered outbox row.
    old_stub, young_stub = stub(ago(d(Kind.CASE_STUB) + 1)), stub(ago(d(Kind.CASE_STUB) - 1))
    pending, parked = stub(ago(d(Kind.CASE_STUB) + 1)), stub(ago(d(Kind.CASE_STUB) + 1))
    await site.add(old_stub, young_stub, pending, parked)
    await site.add(outbox(old_stub.id, OutboxState.DELIVERED, ago(d(Kind.CASE_STUB) + 1)),
                   outbox(young_stub.id, OutboxState.DELIVERED, ago(d(Kind.STUB_OUTBOX) - 1)),
                   outbox(pending.id, OutboxState.PENDING, ago(1)),
                   outbox(parked.id, OutboxState.PARKED, ago(1)),
                   *fact(old_stub.id, old_stub.created_at), *fact(pending.id, pending.created_at))
    expected[Kind.CASE_STUB] |= {old_stub.id}
    expected[Kind.REPORT_FACT] |= {old_stub.id}
    expected[Kind.STUB_OUTBOX] |= {old_stub.id}
    kept[Kind.CASE_STUB] |= {young_stub.id, pending.id, parked.id}
    kept[Kind.REPORT_FACT] |= {pending.id}
    kept[Kind.STUB_OUTBOX] |= {young_stub.id, pending.id, parked.id}

    # Delivered outbox rows past their own period go; the stub stays.
    delivered_long_ago = stub(ago(10))
    await site.add(delivered_long_ago,
                   outbox(delivered_long_ago.id, OutboxState.DELIVERED,
                          ago(d(Kind.STUB_OUTBOX) + 1)))
    expected[Kind.STUB_OUTBOX] |= {delivered_long_ago.id}
    kept[Kind.CASE_STUB] |= {delivered_long_ago.id}

    # Call records: an old call goes with its steps and its stub (even though the stub itself is
    # younger than its own period); an old call whose stub is pending stays, with its stub.
    call_days = d(Kind.CALL_RECORD)
    old_call_stub, held_call_stub = stub(ago(30)), stub(ago(call_days + 1))
    young_call_stub = stub(ago(call_days - 1))
    await site.add(old_call_stub, held_call_stub, young_call_stub,
                   outbox(held_call_stub.id, OutboxState.PENDING, ago(1)))
    old_call = call(ago(call_days + 1), old_call_stub.id)
    held_call = call(ago(call_days + 2), held_call_stub.id)
    young_call = call(ago(call_days - 1), young_call_stub.id)
    await site.add(old_call, held_call, young_call, step(old_call.linkedid, ago(call_days + 1)),
                   step(young_call.linkedid, ago(call_days - 1)))
    expected[Kind.CALL_RECORD] |= {old_call.linkedid}
    expected[Kind.CASE_STUB] |= {old_call_stub.id}
    kept[Kind.CALL_RECORD] |= {held_call.linkedid, young_call.linkedid}
    kept[Kind.CASE_STUB] |= {held_call_stub.id, young_call_stub.id}

    # Callback requests: closed long ago (with its attempt), closed recently, still open.
    cb_days = d(Kind.CALLBACK_REQUEST)
    closed_old = callback("answered", ago(cb_days + 1), ago(cb_days + 2))
    cancelled_old = callback("cancelled", None, ago(cb_days + 1))  # no finish time: requested
    closed_young = callback("unanswered", ago(cb_days - 1), ago(cb_days + 5))
    waiting = callback("waiting", None, ago(cb_days + 10))
    placing = callback("placing", None, ago(cb_days + 10))
    await site.add(closed_old, cancelled_old, closed_young, waiting, placing)
    await site.add(CallbackAttemptRow(callback_id=closed_old.id, agent_id="A001",
                                      started_at=ago(cb_days + 1), ended_at=ago(cb_days + 1),
                                      result="answered"),
                   CallbackAttemptRow(callback_id=waiting.id, agent_id="A001",
                                      started_at=ago(cb_days + 1), ended_at=ago(cb_days + 1),
                                      result="unanswered"))
    expected[Kind.CALLBACK_REQUEST] |= {closed_old.id, cancelled_old.id}
    kept[Kind.CALLBACK_REQUEST] |= {closed_young.id, waiting.id, placing.id}

    # Caller flags: expired long ago, lifted long ago, ended recently, active.
    f_days = d(Kind.CALLER_FLAG)
    flags = [flag(ago(f_days + 1)), flag(ago(-100), lifted=ago(f_days + 1)),
             flag(ago(f_days - 1)), flag(ago(-30))]
    await site.add(*flags)
    expected[Kind.CALLER_FLAG] |= {str(flags[0].id), str(flags[1].id)}
    kept[Kind.CALLER_FLAG] |= {str(flags[2].id), str(flags[3].id)}

    # Web sessions: expired long ago, expired recently, live.
    async with site.db.session() as s:
        user = await create_user(s, "sup", "Supervisor", Role.SUPERVISOR, "sup-pass-123")
    s_days = d(Kind.WEB_SESSION)
    sessions = [session(user.id, ago(s_days + 1)), session(user.id, ago(s_days - 1)),
                session(user.id, ago(-0.5))]
    await site.add(*sessions)
    expected[Kind.WEB_SESSION] |= {sessions[0].token_hash}
    kept[Kind.WEB_SESSION] |= {sessions[1].token_hash, sessions[2].token_hash}

    # Agent activity: ended long ago, ended recently, still open (started long ago).
    a_days = d(Kind.AGENT_ACTIVITY)
    acts = [activity(ago(a_days + 1), ago(a_days + 2)), activity(ago(a_days - 1), ago(a_days)),
            activity(None, ago(a_days + 5))]
    await site.add(*acts)
    expected[Kind.AGENT_ACTIVITY] |= {str(acts[0].id)}
    kept[Kind.AGENT_ACTIVITY] |= {str(acts[1].id), str(acts[2].id)}

    # The audit log: its own, long period.
    e_days = d(Kind.AUDIT_ENTRY)
    entries = [entry(ago(e_days + 1)), entry(ago(e_days - 1))]
    await site.add(*entries)
    expected[Kind.AUDIT_ENTRY] |= {str(entries[0].id)}
    kept[Kind.AUDIT_ENTRY] |= {str(entries[1].id)}

    before = await site.inventory()
    with structlog.testing.capture_logs() as preview_logs:
        preview = await site.purge.execute(dry_run=True)

    assert {k: set(preview.ids(k)) for k in Kind} == expected
    assert await site.inventory() == before  # a dry run removes nothing

    with structlog.testing.capture_logs() as logs:
        done = await site.purge.execute(dry_run=False)

    assert {k: set(done.ids(k)) for k in Kind} == expected  # the same list
    assert done.counts() == preview.counts()
    after = await site.inventory()
    where = {
        Kind.CASE_STUB: "case_stubs", Kind.REPORT_FACT: "report_contacts",
        Kind.STUB_OUTBOX: "case_stub_outbox", Kind.CALL_RECORD: "calls",
        Kind.CALLBACK_REQUEST: "callbacks", Kind.CALLER_FLAG: "caller_flags",
        Kind.WEB_SESSION: "web_sessions", Kind.AGENT_ACTIVITY: "agent_activity",
    }
    for kind, table in where.items():
        assert not after[table] & expected[kind], kind
        assert kept[kind] <= after[table], kind
    assert after["report_contact_problems"] == {pending.id}
    assert after["call_steps"] == {young_call.linkedid}
    assert after["callback_attempts"] == {waiting.id}  # the open callback's attempt
    # The audit log: the old entry went, the run added one with the counts.
    assert str(entries[0].id) not in after["audit_log"]
    async with site.db.session() as s:
        [run] = await audit.entries(s, subject_type="retention")
    assert (run.actor, run.action) == ("retention", "retention_purge")
    assert run.after["counts"] == {k.value: len(v) for k, v in expected.items()}
    assert run.after["listed"] == run.after["counts"]
    assert run.after["policy_days"]["audit_entry"] == e_days

    # Logged per kind, ids only: never the caller's number.
    removed = {line["kind"]: line for line in logs if line["event"] == "retention.removed"}
    assert {k: set(v["ids"]) for k, v in removed.items()} == {
        k.value: ids for k, ids in expected.items() if ids}
    assert all(v["dry_run"] is False for v in removed.values())
    digits = NUMBER.lstrip("+")
    for line in [*logs, *preview_logs]:
        assert digits not in repr(line) and digits[2:] not in repr(line)
    assert digits not in render(done) and digits not in render(preview)

    again = await site.purge.execute(dry_run=True)
    assert again.items == ()


async def test_dry_run_reports_the_counts_and_writes_no_audit_entry(site: Site) -> None:
    await site.add(entry(ago(site.days(Kind.AUDIT_ENTRY) + 3)))
    report = await site.purge.execute(dry_run=True)
    assert report.counts()[Kind.AUDIT_ENTRY] == 1
    assert render(report).startswith("dry run: would remove 0 call recording(s)")
    assert "1 audit log entry(ies)" in render(report)
    async with site.db.session() as s:
        assert await audit.entries(s, subject_type="retention") == []


async def test_a_stub_held_back_after_the_listing_keeps_its_call_steps_and_facts(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the listing and the removal the stub is edited again (its outbox row pending): the
    call, its steps, the stub and its report facts all stay; the run counts what it removed."""
    call_days = site.days(Kind.CALL_RECORD)
    edited = stub(ago(call_days + 1))
    await site.add(edited, outbox(edited.id, OutboxState.DELIVERED, ago(call_days + 1)),
                   *fact(edited.id, edited.created_at))
    old_call = call(ago(call_days + 1), edited.id)
    await site.add(old_call, step(old_call.linkedid, old_call.received_at))
    listing = site.purge._find_expired

    async def list_then_edit(now: datetime) -> Any:
        items = await listing(now)
        async with site.db.session() as s:
            row = await s.get(OutboxRow, edited.id)
            assert row is not None
            row.state, row.revision = OutboxState.PENDING.value, 2
        return items

    monkeypatch.setattr(site.purge, "_find_expired", list_then_edit)
    before = await site.inventory()
    done = await site.purge.execute(dry_run=False)

    listed = done.counts()
    for kind in (Kind.CALL_RECORD, Kind.CASE_STUB, Kind.REPORT_FACT):
        assert listed[kind] == 1, kind
    after = await site.inventory()
    assert after["calls"] == {old_call.linkedid}
    assert after["call_steps"] == {old_call.linkedid}
    assert after["case_stubs"] == {edited.id}
    assert after["report_contacts"] == after["report_contact_problems"] == {edited.id}
    assert after["case_stub_outbox"] == {edited.id}
    assert after["audit_log"] >= before["audit_log"]
    assert done.removed_counts() == {k.value: 0 for k in Kind}
    async with site.db.session() as s:
        [run] = await audit.entries(s, subject_type="retention")
    assert run.after["counts"] == {k.value: 0 for k in Kind}
    assert run.after["listed"][Kind.CALL_RECORD] == 1
    assert "held back since listed (kept): 1 call record(s)" in render(done)
