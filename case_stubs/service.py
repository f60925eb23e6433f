"""Case stubs: one per contact, kept current, validated, queued for the case store, audited.

Every change goes through `StubWriter.change`: read the stub, let one writer change its own fields,
validate against the contract, store it with revision + 1 and (same transaction) put that
revision in the outbox. Nothing is ever lost between "changed" and "queued". Concurrent writers
(tracker and agent at once, or two controllers) are serialised by a compare-and-set on the
revision: the loser re-reads and re-applies its change.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Final

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from call_log.bus import CallBus, StubChanged
from call_log.record import CallSnapshot
from case_stubs.agents import AgentDirectory
from case_stubs.body import (
    AgentRef,
    empty_body,
    merge_call,
    merge_callback_attempt,
    merge_details,
    rfc3339,
    same_content,
)
from case_stubs.models import OutboxRow, OutboxState, StubRow
from case_stubs.schema import validate_stub
from privacy import mask_number
from storage import Database, audit
from web.accounts import User

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
Mutation = Callable[[dict[str, Any] | None], dict[str, Any] | None]

MAX_RACES: Final = 8
_RACE_LOST: Final = object()
DETAIL_FIELDS: Final = frozenset(
    {
        "transcript",
        "triage",
        "flags",
        "recording",
        "notes",
        "callback_transcript",
    }
)


class StubNotFound(LookupError):
    pass


class StubConflict(RuntimeError):
    """Too many concurrent writers on one stub; the caller may retry."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Stub:
    id: str
    revision: int
    body: dict[str, Any]
    handled_by: tuple[str, ...]
    fresh: bool = False  # this call stored it (False: it was already current)


class StubWriter:
    """The one way a stub changes (compare-and-set on revision, outbox in the same transaction)."""

    def __init__(
        self,
        db: Database,
        *,
        push_enabled: bool,
        on_queued: Callable[[], None],
        bus: CallBus | None,
        clock: Clock,
        tz: tzinfo,
    ) -> None:
        self._db = db
        self._push = push_enabled
        self._on_queued = on_queued
        self._bus = bus
        self._clock = clock
        self._tz = tz

    async def change(
        self,
        *,
        stub_id: str,
        mutate: Mutation,
        handled_by: Sequence[str] = (),
        actor: str | None = None,
        action: str = "update",
        audit_fields: Sequence[str] = (),
    ) -> Stub | None:
        """Apply `mutate` to the stub's body (None: the stub does not exist yet) and store the
        result as a new revision, unless it changes nothing. Returns the stored stub, or None
        when `mutate` declined (returned None) for a stub that does not exist."""
        for _ in range(MAX_RACES):
            try:
                outcome = await self._attempt(
                    stub_id, mutate, handled_by, actor, action, audit_fields
                )
            except IntegrityError:
                continue  # another writer created the stub first: re-read, re-apply
            if outcome is _RACE_LOST:
                continue
            if isinstance(outcome, Stub) and outcome.fresh:
                self._announce(outcome)
            return outcome if isinstance(outcome, Stub) else None
        raise StubConflict(f"stub {stub_id} changed {MAX_RACES} times while being written")

    async def _attempt(
        self,
        stub_id: str,
        mutate: Mutation,
        handled_by: Sequence[str],
        actor: str | None,
        action: str,
        audit_fields: Sequence[str],
    ) -> Stub | object | None:
        async with self._db.session() as session:
            row = await session.get(StubRow, stub_id)
            old = copy.deepcopy(row.body) if row is not None else None
            new = mutate(copy.deepcopy(old) if old is not None else None)
            if new is None or (row is not None and same_content(old, new)):
                return _stub(row) if row is not None else None
            stored = await self._store(session, row, new, handled_by)
            if stored is None:
                return _RACE_LOST
            if actor is not None:
                await audit.record(
                    session,
                    actor,
                    action,
                    "case_stub",
                    stub_id,
                    before=_pick(old, audit_fields),
                    after=_pick(stored.body, audit_fields),
                )
        return stored

    async def _store(
        self,
        session: AsyncSession,
        row: StubRow | None,
        body: dict[str, Any],
        handled_by: Sequence[str],
    ) -> Stub | None:
        now = self._clock()
        revision = (row.revision if row is not None else 0) + 1
        body.update(revision=revision, updated_at=rfc3339(now, self._tz))
        validate_stub(body)
        agents = sorted(set(row.handled_by if row is not None else ()) | set(handled_by))
        number = body["caller"]["number"]
        if row is None:
            session.add(
                StubRow(
                    id=body["id"],
                    call_id=body["call_id"],
                    revision=revision,
                    body=body,
                    caller_number=number,
                    handled_by=agents,
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.flush()  # a concurrent insert fails here, inside the retry loop
        else:
            result = await session.execute(
                update(StubRow)
                .where(StubRow.id == row.id, StubRow.revision == row.revision)
                .values(
                    revision=revision,
                    body=body,
                    caller_number=number,
                    handled_by=agents,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
        if self._push:
            await self._queue(session, body["id"], revision, now)
        return Stub(body["id"], revision, body, tuple(agents), fresh=True)

    @staticmethod
    async def _queue(session: AsyncSession, stub_id: str, revision: int, now: datetime) -> None:
        # Coalescing: the row now asks for this revision; an older one waiting is never sent.
        result = await session.execute(
            update(OutboxRow)
            .where(OutboxRow.stub_id == stub_id, OutboxRow.revision < revision)
            .values(
                revision=revision,
                state=OutboxState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                last_error=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            existing = await session.get(OutboxRow, stub_id)
            if existing is None:
                session.add(
                    OutboxRow(
                        stub_id=stub_id,
                        revision=revision,
                        state=OutboxState.PENDING.value,
                        attempts=0,
                        next_attempt_at=now,
                        updated_at=now,
                    )
                )

    def _announce(self, stub: Stub) -> None:
        if self._push:
            self._on_queued()
        if self._bus is not None:
            self._bus.publish(
                StubChanged(stub.id, stub.revision, stub.body.get("call_id"), stub.handled_by)
            )


class CaseStubService:
    """Use cases on stubs: from calls, outcomes, other contacts, details; audited reads."""

    def __init__(
        self,
        db: Database,
        writer: StubWriter,
        agents: AgentDirectory,
        *,
        tz: tzinfo,
        clock: Clock = _utcnow,
    ) -> None:
        self._db = db
        self._writer = writer
        self._agents = agents
        self._tz = tz
        self._clock = clock

    # ----------------------------------------------------------------- writes

    async def upsert_from_call(self, call: CallSnapshot) -> Stub:
        """The call's stub (created at the first call), with the call's current facts."""
        agent = await self._agents.ref(call.agent_id)
        stub = await self._writer.change(
            stub_id=call.stub_id,
            mutate=lambda body: merge_call(body, call, agent, self._tz),
            handled_by=[*call.ringing_agents, *([call.agent_id] if call.agent_id else [])],
        )
        assert stub is not None
        return stub

    async def note_callback_attempt(
        self, callback_call: CallSnapshot, attempts: int
    ) -> Stub | None:
        """The original contact's stub after one of its callback calls ended."""
        related = callback_call.related_stub_id
        result = _callback_status(callback_call)
        if related is None or result is None:
            return None
        return await self._writer.change(
            stub_id=related,
            mutate=lambda body: merge_callback_attempt(body, result, attempts) if body else None,
        )

    async def record_outcome(self, stub_id: str, outcome: Mapping[str, Any], actor: User) -> Stub:
        """Store the agent's (already validated) outcome: new revision, audited, pushed."""
        recorded = {
            **outcome,
            "recorded_by": {"id": actor.agent_id or actor.username, "name": actor.display_name},
            "recorded_at": rfc3339(self._clock(), self._tz),
        }

        def put(body: dict[str, Any] | None) -> dict[str, Any] | None:
            if body is None:
                return None
            body["outcome"] = recorded
            return body

        stub = await self._writer.change(
            stub_id=stub_id,
            mutate=put,
            handled_by=[actor.agent_id] if actor.agent_id else [],
            actor=actor.username,
            action="outcome_saved",
            audit_fields=("outcome",),
        )
        if stub is None:
            raise StubNotFound(stub_id)
        return stub

    async def create_contact(
        self,
        *,
        channel: str,
        dialed: str,
        caller_number: str | None,
        language: str,
        priority: str,
        actor: User,
        notes: str | None = None,
        line: str = "other",
        caller_country: str | None = None,
        received_at: datetime | None = None,
        outcome: Mapping[str, Any] | None = None,
    ) -> Stub:
        """A stub for a contact that is not a call (walk-in, LINE, ESS Help Me, referral...)."""
        stub_id = str(uuid.uuid4())
        agent = AgentRef(actor.agent_id or actor.username, actor.display_name)
        moment = rfc3339(received_at or self._clock(), self._tz)

        def create(_: dict[str, Any] | None) -> dict[str, Any]:
            body = empty_body(stub_id)
            body.update(
                line=line,
                dialed=dialed,
                channel=channel,
                language=language,
                priority=priority,
                caller={"number": caller_number, "country": caller_country},
                notes=notes,
                received_at=moment,
                answered_at=moment,
                agent=agent.as_json(),
                disposition="answered",
            )
            return body

        stub = await self._writer.change(
            stub_id=stub_id,
            mutate=create,
            handled_by=[agent.id],
            actor=actor.username,
            action="contact_created",
            audit_fields=("line", "channel", "dialed"),
        )
        assert stub is not None
        if outcome is not None:
            stub = await self.record_outcome(stub_id, outcome, actor)
        return stub

    async def add_details(
        self, stub_id: str, details: Mapping[str, Any], *, actor: str | None = None
    ) -> Stub:
        """Attach transcript, triage, flags, recording, notes or callback_transcript."""
        unknown = set(details) - DETAIL_FIELDS
        if unknown:
            raise ValueError(f"not a stub detail: {sorted(unknown)}")
        stub = await self._writer.change(
            stub_id=stub_id,
            mutate=lambda body: merge_details(body, details) if body else None,
            actor=actor,
            action="details_added",
            audit_fields=tuple(details),
        )
        if stub is None:
            raise StubNotFound(stub_id)
        return stub

    async def add_message_transcript(
        self,
        stub_id: str,
        *,
        status: str,
        transcript: str | None,
        triage: Mapping[str, Any] | None,
    ) -> Stub:
        """A caller's recorded message transcribed (status "ok"), found silent, or waiting for a
        person (no model for its language, an error): onto the callback request (a voicemail's
        onto `transcript`), with the keyword triage's suggestion when there is one.
        Added by the media room (recordings.transcription_service)."""

        def put(body: dict[str, Any] | None) -> dict[str, Any] | None:
            if body is None:
                return None
            if body.get("callback"):
                body["callback"] = {
                    **body["callback"],
                    "transcript": transcript,
                    "transcript_status": status,
                }
            else:
                body["transcript"] = transcript
            return merge_details(body, {"triage": dict(triage)}) if triage else body

        stub = await self._writer.change(stub_id=stub_id, mutate=put)
        if stub is None:
            raise StubNotFound(stub_id)
        return stub

    # ------------------------------------------------------------------ reads

    async def get(self, stub_id: str, viewer: User) -> dict[str, Any]:
        """The stub as `viewer` may see it; every view is written to the audit trail."""
        async with self._db.session() as session:
            shown = await self.view(session, stub_id, viewer)
            await audit.record(session, viewer.username, "view", "case_stub", stub_id)
            return shown

    @staticmethod
    async def view(session: AsyncSession, stub_id: str, viewer: User) -> dict[str, Any]:
        """The stub as `viewer` may see it, read in the caller's session and NOT audited: the
        caller owes the audit trail this view (the screen-pop writes it once the pop is sent)."""
        row = await session.get(StubRow, stub_id)
        if row is None:
            raise StubNotFound(stub_id)
        return view_for(viewer, row.body, row.handled_by)

    def draft_view(self, call: CallSnapshot, viewer: User) -> dict[str, Any]:
        """The stub `call` makes as it stands, as `viewer` may see it, from memory (nothing read
        or written): what a ringing agent's pop shows before the stub may be stored. The number
        stays masked for an agent until they take the call."""
        handled_by = [call.agent_id] if call.agent_id else []
        return view_for(viewer, merge_call(None, call, None, self._tz), handled_by)

    async def list_since(
        self, since: datetime, viewer: User, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Stubs changed at or after `since`, oldest change first (paging by `updated_at`)."""
        async with self._db.session() as session:
            rows = (
                (
                    await session.execute(
                        select(StubRow)
                        .where(StubRow.updated_at >= since)
                        .order_by(StubRow.updated_at, StubRow.id)
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
            for row in rows:
                await audit.record(session, viewer.username, "view", "case_stub", row.id)
            return [view_for(viewer, row.body, row.handled_by) for row in rows]

    async def previous_contacts(
        self, caller_number: str | None, limit: int = 10, *, exclude: str | None = None
    ) -> list[dict[str, Any]]:
        """Summaries of the caller's earlier contacts, newest first (no numbers in them)."""
        if not caller_number:
            return []
        async with self._db.session() as session:
            return await self.previous_in(session, caller_number, limit, exclude=exclude)

    @staticmethod
    async def previous_in(
        session: AsyncSession, caller_number: str | None, limit: int = 10,
        *, exclude: str | None = None,
    ) -> list[dict[str, Any]]:
        """`previous_contacts`, read in the caller's session."""
        if not caller_number:
            return []
        query = (
            select(StubRow)
            .where(StubRow.caller_number == caller_number)
            .order_by(StubRow.created_at.desc())
            .limit(limit + 1)
        )
        rows = (await session.execute(query)).scalars().all()
        return [_summary(r.body) for r in rows if r.id != exclude][:limit]


def view_for(viewer: User, body: Mapping[str, Any], handled_by: Sequence[str]) -> dict[str, Any]:
    """Full numbers for supervisors and for agents who rang with or handled the contact."""
    shown = copy.deepcopy(dict(body))
    if may_see_numbers(viewer, handled_by):
        return shown
    shown["caller"] = {**shown["caller"], "number": _masked(shown["caller"]["number"])}
    if shown.get("callback"):
        shown["callback"] = {**shown["callback"], "number": _masked(shown["callback"]["number"])}
    return shown


def may_see_numbers(viewer: User, handled_by: Sequence[str]) -> bool:
    return viewer.is_supervisor or (viewer.agent_id is not None and viewer.agent_id in handled_by)


def _masked(number: str | None) -> str | None:
    return mask_number(number) if number else None


def _summary(body: Mapping[str, Any]) -> dict[str, Any]:
    outcome = body.get("outcome") or {}
    return {
        "id": body["id"],
        "received_at": body["received_at"],
        "line": body["line"],
        "channel": body.get("channel"),
        "disposition": body["disposition"],
        "priority": body["priority"],
        "agent": body.get("agent"),
        "category": outcome.get("category"),
        "notes": outcome.get("notes") or body.get("notes"),
    }


def _callback_status(call: CallSnapshot) -> str | None:
    if call.callback_result:
        return call.callback_result
    return "answered" if call.answered_at else ("no_answer" if call.ended else None)


def _pick(body: Mapping[str, Any] | None, fields: Sequence[str]) -> dict[str, Any] | None:
    if body is None or not fields:
        return None
    return {name: body.get(name) for name in fields}


def _stub(row: StubRow) -> Stub:
    return Stub(row.id, row.revision, copy.deepcopy(row.body), tuple(row.handled_by or ()))
