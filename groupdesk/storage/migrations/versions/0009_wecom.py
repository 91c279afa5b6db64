"""Staff on WeCom: the app's shared access token, the approval cards sent, and callback events handled once.

Revision ID: 0009
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_tokens",
        sa.Column("app", sa.String(100), primary_key=True),
        sa.Column("token", sa.String(600)),
        sa.Column("expires_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("lease_until", sa.Float, nullable=False, server_default="0"),
        sa.Column("failed_until", sa.Float, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("fetches", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "wecom_cards",
        sa.Column("task_id", sa.String(128), primary_key=True),
        sa.Column("message_key", sa.String(512), nullable=False, unique=True),
        sa.Column("incident_id", sa.String(200), nullable=False),
        sa.Column("hall_id", sa.String(100), nullable=False),
        sa.Column("request_key", sa.String(512), nullable=False),
        sa.Column("code_key", sa.String(128), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("userid", sa.String(64), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("card", sa.Text, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("response_code", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(400)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("wecom_cards_request", "wecom_cards", ["request_key"])
    op.create_table(
        "wecom_events",
        sa.Column("event_key", sa.String(64), primary_key=True),
        sa.Column("task_id", sa.String(128)),
        sa.Column("outcome", sa.String(32)),
        sa.Column("received_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for name in ("wecom_events", "wecom_cards", "wecom_tokens"):
        op.drop_table(name)
