"""In-app notices to a learner, personal calendar feeds and password-reset tokens.

A notice is written once per learner and reason: ``key`` (learner, reason, the day
it is about) is unique, so ``courseware reminders run`` may run any number of times.
Its text is composed when shown, in the reader's language, from ``kind`` and ``day``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # due_soon | overdue | expiring | expired
    kind: Mapped[str] = mapped_column(String(16))
    # The due date or the certificate's expiry (local day) the notice is about.
    day: Mapped[date] = mapped_column(Date)
    # "<user id>:<reason>:<day>", reason e.g. due_soon_7 or expiring_30: once each.
    key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # none | pending | sent | failed | no_address: what became of the email copy
    # (pending: written, its email not sent yet; see ``courseware.hr.notices.deliver``).
    email_status: Mapped[str] = mapped_column(String(16), default="none")


class CalendarFeed(Base):
    """The secret that lets a phone's calendar read a learner's dates without a session."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordResetToken(Base):
    """A one-time, expiring password-reset link; only the token's SHA-256 is kept."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
