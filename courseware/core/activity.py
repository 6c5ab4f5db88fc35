"""When a learner first did anything: kept on the account, so HR's status is a column
read, not a scan of every lesson, quiz and case row (courseware.hr.compliance)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from courseware.core.db import rows_changed
from courseware.core.learner_marks import MARKED, note_active
from courseware.core.models import CaseTicket, LessonProgress, QuizAttempt, User


def note_activity(session: Session, user_id: int, now: datetime) -> None:
    """Record the learner's first activity (a no-op after the first)."""
    result = session.execute(
        update(User)
        .where(User.id == user_id, User.first_active_at.is_(None))
        .values(first_active_at=now)
        .execution_options(synchronize_session=False, **{MARKED: True})
    )
    if rows_changed(result):
        note_active(session, user_id, now)


def backfill_first_activity(session: Session) -> None:
    """Set first_active_at from the activity rows, for accounts that have none yet (the
    caller rebuilds the HR summary: ``courseware.hr.summary.rebuild``)."""
    for column, owner in (
        (LessonProgress.first_viewed_at, LessonProgress.user_id),
        (QuizAttempt.started_at, QuizAttempt.user_id),
        (CaseTicket.issued_at, CaseTicket.user_id),
    ):
        earliest = select(func.min(column)).where(owner == User.id).scalar_subquery()
        session.execute(
            update(User)
            .where(User.first_active_at.is_(None))
            .values(first_active_at=earliest)
            .execution_options(synchronize_session=False, **{MARKED: True})
        )
