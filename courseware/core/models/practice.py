from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class PracticeAnswer(Base):
    """One answer to a lesson's practice exercise (``::: 練習``), for the learner's own review.

    Ungraded: nothing here counts towards a quiz, a module or a certificate. Keyed by the
    lesson's slugs and the exercise's ``id:`` line, so editing or re-importing the lesson
    keeps the answers.
    """

    __tablename__ = "practice_answers"
    __table_args__ = (
        Index("ix_practice_answers_user_lesson", "user_id", "module_slug", "lesson_slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    module_slug: Mapped[str] = mapped_column(String(64))
    lesson_slug: Mapped[str] = mapped_column(String(64))
    exercise_id: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(String(100))
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
