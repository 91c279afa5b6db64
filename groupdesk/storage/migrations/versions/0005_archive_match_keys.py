"""Archive columns for issue 16's figures and repeat checks: the 95598 category, and the keyed hashes of the
account number and the community (never either in clear). Outside each row's hash (chain.RECORD_COLUMNS is
fixed), but copied from the sealed record, which `archive verify` compares them with.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.add_column(sa.Column("category", sa.String(32)))
        table.add_column(sa.Column("account_key", sa.String(64)))
        table.add_column(sa.Column("community_key", sa.String(64)))
    op.create_index("archive_records_account", "archive_records", ["account_key", "started_on"])
    op.create_index("archive_records_community", "archive_records", ["community_key", "started_on"])


def downgrade() -> None:
    op.drop_index("archive_records_community", "archive_records")
    op.drop_index("archive_records_account", "archive_records")
    with op.batch_alter_table("archive_records") as table:
        table.drop_column("community_key")
        table.drop_column("account_key")
        table.drop_column("category")
