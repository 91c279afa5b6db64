"""Keeping the complainant in the loop: the archive counts how often staff told them (groupdesk tell).

Copied from the sealed record (verify compares it), outside the row hash; NULL in records archived before.

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


def downgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.drop_column("told")
