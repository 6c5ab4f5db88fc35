"""Trainer studio: reviews of revisions, learners' problem reports

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revision_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["content_revisions.id"],
            name=op.f("fk_revision_reviews_revision_id_content_revisions"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_revision_reviews_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision_reviews")),
    )
    op.create_index(op.f("ix_revision_reviews_revision_id"), "revision_reviews", ["revision_id"])
    op.create_table(
        "problem_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("page_url", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_problem_reports_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name=op.f("fk_problem_reports_resolved_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_reports")),
    )
    op.create_index(op.f("ix_problem_reports_user_id"), "problem_reports", ["user_id"])
    op.create_index(op.f("ix_problem_reports_created_at"), "problem_reports", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_problem_reports_created_at"), table_name="problem_reports")
    op.drop_index(op.f("ix_problem_reports_user_id"), table_name="problem_reports")
    op.drop_table("problem_reports")
    op.drop_index(op.f("ix_revision_reviews_revision_id"), table_name="revision_reviews")
    op.drop_table("revision_reviews")
