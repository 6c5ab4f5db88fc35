"""cohort_memberships.due_date: a learner's own due date, set or moved by HR in bulk

A membership without one keeps its cohort's due date, as every existing row does.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cohort_memberships") as batch:
        batch.add_column(sa.Column("due_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cohort_memberships") as batch:
        batch.drop_column("due_date")
