"""HR's shared snapshots: figures counted once and read by every worker until they age.

A row is one named snapshot (``courseware.hr.snapshots``): the module funnel of one reader
scope, or the course keys of one published content version. ``counted_at`` is when its
figures were counted, shown beside them; ``version`` says what they were counted over (a
snapshot of another version is never served).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.db import Base, UTCDateTime


class HrSnapshot(Base):
    __tablename__ = "hr_snapshots"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class LearnerSummary(Base):
    """One row per account: what the HR dashboard, funnel and learner table read.

    Kept by the transaction that changes what it summarises (``courseware.hr.summary``);
    dates are stored, states derived from them when read (an expiring certificate or a
    passed due date is never a stored flag). ``learner`` is "an active trainee".
    """

    __tablename__ = "learner_summary"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    learner: Mapped[bool] = mapped_column(Boolean, default=False)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    employee_id: Mapped[str] = mapped_column(String(32), default="")
    branch: Mapped[str] = mapped_column(String(64), default="")
    cohort_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cohort_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    cert_cycle: Mapped[int | None] = mapped_column(Integer, nullable=True)
    certificate_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lessons_done: Mapped[int] = mapped_column(Integer, default=0)
    quizzes_passed: Mapped[int] = mapped_column(Integer, default=0)
    cases_counted: Mapped[int] = mapped_column(Integer, default=0)
    modules_done: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_learner_summary_name", "learner", "display_name", "user_id"),
        Index("ix_learner_summary_username", "learner", "username"),
        Index("ix_learner_summary_employee", "learner", "employee_id"),
        Index("ix_learner_summary_branch", "learner", "branch", "display_name"),
        Index("ix_learner_summary_cohort", "learner", "cohort_id"),
        Index("ix_learner_summary_cohort_name", "learner", "cohort_name"),
        Index("ix_learner_summary_due", "learner", "due_date"),
        Index("ix_learner_summary_expires", "learner", "expires_at"),
        # The table's search on PostgreSQL (migration 0021): trigrams of each lower-cased
        # column, matching ``courseware.hr.learner_table``'s ``lower(column) LIKE``.
        *(
            Index(
                f"ix_learner_summary_{column}_trgm",
                func.lower(text(column)),
                postgresql_using="gin",
                postgresql_ops={"lower_1": "courseware_ext.gin_trgm_ops"},
                info={"only_on": "postgresql"},
            ).ddl_if(dialect="postgresql")
            for column in ("display_name", "username", "employee_id")
        ),
    )


class LearnerModuleSummary(Base):
    """One row per learner and module they opened or passed the quiz of (the funnel)."""

    __tablename__ = "learner_module_summary"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    module_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    opened: Mapped[bool] = mapped_column(Boolean, default=False)
    lessons_done: Mapped[int] = mapped_column(Integer, default=0)
    quiz_passed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_learner_module_summary_module", "module_slug", "user_id"),)
