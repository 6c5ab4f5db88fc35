"""Loan-case work: the served case (ticket) and the decision made on it.

A ticket is issued when a trainee opens a case: it fixes the seed and the
case revision the decision will be judged on, and its one-time token makes
a double submit record one decision. The first decision on a case is the
one that counts toward certification; later ones are practice.
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
    and_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import ColumnElement

from courseware.core.clock import utcnow
from courseware.core.db import Base, UTCDateTime


class CaseTicket(Base):
    __tablename__ = "case_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_slug: Mapped[str] = mapped_column(String(64))
    case_revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    # assessment (a first decision counts) | practice | renewal
    kind: Mapped[str] = mapped_column(String(16), default="assessment")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # "<user>:<case>:<kind>" while the ticket is the learner's open one, NULL once it is
    # spent or replaced: the unique index keeps one open ticket per learner, case and kind,
    # so reloading the page serves the same seed.
    open_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)


class CaseDecision(Base):
    __tablename__ = "case_decisions"
    __table_args__ = (Index("ix_case_decisions_user_case", "user_id", "case_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_slug: Mapped[str] = mapped_column(String(64), index=True)
    case_revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    ticket_token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # assessment | practice | renewal
    # "<user>:<case>" on the decision that counts toward certification, NULL on the
    # others: the unique index lets exactly one first decision per learner and case win.
    first_key: Mapped[str | None] = mapped_column(String(96), unique=True, nullable=True)
    option_id: Mapped[str] = mapped_column(String(64))
    option_kind: Mapped[str] = mapped_column(String(32))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    score_total: Mapped[float] = mapped_column(Float)
    score_decision: Mapped[float] = mapped_column(Float)
    score_flags: Mapped[float] = mapped_column(Float)
    score_reasons: Mapped[float] = mapped_column(Float)
    score_portfolio: Mapped[float] = mapped_column(Float)
    cap_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    best_option_id: Mapped[str] = mapped_column(String(64))
    expected_profit: Mapped[float] = mapped_column(Float)
    best_expected_profit: Mapped[float] = mapped_column(Float)
    # The realised run on this seed (for the portfolio): outcome and money.
    outcome: Mapped[str] = mapped_column(String(16))
    lender_profit: Mapped[float] = mapped_column(Float)
    # Everything the outcome page and the loan book need, as computed at the time.
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # 1: made on a fixed v1 case (scored by the v1 rubric, kept as it was); 2: made on a
    # variant drawn from the case template (loan cases v2). The variant is in ``record``.
    case_model: Mapped[int] = mapped_column(Integer, default=2, server_default="1")
    # A reset by a trainer or HR takes a decision out of certification, keeping it.
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    # The rule of which decisions count toward certification, written once: the learner's
    # first decision on the case (first_key set), not reset by staff. ``decision.counts``
    # in Python, ``CaseDecision.counts`` in a query.
    @hybrid_property
    def counts(self) -> bool:
        return self.first_key is not None and self.reset_at is None

    @counts.inplace.expression
    @classmethod
    def _counts_expression(cls) -> ColumnElement[bool]:
        return and_(cls.first_key.is_not(None), cls.reset_at.is_(None))


class CaseStageDecision(Base):
    """One stage of a case decided in several steps (a multi-visit case, a village book).

    The stages hang on the ticket: it stays open until the last stage, when the case's
    one decision (CaseDecision) is recorded with the stages' combined score. The unique
    (ticket, stage) pair makes a double submit of a stage record it once.
    """

    __tablename__ = "case_stage_decisions"
    __table_args__ = (UniqueConstraint("ticket_token", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_token: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_slug: Mapped[str] = mapped_column(String(64))
    stage: Mapped[int] = mapped_column(Integer)  # 0 = the first decision
    option_id: Mapped[str] = mapped_column(String(64))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    score_total: Mapped[float] = mapped_column(Float)
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
