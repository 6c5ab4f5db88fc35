"""case_stage_decisions: the stages of a case decided in several steps

A multi-visit case or a village book is decided stage by stage on one ticket; each
stage's choice, score and record is kept here until the last stage records the case's
one decision (case_decisions) with the combined score.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_stage_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("case_slug", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.String(length=64), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("score_total", sa.Float(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("decided_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_case_stage_decisions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_stage_decisions")),
        sa.UniqueConstraint(
            "ticket_token", "stage", name=op.f("uq_case_stage_decisions_ticket_token")
        ),
    )
    op.create_index(
        op.f("ix_case_stage_decisions_ticket_token"), "case_stage_decisions", ["ticket_token"]
    )
    op.create_index(op.f("ix_case_stage_decisions_user_id"), "case_stage_decisions", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_stage_decisions_user_id"), table_name="case_stage_decisions")
    op.drop_index(op.f("ix_case_stage_decisions_ticket_token"), table_name="case_stage_decisions")
    op.drop_table("case_stage_decisions")
