"""Caller flags (repeat, test, abusive) shown on screen-pops.

Non-call contacts and outcomes are stubs and outcome rows of 0003_calls; this revision adds only
what the agent desk keeps beside them.

Revision ID: 0003_contacts
Revises: 0003_calls
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_contacts"
down_revision = "0003_calls"


def upgrade() -> None:
    op.create_table(
        "caller_flags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False, index=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("lifted_by", sa.String(64), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("caller_flags")
