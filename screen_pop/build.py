"""Builds one pop for one viewer: the case stub as that viewer may see it, the caller's previous
contacts with their outcomes, and the caller's active flags.

A ring's pop is built from memory: the call as the tracker holds it, and the caller's context
read when the call arrived (screen_pop.caller_context). Later pops (answered, ended, a new stub
revision, a page reconnecting) read the stub, the contacts and the flags in one session.

Either way the pop shows the contact, a view that must be audited; the pop says so (`Pop.viewed`)
and the feed writes the entry right after handing the pop to the hub (screen_pop.audit)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from call_log.record import CallSnapshot
from caller_flags.store import Flag, FlagStore
from case_stubs.service import StubNotFound
from outcomes.taxonomy import Taxonomy
from screen_pop.desk import OpenContact
from screen_pop.hub import Outgoing
from storage import Database
from web.accounts import User

log = structlog.get_logger(__name__)

PREVIOUS_LIMIT: Final = 5
Clock = Callable[[], datetime]


class StubViews(Protocol):
    """The case-stub views the pop needs (case_stubs.CaseStubService): reads in the pop's
    session, and the stub a call makes before it is stored."""

    async def view(self, session: AsyncSession, stub_id: str, viewer: User) -> dict[str, Any]: ...

    def draft_view(self, call: CallSnapshot, viewer: User) -> dict[str, Any]: ...

    async def previous_in(
        self, session: AsyncSession, caller_number: str | None, limit: int = ...,
        *, exclude: str | None = None,
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class CallerContext:
    """What a pop shows about the caller besides this contact: earlier contacts and flags."""

    number: str | None
    previous: list[dict[str, Any]] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)


async def read_caller_context(
    session: AsyncSession, stubs: StubViews, flags: FlagStore, number: str | None,
    *, exclude: str, limit: int = PREVIOUS_LIMIT,
) -> CallerContext:
    if not number:
        return CallerContext(number)
    previous = await stubs.previous_in(session, number, limit, exclude=exclude)
    return CallerContext(number, previous, await flags.active_for(session, number))


@dataclass(frozen=True, slots=True)
class Pop:
    """A pop for one viewer, and the view of the stub it owes the audit trail (None: the stub
    was missing, the pop shows the call record and nothing was read)."""

    message: Outgoing
    viewer: User
    viewed: str | None
    read_at: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


class BuildPop:
    def __init__(
        self, stubs: StubViews, flags: FlagStore, db: Database, taxonomy: Taxonomy,
        clock: Clock = _utcnow, previous_limit: int = PREVIOUS_LIMIT,
    ) -> None:
        self.stubs = stubs
        self.flags = flags
        self.db = db
        self.taxonomy = taxonomy
        self.clock = clock
        self.previous_limit = previous_limit

    async def __call__(self, contact: OpenContact, viewer: User) -> Pop:
        # One session, three short reads: one pooled connection per pop, not three.
        async with self.db.session() as session:
            read_at = self.clock()
            stub, viewed = await self._stub(session, contact, viewer)
            context = await read_caller_context(
                session, self.stubs, self.flags, contact.call.caller_number,
                exclude=contact.stub_id, limit=self.previous_limit,
            )
        return self._pop(contact, viewer, stub, context, viewed, read_at)

    def ringing(self, contact: OpenContact, viewer: User, context: CallerContext) -> Pop:
        """The ring's pop, from memory: the stub the call makes, and the caller's context."""
        stub = self.stubs.draft_view(contact.call, viewer)
        return self._pop(contact, viewer, stub, context, contact.stub_id, self.clock())

    def _pop(
        self, contact: OpenContact, viewer: User, stub: Mapping[str, Any],
        context: CallerContext, viewed: str | None, read_at: datetime,
    ) -> Pop:
        flags = context.flags
        body = {
            "type": "pop",
            **_timing(contact),
            "stub": stub,
            "previous": context.previous,
            "flags": [f.as_json(viewer, self.taxonomy) for f in flags],
            "test_number": any(f.kind == "test" for f in flags),
            "sent_at": self.clock().isoformat(),
        }
        return Pop(Outgoing.of(body, key=f"pop:{contact.stub_id}"), viewer, viewed, read_at)

    async def _stub(
        self, session: AsyncSession, contact: OpenContact, viewer: User
    ) -> tuple[Mapping[str, Any], str | None]:
        try:
            return await self.stubs.view(session, contact.stub_id, viewer), contact.stub_id
        except StubNotFound:
            # Not yet stored (a page reconnecting while its contact rings): the call record,
            # masked as the stub would be, as on the ring's pop.
            log.info("screen_pop.stub_not_yet_stored", stub_id=contact.stub_id)
            return self.stubs.draft_view(contact.call, viewer), None


def _timing(contact: OpenContact) -> dict[str, Any]:
    call = contact.call
    waited_until = contact.answered_at or contact.rang_at
    started = call.queued_at or call.received_at
    return {
        "phase": str(contact.phase),
        "stub_id": contact.stub_id,
        "linkedid": contact.linkedid,
        "rang_at": contact.rang_at.isoformat(),
        "answered_at": _iso(contact.answered_at),
        "ended_at": _iso(contact.ended_at),
        "queued_at": _iso(started),
        "wait_seconds": round(max(0.0, (waited_until - started).total_seconds()), 1),
        "disposition": contact.disposition,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
