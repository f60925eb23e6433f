"""Case stubs for report tests, written straight into the stubs table in the contract's shape."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from case_stubs.body import empty_body
from case_stubs.models import StubRow
from storage import Database

BANGKOK_TIME = timezone(timedelta(hours=7))


@dataclass
class Contact:
    """One contact as the monthly report sees it (local Bangkok time)."""

    at: datetime
    line: str = "domestic"
    channel: str | None = None
    country: str | None = "TH"
    disposition: str = "answered"
    outcome: dict[str, Any] | None = None
    callback_status: str | None = None
    continues: str | None = None
    flags: list[dict[str, Any]] = field(default_factory=list)
    stub_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def body(self) -> dict[str, Any]:
        body = empty_body(self.stub_id)
        body.update({
            "revision": 1, "line": self.line, "channel": self.channel,
            "caller": {"number": None, "country": self.country},
            "received_at": self.at.isoformat(timespec="milliseconds"),
            "disposition": self.disposition, "outcome": _outcome(self.outcome),
            "related_stub_id": self.continues, "flags": self.flags,
            "language": "th", "dialed": "1300",
        })
        if self.callback_status:
            body["callback"] = {"number": None, "message": None, "status": self.callback_status,
                                "attempts": 1, "transcript": None}
        return body


def _outcome(outcome: dict[str, Any] | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    base: dict[str, object] = {
        "category": None, "subtype": None, "problem_types": [], "target_group": None,
        "sex": None, "province": None, "district": None, "referral": None,
        "mobile_team_result": None, "notes": "", "taxonomy_version": 1,
    }
    return {**base, **outcome}


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0
          ) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BANGKOK_TIME)


async def save(db: Database, *contacts: Contact, updated_at: datetime | None = None) -> None:
    """Insert or replace the stubs (as the case-stub service would, bumping updated_at)."""
    async with db.session() as s:
        for contact in contacts:
            row = await s.get(StubRow, contact.stub_id)
            body = contact.body()
            stamp = updated_at or datetime.now(UTC)
            if row is None:
                s.add(StubRow(
                    id=contact.stub_id, call_id=None, revision=1, body=body, caller_number=None,
                    handled_by=[], created_at=contact.at.astimezone(UTC), updated_at=stamp,
                ))
            else:
                row.body, row.revision, row.updated_at = body, row.revision + 1, stamp
