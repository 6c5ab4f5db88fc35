"""The evidence certification rests on, gathered for many learners in a few queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.core.models import CaseDecision, Certificate, Exemption, LessonProgress, QuizAttempt


@dataclass(frozen=True)
class QuizEvidence:
    attempt_id: int
    percent: int
    bank_revision_id: int | None
    submitted_at: datetime


@dataclass(frozen=True)
class CaseEvidence:
    decision_id: int
    case_slug: str
    score: float
    case_revision_id: int | None
    decided_at: datetime
    seed: int | None = None  # the variant of the case template it was decided on
    case_model: int = 1  # 1: a fixed v1 case; 2: a variant (loan cases v2)


@dataclass
class Evidence:
    lessons: dict[tuple[str, str], int | None] = field(default_factory=dict)
    quizzes: dict[str, QuizEvidence] = field(default_factory=dict)
    cases: list[CaseEvidence] = field(default_factory=list)
    exemptions: dict[str, Exemption] = field(default_factory=dict)
    certificates: list[Certificate] = field(default_factory=list)
    renewal_quizzes: list[QuizEvidence] = field(default_factory=list)
    renewal_cases: list[CaseEvidence] = field(default_factory=list)


def _where_users(column: Any, user_ids: Sequence[int] | None) -> list[Any]:
    return [] if user_ids is None else [column.in_(list(user_ids))]


def gather_evidence(session: Session, user_ids: Sequence[int] | None = None) -> dict[int, Evidence]:
    """Every learner's evidence from six queries, whatever the number of learners.

    Long because it is one pass per source (lessons, quiz attempts, case decisions,
    exemptions, certificates), each filling the learners' evidence as it goes.
    """
    found: dict[int, Evidence] = defaultdict(Evidence)
    for user_id, module, lesson, revision in session.execute(
        select(
            LessonProgress.user_id,
            LessonProgress.module_slug,
            LessonProgress.lesson_slug,
            LessonProgress.completed_revision_id,
        ).where(
            LessonProgress.completed_at.is_not(None),
            *_where_users(LessonProgress.user_id, user_ids),
        )
    ):
        found[user_id].lessons[(module, lesson)] = revision
    for attempt in session.execute(
        select(
            QuizAttempt.id,
            QuizAttempt.user_id,
            QuizAttempt.kind,
            QuizAttempt.module_slug,
            QuizAttempt.score,
            QuizAttempt.max_score,
            QuizAttempt.bank_revision_id,
            QuizAttempt.submitted_at,
        ).where(
            QuizAttempt.status == "submitted",
            QuizAttempt.passed.is_(True),
            QuizAttempt.reset_at.is_(None),
            *_where_users(QuizAttempt.user_id, user_ids),
        )
    ):
        percent = (
            int(100 * (attempt.score or 0) / attempt.max_score + 0.5) if attempt.max_score else 0
        )
        item = QuizEvidence(attempt.id, percent, attempt.bank_revision_id, attempt.submitted_at)
        evidence = found[attempt.user_id]
        if attempt.kind == "renewal":
            evidence.renewal_quizzes.append(item)
            continue
        best = evidence.quizzes.get(attempt.module_slug)
        if best is None or item.percent > best.percent:
            evidence.quizzes[attempt.module_slug] = item
    for row in session.execute(
        select(
            CaseDecision.id,
            CaseDecision.user_id,
            CaseDecision.case_slug,
            CaseDecision.kind,
            CaseDecision.score_total,
            CaseDecision.case_revision_id,
            CaseDecision.decided_at,
            CaseDecision.first_key,
            CaseDecision.seed,
            CaseDecision.case_model,
        ).where(
            # the decisions that count, and the renewal decisions not reset
            CaseDecision.counts
            | ((CaseDecision.kind == "renewal") & CaseDecision.reset_at.is_(None)),
            *_where_users(CaseDecision.user_id, user_ids),
        )
    ):
        case_item = CaseEvidence(
            row.id,
            row.case_slug,
            row.score_total,
            row.case_revision_id,
            row.decided_at,
            row.seed,
            row.case_model,
        )
        if row.kind == "renewal":
            found[row.user_id].renewal_cases.append(case_item)
        else:
            found[row.user_id].cases.append(case_item)
    for exemption in session.scalars(
        select(Exemption).where(*_where_users(Exemption.user_id, user_ids))
    ):
        found[exemption.user_id].exemptions[exemption.requirement] = exemption
    for certificate in session.scalars(
        select(Certificate)
        .where(*_where_users(Certificate.user_id, user_ids))
        .order_by(Certificate.cycle)
    ):
        found[certificate.user_id].certificates.append(certificate)
    return found
