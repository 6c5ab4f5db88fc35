"""Personal data: a learner's own copy, and anonymising someone who has left.

Anonymising replaces the personal fields (user name, display name, employee
id, email, reminder addresses) and the user names copied into earlier audit
records, and keeps every training record and certificate under a pseudonym,
so reports and branch figures stay whole. The act itself is audited.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from courseware.accounts.users import AccountError, hash_password
from courseware.core.audit import record
from courseware.core.errors import N_
from courseware.core.models import (
    AttemptQuestion,
    AuditEvent,
    CalendarFeed,
    CaseDecision,
    Certificate,
    CohortMembership,
    Exemption,
    LearnerContact,
    LessonProgress,
    Notice,
    PasswordResetToken,
    PracticeAnswer,
    QuizAttempt,
    Reminder,
    User,
)

PSEUDONYM = "departed-{id}"
PSEUDONYM_NAME = "離職人員 {id}"


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def personal_data(session: Session, user: User) -> dict[str, Any]:
    """Everything the platform holds about this person, as plain JSON-ready data.

    Long because it is one literal, table by table, to be read against the privacy notice:
    split up, a table left out would be harder to see.
    """
    contact = session.get(LearnerContact, user.id)
    attempts = session.scalars(
        select(QuizAttempt).where(QuizAttempt.user_id == user.id).order_by(QuizAttempt.id)
    ).all()
    questions: dict[int, list[AttemptQuestion]] = {}
    if attempts:
        for question in session.scalars(
            select(AttemptQuestion)
            .where(AttemptQuestion.attempt_id.in_([a.id for a in attempts]))
            .order_by(AttemptQuestion.attempt_id, AttemptQuestion.position)
        ):
            questions.setdefault(question.attempt_id, []).append(question)
    return {
        "account": {
            "username": user.username,
            "display_name": user.display_name,
            "employee_id": user.employee_id,
            "branch": user.branch,
            "role": user.role,
            "email": contact.email if contact else None,
            "created_at": _when(user.created_at),
            "last_login_at": _when(user.last_login_at),
        },
        "cohorts": [
            {"cohort_id": m.cohort_id, "joined_at": _when(m.joined_at), "left_at": _when(m.left_at)}
            for m in session.scalars(
                select(CohortMembership).where(CohortMembership.user_id == user.id)
            )
        ],
        "lessons": [
            {
                "module": p.module_slug,
                "lesson": p.lesson_slug,
                "first_viewed_at": _when(p.first_viewed_at),
                "completed_at": _when(p.completed_at),
                "seconds_spent": p.seconds_spent,
            }
            for p in session.scalars(
                select(LessonProgress).where(LessonProgress.user_id == user.id)
            )
        ],
        "practice_answers": [
            {
                "module": a.module_slug,
                "lesson": a.lesson_slug,
                "exercise": a.exercise_id,
                "answer": a.answer,
                "correct": a.correct,
                "answered_at": _when(a.answered_at),
            }
            for a in session.scalars(
                select(PracticeAnswer)
                .where(PracticeAnswer.user_id == user.id)
                .order_by(PracticeAnswer.id)
            )
        ],
        "quiz_attempts": [
            {
                "quiz": a.module_slug,
                "kind": a.kind,
                "status": a.status,
                "started_at": _when(a.started_at),
                "submitted_at": _when(a.submitted_at),
                "score": a.score,
                "max_score": a.max_score,
                "passed": a.passed,
                "answers": [
                    {"question": q.question_id, "answer": q.answer, "points": q.points}
                    for q in questions.get(a.id, [])
                ],
            }
            for a in attempts
        ],
        "case_decisions": [
            {
                "case": d.case_slug,
                "kind": d.kind,
                "decided_at": _when(d.decided_at),
                "option": d.option_id,
                "flags": d.flags,
                "reasons": d.reasons,
                "score": d.score_total,
                "outcome": d.outcome,
            }
            for d in session.scalars(select(CaseDecision).where(CaseDecision.user_id == user.id))
        ],
        "certificates": [
            {
                "code": c.code,
                "kind": c.kind,
                "issued_at": _when(c.issued_at),
                "expires_at": _when(c.expires_at),
                "revoked_at": _when(c.revoked_at),
            }
            for c in session.scalars(select(Certificate).where(Certificate.user_id == user.id))
        ],
        "exemptions": [
            {"requirement": e.requirement, "granted_at": _when(e.granted_at)}
            for e in session.scalars(select(Exemption).where(Exemption.user_id == user.id))
        ],
        "reminders": [
            {"sent_at": _when(r.sent_at), "kind": r.kind, "address": r.address}
            for r in session.scalars(select(Reminder).where(Reminder.user_id == user.id))
        ],
        "notices": [
            {
                "kind": n.kind,
                "day": n.day.isoformat(),
                "created_at": _when(n.created_at),
                "read_at": _when(n.read_at),
            }
            for n in session.scalars(
                select(Notice).where(Notice.user_id == user.id).order_by(Notice.id)
            )
        ],
    }


def _scrub(payload: dict[str, Any] | None, username: str, pseudonym: str) -> dict[str, Any] | None:
    if not payload:
        return payload
    return {key: (pseudonym if value == username else value) for key, value in payload.items()}


def anonymise(session: Session, user: User, actor_id: int, reason: str) -> None:
    """Replace a departed person's personal fields; keep their records under a pseudonym."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise AccountError("reason", N_("Write the reason (at least 5 characters)."))
    if user.id == actor_id:
        raise AccountError("reason", N_("You cannot anonymise your own account."))
    if user.username == PSEUDONYM.format(id=user.id):
        raise AccountError("reason", N_("This account is already anonymised."))
    old_username = user.username
    pseudonym = PSEUDONYM.format(id=user.id)
    user.username = pseudonym
    user.display_name = PSEUDONYM_NAME.format(id=user.id)
    user.employee_id = ""
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    user.active = False
    user.must_change_password = True
    user.session_version += 1
    session.execute(delete(LearnerContact).where(LearnerContact.user_id == user.id))
    session.execute(update(Reminder).where(Reminder.user_id == user.id).values(address=""))
    # No calendar link and no password-reset link outlive the person.
    session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    session.execute(delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    for event in session.scalars(
        select(AuditEvent).where(
            AuditEvent.target_type == "user", AuditEvent.target_id == str(user.id)
        )
    ):
        event.before = _scrub(event.before, old_username, pseudonym)
        event.after = _scrub(event.after, old_username, pseudonym)
    record(
        session,
        actor_id,
        "account.anonymise",
        "user",
        user.id,
        after={
            "username": pseudonym,
            "replaced": ["username", "display_name", "employee_id", "email", "password"],
        },
        reason=reason,
    )
