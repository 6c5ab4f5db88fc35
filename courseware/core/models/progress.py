from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class LessonProgress(Base):
    """One learner's standing on one lesson, keyed by slugs so re-imports keep it."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "module_slug", "lesson_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    module_slug: Mapped[str] = mapped_column(String(64))
    lesson_slug: Mapped[str] = mapped_column(String(64))
    first_viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The lesson revision the learner completed, so a material update can be flagged.
    completed_revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)
    # When the learner's page first reported reaching the end of the lesson.
    reached_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
