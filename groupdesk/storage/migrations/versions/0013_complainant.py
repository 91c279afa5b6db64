"""Keeping the complainant in the loop: the archive counts how often staff told them (groupdesk tell), copied from
the sealed record (verify compares it), outside the row hash, NULL in records archived before; and their status
links, each token only as a keyed hash.

Revision ID: 0013
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.add_column(sa.Column("told", sa.Integer))
    op.create_table(
        "status_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("incident_id", sa.String(200), nullable=False),
        sa.Column("hall_id", sa.String(100), nullable=False),
        sa.Column("phone_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40)),
        sa.Column("visit_logged_at", sa.String(40)),
    )
    op.create_index("status_links_incident", "status_links", ["incident_id"])


def downgrade() -> None:
    op.drop_index("status_links_incident", "status_links")
    op.drop_table("status_links")
    with op.batch_alter_table("archive_records") as table:
        table.drop_column("told")
