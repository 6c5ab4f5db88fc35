"""lesson_progress.reached_end_at: a lesson counts as read after time and reaching its end

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lesson_progress") as batch:
        batch.add_column(
            sa.Column(
                "reached_end_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("lesson_progress") as batch:
        batch.drop_column("reached_end_at")
