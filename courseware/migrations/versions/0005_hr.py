"""HR: cohorts with due dates, memberships (history kept), reminders, learner contacts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("branch", sa.String(length=64), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("created_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_cohorts_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohorts")),
        sa.UniqueConstraint("name", name=op.f("uq_cohorts_name")),
    )
    op.create_index(op.f("ix_cohorts_branch"), "cohorts", ["branch"])
    op.create_table(
        "cohort_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("left_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("current_key", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cohort_memberships_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.id"], name=op.f("fk_cohort_memberships_cohort_id_cohorts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_memberships")),
        sa.UniqueConstraint("current_key", name=op.f("uq_cohort_memberships_current_key")),
    )
    op.create_index(op.f("ix_cohort_memberships_user_id"), "cohort_memberships", ["user_id"])
    op.create_index(op.f("ix_cohort_memberships_cohort_id"), "cohort_memberships", ["cohort_id"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reminders_user_id_users")),
        sa.ForeignKeyConstraint(["sent_by"], ["users.id"], name=op.f("fk_reminders_sent_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    op.create_index(op.f("ix_reminders_user_id"), "reminders", ["user_id"])
    op.create_index(op.f("ix_reminders_sent_at"), "reminders", ["sent_at"])
    op.create_table(
        "learner_contacts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("updated_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_learner_contacts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_learner_contacts")),
    )


def downgrade() -> None:
    op.drop_table("learner_contacts")
    op.drop_table("reminders")
    op.drop_table("cohort_memberships")
    op.drop_table("cohorts")
