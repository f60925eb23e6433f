"""Report tables: agents' logged-in/paused intervals (from Asterisk's queue-member events) and
the contact facts projected from the case stubs (typed columns the monthly report groups by).

Revision ID: 0005_reports
Revises: 0004_recordings
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_reports"
down_revision = "0004_recordings"


def upgrade() -> None:
    op.create_table(
        "agent_activity",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "report_contacts",
        sa.Column("stub_id", sa.String(36), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("stub_updated_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("continues", sa.String(36), nullable=True, index=True),
        sa.Column("line", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("disposition", sa.String(32), nullable=False),
        sa.Column("callback_status", sa.String(32), nullable=True),
        sa.Column("flagged_test", sa.Boolean, nullable=False),
        sa.Column("outcome_source", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("subtype", sa.String(64), nullable=True),
        sa.Column("target_group", sa.String(64), nullable=True),
        sa.Column("sex", sa.String(32), nullable=True),
        sa.Column("province", sa.String(16), nullable=True, index=True),
        sa.Column("district", sa.String(100), nullable=True),
        sa.Column("referral_urgency", sa.String(32), nullable=True),
        sa.Column("referral_kind", sa.String(32), nullable=True),
        sa.Column("referral_destination", sa.String(64), nullable=True),
        sa.Column("mobile_team_result", sa.String(64), nullable=True),
    )
    op.create_table(
        "report_contact_problems",
        sa.Column("stub_id", sa.String(36),
                  sa.ForeignKey("report_contacts.stub_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("problem_type", sa.String(64), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("report_contact_problems")
    op.drop_table("report_contacts")
    op.drop_table("agent_activity")
