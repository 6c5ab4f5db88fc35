"""case_decisions.case_model: 1 for decisions made on the fixed v1 cases, 2 for variants

Decisions recorded before loan cases v2 keep their scores; this column says which
model and rubric graded them, and the outcome page says so.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_decisions") as batch:
        batch.add_column(
            sa.Column("case_model", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    with op.batch_alter_table("case_decisions") as batch:
        batch.drop_column("case_model")
