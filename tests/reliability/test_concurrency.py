"""Twenty requests at once, through the web layer, on SQLite and PostgreSQL: the same
quiz submission, the same case decision, the last lesson that completes a certificate.
Exactly one is recorded; every other request gets a clean answer (never a 5xx)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core import clock
from courseware.core.models import CaseDecision, Certificate, LessonProgress, QuizAttempt
from tests.assessment.helpers import all_right
from tests.certification.test_certification import decide, pass_quiz
from tests.concurrency import in_threads
from tests.conftest import csrf_token, login, post

THREADS = 20


def _at_once(app: Flask, cookie: str, send: Callable) -> list[int]:
    """Run ``send(client)`` from THREADS clients sharing one signed-in session."""

    def one() -> int:
        client = app.test_client()
        client.set_cookie("session", cookie)
        response = send(client)
        response.get_data()
        return response.status_code

    return in_threads(THREADS, one)


def _signed_in(app: Flask, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _cookie(client) -> str:
    """The session as it is now (after a CSRF token was put into it)."""
    return client.get_cookie("session").value


def test_twenty_submits_of_one_quiz_attempt_record_one(app, db, users, course):
    client = _signed_in(app, "trainee")
    started = post(client, "/quiz/alpha/start", token_from="/quiz/alpha")
    attempt_id = int(started.location.rsplit("/", 1)[1])
    db.rollback()
    attempt = db.get(QuizAttempt, attempt_id)
    from courseware.assessment import attempts as engine

    form = {"token": attempt.token, "csrf_token": csrf_token(client, "/"),
            **all_right(engine.questions_of(db, attempt_id))}  # fmt: skip
    db.rollback()
    statuses = _at_once(app, _cookie(client), lambda c: c.post(
        f"/quiz/alpha/attempts/{attempt_id}/submit", data=form))  # fmt: skip
    assert all(s < 500 for s in statuses), statuses
    assert statuses.count(303) >= 1
    db.rollback()
    attempt = db.get(QuizAttempt, attempt_id)
    assert attempt.status == "submitted" and attempt.passed
    assert db.scalar(select(func.count()).select_from(QuizAttempt)) == 1


def test_twenty_submits_of_one_case_decision_record_one(app, db, users, course):
    client = _signed_in(app, "trainee")
    html = client.get("/cases/grocery-kiosk").get_data(as_text=True)
    form = {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
            for name in ("token", "seed", "revision", "csrf_token")}  # fmt: skip
    option = re.search(r'name="option" value="([^"]+)"', html).group(1)
    form.update({"option": option})
    statuses = _at_once(
        app, _cookie(client), lambda c: c.post("/cases/grocery-kiosk/decide", data=form)
    )
    assert all(s < 500 for s in statuses), statuses
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CaseDecision)) == 1


def test_twenty_requests_completing_the_last_requirement_issue_one_certificate(
    app, db, users, course
):
    learner = users["trainee"]
    catalogue = build_catalogue(*published_sources(db))
    policy = app.extensions["courseware.certification.policy"].policy
    app.extensions["courseware.certification.policy"] = type(app.extensions["courseware.certification.policy"])(
        policy.model_copy(update={"certification": policy.certification.model_copy(
            update={"cases_required": 2})}), [],
    )  # fmt: skip
    lessons = [(m, lesson) for m in catalogue.modules for lesson in m.lessons]
    *done, (last_module, last_lesson) = lessons
    from courseware.learning import progress

    for _module, lesson in done:
        progress.mark_done(db, learner.id, lesson)
    db.commit()
    for slug in catalogue.quizzes:
        pass_quiz(db, learner, slug)
    for slug in list(catalogue.cases)[:2]:
        decide(db, learner, slug, 90)
    db.commit()
    client = _signed_in(app, "trainee")
    path = f"/modules/{last_module.slug}/{last_lesson.slug}/done"
    token = csrf_token(client, path.removesuffix("/done"))  # opens the lesson
    clock.advance(timedelta(minutes=20))  # read it, to the end
    form = {"csrf_token": token, "end": "1"}
    statuses = _at_once(app, _cookie(client), lambda c: c.post(path, data=form))
    assert all(s < 500 for s in statuses), statuses
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Certificate)) == 1
    assert db.scalar(
        select(func.count()).select_from(LessonProgress).where(
            LessonProgress.lesson_slug == last_lesson.slug)
    ) == 1  # fmt: skip
