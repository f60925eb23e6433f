"""Call recordings and callback messages kept by the server (recordings.models.MediaRow).

Revision ID: 0004_recordings
Revises: 0003_contacts
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_recordings"
down_revision = "0003_contacts"


def upgrade() -> None:
    op.create_table(
        "media_files",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False, index=True),
        sa.Column("linkedid", sa.String(64), nullable=False, index=True),
        sa.Column("stub_id", sa.String(36), nullable=False, index=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("source_path", sa.String(500), nullable=False),
        sa.Column("archive_path", sa.String(500), nullable=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("size_bytes", sa.Integer, nullable=True),
        sa.Column("duration_seconds", sa.Float, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transcript_state", sa.String(16), nullable=True, index=True),
        sa.Column("transcript", sa.Text, nullable=True),
        sa.Column("transcribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transcribe_seconds", sa.Float, nullable=True),
        sa.Column("triage", sa.JSON, nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("linkedid", "kind", name="uq_media_files_linkedid"),
    )


def downgrade() -> None:
    op.drop_table("media_files")
