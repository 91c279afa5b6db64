"""Evidence attached to incidents (photos, scans), with the hash of each file as it came and as stored, and a log
of every download.

Revision ID: 0010
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(200), nullable=False),
        sa.Column("hall_id", sa.String(100), nullable=False),
        sa.Column("step", sa.String(100)),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("original_size", sa.Integer, nullable=False),
        sa.Column("original_sha256", sa.String(64), nullable=False),
        sa.Column("stored_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("incident_id", "stored_sha256", name="attachments_incident_file"),
    )
    op.create_index("attachments_stored", "attachments", ["stored_sha256"])
    op.create_table(
        "attachment_downloads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("attachment_id", sa.Integer, nullable=False),
        sa.Column("incident_id", sa.String(200), nullable=False),
        sa.Column("stored_sha256", sa.String(64), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
    )
    op.create_index("attachment_downloads_incident", "attachment_downloads", ["incident_id", "at"])


def downgrade() -> None:
    op.drop_index("attachment_downloads_incident", "attachment_downloads")
    op.drop_table("attachment_downloads")
    op.drop_index("attachments_stored", "attachments")
    op.drop_table("attachments")
