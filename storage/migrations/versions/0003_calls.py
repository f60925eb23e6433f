"""Call log and case stubs: calls, their steps, the reconciler's watermarks, stubs and the outbox.

Outcomes are stored on the stub (its JSON body), so there is no outcome table.

Revision ID: 0003_calls
Revises: 0002_roster
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_calls"
down_revision = "0002_roster"


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("linkedid", sa.String(64), primary_key=True),
        sa.Column("line", sa.String(16), nullable=False),
        sa.Column("dialed", sa.String(64), nullable=True),
        sa.Column("caller_number", sa.String(32), nullable=True, index=True),
        sa.Column("caller_country", sa.String(2), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("ivr_path", sa.JSON, nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(64), nullable=True, index=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Float, nullable=True),
        sa.Column("talk_seconds", sa.Float, nullable=True),
        sa.Column("hold_seconds", sa.Float, nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True, index=True),
        sa.Column("ringing_agents", sa.JSON, nullable=False),
        sa.Column("transfers", sa.JSON, nullable=False),
        sa.Column("disposition", sa.String(32), nullable=False, index=True),
        sa.Column("fallback", sa.String(32), nullable=True),
        sa.Column("callback_number", sa.String(32), nullable=True),
        sa.Column("callback_message", sa.String(500), nullable=True),
        sa.Column("callback_id", sa.String(64), nullable=True),
        sa.Column("callback_result", sa.String(16), nullable=True),
        sa.Column("related_linkedid", sa.String(64), nullable=True),
        sa.Column("survey_score", sa.Integer, nullable=True),
        sa.Column("recording_path", sa.String(500), nullable=True),
        sa.Column("stub_id", sa.String(36), nullable=False, unique=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "call_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("linkedid", sa.String(64), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.UniqueConstraint("linkedid", "seq", name="uq_call_steps_linkedid"),
    )
    op.create_table(
        "call_log_watermarks",
        sa.Column("source", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "case_stubs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=True, unique=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("caller_number", sa.String(32), nullable=True, index=True),
        sa.Column("handled_by", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "case_stub_outbox",
        sa.Column(
            "stub_id", sa.String(36), sa.ForeignKey("case_stubs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("delivered_revision", sa.Integer, nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_stub_outbox")
    op.drop_table("case_stubs")
    op.drop_table("call_log_watermarks")
    op.drop_table("call_steps")
    op.drop_table("calls")
