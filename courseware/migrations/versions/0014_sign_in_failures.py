"""sign_in_failures: failed sign-ins counted per account name, and the lock they set

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "first_failed_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_failed_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("locked_until", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures") as batch:
        batch.create_index(
            batch.f("ix_sign_in_failures_last_failed_at"), ["last_failed_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("sign_in_failures")
