"""Course material as served: documents (one per file path) and their revisions.

Files in content/, quizzes/ and case_studies/ are the shipped source; the
database holds what is served, so a publish on one worker is seen by all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class ContentDocument(Base):
    __tablename__ = "content_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Logical path, e.g. "content/01-basics/02-features.md" or "quizzes/basics.yaml".
    path: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Hash of the file text when it was last imported; an unchanged file is skipped.
    import_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The revision learners see. Not a foreign key: documents and revisions
    # refer to each other, and a plain id keeps both databases' DDL simple.
    published_revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class ContentRevision(Base):
    __tablename__ = "content_revisions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("content_documents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    body_hash: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16), default="import")  # import | editor | revert
    status: Mapped[str] = mapped_column(String(16), default="published")
    material: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ContentState(Base):
    """One row whose version changes on every publish: workers compare it per request."""

    __tablename__ = "content_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
