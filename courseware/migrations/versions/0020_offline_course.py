"""offline_course: actions synced from a device's outbox (once each), saved packages

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 21:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offline_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("at", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_offline_actions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_actions")),
        sa.UniqueConstraint("user_id", "action_id", name=op.f("uq_offline_actions_user_id")),
    )
    op.create_index(op.f("ix_offline_actions_user_id"), "offline_actions", ["user_id"])
    op.create_table(
        "offline_packages",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("first_saved_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("saved_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_offline_packages_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_offline_packages")),
    )


def downgrade() -> None:
    op.drop_table("offline_packages")
    op.drop_index(op.f("ix_offline_actions_user_id"), table_name="offline_actions")
    op.drop_table("offline_actions")
