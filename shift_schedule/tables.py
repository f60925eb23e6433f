"""Roster tables (migration 0002_roster). Portable types only: SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(64), unique=True)
    languages: Mapped[Any] = mapped_column(JSON)
    skills: Mapped[Any] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ShiftRow(Base):
    __tablename__ = "shifts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class RequirementRow(Base):
    __tablename__ = "shift_requirements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[str] = mapped_column(String(32), ForeignKey("shifts.id", ondelete="CASCADE"))
    skill: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)


class PatternRow(Base):
    """The default week: agent works shift on weekday (0 = Monday)."""

    __tablename__ = "shift_patterns"
    __table_args__ = (UniqueConstraint("agent_id", "shift_id", "weekday"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(16), ForeignKey("agents.id", ondelete="CASCADE"))
    shift_id: Mapped[str] = mapped_column(String(32), ForeignKey("shifts.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)


class RosterDayRow(Base):
    """A date whose assignments were generated from the pattern (never generated twice, so a
    supervisor's removal is not undone by the next generation)."""

    __tablename__ = "roster_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssignmentRow(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("agent_id", "shift_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(16), ForeignKey("agents.id", ondelete="CASCADE"))
    shift_id: Mapped[str] = mapped_column(String(32), ForeignKey("shifts.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date, index=True)
    covers_agent_id: Mapped[str | None] = mapped_column(
        String(16), ForeignKey("agents.id", ondelete="SET NULL"), nullable=True
    )
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AbsenceRow(Base):
    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(16), ForeignKey("agents.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date, index=True)
    shift_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("shifts.id", ondelete="CASCADE"), nullable=True
    )
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
