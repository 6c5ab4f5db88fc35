"""The xAPI outbox: learning-record statements waiting for the LRS (``courseware.core.xapi``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class XapiOutbox(Base):
    """One xAPI statement, written in the transaction of the event it records and sent
    later by ``courseware outbox run``. The statement id is the row's key and the
    statement's own ``id``: a resend after a lost answer is recognised by the LRS."""

    __tablename__ = "xapi_outbox"
    # The sender reads the rows due, oldest first: unsent ones by their next try.
    __table_args__ = (Index("ix_xapi_outbox_due", "sent_at", "next_try_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
