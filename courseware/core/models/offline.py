"""What the offline course (the saved package on a phone) leaves on the server.

``OfflineAction``: every action a device's outbox sent, by the client's own id, so the same
action sent twice (a retry after a lost answer, a replayed sync) is recorded once.
``OfflinePackage``: when the learner first saved the course on a device, and their cohort
then: reading time reported from the device is never credited from before that moment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class OfflineAction(Base):
    __tablename__ = "offline_actions"
    __table_args__ = (UniqueConstraint("user_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action_id: Mapped[str] = mapped_column(String(36))  # the device's uuid, lower case
    kind: Mapped[str] = mapped_column(String(32))  # lesson_read | practice_answer | case_read
    target: Mapped[str] = mapped_column(String(200))  # module/lesson, or the case's slug
    seconds: Mapped[int] = mapped_column(Integer, default=0)  # as credited, not as claimed
    outcome: Mapped[str] = mapped_column(String(16))  # recorded | rejected
    reason: Mapped[str] = mapped_column(String(32), default="")  # why rejected, or a note
    at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # clamped
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfflinePackage(Base):
    __tablename__ = "offline_packages"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    first_saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cohort_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
