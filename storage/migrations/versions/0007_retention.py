"""Retention: indexes on the timestamps the daily purge selects by (the others it uses are
indexed already: calls.received_at, media_files.recorded_at, case_stubs.created_at,
caller_flags.expires_at, audit_log.at).

Revision ID: 0007_retention
Revises: 0006_leases
"""
from alembic import op

revision = "0007_retention"
down_revision = "0006_leases"

INDEXES = (
    ("case_stub_outbox", "delivered_at"),
    ("callbacks", "finished_at"),
    ("caller_flags", "lifted_at"),
    ("web_sessions", "expires_at"),
    ("agent_activity", "ended_at"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    for table, column in INDEXES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
