"""Findings at close (有效投诉的认定): the archive keeps whether the complaint was founded (yes, partly, no) and its
cause, copied from the sealed record (verify compares them), outside the row hash, NULL in records archived before
findings existed or without one (a drill); the accountability ledger and reports count by them.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.add_column(sa.Column("finding_founded", sa.String(8)))
        table.add_column(sa.Column("finding_cause", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.drop_column("finding_cause")
        table.drop_column("finding_founded")
