"""Cohorts with due dates, who belongs to which (history kept), reminders sent, contacts.

A learner has at most one current membership: the current row carries
``current_key`` (the user id as text) and the unique index lets only one such
row exist per learner; leaving sets ``left_at`` and clears the key.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class Cohort(Base):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    branch: Mapped[str] = mapped_column(String(64), default="", index=True)
    # The day by which every member must be certified, in the site's time zone.
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class CohortMembership(Base):
    __tablename__ = "cohort_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # str(user_id) on the current membership, NULL on past ones: one current cohort each.
    current_key: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    # This learner's own due date (HR set or moved it), else NULL: the cohort's applies.
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class Reminder(Base):
    """An email reminder sent (or tried) to a learner: who sent it, when, to which address."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # due | overdue | renewal
    address: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16))  # sent | failed
    detail: Mapped[str] = mapped_column(Text, default="")


class LearnerContact(Base):
    """Where reminders go. Accounts carry no email address; HR or the CSV import sets one."""

    __tablename__ = "learner_contacts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
