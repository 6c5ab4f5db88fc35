"""assessment: quiz attempts and the questions served in them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("module_slug", sa.String(length=64), nullable=False),
        sa.Column("bank_revision_id", sa.Integer(), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("open_key", sa.String(length=160), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("started_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("saved_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_quiz_attempts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
        sa.UniqueConstraint("open_key", name=op.f("uq_quiz_attempts_open_key")),
        sa.UniqueConstraint("token", name=op.f("uq_quiz_attempts_token")),
    )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quiz_attempts_module_slug"), ["module_slug"], unique=False
        )
        batch_op.create_index(
            "ix_quiz_attempts_user_module", ["user_id", "kind", "module_slug"], unique=False
        )

    op.create_table(
        "attempt_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("bank_module", sa.String(length=64), nullable=False),
        sa.Column("bank_revision_id", sa.Integer(), nullable=True),
        sa.Column("qtype", sa.String(length=16), nullable=False),
        sa.Column("served", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("answer", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("answered_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("max_points", sa.Float(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quiz_attempts.id"],
            name=op.f("fk_attempt_questions_attempt_id_quiz_attempts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_questions")),
        sa.UniqueConstraint(
            "attempt_id", "position", name=op.f("uq_attempt_questions_attempt_id")
        ),
        sa.UniqueConstraint(
            "attempt_id", "question_id", name=op.f("uq_attempt_questions_question")
        ),
    )
    with op.batch_alter_table("attempt_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attempt_questions_attempt_id"), ["attempt_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attempt_questions_question_id"), ["question_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attempt_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempt_questions_question_id"))
        batch_op.drop_index(batch_op.f("ix_attempt_questions_attempt_id"))

    op.drop_table("attempt_questions")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_quiz_attempts_user_module")
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_module_slug"))

    op.drop_table("quiz_attempts")
