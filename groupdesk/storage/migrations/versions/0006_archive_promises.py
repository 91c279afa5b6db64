"""Archive columns for the promises of each incident (kept, kept late, missed, waived), so reports and the
accountability ledger sum them in SQL. Copied from the sealed record (verify compares them), outside the row
hash; NULL in records archived before promises existed.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("promises_made", "promises_kept", "promises_kept_late", "promises_missed", "promises_waived")


def upgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        for name in COLUMNS:
            table.add_column(sa.Column(name, sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        for name in reversed(COLUMNS):
            table.drop_column(name)
