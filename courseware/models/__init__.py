"""All models, imported here so Alembic and create_all see every table."""

from courseware.db import Base
from courseware.models.accounts import User
from courseware.models.assessment import AttemptQuestion, QuizAttempt
from courseware.models.audit import AuditEvent
from courseware.models.content import ContentDocument, ContentRevision, ContentState
from courseware.models.progress import LessonProgress

__all__ = [
    "AttemptQuestion",
    "AuditEvent",
    "Base",
    "ContentDocument",
    "ContentRevision",
    "ContentState",
    "LessonProgress",
    "QuizAttempt",
    "User",
]
