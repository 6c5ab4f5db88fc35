"""Quiz attempts and the questions served in them.

An attempt keeps exactly what was shown (prompt, choices in their shuffled order) and the
question's definition at serving time, so grading and review never depend on later edits to
the bank. Questions are referred to by their stable ids, never by row ids of content tables.

Both documents are stored once however many attempts serve them: ``question_texts`` holds
each distinct JSON document under the digest of its canonical form
(``courseware.core.question_texts``), and a served question points at two of them. A stored
text is shared, so it is never changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class QuizAttempt(Base):
    __tablename__ = "quiz_attempts"
    __table_args__ = (Index("ix_quiz_attempts_user_module", "user_id", "kind", "module_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # 'module' (one module's bank) or, later, 'renewal' (drawn from several banks).
    kind: Mapped[str] = mapped_column(String(16), default="module")
    module_slug: Mapped[str] = mapped_column(String(64), index=True)
    # The bank revision served, for a one-bank attempt; each question also keeps its own.
    bank_revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # One-time token carried by the attempt's form: submitting spends it.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # Set while the attempt is open and NULL afterwards: at most one open attempt per
    # learner and quiz, enforced by the database (NULLs never collide in a unique index).
    open_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|submitted|expired
    pass_mark: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # A reset by a trainer or HR (audited): the attempt stays on record but no longer
    # counts toward the attempt limit or the pass.
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def closed(self) -> bool:
        return self.status != "open"

    @property
    def percent(self) -> int | None:
        if self.score is None or not self.max_score:
            return None
        return int(100 * self.score / self.max_score + 0.5)


class QuestionText(Base):
    """A JSON document some served questions share: what was shown, or a definition."""

    __tablename__ = "question_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 (hex) of the canonical JSON: keys sorted, no spaces, UTF-8 kept
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class AttemptQuestion(Base):
    __tablename__ = "attempt_questions"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        UniqueConstraint("attempt_id", "question_id", name="uq_attempt_questions_question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, as shown
    question_id: Mapped[str] = mapped_column(String(64), index=True)
    bank_module: Mapped[str] = mapped_column(String(64))
    bank_revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    qtype: Mapped[str] = mapped_column(String(16))
    # What the trainee saw: prompt, choices or steps in the shown order (with the bank's keys,
    # which never reach the page).
    served_id: Mapped[int] = mapped_column(ForeignKey("question_texts.id"))
    # The question's definition when served: the key, explanation and lesson for grading and
    # review. Never sent to the page before the attempt is closed.
    definition_id: Mapped[int] = mapped_column(ForeignKey("question_texts.id"))
    # The answer in the bank's keys, saved as the trainee goes; NULL when unanswered.
    answer: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    points: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_points: Mapped[float] = mapped_column(Float, default=1.0)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    # Both texts come with the row (one statement), read through ``served`` and ``definition``.
    served_text: Mapped[QuestionText] = relationship(
        foreign_keys=[served_id], lazy="joined", innerjoin=True
    )
    definition_text: Mapped[QuestionText] = relationship(
        foreign_keys=[definition_id], lazy="joined", innerjoin=True
    )

    @property
    def served(self) -> dict[str, Any]:
        """What the trainee saw (shared with other attempts: do not change it)."""
        return self.served_text.body

    @property
    def definition(self) -> dict[str, Any]:
        """The question's definition when served (shared with other attempts: do not change
        it)."""
        return self.definition_text.body
