"""Agent state and callback tables (migration 0002_roster)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class AgentStateRow(Base):
    """What the agent last said about themselves (log in/out, pause); see agent_routing.presence."""

    __tablename__ = "agent_states"

    agent_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    logged_in: Mapped[bool | None] = mapped_column(nullable=True)
    presence_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pause_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CallbackRow(Base):
    __tablename__ = "callbacks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    line: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16), index=True)
    number: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )


class CallbackAttemptRow(Base):
    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("callbacks.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    result: Mapped[str | None] = mapped_column(String(32), nullable=True)
