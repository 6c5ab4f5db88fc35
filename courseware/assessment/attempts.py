"""Quiz attempts: start or resume, save answers as the trainee goes, submit exactly once.

Rules, all enforced here on the server:

- A learner has at most one open attempt per quiz (a unique ``open_key``); starting again
  resumes it, so a double click on "start" never draws twice.
- Pass mark, attempt limit, cool-down and time limit come from the bank file. Closed attempts
  (submitted or expired) count against the limit; the cool-down runs from a failed attempt's
  end; once passed, the quiz is done.
- Saving and submitting both begin with a conditional UPDATE on the attempt row (``WHERE
  status = 'open'`` and the token and the deadline match). Only one request can close an
  attempt, on SQLite and PostgreSQL alike: a double click, a reload or a back-button resubmit
  records one submission, and a save racing a submit cannot change a graded attempt. Call
  ``start_attempt``, ``save_answers`` and ``submit_attempt`` at the start of a transaction:
  their first statement writes, so on SQLite they queue for the write lock rather than fail
  on a read snapshot that another request has since made stale.
- A time limit is enforced with ``GRACE_SECONDS`` for the network; after that the attempt is
  closed as expired and graded on the answers saved in time; late answers are not recorded.
- Every answer is read against what was served: a question that was not served, a choice that
  does not exist or a non-number in a numeric answer is refused and nothing is changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware.core.activity import note_activity
from courseware.core.clock import utcnow
from courseware.core.db import begin_write, rows_changed
from courseware.core.errors import N_
from courseware.core.learner_marks import MARKED, mark
from courseware.core.models import AttemptQuestion, QuizAttempt
from courseware.core.question_texts import intern_texts
from courseware.core.xapi import question_statement, quiz_result_statement, quiz_started_statement

from .answers import AnswersInvalid, Form, read_answers  # noqa: F401 - callers catch it here
from .bank import Bank
from .drawing import draw_questions, new_rng, serve
from .questions import question_type
from .quizzes import Quiz, module_quiz

GRACE_SECONDS = 10


class AttemptNotFound(LookupError):
    """No such attempt for this learner (another learner's attempt looks the same)."""


class QuizUnavailable(Exception):
    """A new attempt may not start now; ``message`` is an English message id."""

    def __init__(self, message: str, params: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.params = dict(params or {})


class BadToken(Exception):
    """The form does not belong to this attempt."""


@dataclass(frozen=True)
class Eligibility:
    can_start: bool
    message: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    next_at: datetime | None = None
    used: int = 0
    passed: bool = False
    open_attempt_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What a save or submit did: 'saved', 'submitted', 'already_closed' or 'time_up'."""

    result: Literal["saved", "submitted", "already_closed", "time_up"]
    attempt: QuizAttempt
    saved: int = 0
    at: datetime | None = None


def open_key(kind: str, user_id: int, quiz: str) -> str:
    return f"{kind}:{user_id}:{quiz}"


def attempts_of(
    session: Session, user_id: int, quiz: str, kind: str = "module"
) -> list[QuizAttempt]:
    """This learner's attempts at one quiz, newest first."""
    return list(
        session.scalars(
            select(QuizAttempt)
            .where(
                QuizAttempt.user_id == user_id,
                QuizAttempt.kind == kind,
                QuizAttempt.module_slug == quiz,
            )
            .order_by(QuizAttempt.started_at.desc(), QuizAttempt.id.desc())
        )
    )


def key_shown(attempt: QuizAttempt, history: Iterable[QuizAttempt]) -> bool:
    """Whether the review of ``attempt`` shows the key and the explanations: once the quiz
    is passed (this attempt, or another of ``history`` that was not reset). Before, the
    review shows what was wrong and what to reread, so the next attempt is not a copy."""
    return bool(attempt.passed or any(a.passed and a.reset_at is None for a in history))


def eligibility(
    bank: Quiz | Bank, attempts: Sequence[QuizAttempt], now: datetime | None = None
) -> Eligibility:
    """May this learner start an attempt now, given their attempts (newest first)?

    An attempt reset by a trainer or HR stays on record but counts for nothing here.
    """
    now = now or utcnow()
    closed = [a for a in attempts if a.closed and a.reset_at is None]
    opened = next((a.id for a in attempts if not a.closed), None)
    passed = any(a.passed for a in closed)
    used = len(closed)
    if opened is not None:
        return Eligibility(True, used=used, open_attempt_id=opened)
    if passed:
        return Eligibility(False, N_("You have passed this quiz."), used=used, passed=True)
    if bank.max_attempts is not None and used >= bank.max_attempts:
        return Eligibility(
            False,
            N_("You have used all %(max)s attempts. Ask your trainer how to continue."),
            {"max": bank.max_attempts},
            used=used,
        )
    last = closed[0] if closed else None
    if last is not None and bank.cooldown_minutes and last.submitted_at is not None:
        next_at = last.submitted_at + timedelta(minutes=bank.cooldown_minutes)
        if now < next_at:
            return Eligibility(
                False, N_("You can try again from %(time)s."), used=used, next_at=next_at
            )
    return Eligibility(True, used=used)


def _lock_quiz(session: Session, key: str) -> None:
    """Take the write lock (SQLite) and the open attempt's row lock (PostgreSQL), if any."""
    session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.open_key == key)
        .values(saved_at=QuizAttempt.saved_at)
        .execution_options(synchronize_session=False)
    )


def start_attempt(
    session: Session,
    user_id: int,
    quiz: Quiz | Bank,
    now: datetime | None = None,
    rng: Any = None,
) -> QuizAttempt:
    """Resume the open attempt, or draw a new one if the rules allow (QuizUnavailable).

    Call at the start of a transaction: it writes first, so that on SQLite two starts at
    once queue for the write lock instead of failing on a stale read.
    """
    if isinstance(quiz, Bank):
        quiz = module_quiz(quiz)
    now = now or utcnow()
    _lock_quiz(session, open_key(quiz.kind, user_id, quiz.key))
    attempts = attempts_of(session, user_id, quiz.key, quiz.kind)
    current = next((a for a in attempts if not a.closed), None)
    if current is not None and not close_if_expired(session, current, now):
        return current
    allowed = eligibility(quiz, attempts_of(session, user_id, quiz.key, quiz.kind), now)
    if not allowed.can_start:
        raise QuizUnavailable(allowed.message or "", allowed.params)
    return create_attempt(
        session,
        user_id,
        quiz.kind,
        quiz.key,
        quiz.banks,
        quiz.draw,
        quiz.pass_mark,
        quiz.time_limit_minutes,
        now,
        rng or new_rng(),
        earlier=served_before(session, attempts),
        attempts=quiz.max_attempts,
    )


def served_before(session: Session, attempts: Sequence[QuizAttempt]) -> list[set[str]]:
    """The question ids of each of these attempts, in their order (newest first)."""
    if not attempts:
        return []
    ids = [a.id for a in attempts]
    by_attempt: dict[int, set[str]] = {i: set() for i in ids}
    rows = session.execute(
        select(AttemptQuestion.attempt_id, AttemptQuestion.question_id).where(
            AttemptQuestion.attempt_id.in_(ids)
        )
    )
    for attempt_id, question_id in rows:
        by_attempt[attempt_id].add(question_id)
    return [by_attempt[i] for i in ids]


def create_attempt(
    session: Session,
    user_id: int,
    kind: str,
    quiz: str,
    banks: Sequence[Bank],
    count: int,
    pass_mark: float,
    time_limit_minutes: int | None,
    now: datetime,
    rng: Any,
    earlier: Sequence[Collection[str]] = (),
    attempts: int | None = None,
) -> QuizAttempt:
    """Draw and store a new open attempt; if one appeared meanwhile, return that one.
    ``earlier``: the question ids of the learner's earlier attempts, newest first;
    ``attempts``: how many the quiz allows (None: no limit)."""
    drawn = draw_questions(banks, count, rng, earlier, attempts)
    attempt = QuizAttempt(
        user_id=user_id,
        kind=kind,
        module_slug=quiz,
        bank_revision_id=banks[0].revision_id if len(banks) == 1 else None,
        token=secrets.token_urlsafe(32),
        open_key=open_key(kind, user_id, quiz),
        status="open",
        pass_mark=pass_mark,
        started_at=now,
        deadline=now + timedelta(minutes=time_limit_minutes) if time_limit_minutes else None,
        max_score=float(len(drawn)),
    )
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
            served = [serve(item.question, rng) for item in drawn]
            # each question's shown form and definition, stored once across attempts
            texts = intern_texts(session, [body for pair in served for body in pair])
            for position, item in enumerate(drawn, start=1):
                session.add(
                    AttemptQuestion(
                        attempt_id=attempt.id,
                        position=position,
                        question_id=item.question.id,
                        bank_module=item.bank.module,
                        bank_revision_id=item.bank.revision_id,
                        qtype=item.question.type,
                        served_text=texts[2 * position - 2],
                        definition_text=texts[2 * position - 1],
                        max_points=1.0,
                    )
                )
            session.flush()
    except IntegrityError:
        # Another request opened an attempt first (a double click): resume that one.
        existing = session.scalar(
            select(QuizAttempt).where(QuizAttempt.open_key == open_key(kind, user_id, quiz))
        )
        if existing is None:
            raise
        return existing
    note_activity(session, user_id, now)
    quiz_started_statement(session, user_id, kind, quiz, attempt.id, now)
    return attempt


def get_attempt(session: Session, user_id: int, attempt_id: int) -> QuizAttempt:
    attempt = session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != user_id:
        raise AttemptNotFound(attempt_id)
    return attempt


def questions_of(session: Session, attempt_id: int) -> list[AttemptQuestion]:
    return list(
        session.scalars(
            select(AttemptQuestion)
            .where(AttemptQuestion.attempt_id == attempt_id)
            .order_by(AttemptQuestion.position)
        )
    )


def _grace(now: datetime) -> datetime:
    return now - timedelta(seconds=GRACE_SECONDS)


def _claim(
    session: Session,
    attempt_id: int,
    values: dict[str, Any],
    *conditions: Any,
    owner: int | None = None,
) -> bool:
    """Change the attempt only while it is open (and the conditions hold); True if it did.

    ``owner``: the attempt's learner, for a change the HR summary counts (closing it); they
    are marked for its recount here, which spares the summary's hook a look-up of the
    attempt's owner before the update runs."""
    options: dict[str, Any] = {"synchronize_session": False}
    if owner is not None:
        options[MARKED] = True
        begin_write(session)  # as the hook would have: a writer from the start (SQLite)
    result = session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt_id, QuizAttempt.status == "open", *conditions)
        .values(**values)
        .execution_options(**options)
    )
    changed = rows_changed(result) == 1
    if changed and owner is not None:
        mark(session, [owner])
    return changed


def _finish(
    session: Session, attempt: QuizAttempt, questions: list[AttemptQuestion]
) -> QuizAttempt:
    """Grade every question and record the score of a just-closed attempt."""
    score = 0.0
    for question in questions:
        points = question_type(question.qtype).grade(question.definition, question.answer)
        points = round(min(1.0, max(0.0, points)) * question.max_points, 6)
        question.points = points
        question.correct = points >= question.max_points - 1e-9
        score += points
    maximum = sum(q.max_points for q in questions)
    passed = score >= attempt.pass_mark * maximum - 1e-9
    session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id)
        .values(score=round(score, 6), max_score=maximum, passed=passed)
        .execution_options(synchronize_session=False, **{MARKED: True})
    )
    mark(session, [attempt.user_id])  # the learner's summary counts passed quizzes
    session.flush()
    session.refresh(attempt)
    _record_result(session, attempt, questions)
    return attempt


def _record_result(
    session: Session, attempt: QuizAttempt, questions: list[AttemptQuestion]
) -> None:
    """The xAPI statements of a graded attempt: each question answered, then the result."""
    moment = attempt.submitted_at or utcnow()
    kind, key = attempt.kind, attempt.module_slug
    for question in questions:
        question_statement(
            session,
            attempt.user_id,
            kind,
            key,
            attempt.id,
            question.question_id,
            question.answer,
            question.points or 0.0,
            question.max_points,
            bool(question.correct),
            moment,
        )
    quiz_result_statement(
        session,
        attempt.user_id,
        kind,
        key,
        attempt.id,
        attempt.score or 0.0,
        attempt.max_score or 0.0,
        bool(attempt.passed),
        moment,
    )


def _expire(session: Session, attempt: QuizAttempt, now: datetime) -> bool:
    """Close an attempt whose time ran out, grading the answers saved in time."""
    closing = {"status": "expired", "open_key": None, "submitted_at": attempt.deadline}
    if not _claim(session, attempt.id, closing, owner=attempt.user_id):
        return False
    _finish(session, attempt, questions_of(session, attempt.id))
    return True


def close_if_expired(session: Session, attempt: QuizAttempt, now: datetime | None = None) -> bool:
    """True if the attempt is (now) closed because its time limit has passed."""
    now = now or utcnow()
    if attempt.status == "expired":
        return True
    if attempt.closed or attempt.deadline is None or attempt.deadline >= _grace(now):
        return False
    _expire(session, attempt, now)
    session.refresh(attempt)
    return attempt.closed


def _open_conditions(user_id: int, token: str, now: datetime) -> tuple[Any, ...]:
    return (
        QuizAttempt.user_id == user_id,
        QuizAttempt.token == token,
        or_(QuizAttempt.deadline.is_(None), QuizAttempt.deadline >= _grace(now)),
    )


def _refused(session: Session, user_id: int, attempt_id: int, token: str, now: datetime) -> Outcome:
    """Why a claim changed nothing: not found, wrong token, closed, or out of time."""
    attempt = get_attempt(session, user_id, attempt_id)
    session.refresh(attempt)
    if not secrets.compare_digest(attempt.token, token):
        raise BadToken(attempt_id)
    if attempt.closed:
        return Outcome("already_closed", attempt)
    _expire(session, attempt, now)
    session.refresh(attempt)
    return Outcome("time_up", attempt)


def _apply(questions: Sequence[AttemptQuestion], answers: Mapping[int, Any], now: datetime) -> int:
    changed = 0
    for question in questions:
        answer = answers.get(question.position)
        if answer != question.answer:
            question.answer = answer
            question.answered_at = now if answer is not None else None
            changed += 1
    return changed


def save_answers(
    session: Session,
    user_id: int,
    attempt_id: int,
    token: str,
    form: Form,
    now: datetime | None = None,
) -> Outcome:
    """Save the answers in ``form`` (the whole attempt form) while the attempt is open."""
    now = now or utcnow()
    if not _claim(session, attempt_id, {"saved_at": now}, *_open_conditions(user_id, token, now)):
        return _refused(session, user_id, attempt_id, token, now)
    attempt = get_attempt(session, user_id, attempt_id)
    questions = questions_of(session, attempt_id)
    saved = _apply(questions, read_answers(questions, form), now)
    session.flush()
    return Outcome("saved", attempt, saved, now)


def submit_attempt(
    session: Session,
    user_id: int,
    attempt_id: int,
    token: str,
    form: Form,
    now: datetime | None = None,
) -> Outcome:
    """Record the form's answers and grade, once; unreadable answers raise AnswersInvalid.

    The caller rolls back on AnswersInvalid (the attempt stays open) and commits otherwise.
    """
    now = now or utcnow()
    closing = {"status": "submitted", "open_key": None, "submitted_at": now}
    conditions = _open_conditions(user_id, token, now)
    if not _claim(session, attempt_id, closing, *conditions, owner=user_id):
        return _refused(session, user_id, attempt_id, token, now)
    attempt = get_attempt(session, user_id, attempt_id)
    questions = questions_of(session, attempt_id)
    _apply(questions, read_answers(questions, form), now)
    return Outcome("submitted", _finish(session, attempt, questions))
