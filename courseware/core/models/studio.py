"""The trainer studio's own records: reviews of revisions and learners' problem reports.

Revisions themselves are ``ContentRevision`` rows (status draft, pending, returned or
published); a review records who approved or sent back which revision, so a revision's
history shows both its author and its reviewer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class RevisionReview(Base):
    __tablename__ = "revision_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("content_revisions.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))  # approved | returned
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProblemReport(Base):
    """A learner's note on a lesson or a quiz question, with the page and revision it was on."""

    __tablename__ = "problem_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The document's logical path ("" when the page had none), and the revision shown.
    path: Mapped[str] = mapped_column(String(255), default="")
    revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    question_id: Mapped[str] = mapped_column(String(64), default="")
    page_url: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
