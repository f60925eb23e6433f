"""Builds one pop for one viewer: the case stub as that viewer may see it (the read is audited),
the caller's previous contacts with their outcomes, and the caller's active flags."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import structlog

from caller_flags.store import Flag, FlagStore
from case_stubs.service import StubNotFound
from outcomes.taxonomy import Taxonomy
from privacy import mask_number
from screen_pop.desk import OpenContact
from screen_pop.hub import Outgoing
from storage import Database
from web.accounts import User

log = structlog.get_logger(__name__)

PREVIOUS_LIMIT: Final = 5
Clock = Callable[[], datetime]


class StubViews(Protocol):
    """The case-stub service as the pop needs it (case_stubs.CaseStubService)."""

    async def get(self, stub_id: str, viewer: User) -> dict[str, Any]: ...

    async def previous_contacts(
        self, caller_number: str | None, limit: int = ..., *, exclude: str | None = None
    ) -> list[dict[str, Any]]: ...


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

    async def __call__(self, contact: OpenContact, viewer: User) -> Outgoing:
        # Three independent reads, side by side: the pop leaves as soon as the slowest is back.
        stub, previous, flags = await asyncio.gather(
            self._stub(contact, viewer), self._previous(contact), self._flags(contact)
        )
        body = {
            "type": "pop",
            **_timing(contact),
            "stub": stub,
            "previous": previous,
            "flags": [f.as_json(viewer, self.taxonomy) for f in flags],
            "test_number": any(f.kind == "test" for f in flags),
            "sent_at": self.clock().isoformat(),
        }
        return Outgoing.of(body, key=f"pop:{contact.stub_id}")

    async def _stub(self, contact: OpenContact, viewer: User) -> Mapping[str, Any]:
        try:
            return await self.stubs.get(contact.stub_id, viewer)
        except StubNotFound:
            # The tracker stores the stub before it publishes a ring; this is a safety net so a
            # pop is never lost: it shows the call record, masked as the stub would be.
            log.warning("screen_pop.stub_missing", stub_id=contact.stub_id)
            return _stub_from_call(contact, viewer)

    async def _previous(self, contact: OpenContact) -> list[dict[str, Any]]:
        return await self.stubs.previous_contacts(
            contact.call.caller_number, self.previous_limit, exclude=contact.stub_id
        )

    async def _flags(self, contact: OpenContact) -> list[Flag]:
        async with self.db.session() as session:
            return await self.flags.active_for(session, contact.call.caller_number)


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
