"""Module quizzes: start or resume, the attempt form, autosave, submit, review, history."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user

from courseware import certification
from courseware.assessment import attempts as engine
from courseware.assessment.pages import attempt_page, review_page
from courseware.assessment.quizzes import RENEWAL, Quiz, module_quiz, renewal_quiz
from courseware.content.catalogue import Module
from courseware.core.db import end_reading
from courseware.core.errors import N_
from courseware.core.models import QuizAttempt
from courseware.web.common.certify import certify_if_earned
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.errors import render_error
from courseware.web.common.policy import policy

bp = Blueprint("quiz", __name__, url_prefix="/quiz")


def _quiz_or_404(key: str) -> tuple[Quiz | None, Module | None]:
    """The quiz at /quiz/<key>: a module's quiz (None when its bank is broken) or renewal."""
    cat = catalogue()
    if key == RENEWAL:
        banks = list(cat.quizzes.values())
        if not banks:
            abort(404)
        rules = policy().certification.renewal
        wait = max(10, policy().assessment.retake_wait_minutes)
        return renewal_quiz(banks, rules.questions, rules.pass_mark, wait), None
    module = cat.module(key)
    if module is None:
        abort(404)
    bank = cat.quizzes.get(key)
    wait = policy().assessment.retake_wait_minutes
    return (module_quiz(bank, wait) if bank else None), module


def _kind(key: str) -> str:
    return RENEWAL if key == RENEWAL else "module"


def _attempt_or_404(module: str, attempt_id: int) -> QuizAttempt:
    try:
        attempt = engine.get_attempt(db_session(), current_user.id, attempt_id)
    except engine.AttemptNotFound:
        abort(404)
    if attempt.kind != _kind(module) or attempt.module_slug != module:
        abort(404)
    return attempt


def _renewal_open() -> bool:
    standing = certification.learner_standing(db_session(), current_user.id, catalogue(), policy())
    return standing.renewal.open and standing.state in ("renewal_due", "expired")


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _refusal(eligibility: engine.Eligibility) -> str | None:
    if eligibility.message is None:
        return None
    params = dict(eligibility.params)
    if eligibility.next_at is not None:
        params["time"] = format_datetime(eligibility.next_at, "short")
    return _(eligibility.message, **params)


@bp.get("/<module>")
def overview(module: str):
    quiz, mod = _quiz_or_404(module)
    session = db_session()
    history = engine.attempts_of(session, current_user.id, module, _kind(module))
    for attempt in history:
        engine.close_if_expired(session, attempt)
    session.commit()
    allowed = engine.eligibility(quiz, history) if quiz else None
    if quiz and quiz.kind == RENEWAL and not _renewal_open():
        allowed = engine.Eligibility(False, N_("Renewal opens when your certificate is due."))
    return render_template(
        "learner/quiz/start.html",
        module=mod,
        quiz=quiz,
        quiz_key=module,
        allowed=allowed,
        refusal=_refusal(allowed) if allowed else None,
        history=[a for a in history if a.closed],
        current=next((a for a in history if not a.closed), None),
    )


@bp.post("/<module>/start")
def start(module: str):
    quiz, _mod = _quiz_or_404(module)
    if quiz is None:
        abort(404)
    if quiz.kind == RENEWAL and not _renewal_open():
        return redirect(url_for("quiz.overview", module=module))
    session = db_session()
    session.commit()  # start_attempt must open its own transaction (SQLite)
    try:
        attempt = engine.start_attempt(session, current_user.id, quiz)
    except engine.QuizUnavailable:
        session.commit()
        return redirect(url_for("quiz.overview", module=module))
    session.commit()
    return redirect(url_for("quiz.attempt", module=module, attempt_id=attempt.id))


def _render_attempt(attempt: QuizAttempt, page: list, status: int = 200):
    quiz, module = _quiz_or_404(attempt.module_slug)
    return render_template(
        "learner/quiz/attempt.html",
        module=module,
        quiz=quiz,
        quiz_key=attempt.module_slug,
        attempt=attempt,
        questions=page,
    ), status


@bp.get("/<module>/attempts/<int:attempt_id>")
def attempt(module: str, attempt_id: int):
    found = _attempt_or_404(module, attempt_id)
    session = db_session()
    if engine.close_if_expired(session, found):
        session.commit()
        flash(_("Time ran out. The answers saved in time were graded."), "warning")
    if found.closed:
        return redirect(url_for("quiz.review", module=module, attempt_id=attempt_id))
    return _render_attempt(found, attempt_page(engine.questions_of(session, attempt_id)))


def _closed_response(outcome: engine.Outcome, module: str, submitting: bool = False):
    review = url_for("quiz.review", module=module, attempt_id=outcome.attempt.id)
    if outcome.result == "time_up":
        message = _("Time ran out: these answers came too late and were not recorded.")
    else:
        message = _("This attempt was already submitted. Nothing was changed.")
    if _wants_json():
        return jsonify(error=message, review=review), 409
    if submitting and outcome.result == "already_closed":
        # A double click or a resubmitted page: show the result of the one submission.
        flash(message, "info")
        return redirect(review, 303)
    return render_template("learner/quiz/closed.html", message=message, review=review), 409


def _apply_answers(
    module: str, attempt_id: int, apply: Callable[..., engine.Outcome], commit: bool = True
) -> engine.Outcome | ResponseReturnValue:
    """Run ``apply`` (save or submit) on the posted answers; an Outcome or a response.

    The claim on the attempt must open its own transaction on SQLite, so whatever the
    request read so far is committed first there (``end_reading``). With ``commit`` False
    the caller commits (a submit, together with the certificate it may earn).
    """
    _attempt_or_404(module, attempt_id)
    session = db_session()
    end_reading(session)
    form = request.form.to_dict(flat=False)
    try:
        outcome = apply(session, current_user.id, attempt_id, request.form.get("token", ""), form)
    except engine.BadToken:
        session.rollback()
        return _bad_token()
    except engine.AnswersInvalid as exc:
        session.rollback()
        return _invalid(exc, attempt_id, form)
    if commit:
        session.commit()
    return outcome


@bp.post("/<module>/attempts/<int:attempt_id>/save")
def save(module: str, attempt_id: int):
    outcome = _apply_answers(module, attempt_id, engine.save_answers)
    if not isinstance(outcome, engine.Outcome):
        return outcome
    if outcome.result != "saved":
        return _closed_response(outcome, module)
    if _wants_json():
        return jsonify(saved=outcome.saved, saved_at=format_datetime(outcome.at, "short"))
    flash(_("Your answers are saved."), "success")
    return redirect(url_for("quiz.attempt", module=module, attempt_id=attempt_id))


def _bad_token():
    message = _("This form belongs to another attempt. Open the quiz again and continue there.")
    if _wants_json():
        return jsonify(error=message), 400
    return render_error(400, message)


def _invalid(exc: engine.AnswersInvalid, attempt_id: int, form: dict):
    if exc.unknown:
        message = _("The form had an answer to a question that is not in this attempt.")
        if _wants_json():
            return jsonify(error=message), 400
        return render_error(400, message)
    if _wants_json():
        errors = {str(p): _(e.message, **e.params) for p, e in exc.errors.items()}
        return jsonify(error=_("Some answers could not be read."), errors=errors), 400
    found = db_session().get(QuizAttempt, attempt_id)
    questions = engine.questions_of(db_session(), attempt_id)
    return _render_attempt(found, attempt_page(questions, exc.errors, form), 400)


@bp.post("/<module>/attempts/<int:attempt_id>/submit")
def submit(module: str, attempt_id: int):
    outcome = _apply_answers(module, attempt_id, engine.submit_attempt, commit=False)
    if not isinstance(outcome, engine.Outcome):
        return outcome
    if outcome.result != "submitted":
        db_session().commit()
        return _closed_response(outcome, module, submitting=True)
    if outcome.attempt.passed:
        # One transaction: the passed attempt and the certificate it earns, or neither.
        certify_if_earned(current_user.id)
    else:
        db_session().commit()
    return redirect(url_for("quiz.review", module=module, attempt_id=attempt_id), 303)


@bp.get("/<module>/attempts/<int:attempt_id>/review")
def review(module: str, attempt_id: int):
    found = _attempt_or_404(module, attempt_id)
    session = db_session()
    if engine.close_if_expired(session, found):
        session.commit()
    if not found.closed:
        return redirect(url_for("quiz.attempt", module=module, attempt_id=attempt_id))
    cat = catalogue()
    lessons = {(m.slug, lesson.slug): lesson.title for m in cat.modules for lesson in m.lessons}
    quiz, mod = _quiz_or_404(module)
    history = engine.attempts_of(session, current_user.id, module, _kind(module))
    allowed = engine.eligibility(quiz, history) if quiz else None
    show_key = engine.key_shown(found, history)
    return render_template(
        "learner/quiz/review.html",
        module=mod,
        quiz=quiz,
        quiz_key=module,
        attempt=found,
        show_key=show_key,
        questions=review_page(engine.questions_of(session, attempt_id), show_key),
        lessons=lessons,
        allowed=allowed,
        refusal=_refusal(allowed) if allowed else None,
    )
