"""hr_snapshots: HR figures counted once and read by every worker; a covering index for HR

The module funnel and the course keys are shared between workers and survive restarts, so
a freshly started worker's first HR page reads them instead of counting them again. The
index lets the HR counts read each learner's latest certificate from the index alone (the
rows themselves are wide: a certificate carries its evidence).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hr_snapshots",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("counted_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_hr_snapshots")),
    )
    with op.batch_alter_table("certificates") as batch:
        batch.create_index(
            "ix_certificates_standing",
            ["user_id", "cycle", "expires_at", "revoked_at", "code"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_index("ix_certificates_standing")
    op.drop_table("hr_snapshots")
