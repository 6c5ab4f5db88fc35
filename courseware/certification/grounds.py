"""What a certificate rests on, in words: the quiz attempts and case decisions named in its
stored evidence (``certificates.evidence``), with their scores and dates, and the
requirements it was exempted from. Read for the certificate pages, the transcript and
their exports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.core.models import CaseDecision, Certificate, QuizAttempt


@dataclass(frozen=True)
class Ground:
    """One piece of evidence of a certificate."""

    kind: str  # quiz | case | renewal_case | exemption
    subject: str  # the module slug, the case slug, or the exempted requirement key
    score: float | None  # the quiz percent or the case score
    at: datetime | None  # when the attempt was submitted or the case decided
    attempt_id: int | None = None
    decision_id: int | None = None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _raw(evidence: dict[str, Any]) -> Iterable[Ground]:
    """The evidence as stored, without dates (read defensively: older rows may lack keys)."""
    quizzes = evidence.get("quizzes")
    if isinstance(quizzes, dict):
        for slug, quiz in quizzes.items():
            if isinstance(quiz, dict):
                yield Ground(
                    "quiz",
                    str(slug),
                    _number(quiz.get("percent")),
                    None,
                    _int(quiz.get("attempt_id")),
                )
    for kind, cases in (
        ("case", evidence.get("cases")),
        ("renewal_case", (evidence.get("renewal") or {}).get("cases")),
    ):
        for case in cases if isinstance(cases, list) else []:
            if isinstance(case, dict):
                yield Ground(
                    kind,
                    str(case.get("case", "")),
                    _number(case.get("score")),
                    None,
                    decision_id=_int(case.get("decision_id")),
                )
    exemptions = evidence.get("exemptions")
    for key in exemptions if isinstance(exemptions, list) else []:
        yield Ground("exemption", str(key), None, None)


def grounds_of(session: Session, certificates: Sequence[Certificate]) -> dict[int, list[Ground]]:
    """Each certificate's evidence by certificate id, dated from the attempts and decisions
    it names (two queries for any number of certificates)."""
    raw = {c.id: list(_raw(c.evidence or {})) for c in certificates}
    attempt_ids = {g.attempt_id for found in raw.values() for g in found if g.attempt_id}
    decision_ids = {g.decision_id for found in raw.values() for g in found if g.decision_id}
    submitted: dict[int, datetime | None] = {}
    if attempt_ids:
        submitted = dict(
            session.execute(
                select(QuizAttempt.id, QuizAttempt.submitted_at).where(
                    QuizAttempt.id.in_(attempt_ids)
                )
            ).all()
        )
    decided: dict[int, datetime] = {}
    if decision_ids:
        decided = dict(
            session.execute(
                select(CaseDecision.id, CaseDecision.decided_at).where(
                    CaseDecision.id.in_(decision_ids)
                )
            ).all()
        )
    found: dict[int, list[Ground]] = {}
    for certificate_id, grounds in raw.items():
        found[certificate_id] = [
            Ground(
                g.kind,
                g.subject,
                g.score,
                submitted.get(g.attempt_id) if g.attempt_id else decided.get(g.decision_id or 0),
                g.attempt_id,
                g.decision_id,
            )
            for g in grounds
        ]
    return found
