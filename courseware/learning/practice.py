"""Answers to the practice exercises inside lessons: checked, recorded, shown back.

Ungraded by design: an answer never touches quiz attempts, lesson completion or
certification. Each learner reads only their own answers (every query here is
filtered by the caller's user id), for their own review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.content.catalogue import Lesson
from courseware.content.practice import Checked, Exercise, check_answer
from courseware.core.clock import utcnow
from courseware.core.models import PracticeAnswer


@dataclass(frozen=True)
class PracticeRecord:
    """A learner's latest answer to one exercise, and how many times they answered."""

    exercise_id: str
    answer: str
    correct: bool
    answered_at: datetime
    answers: int


def _lesson_rows(session: Session, user_id: int, lesson: Lesson, exercise_id: str | None = None):
    query = select(PracticeAnswer).where(
        PracticeAnswer.user_id == user_id,
        PracticeAnswer.module_slug == lesson.module_slug,
        PracticeAnswer.lesson_slug == lesson.slug,
    )
    if exercise_id is not None:
        query = query.where(PracticeAnswer.exercise_id == exercise_id)
    return session.scalars(query.order_by(PracticeAnswer.answered_at, PracticeAnswer.id)).all()


def last_answers(session: Session, user_id: int, lesson: Lesson) -> dict[str, PracticeRecord]:
    """This learner's latest answer to each exercise of the lesson, by exercise id."""
    latest: dict[str, PracticeRecord] = {}
    for row in _lesson_rows(session, user_id, lesson):
        before = latest.get(row.exercise_id)
        latest[row.exercise_id] = PracticeRecord(
            row.exercise_id,
            row.answer,
            row.correct,
            row.answered_at,
            (before.answers if before else 0) + 1,
        )
    return latest


def record_answer(
    session: Session,
    user_id: int,
    lesson: Lesson,
    exercise: Exercise,
    raw: str,
    now: datetime | None = None,
) -> tuple[Checked, PracticeRecord | None]:
    """Check an answer and record it; nothing is written for an answer that is not valid.

    The same answer sent twice in a row (a double click, a resent form) is recorded once.
    """
    checked = check_answer(exercise, raw)
    if not checked.valid:
        return checked, None
    rows = _lesson_rows(session, user_id, lesson, exercise.id)
    last = rows[-1] if rows else None
    if last is None or last.answer != checked.answer:
        last = PracticeAnswer(
            user_id=user_id,
            module_slug=lesson.module_slug,
            lesson_slug=lesson.slug,
            exercise_id=exercise.id,
            answer=checked.answer,
            correct=checked.correct,
            answered_at=now or utcnow(),
        )
        session.add(last)
        session.flush()
        rows = [*rows, last]
    record = PracticeRecord(exercise.id, last.answer, checked.correct, last.answered_at, len(rows))
    return checked, record
