"""cases: served case tickets and loan decisions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("case_slug", sa.String(length=64), nullable=False),
        sa.Column("case_revision_id", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issued_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("open_key", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_case_tickets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_tickets")),
        sa.UniqueConstraint("open_key", name=op.f("uq_case_tickets_open_key")),
        sa.UniqueConstraint("token", name=op.f("uq_case_tickets_token")),
    )
    op.create_index(op.f("ix_case_tickets_user_id"), "case_tickets", ["user_id"])
    op.create_table(
        "case_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("case_slug", sa.String(length=64), nullable=False),
        sa.Column("case_revision_id", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("ticket_token", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("first_key", sa.String(length=96), nullable=True),
        sa.Column("option_id", sa.String(length=64), nullable=False),
        sa.Column("option_kind", sa.String(length=32), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("score_total", sa.Float(), nullable=False),
        sa.Column("score_decision", sa.Float(), nullable=False),
        sa.Column("score_flags", sa.Float(), nullable=False),
        sa.Column("score_reasons", sa.Float(), nullable=False),
        sa.Column("score_portfolio", sa.Float(), nullable=False),
        sa.Column("cap_applied", sa.Boolean(), nullable=False),
        sa.Column("best_option_id", sa.String(length=64), nullable=False),
        sa.Column("expected_profit", sa.Float(), nullable=False),
        sa.Column("best_expected_profit", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("lender_profit", sa.Float(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("reset_at", courseware.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", courseware.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_case_decisions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_decisions")),
        sa.UniqueConstraint("ticket_token", name=op.f("uq_case_decisions_ticket_token")),
        sa.UniqueConstraint("first_key", name=op.f("uq_case_decisions_first_key")),
    )
    op.create_index(op.f("ix_case_decisions_case_slug"), "case_decisions", ["case_slug"])
    op.create_index(op.f("ix_case_decisions_decided_at"), "case_decisions", ["decided_at"])
    op.create_index("ix_case_decisions_user_case", "case_decisions", ["user_id", "case_slug"])


def downgrade() -> None:
    op.drop_table("case_decisions")
    op.drop_table("case_tickets")
