"""Tables of the call log: one row per call (keyed by Asterisk's linkedid) and its steps.

Times are stored in UTC; pages and stubs present them with the centre's offset (+07:00).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class CallRow(Base):
    __tablename__ = "calls"

    linkedid: Mapped[str] = mapped_column(String(64), primary_key=True)
    line: Mapped[str] = mapped_column(String(16))
    dialed: Mapped[str | None] = mapped_column(String(64), nullable=True)
    caller_number: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    caller_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ivr_path: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wait_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    ringing_agents: Mapped[list[str]] = mapped_column(JSON, default=list)
    transfers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    disposition: Mapped[str] = mapped_column(String(32), index=True)
    fallback: Mapped[str | None] = mapped_column(String(32), nullable=True)
    callback_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    callback_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    callback_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    callback_result: Mapped[str | None] = mapped_column(String(16), nullable=True)
    related_linkedid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    survey_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recording_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    stub_id: Mapped[str] = mapped_column(String(36), unique=True)
    # "ami" (seen live) or "reconcile" (rebuilt from Asterisk's CEL/queue_log).
    source: Mapped[str] = mapped_column(String(16), default="ami")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CallStepRow(Base):
    """One step of a call (IVR choice, queue entry, ring, answer, transfer, end), for reports."""

    __tablename__ = "call_steps"
    __table_args__ = (UniqueConstraint("linkedid", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    step: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WatermarkRow(Base):
    """How far the reconciler has read one of Asterisk's records (CEL rowid, queue_log offset)."""

    __tablename__ = "call_log_watermarks"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
