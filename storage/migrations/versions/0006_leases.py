"""Duty leases: which controller does a duty (roster to one Asterisk, stubs to the case store)
when several share the database.

Revision ID: 0006_leases
Revises: 0005_reports
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_leases"
down_revision = "0005_reports"


def upgrade() -> None:
    op.create_table(
        "duty_leases",
        sa.Column("duty", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("duty_leases")
