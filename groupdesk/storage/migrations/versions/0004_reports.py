"""The periodic reports as built, one row per period and hall (kept after the SMS has gone).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("key", sa.String(200), primary_key=True),  # report/<kind>/<first day>/<hall>
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("first_day", sa.String(10), nullable=False),
        sa.Column("last_day", sa.String(10), nullable=False),
        sa.Column("hall_id", sa.String(100), nullable=False),
        sa.Column("built_at", sa.String(40), nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reports")
