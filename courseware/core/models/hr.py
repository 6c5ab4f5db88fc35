"""HR's shared snapshots: figures counted once and read by every worker until they age.

A row is one named snapshot (``courseware.hr.snapshots``): the module funnel of one reader
scope, or the course keys of one published content version. ``counted_at`` is when its
figures were counted, shown beside them; ``version`` says what they were counted over (a
snapshot of another version is never served).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.db import Base, UTCDateTime


class HrSnapshot(Base):
    __tablename__ = "hr_snapshots"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
