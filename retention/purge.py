"""The purge: removes every kind of personal data past its period — rows and media files.

What is past its period, per kind (retention.kinds.Kind), and what holds it back:

- call recordings, callback messages: from the call; also when their call record is past its
  period. Files (archive and Asterisk's original) and rows.
- call records (calls and steps): from the call; held back while the call's stub is not yet in
  the case store (its outbox row pending or parked), so a call and its stub go together.
- case stubs: from the contact, or when the stub's call record is past its period (a stub never
  outlives its call record); never while its delivery is pending or parked (nothing lost: the
  case store must have it first). Their report facts and delivered outbox rows go with them.
- delivered outbox rows: from delivery. Pending and parked rows stay.
- callback requests and their attempts: from when they closed; open ones (waiting, placing)
  stay.
- caller flags: from when they expired or were lifted; active ones stay.
- web sessions: from their expiry.
- agent activity intervals: from their end; an open interval stays.
- audit entries: from the entry.

A thing that became held back between the listing and the removal stays with its dependants
(a call with its steps, a stub with its report facts); the counts logged and audited are the rows
actually removed.

A dry run lists exactly what a real run would remove and removes nothing. Only ids are logged
(media ids, linkedids, stub and callback ids, row numbers), never a caller's number. Each real
run is one audit entry with the counts per kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, cast

import structlog
from sqlalchemy import ColumnElement, CursorResult, Delete, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from agent_routing.callback_store import OPEN_STATUSES
from agent_routing.tables import CallbackAttemptRow, CallbackRow
from call_log.models import CallRow, CallStepRow
from caller_flags.models import CallerFlagRow
from case_stubs.models import OutboxRow, OutboxState, StubRow
from recordings.models import MediaKind, MediaRow
from reports.activity import AgentActivityRow
from reports.facts import ReportContactRow, ReportProblemRow
from retention.files import MediaFiles
from retention.kinds import Kind
from retention.policy import RetentionPolicy
from storage import Database, audit
from storage.audit import AuditEntry
from web.auth import SessionRow

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
ACTOR: Final = "retention"
_BATCH: Final = 500
# Ids per kind written into one log line; the rest are counted (the command line lists all).
_LOGGED_IDS: Final = 200
_MEDIA: Final = (Kind.CALL_RECORDING, Kind.CALLBACK_MESSAGE)


@dataclass(frozen=True)
class Expired:
    """One thing past its period: its kind and id (a media item also names its files)."""

    kind: Kind
    id: str
    archive_path: str | None = None
    source_path: str | None = None


@dataclass(frozen=True)
class PurgeReport:
    dry_run: bool
    at: datetime
    items: tuple[Expired, ...]
    files_removed: int = 0
    # A real run: the rows removed per kind. Fewer than listed when a row became held back
    # between the listing and the removal (it stays, with its dependants).
    removed: dict[str, int] | None = None

    def counts(self) -> dict[str, int]:
        """What was listed per kind (a dry run: what a real run would remove)."""
        counts = {kind.value: 0 for kind in Kind}
        for item in self.items:
            counts[item.kind] += 1
        return counts

    def removed_counts(self) -> dict[str, int]:
        """The rows removed per kind (a dry run: the listed counts)."""
        return self.counts() if self.removed is None else dict(self.removed)

    def ids(self, kind: str) -> list[str]:
        return [item.id for item in self.items if item.kind == kind]

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run, "at": self.at.isoformat(), "counts": self.counts(),
            "removed": self.removed, "files_removed": self.files_removed,
            "ids": {kind: self.ids(kind) for kind in self.counts()},
        }


class PurgeExpired:
    """Removes what is past its retention period; with `dry_run`, only says what it would."""

    def __init__(
        self, db: Database, policy: RetentionPolicy, files: MediaFiles, clock: Clock
    ) -> None:
        self._db = db
        self._policy = policy
        self._files = files
        self._clock = clock

    async def execute(self, *, dry_run: bool, actor: str = ACTOR) -> PurgeReport:
        now = self._clock()
        items = await self._find_expired(now)
        if dry_run:
            report = PurgeReport(True, now, items)
        else:
            files = self._files.remove(i for i in items if i.kind in _MEDIA)
            report = PurgeReport(False, now, items, files)
            report = replace(report, removed=await self._remove_rows(report, actor))
        self._log(report)
        return report

    # --- what is past its period ---------------------------------------------------------

    async def _find_expired(self, now: datetime) -> tuple[Expired, ...]:
        found: list[Expired] = []
        async with self._db.session() as session:
            found += await self._media(session, now)
            for kind, query in self._row_queries(now).items():
                ids = (await session.execute(query)).scalars().all()
                found += (Expired(kind, str(i)) for i in ids)
        return tuple(found)

    async def _media(self, session: AsyncSession, now: datetime) -> list[Expired]:
        p = self._policy
        expired = or_(
            *(
                (MediaRow.kind == kind.value) & (MediaRow.recorded_at < now - p.period(kind))
                for kind in MediaKind
            ),
            MediaRow.recorded_at < now - p.call_records,  # its call record goes too
        )
        rows = (await session.execute(
            select(MediaRow).where(expired).order_by(MediaRow.recorded_at)
        )).scalars().all()
        return [Expired(Kind(m.kind), m.id, m.archive_path, m.source_path) for m in rows]

    def _row_queries(self, now: datetime) -> dict[Kind, Select[Any]]:
        p = self._policy
        stubs = self._expired_stubs(now)
        return {
            Kind.CALL_RECORD: select(CallRow.linkedid)
            .where(CallRow.received_at < now - p.call_records, ~_undelivered(CallRow.stub_id))
            .order_by(CallRow.received_at),
            Kind.CASE_STUB: stubs.order_by(StubRow.created_at),
            Kind.REPORT_FACT: select(ReportContactRow.stub_id)
            .where(ReportContactRow.stub_id.in_(stubs))
            .order_by(ReportContactRow.received_at),
            Kind.STUB_OUTBOX: select(OutboxRow.stub_id)
            .where(_delivered(), or_(OutboxRow.delivered_at < now - p.delivered_outbox,
                                     OutboxRow.stub_id.in_(stubs)))
            .order_by(OutboxRow.delivered_at),
            Kind.CALLBACK_REQUEST: select(CallbackRow.id)
            .where(_closed(), func.coalesce(CallbackRow.finished_at, CallbackRow.requested_at)
                   < now - p.closed_callbacks)
            .order_by(CallbackRow.requested_at),
            Kind.CALLER_FLAG: select(CallerFlagRow.id)
            .where(or_(CallerFlagRow.lifted_at < now - p.ended_caller_flags,
                       CallerFlagRow.expires_at < now - p.ended_caller_flags))
            .order_by(CallerFlagRow.id),
            Kind.WEB_SESSION: select(SessionRow.token_hash)
            .where(SessionRow.expires_at < now - p.expired_sessions)
            .order_by(SessionRow.expires_at),
            Kind.AGENT_ACTIVITY: select(AgentActivityRow.id)
            .where(AgentActivityRow.ended_at < now - p.agent_activity)
            .order_by(AgentActivityRow.id),
            Kind.AUDIT_ENTRY: select(AuditEntry.id)
            .where(AuditEntry.at < now - p.audit_log)
            .order_by(AuditEntry.id),
        }

    def _expired_stubs(self, now: datetime) -> Select[Any]:
        p = self._policy
        past_call = select(CallRow.stub_id).where(CallRow.received_at < now - p.call_records)
        return select(StubRow.id).where(
            or_(StubRow.created_at < now - p.case_stubs, StubRow.id.in_(past_call)),
            ~_undelivered(StubRow.id),
        )

    # --- removal ---------------------------------------------------------------------------

    async def _remove_rows(self, report: PurgeReport, actor: str) -> dict[str, int]:
        """Every row of the report in one transaction, with the run's audit entry. A row that
        became held back since it was listed (a stub edited again, a callback reopened) stays,
        with its dependants. Returns the rows removed per kind (the audit entry's counts)."""
        removed = {kind.value: 0 for kind in Kind}
        async with self._db.session() as session:
            for kind, statements in _DELETES.items():
                ids: Sequence[str | int] = report.ids(kind)
                if kind in _INT_IDS:
                    ids = [int(i) for i in ids]
                for batch in _batches(ids):
                    *dependants, own = statements(batch)
                    for statement in dependants:
                        await session.execute(statement)
                    result = cast(CursorResult[Any], await session.execute(own))
                    removed[kind.value] += result.rowcount
            await audit.record(
                session, actor, "retention_purge", "retention", report.at.isoformat(),
                after={"counts": removed, "listed": report.counts(),
                       "files_removed": report.files_removed,
                       "policy_days": self._policy.as_json()},
            )
        return removed

    @staticmethod
    def _log(report: PurgeReport) -> None:
        removed = report.removed_counts()
        for kind, count in report.counts().items():
            if count:
                ids = report.ids(kind)
                log.info("retention.removed", dry_run=report.dry_run, kind=kind,
                         count=removed[kind], held_back=count - removed[kind],
                         ids=ids[:_LOGGED_IDS], more=max(0, count - _LOGGED_IDS))
        log.info("retention.purged", dry_run=report.dry_run, files=report.files_removed,
                 **removed)


def _undelivered(stub_id: Any) -> ColumnElement[bool]:
    """The stub's newest revision is not yet in the case store (pending or parked)."""
    return exists().where(OutboxRow.stub_id == stub_id,
                          OutboxRow.state != OutboxState.DELIVERED.value)


def _delivered() -> ColumnElement[bool]:
    return OutboxRow.state == OutboxState.DELIVERED.value


def _closed() -> ColumnElement[bool]:
    return CallbackRow.status.not_in(OPEN_STATUSES)


Batch = Sequence[Any]


def _removable_calls(ids: Batch) -> Select[Any]:
    """The calls of `ids` still to go: not held back by their stub (the steps follow the call)."""
    return select(CallRow.linkedid).where(CallRow.linkedid.in_(ids),
                                          ~_undelivered(CallRow.stub_id))


# Per kind, in order, the statements that remove a batch of its ids (dependants first, each
# under its parent's guard). The last statement removes the kind's own rows: its rowcount is
# the number removed.
_DELETES: Final[dict[Kind, Callable[[Batch], list[Delete]]]] = {
    Kind.CALL_RECORDING: lambda ids: [delete(MediaRow).where(MediaRow.id.in_(ids))],
    Kind.CALLBACK_MESSAGE: lambda ids: [delete(MediaRow).where(MediaRow.id.in_(ids))],
    Kind.CALL_RECORD: lambda ids: [
        delete(CallStepRow).where(CallStepRow.linkedid.in_(_removable_calls(ids))),
        delete(CallRow).where(CallRow.linkedid.in_(_removable_calls(ids))),
    ],
    # A stub's facts go only with the stub: under the CASE_STUB delete's own guard.
    Kind.REPORT_FACT: lambda ids: [
        delete(ReportProblemRow).where(ReportProblemRow.stub_id.in_(ids),
                                       ~_undelivered(ReportProblemRow.stub_id)),
        delete(ReportContactRow).where(ReportContactRow.stub_id.in_(ids),
                                       ~_undelivered(ReportContactRow.stub_id)),
    ],
    Kind.STUB_OUTBOX: lambda ids: [
        delete(OutboxRow).where(OutboxRow.stub_id.in_(ids), _delivered()),
    ],
    Kind.CASE_STUB: lambda ids: [
        delete(StubRow).where(StubRow.id.in_(ids), ~_undelivered(StubRow.id)),
    ],
    Kind.CALLBACK_REQUEST: lambda ids: [
        delete(CallbackAttemptRow).where(
            CallbackAttemptRow.callback_id.in_(select(CallbackRow.id).where(
                CallbackRow.id.in_(ids), _closed()))),
        delete(CallbackRow).where(CallbackRow.id.in_(ids), _closed()),
    ],
    Kind.CALLER_FLAG: lambda ids: [delete(CallerFlagRow).where(CallerFlagRow.id.in_(ids))],
    Kind.WEB_SESSION: lambda ids: [delete(SessionRow).where(SessionRow.token_hash.in_(ids))],
    Kind.AGENT_ACTIVITY: lambda ids: [
        delete(AgentActivityRow).where(AgentActivityRow.id.in_(ids)),
    ],
    Kind.AUDIT_ENTRY: lambda ids: [delete(AuditEntry).where(AuditEntry.id.in_(ids))],
}
_INT_IDS: Final = {Kind.CALLER_FLAG, Kind.AGENT_ACTIVITY, Kind.AUDIT_ENTRY}


def _batches(ids: Sequence[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(ids), _BATCH):
        yield list(ids[start : start + _BATCH])
