"""Approval codes (keyed hashes, wrong tries, locks) and sign-in (failures, sessions), shared by every host.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_codes",
        sa.Column("request_key", sa.String(512), primary_key=True),
        sa.Column("incident_id", sa.String(200), nullable=False),
        sa.Column("hall_id", sa.String(100), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("code_key", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.String(40), nullable=False),
    )
    op.create_index("approval_codes_open", "approval_codes", ["code_key"], unique=True,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    op.create_index("approval_codes_by_key", "approval_codes", ["code_key", "issued_at"])
    op.create_table(
        "approval_wrong_tries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender", sa.String(128), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
    )
    op.create_index("approval_wrong_tries_sender", "approval_wrong_tries", ["sender", "at"])
    op.create_table(
        "approval_locks",
        sa.Column("sender", sa.String(128), primary_key=True),
        sa.Column("until", sa.String(40), nullable=False),
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("sign_in_failures_key", "sign_in_failures", ["key", "at"])
    op.create_table(
        "sign_in_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("stamp", sa.String(64), nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.create_index("sign_in_sessions_person", "sign_in_sessions", ["person"])


def downgrade() -> None:
    for name in ("sign_in_sessions", "sign_in_failures", "approval_locks", "approval_wrong_tries", "approval_codes"):
        op.drop_table(name)
