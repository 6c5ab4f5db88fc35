"""All models, imported here so Alembic and create_all see every table."""

from courseware.core.db import Base
from courseware.models.accounts import User
from courseware.models.assessment import AttemptQuestion, QuizAttempt
from courseware.models.audit import AuditEvent
from courseware.models.cases import CaseDecision, CaseStageDecision, CaseTicket
from courseware.models.certificates import Certificate, Exemption
from courseware.models.cohorts import Cohort, CohortMembership, LearnerContact, Reminder
from courseware.models.content import ContentDocument, ContentRevision, ContentState
from courseware.models.practice import PracticeAnswer
from courseware.models.progress import LessonProgress
from courseware.models.studio import ProblemReport, RevisionReview

__all__ = [
    "AttemptQuestion",
    "AuditEvent",
    "Base",
    "CaseDecision",
    "CaseStageDecision",
    "CaseTicket",
    "Certificate",
    "Cohort",
    "CohortMembership",
    "ContentDocument",
    "ContentRevision",
    "ContentState",
    "Exemption",
    "LearnerContact",
    "LessonProgress",
    "PracticeAnswer",
    "ProblemReport",
    "QuizAttempt",
    "Reminder",
    "RevisionReview",
    "User",
]
