"""All models, imported here so Alembic and create_all see every table."""

from courseware.core.db import Base
from courseware.core.models.accounts import ExternalIdentity, SignInFailure, User
from courseware.core.models.assessment import AttemptQuestion, QuestionText, QuizAttempt
from courseware.core.models.audit import AuditEvent
from courseware.core.models.cases import CaseDecision, CaseStageDecision, CaseTicket
from courseware.core.models.certificates import Certificate, CredentialStatus, Exemption
from courseware.core.models.cohorts import Cohort, CohortMembership, LearnerContact, Reminder
from courseware.core.models.content import ContentDocument, ContentRevision, ContentState
from courseware.core.models.hr import HrSnapshot, LearnerModuleSummary, LearnerSummary
from courseware.core.models.notices import CalendarFeed, Notice, PasswordResetToken
from courseware.core.models.offline import OfflineAction, OfflinePackage
from courseware.core.models.practice import PracticeAnswer
from courseware.core.models.progress import LessonProgress
from courseware.core.models.studio import ProblemReport, RevisionReview
from courseware.core.models.xapi import XapiOutbox

__all__ = [
    "AttemptQuestion",
    "AuditEvent",
    "Base",
    "CalendarFeed",
    "CaseDecision",
    "CaseStageDecision",
    "CaseTicket",
    "Certificate",
    "Cohort",
    "CohortMembership",
    "ContentDocument",
    "ContentRevision",
    "ContentState",
    "CredentialStatus",
    "Exemption",
    "ExternalIdentity",
    "HrSnapshot",
    "LearnerContact",
    "LearnerModuleSummary",
    "LearnerSummary",
    "LessonProgress",
    "Notice",
    "OfflineAction",
    "OfflinePackage",
    "PasswordResetToken",
    "PracticeAnswer",
    "ProblemReport",
    "QuestionText",
    "QuizAttempt",
    "Reminder",
    "RevisionReview",
    "SignInFailure",
    "User",
    "XapiOutbox",
]
