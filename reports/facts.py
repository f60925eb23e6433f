"""Contact facts: the case stubs' reportable fields in typed, indexed columns.

A case stub is one JSON body (the case-store contract), which SQL can only group slowly and
differently on SQLite and PostgreSQL. The reports read this projection instead: one row per
stub (plus one per problem type), rebuilt from the stub whenever the stub changes, never edited
by hand. The stub stays the one source; dropping these tables and refreshing rebuilds them.

A callback call (line "callback") continues the contact that asked for it: it is projected too,
but counted through its original contact, which takes the callback call's outcome when the
original has none of its own (the agent records the outcome on the call they took).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import structlog
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from case_stubs.models import StubRow
from reports.period import as_utc
from storage import Database
from storage.base import Base

log = structlog.get_logger(__name__)

# The taxonomy's intake channels of the two phone lines (a non-call contact names its own).
PHONE_CHANNELS: Final = {"domestic": "phone_1300", "international": "phone_international"}
CALLBACK_LINE: Final = "callback"
# A stub committed a little after a later one was read must still be picked up next time.
REREAD_OVERLAP: Final = timedelta(minutes=5)
BATCH: Final = 2000


class ReportContactRow(Base):
    __tablename__ = "report_contacts"

    stub_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    stub_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    continues: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    line: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    disposition: Mapped[str] = mapped_column(String(32))
    callback_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    flagged_test: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome_source: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    subtype: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sex: Mapped[str | None] = mapped_column(String(32), nullable=True)
    province: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    district: Mapped[str | None] = mapped_column(String(100), nullable=True)
    referral_urgency: Mapped[str | None] = mapped_column(String(32), nullable=True)
    referral_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    referral_destination: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mobile_team_result: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ReportProblemRow(Base):
    __tablename__ = "report_contact_problems"

    stub_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("report_contacts.stub_id", ondelete="CASCADE"), primary_key=True
    )
    problem_type: Mapped[str] = mapped_column(String(64), primary_key=True)


OUTCOME_COLUMNS: Final = (
    "category", "subtype", "target_group", "sex", "province", "district", "referral_urgency",
    "referral_kind", "referral_destination", "mobile_team_result",
)


@dataclass(frozen=True)
class ContactFact:
    """The reportable fields of one stub (what one `report_contacts` row holds)."""

    stub_id: str
    received_at: datetime
    stub_updated_at: datetime
    continues: str | None
    line: str
    channel: str
    language: str | None
    country: str | None
    disposition: str
    callback_status: str | None
    flagged_test: bool
    outcome_source: str
    category: str | None = None
    subtype: str | None = None
    target_group: str | None = None
    sex: str | None = None
    province: str | None = None
    district: str | None = None
    referral_urgency: str | None = None
    referral_kind: str | None = None
    referral_destination: str | None = None
    mobile_team_result: str | None = None
    problem_types: tuple[str, ...] = field(default=())

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _ROW_FIELDS}

    def with_outcome_of(self, other: ContactFact) -> ContactFact:
        return replace(
            self, outcome_source="callback", problem_types=other.problem_types,
            **{name: getattr(other, name) for name in OUTCOME_COLUMNS},
        )


_ROW_FIELDS: Final = tuple(f.name for f in fields(ContactFact) if f.name != "problem_types")


def project(body: Mapping[str, Any], updated_at: datetime, created_at: datetime) -> ContactFact:
    """The fact of one stub body (the contract's fields; missing ones count as unknown)."""
    outcome = body.get("outcome") or {}
    referral = outcome.get("referral") or {}
    destination = referral.get("destination") or {}
    line = str(body.get("line") or "other")
    return ContactFact(
        stub_id=str(body["id"]),
        received_at=_instant(body.get("received_at")) or as_utc(created_at),
        stub_updated_at=as_utc(updated_at),
        continues=body.get("related_stub_id") if line == CALLBACK_LINE else None,
        line=line,
        channel=str(body.get("channel") or PHONE_CHANNELS.get(line, line)),
        language=body.get("language"),
        country=(body.get("caller") or {}).get("country"),
        disposition=str(body.get("disposition") or "in_queue"),
        callback_status=(body.get("callback") or {}).get("status"),
        flagged_test=any(f.get("kind") == "test" for f in body.get("flags") or ()),
        outcome_source="own" if outcome.get("category") else "none",
        category=outcome.get("category"),
        subtype=outcome.get("subtype"),
        target_group=outcome.get("target_group"),
        sex=outcome.get("sex"),
        province=outcome.get("province"),
        district=_district(outcome.get("district")),
        referral_urgency=referral.get("urgency"),
        referral_kind=destination.get("kind"),
        referral_destination=destination.get("country") or destination.get("id"),
        mobile_team_result=outcome.get("mobile_team_result"),
        problem_types=tuple(dict.fromkeys(outcome.get("problem_types") or ())),
    )


class RefreshContactFacts:
    """Bring report_contacts up to date with every stub changed since the last refresh.

    One instance is shared by the background refresher and the reports, so two refreshes never
    project the same stubs at once (the second finds the work done)."""

    def __init__(self, db: Database, clock: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = asyncio.Lock()

    async def execute(self) -> int:
        """Stubs projected (0 when nothing changed)."""
        async with self._lock:
            return await self._catch_up()

    async def _catch_up(self) -> int:
        async with self.db.session() as session:
            after = await _watermark(session, self.clock())
        total = 0
        while True:
            # One transaction per page: a first catch-up over years of stubs never holds the
            # database for long against the call tracker's writes.
            async with self.db.session() as session:
                stubs = await _changed_stubs(session, after)
                facts = [project(body, updated, created) for _, body, updated, created in stubs]
                if facts:
                    await _store(session, facts)
                    await _resolve_callbacks(session, facts)
            if not stubs:
                break
            total += len(facts)
            after = (as_utc(stubs[-1][2]), stubs[-1][0])
        log.log(logging.INFO if total >= BATCH else logging.DEBUG, "report facts refreshed",
                stubs=total)
        return total


async def _watermark(session: AsyncSession, now: datetime) -> tuple[datetime, str] | None:
    """Where to read from: after the newest stub already projected, but never later than a
    few minutes ago (a stub stamped then may have been committed only after that read)."""
    latest = (await session.execute(select(func.max(ReportContactRow.stub_updated_at)))).scalar()
    return (min(as_utc(latest), now - REREAD_OVERLAP), "") if latest else None


async def _changed_stubs(
    session: AsyncSession, after: tuple[datetime, str] | None
) -> list[tuple[str, dict[str, Any], datetime, datetime]]:
    """The next page of stubs (id, body, updated_at, created_at) after the given position."""
    query = (
        select(StubRow.id, StubRow.body, StubRow.updated_at, StubRow.created_at)
        .order_by(StubRow.updated_at, StubRow.id)
        .limit(BATCH)
    )
    if after is not None:
        moment, stub_id = after
        query = query.where(
            (StubRow.updated_at > moment)
            | ((StubRow.updated_at == moment) & (StubRow.id > stub_id))
        )
    return [tuple(row) for row in (await session.execute(query)).all()]


async def _store(session: AsyncSession, facts: Sequence[ContactFact]) -> None:
    ids = [f.stub_id for f in facts]
    await session.execute(delete(ReportProblemRow).where(ReportProblemRow.stub_id.in_(ids)))
    await session.execute(delete(ReportContactRow).where(ReportContactRow.stub_id.in_(ids)))
    # Core inserts (the tables, not the classes): the ORM's bulk path costs more than the SQL.
    await session.execute(insert(_table(ReportContactRow)), [f.row() for f in facts])
    problems = [{"stub_id": f.stub_id, "problem_type": p} for f in facts for p in f.problem_types]
    if problems:
        await session.execute(insert(_table(ReportProblemRow)), problems)


async def _resolve_callbacks(session: AsyncSession, facts: Iterable[ContactFact]) -> None:
    """Give contacts without an outcome the outcome recorded on their latest callback call."""
    originals = {f.continues for f in facts if f.continues}
    originals |= {f.stub_id for f in facts if f.continues is None and f.category is None}
    if not originals:
        return
    takers = await _latest_callback_outcomes(session, originals)
    for original_id, callback in takers.items():
        original = await _load(session, original_id)
        if original is not None and original.outcome_source != "own":
            await _store(session, [original.with_outcome_of(callback)])


async def _latest_callback_outcomes(
    session: AsyncSession, originals: set[str]
) -> dict[str, ContactFact]:
    query = (
        select(ReportContactRow)
        .where(ReportContactRow.continues.in_(originals), ReportContactRow.category.is_not(None))
        .order_by(ReportContactRow.received_at)
    )
    latest: dict[str, ContactFact] = {}
    for row in (await session.execute(query)).scalars():
        fact = await _load(session, row.stub_id)
        if fact is not None and row.continues:
            latest[row.continues] = fact
    return latest


async def _load(session: AsyncSession, stub_id: str) -> ContactFact | None:
    row = await session.get(ReportContactRow, stub_id)
    if row is None:
        return None
    problems = (await session.execute(
        select(ReportProblemRow.problem_type).where(ReportProblemRow.stub_id == stub_id)
    )).scalars()
    values = {name: getattr(row, name) for name in ContactFact.__dataclass_fields__
              if name != "problem_types"}
    return ContactFact(**values, problem_types=tuple(problems))


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


def _instant(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return as_utc(moment)


def _district(value: object) -> str | None:
    text = " ".join(str(value).split()) if value else ""
    return text[:100] or None
