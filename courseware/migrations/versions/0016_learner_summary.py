"""learner_summary, learner_module_summary: the HR summary kept on write

One row per account (identity, current cohort and due date, latest certificate's dates,
activity, counts) and one per learner and module (opened, lessons done, quiz passed), kept
by the transactions that change them (``courseware.hr.summary``). The backfill fills what
does not depend on the published course; lesson and quiz counts need the course's keys and
are counted by the first HR page (or ``courseware hr rebuild-summary``), which sees that no
summary was built with the published course yet.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import courseware.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO learner_summary (
    user_id, learner, username, display_name, employee_id, branch, cohort_id, cohort_name,
    due_date, cert_cycle, certificate_code, expires_at, revoked_at, first_active_at,
    last_active_at, lessons_done, quizzes_passed, cases_counted, modules_done, last_reminder_at
)
SELECT
    u.id, (u.role = 'trainee' AND u.active), u.username, u.display_name, u.employee_id,
    u.branch, c.id, c.name, COALESCE(m.due_date, c.due_date), lc.cycle, lc.code,
    lc.expires_at, lc.revoked_at, u.first_active_at, NULL, 0, 0,
    (SELECT count(*) FROM case_decisions d
      WHERE d.user_id = u.id AND d.first_key IS NOT NULL AND d.reset_at IS NULL),
    0,
    (SELECT max(r.sent_at) FROM reminders r WHERE r.user_id = u.id AND r.status = 'sent')
FROM users u
LEFT JOIN cohort_memberships m ON m.user_id = u.id AND m.left_at IS NULL
LEFT JOIN cohorts c ON c.id = m.cohort_id
LEFT JOIN certificates lc ON lc.user_id = u.id
    AND lc.cycle = (SELECT max(x.cycle) FROM certificates x WHERE x.user_id = u.id)
"""


def upgrade() -> None:
    dt = courseware.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "learner_summary",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("learner", sa.Boolean(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("employee_id", sa.String(length=32), nullable=False),
        sa.Column("branch", sa.String(length=64), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("cohort_name", sa.String(length=100), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("cert_cycle", sa.Integer(), nullable=True),
        sa.Column("certificate_code", sa.String(length=32), nullable=True),
        sa.Column("expires_at", dt, nullable=True),
        sa.Column("revoked_at", dt, nullable=True),
        sa.Column("first_active_at", dt, nullable=True),
        sa.Column("last_active_at", dt, nullable=True),
        sa.Column("lessons_done", sa.Integer(), nullable=False),
        sa.Column("quizzes_passed", sa.Integer(), nullable=False),
        sa.Column("cases_counted", sa.Integer(), nullable=False),
        sa.Column("modules_done", sa.Integer(), nullable=False),
        sa.Column("last_reminder_at", dt, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_learner_summary_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_learner_summary")),
    )
    for name, columns in INDEXES:
        op.create_index(name, "learner_summary", columns, unique=False)
    op.create_table(
        "learner_module_summary",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("module_slug", sa.String(length=64), nullable=False),
        sa.Column("opened", sa.Boolean(), nullable=False),
        sa.Column("lessons_done", sa.Integer(), nullable=False),
        sa.Column("quiz_passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_learner_module_summary_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "module_slug", name=op.f("pk_learner_module_summary")),
    )
    op.create_index(
        "ix_learner_module_summary_module",
        "learner_module_summary",
        ["module_slug", "user_id"],
        unique=False,
    )
    op.execute(BACKFILL)


INDEXES = (
    ("ix_learner_summary_name", ["learner", "display_name", "user_id"]),
    ("ix_learner_summary_username", ["learner", "username"]),
    ("ix_learner_summary_employee", ["learner", "employee_id"]),
    ("ix_learner_summary_branch", ["learner", "branch", "display_name"]),
    ("ix_learner_summary_cohort", ["learner", "cohort_id"]),
    ("ix_learner_summary_cohort_name", ["learner", "cohort_name"]),
    ("ix_learner_summary_due", ["learner", "due_date"]),
    ("ix_learner_summary_expires", ["learner", "expires_at"]),
)


def downgrade() -> None:
    op.drop_index("ix_learner_module_summary_module", table_name="learner_module_summary")
    op.drop_table("learner_module_summary")
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="learner_summary")
    op.drop_table("learner_summary")
