"""Problem reports: a learner's note on a lesson or quiz page, read by trainers in the studio.

The document and revision are taken from the database, never from what the page says
about them: a posted revision id names its document; a quiz question is looked up in the
learner's own attempt. Learners only ever create reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.models import (
    AttemptQuestion,
    ContentDocument,
    ContentRevision,
    ProblemReport,
    QuizAttempt,
    User,
)

MAX_NOTE = 1000


class ReportInvalid(ValueError):
    def __init__(self, message: str, params: dict[str, object] | None = None):
        super().__init__(message)
        self.message = message
        self.params = params or {}


class ReportNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ReportRow:
    id: int
    created_at: datetime
    reporter: str
    path: str
    document_id: int | None
    revision_number: int | None
    question_id: str
    page_url: str
    note: str
    resolved_at: datetime | None
    resolved_by: str


def _revision_path(session: Session, revision_id: int | None) -> tuple[int | None, str]:
    if revision_id is None:
        return None, ""
    path = session.scalar(
        select(ContentDocument.path)
        .join(ContentRevision, ContentRevision.document_id == ContentDocument.id)
        .where(ContentRevision.id == revision_id)
    )
    return (revision_id, path) if path is not None else (None, "")


def create_report(
    session: Session,
    user_id: int,
    note: str,
    *,
    revision_id: int | None = None,
    page_url: str = "",
    attempt_id: int | None = None,
    question_position: int | None = None,
    now: datetime | None = None,
) -> ProblemReport:
    note = note.strip()
    if not note:
        raise ReportInvalid(N_("Write what is wrong or unclear."))
    if len(note) > MAX_NOTE:
        raise ReportInvalid(N_("At most %(max)s characters, please."), {"max": MAX_NOTE})
    question_id = ""
    if attempt_id is not None and question_position is not None:
        served = session.scalar(
            select(AttemptQuestion)
            .join(QuizAttempt, QuizAttempt.id == AttemptQuestion.attempt_id)
            .where(
                QuizAttempt.id == attempt_id,
                QuizAttempt.user_id == user_id,
                AttemptQuestion.position == question_position,
            )
        )
        if served is not None:
            question_id = served.question_id
            revision_id = served.bank_revision_id
    revision_id, path = _revision_path(session, revision_id)
    report = ProblemReport(
        user_id=user_id,
        path=path,
        revision_id=revision_id,
        question_id=question_id,
        page_url=page_url[:255],
        note=note,
        created_at=now or utcnow(),
    )
    session.add(report)
    session.flush()
    return report


def inbox(session: Session, include_resolved: bool = False) -> list[ReportRow]:
    """Reports, open ones first and newest first, with names and revision numbers."""
    reporter = aliased(User)
    resolver = aliased(User)
    query = (
        select(
            ProblemReport,
            reporter.display_name,
            resolver.display_name,
            ContentRevision.number,
            ContentRevision.document_id,
        )
        .join(reporter, reporter.id == ProblemReport.user_id)
        .outerjoin(resolver, resolver.id == ProblemReport.resolved_by)
        .outerjoin(ContentRevision, ContentRevision.id == ProblemReport.revision_id)
        .order_by(ProblemReport.resolved_at.is_not(None), ProblemReport.created_at.desc())
    )
    if not include_resolved:
        query = query.where(ProblemReport.resolved_at.is_(None))
    return [
        ReportRow(
            r.id,
            r.created_at,
            name,
            r.path,
            document_id,
            number,
            r.question_id,
            r.page_url,
            r.note,
            r.resolved_at,
            resolved_name or "",
        )
        for r, name, resolved_name, number, document_id in session.execute(query)
    ]


def open_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ProblemReport)
            .where(ProblemReport.resolved_at.is_(None))
        )
        or 0
    )


def set_resolved(
    session: Session, report_id: int, resolved: bool, user_id: int, now: datetime | None = None
) -> ProblemReport:
    report = session.get(ProblemReport, report_id)
    if report is None:
        raise ReportNotFound(report_id)
    report.resolved_at = (now or utcnow()) if resolved else None
    report.resolved_by = user_id if resolved else None
    return report
