"""Builds one pop for one viewer: the case stub as that viewer may see it, the caller's previous
contacts with their outcomes, and the caller's active flags.

A ring's pop is built from memory: the call as the tracker holds it, and the caller's context
read when the call arrived (screen_pop.caller_context). Later pops (answered, ended, a new stub
revision, a page reconnecting) read the stub, the contacts and the flags in one session.

Either way the pop shows the contact, a view that must be audited; the pop says so (`Pop.viewed`)
and the feed writes the entry right after handing the pop to the hub (screen_pop.audit)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from caller_flags.store import FlagStore
from case_stubs.service import StubNotFound
from outcomes.taxonomy import Taxonomy
from privacy import mask_number
from screen_pop.desk import OpenContact
from screen_pop.hub import Outgoing
from storage import Database
from web.accounts import User

if TYPE_CHECKING:
    from caller_flags.store import Flag
    from screen_pop.caller_context import CallerContext

log = structlog.get_logger(__name__)

PREVIOUS_LIMIT: Final = 5
Clock = Callable[[], datetime]


class StubViews(Protocol):
    """The case-stub reads the pop needs, in the pop's session (case_stubs.CaseStubService)."""

    async def view(self, session: AsyncSession, stub_id: str, viewer: User) -> dict[str, Any]: ...

    async def previous_in(
        self, session: AsyncSession, caller_number: str | None, limit: int = ...,
        *, exclude: str | None = None,
    ) -> list[dict[str, Any]]: ...


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
            previous = await self.stubs.previous_in(
                session, contact.call.caller_number, self.previous_limit, exclude=contact.stub_id
            )
            flags = await self.flags.active_for(session, contact.call.caller_number)
        return self._pop(contact, viewer, stub, previous, flags, viewed, read_at)

    def ringing(self, contact: OpenContact, viewer: User, context: CallerContext) -> Pop:
        """The ring's pop, from memory: the call's details as its stub shows them."""
        return self._pop(
            contact, viewer, _stub_from_call(contact, viewer), context.previous, context.flags,
            contact.stub_id, self.clock(),
        )

    def _pop(
        self, contact: OpenContact, viewer: User, stub: Mapping[str, Any],
        previous: list[dict[str, Any]], flags: list[Flag], viewed: str | None, read_at: datetime,
    ) -> Pop:
        body = {
            "type": "pop",
            **_timing(contact),
            "stub": stub,
            "previous": previous,
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
            return _stub_from_call(contact, viewer), None


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


def _stub_from_call(contact: OpenContact, viewer: User) -> dict[str, Any]:
    call = contact.call
    number = call.caller_number
    return {
        "id": call.stub_id,
        "call_id": call.linkedid,
        "line": call.line,
        "dialed": call.dialed,
        "caller": {
            "number": number if viewer.is_supervisor or not number else mask_number(number),
            "country": call.caller_country,
        },
        "language": call.language,
        "priority": call.priority,
        "ivr": {"selections": list(call.ivr_path)},
        "queue": call.queue,
        "received_at": call.received_at.isoformat(),
        "disposition": call.disposition,
        "outcome": None,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
