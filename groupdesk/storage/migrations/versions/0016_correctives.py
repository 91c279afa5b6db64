"""Corrective actions (整改) in the archive: each verified one is its own row in the same hash chain, told apart
from incidents by `kind` ('incident' or 'corrective', copied from the sealed record, outside the row hash, so
verify compares it); reports, the export and the ledger read only `kind = 'incident'`.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="incident"))


def downgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.drop_column("kind")
