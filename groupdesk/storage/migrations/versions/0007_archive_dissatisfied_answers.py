"""Archive column for the dissatisfied follow-up answers of each incident (score 2 or lower), those that
reopened it included, so the ledger and the report count an incident answered 2, handled again and then
answered 5. Copied from the sealed record (verify compares it), outside the row hash; NULL in records archived
before it existed (read as their last answer alone).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.add_column(sa.Column("dissatisfied_answers", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("archive_records") as table:
        table.drop_column("dissatisfied_answers")
