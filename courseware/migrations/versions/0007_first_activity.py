"""users.first_active_at: when a learner first opened a lesson, a quiz or a case

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The earliest activity of each kind, for accounts that have none recorded yet.
BACKFILL = [
    "UPDATE users SET first_active_at = (SELECT min(first_viewed_at) FROM lesson_progress"
    " WHERE lesson_progress.user_id = users.id) WHERE first_active_at IS NULL",
    "UPDATE users SET first_active_at = (SELECT min(started_at) FROM quiz_attempts"
    " WHERE quiz_attempts.user_id = users.id) WHERE first_active_at IS NULL",
    "UPDATE users SET first_active_at = (SELECT min(issued_at) FROM case_tickets"
    " WHERE case_tickets.user_id = users.id) WHERE first_active_at IS NULL",
]


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("first_active_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("first_active_at")
