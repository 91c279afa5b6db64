"""The archive of closed incidents: hash-chained records, their steps, and the chain's head.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "archive_records",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("hall_id", sa.String(100), nullable=False),
        sa.Column("playbook", sa.String(100), nullable=False),
        sa.Column("playbook_version", sa.Integer, nullable=False),
        sa.Column("drill", sa.Integer, nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("closed_at", sa.String(40), nullable=False),
        sa.Column("started_on", sa.String(10), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("warning_tier", sa.Integer, nullable=False),
        sa.Column("deadlines_missed", sa.Integer, nullable=False),
        sa.Column("escalations", sa.Integer, nullable=False),
        sa.Column("satisfaction", sa.Integer),
        sa.Column("follow_up", sa.String(16), nullable=False),
        sa.Column("complainant_key", sa.String(64), nullable=False),
        sa.Column("repeat_of", sa.String(200)),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("incident_id", "run_id", name="archive_records_run"),
    )
    op.create_index("archive_records_started_on", "archive_records", ["started_on", "hall_id"])
    op.create_index("archive_records_complainant", "archive_records", ["complainant_key", "started_on"])
    op.create_table(
        "archive_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("step", sa.String(100), nullable=False),
        sa.Column("visit", sa.Integer, nullable=False),
        sa.Column("owner_role", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(100)),
        sa.Column("actor", sa.String(200)),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40)),
        sa.Column("seconds", sa.Integer),
        sa.Column("deadline_missed", sa.Integer, nullable=False),
        sa.Column("escalations", sa.Integer, nullable=False),
    )
    op.create_index("archive_steps_run", "archive_steps", ["incident_id", "run_id", "position"], unique=True)
    head = op.create_table(
        "archive_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [dict(id=1, last_seq=0, last_hash=GENESIS, count=0, mac="")])


def downgrade() -> None:
    for name in ("archive_head", "archive_steps", "archive_records"):
        op.drop_table(name)
