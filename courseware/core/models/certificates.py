"""Certificates, and the exemptions HR or a trainer may grant against a requirement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class Certificate(Base):
    __tablename__ = "certificates"
    # One certificate per learner per cycle: two requests that complete the last
    # requirement together cannot both issue one.
    # HR reads each learner's latest certificate from ix_certificates_standing alone (the
    # rows are wide: the evidence); courseware.hr.compliance.learner_facts.
    __table_args__ = (
        UniqueConstraint("user_id", "cycle"),
        Index("ix_certificates_standing", "user_id", "cycle", "expires_at", "revoked_at", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    cycle: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # earned | renewal | manual
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")


class Exemption(Base):
    """A requirement a learner need not meet, granted with a written reason."""

    __tablename__ = "exemptions"
    __table_args__ = (UniqueConstraint("user_id", "requirement"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requirement: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CredentialStatus(Base):
    """A certificate's place in a Bitstring Status List (its verifiable credential's
    ``credentialStatus``): list number and bit index, allocated once, the first time the
    credential is issued, and never reused."""

    __tablename__ = "credential_status"
    __table_args__ = (UniqueConstraint("status_list", "status_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), unique=True)
    status_list: Mapped[int] = mapped_column(Integer)
    status_index: Mapped[int] = mapped_column(Integer)
    allocated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
