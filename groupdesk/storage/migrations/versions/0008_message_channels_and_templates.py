"""Outbox columns for channels other than free-text SMS: the channel of each message (sms today), the
approved template code and its parameters (JSON) a domestic provider sent, and the compact id each send
carried (Aliyun OutId, Tencent SessionContext), by which delivery reports and look-ups find the row.
Rows stored before keep channel 'sms' and NULL for the rest (free text, as sent).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="sms"))
        table.add_column(sa.Column("template_code", sa.String(64)))
        table.add_column(sa.Column("params", sa.Text))
        table.add_column(sa.Column("out_id", sa.String(32)))
    op.create_index("messages_out_id", "messages", ["out_id"])
    op.create_index("messages_provider_id", "messages", ["provider", "provider_id"])


def downgrade() -> None:
    op.drop_index("messages_provider_id", table_name="messages")
    op.drop_index("messages_out_id", table_name="messages")
    with op.batch_alter_table("messages") as table:
        table.drop_column("out_id")
        table.drop_column("params")
        table.drop_column("template_code")
        table.drop_column("channel")
