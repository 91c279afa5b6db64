"""Intake from every door (issue 28): how each archived incident came in (its channel: 来访, 95598, 12398, 12345,
信函, 网站, 微信, 上级转办), its work-order number and that number's keyed hash (the repeat check, list --ticket-no),
copied from the sealed record (verify compares them), outside the row hash, NULL in records archived before.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.add_column(sa.Column("channel", sa.String(32)))
        table.add_column(sa.Column("ticket_no", sa.String(64)))
        table.add_column(sa.Column("ticket_key", sa.String(64)))
    op.create_index("archive_records_ticket", "archive_records", ["ticket_key", "started_on"])


def downgrade() -> None:
    op.drop_index("archive_records_ticket", "archive_records")
    with op.batch_alter_table("archive_records") as table:
        table.drop_column("ticket_key")
        table.drop_column("ticket_no")
        table.drop_column("channel")
