"""Roster and routing tables: agents, shifts, requirements, weekly pattern, dated assignments,
absences, agent states, callbacks and callback attempts. The seed roster is written by the
application on first start (shift_schedule.bootstrap), not here, so it follows config/.

Revision ID: 0002_roster
Revises: 0001_core
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_roster"
down_revision = "0001_core"


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False, unique=True),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("skills", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name_th", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("start_minute", sa.Integer, nullable=False),
        sa.Column("end_minute", sa.Integer, nullable=False),
    )
    op.create_table(
        "shift_requirements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("shift_id", sa.String(32), sa.ForeignKey("shifts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "shift_patterns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.String(16), sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("shift_id", sa.String(32), sa.ForeignKey("shifts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.UniqueConstraint("agent_id", "shift_id", "weekday", name="uq_shift_patterns_agent_id"),
    )
    op.create_table(
        "roster_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.String(16), sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("shift_id", sa.String(32), sa.ForeignKey("shifts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("covers_agent_id", sa.String(16), sa.ForeignKey("agents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("agent_id", "shift_id", "day", name="uq_assignments_agent_id"),
    )
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.String(16), sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("shift_id", sa.String(32), sa.ForeignKey("shifts.id", ondelete="CASCADE"), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "agent_states",
        sa.Column("agent_id", sa.String(16), sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("logged_in", sa.Boolean, nullable=True),
        sa.Column("presence_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pause_reason", sa.String(32), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "callbacks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("linkedid", sa.String(64), nullable=False, unique=True),
        sa.Column("line", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False, index=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("message", sa.String(500), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("callback_id", sa.String(36), sa.ForeignKey("callbacks.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("agent_id", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    for table in (
        "callback_attempts", "callbacks", "agent_states", "absences", "assignments",
        "roster_days", "shift_patterns", "shift_requirements", "shifts", "agents",
    ):
        op.drop_table(table)
