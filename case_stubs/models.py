"""Tables of the case stubs: the stubs themselves (the embedded case store) and the outbox.

The outbox has one row per stub, not per revision: a newer revision replaces the one waiting,
so the case store receives the highest revision and never a backlog of stale ones.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class StubRow(Base):
    __tablename__ = "case_stubs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    revision: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Copied out of the body for lookups: a caller's previous contacts, who may see the number.
    caller_number: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    handled_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    PARKED = "parked"


class OutboxRow(Base):
    __tablename__ = "case_stub_outbox"

    stub_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("case_stubs.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # A pusher that took the row owns it until then; another controller skips it meanwhile.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
