"""The outbox, the inbox of SMS replies and the console's submitted forms.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(512), nullable=False, unique=True),
        sa.Column("incident_id", sa.String(200), nullable=False),
        sa.Column("step", sa.String(200)),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("drill", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("provider_id", sa.String(64)),
        sa.Column("error_code", sa.String(32)),
        sa.Column("error", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("holder", sa.String(600)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("messages_incident", "messages", ["incident_id", "created_at"])
    op.create_table(
        "inbound",
        sa.Column("message_sid", sa.String(64), primary_key=True),
        sa.Column("from_masked", sa.String(64), nullable=False),
        sa.Column("reply", sa.Text),
        sa.Column("received_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("token", sa.String(200), primary_key=True),
        sa.Column("incident_id", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_table("inbound")
    op.drop_index("messages_incident", table_name="messages")
    op.drop_table("messages")
