"""Module quizzes through the browser's eyes: fail, review, retake, pass; bad input; no key."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from courseware.assessment import attempts as engine
from courseware.certification.policy import Policy
from courseware.content.store import add_revision
from courseware.core import clock
from courseware.core.models import AttemptQuestion, ContentDocument, QuizAttempt
from tests.assessment.helpers import all_right, all_wrong, form_for
from tests.conftest import DATA, csrf_token, login, make_user, post, read_lesson

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def trainee(as_trainee: FlaskClient) -> FlaskClient:
    """Signed in, reading the site in English (message ids), with the clock fixed."""
    post(as_trainee, "/language", {"lang": "en", "next": "/"})
    clock.set_time(START)
    return as_trainee


def _start(client: FlaskClient, module: str = "alpha") -> int:
    response = post(client, f"/quiz/{module}/start", token_from=f"/quiz/{module}")
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.fullmatch(rf"/quiz/{module}/attempts/(\d+)", response.location)
    assert match, response.location
    return int(match.group(1))


def _questions(db: Session, attempt_id: int) -> list[AttemptQuestion]:
    db.rollback()  # see what the requests committed
    return engine.questions_of(db, attempt_id)


def _attempt(db: Session, attempt_id: int) -> QuizAttempt:
    db.rollback()
    return db.get(QuizAttempt, attempt_id)


def _send(client, db, attempt_id, form, action="submit", module="alpha", **kw):
    attempt = _attempt(db, attempt_id)
    payload = {"token": attempt.token, **form}
    path = f"/quiz/{module}/attempts/{attempt_id}"
    payload.setdefault("csrf_token", csrf_token(client, "/"))
    return client.post(f"{path}/{action}", data=payload, **kw)


def _answers(db: Session, attempt_id: int) -> dict:
    return {q.question_id: q.answer for q in _questions(db, attempt_id)}


def test_fail_read_the_review_retake_pass_and_the_module_completes(trainee, db):
    overview = trainee.get("/quiz/alpha").get_data(as_text=True)
    assert "How answers are scored" in overview and "(right choices picked" in overview
    assert "Start the quiz" in overview and "No attempts yet." in overview
    first = _start(trainee)
    assert "Submit answers" in trainee.get(f"/quiz/alpha/attempts/{first}").get_data(as_text=True)
    response = _send(trainee, db, first, all_wrong(_questions(db, first)))
    assert response.status_code == 303
    assert response.location == f"/quiz/alpha/attempts/{first}/review"

    review = trainee.get(response.location).get_data(as_text=True)
    assert "Not passed yet" in review and "0 of 5 points (0%)" in review
    # A failed attempt's review says what was wrong and what to reread, never the key.
    for question in _questions(db, first):
        assert question.definition["explanation"].strip() not in review
    assert "Right answer" not in review and "Right order" not in review
    assert "is-right" not in review and "accepted within" not in review
    assert review.count("Wrong") >= 4 and review.count("Reread the lesson: ") == 5
    assert 'href="/modules/alpha/first"' in review and 'href="/modules/alpha/second"' in review
    assert "You can try again from" in review

    refused = post(trainee, "/quiz/alpha/start", token_from="/quiz/alpha")
    assert refused.status_code == 302 and refused.location == "/quiz/alpha"
    assert "You can try again from" in trainee.get("/quiz/alpha").get_data(as_text=True)
    dashboard = trainee.get("/").get_data(as_text=True)
    assert "Quiz not passed yet (best 0%)" in dashboard and "Module complete" not in dashboard

    # The bank's own cooldown (10 minutes) is shorter than the settings' retake wait.
    clock.advance(timedelta(minutes=10))
    assert post(trainee, "/quiz/alpha/start", token_from="/quiz/alpha").location == "/quiz/alpha"
    clock.advance(timedelta(minutes=Policy().assessment.retake_wait_minutes - 10))
    second = _start(trainee)
    assert second != first
    response = _send(trainee, db, second, all_right(_questions(db, second)))
    review = trainee.get(response.location).get_data(as_text=True)
    assert "Passed" in review and "5 of 5 points (100%)" in review
    assert review.count("Right answer") >= 4 and "Right order" in review
    for question in _questions(db, second):
        assert question.definition["explanation"].strip() in review
    # Once passed, the failed attempt's review shows the key too.
    assert "Right order" in trainee.get(f"/quiz/alpha/attempts/{first}/review").get_data(
        as_text=True
    )
    overview = trainee.get("/quiz/alpha").get_data(as_text=True)
    assert "You have passed this quiz." in overview and overview.count("Review answers") == 2

    dashboard = trainee.get("/").get_data(as_text=True)
    assert "Quiz passed (100%)" in dashboard and "Module complete" not in dashboard
    for lesson in ("first", "second"):
        read_lesson(trainee, "alpha", lesson)
    dashboard = trainee.get("/").get_data(as_text=True)
    assert dashboard.count("Module complete") == 1  # alpha only: beta is not done
    module_page = trainee.get("/modules/alpha").get_data(as_text=True)
    assert "Quiz passed (100%)" in module_page and 'href="/quiz/alpha"' in module_page


def _form_html(client, attempt_id) -> str:
    html = client.get(f"/quiz/alpha/attempts/{attempt_id}").get_data(as_text=True)
    form = html[
        html.index('<form method="post" class="quiz-form"') : html.index(
            "</form>", html.index('class="quiz-form"')
        )
    ]
    form = re.sub(r'name="(csrf_token|token)" value="[^"]*"', r'name="\1" value=""', form)
    return re.sub(r"/attempts/\d+/", "/attempts/N/", form)


def test_the_served_page_holds_no_answer_key(trainee, db, client, monkeypatch, app):
    monkeypatch.setattr(engine, "new_rng", lambda: random.Random(7))
    attempt_id = _start(trainee)
    page = _form_html(trainee, attempt_id)
    for question in _questions(db, attempt_id):
        definition = question.definition
        assert definition["explanation"].strip() not in page
        if question.qtype in ("single", "multiple"):
            shown = [key for key, _text in question.served["choices"]]
            assert f'value="{shown[0]}"' not in page  # the bank's keys never reach the page
    assert "113.33" not in page and "correct" not in page.lower() and "data-answer" not in page

    # Change every key and explanation: the page a second learner is served is the same.
    document = db.scalar(
        select(ContentDocument).where(ContentDocument.path == "quizzes/alpha.yaml")
    )
    body = (DATA / "quizzes" / "alpha.yaml").read_text(encoding="utf-8")
    changed = (
        body.replace("answer: b", "answer: c")
        .replace("answer: [a, c]", "answer: [b, d]")
        .replace("answer: false", "answer: true")
        .replace("answer: 113.33", "answer: 50")
        .replace("b 有穩定", "全部改寫")
    )
    assert changed != body
    add_revision(db, document, changed, origin="editor")
    db.commit()
    make_user(db, "second")
    other = app.test_client()
    assert login(other, "second").status_code == 302
    post(other, "/language", {"lang": "en", "next": "/"})
    other_attempt = _start(other)
    served_first = {q.question_id: q.definition for q in _questions(db, attempt_id)}
    served_second = {q.question_id: q.definition for q in _questions(db, other_attempt)}
    assert served_first["alpha-single"]["answer"] == "b"
    assert served_second["alpha-single"]["answer"] == "c"
    assert _form_html(other, other_attempt) == page


def test_answers_are_saved_as_you_go_and_resumed(trainee, db):
    attempt_id = _start(trainee)
    questions = _questions(db, attempt_id)
    response = _send(
        trainee,
        db,
        attempt_id,
        form_for(questions, {"alpha-single": "b"}),
        "save",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200 and response.get_json()["saved"] == 1
    assert _start(trainee) == attempt_id  # starting again resumes
    html = trainee.get(f"/quiz/alpha/attempts/{attempt_id}").get_data(as_text=True)
    position = next(q.position for q in questions if q.question_id == "alpha-single")
    value = form_for(questions, {"alpha-single": "b"})[f"q-{position}"][0]
    assert f'name="q-{position}" value="{value}" checked' in html
    assert "Continue the attempt" in trainee.get("/quiz/alpha").get_data(as_text=True)
    no_js = _send(trainee, db, attempt_id, form_for(questions, {"alpha-numeric": "113.33"}), "save")
    assert no_js.status_code == 302 and no_js.location == f"/quiz/alpha/attempts/{attempt_id}"
    assert _answers(db, attempt_id)["alpha-numeric"] == 113.33


@pytest.mark.parametrize("action", ["save", "submit"])
def test_bad_answers_get_a_clear_message_and_change_nothing(trainee, db, action):
    attempt_id = _start(trainee)
    questions = _questions(db, attempt_id)
    _send(trainee, db, attempt_id, form_for(questions, {"alpha-single": "b"}), "save")
    by_id = {q.question_id: q for q in questions}
    before = _answers(db, attempt_id)

    unserved = _send(trainee, db, attempt_id, {"q-42": "0"}, action)
    assert unserved.status_code == 400
    assert "not in this attempt" in unserved.get_data(as_text=True)

    bad = form_for(questions, {"alpha-true-false": True})
    bad[f"q-{by_id['alpha-single'].position}"] = ["9"]
    bad[f"q-{by_id['alpha-numeric'].position}"] = ["a lot"]
    response = _send(trainee, db, attempt_id, bad, action)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "That is not one of the choices." in html and "Enter a number" in html
    assert 'value="a lot"' in html  # what was typed is shown back beside its error
    as_json = _send(trainee, db, attempt_id, bad, action, headers={"Accept": "application/json"})
    assert as_json.status_code == 400
    assert set(as_json.get_json()["errors"]) == {
        str(by_id["alpha-single"].position),
        str(by_id["alpha-numeric"].position),
    }
    assert _answers(db, attempt_id) == before
    assert _attempt(db, attempt_id).status == "open"


def test_another_users_attempt_is_404_and_untouched(trainee, db, app):
    attempt_id = _start(trainee)
    questions = _questions(db, attempt_id)
    make_user(db, "intruder")
    intruder = app.test_client()
    login(intruder, "intruder")
    token = _attempt(db, attempt_id).token
    base = f"/quiz/alpha/attempts/{attempt_id}"
    assert intruder.get(base).status_code == 404
    assert intruder.get(f"{base}/review").status_code == 404
    for action in ("save", "submit"):
        data = {**all_right(questions), "token": token, "csrf_token": csrf_token(intruder, "/")}
        assert intruder.post(f"{base}/{action}", data=data).status_code == 404
    assert trainee.get(f"/quiz/beta/attempts/{attempt_id}").status_code == 404  # wrong module
    assert all(answer is None for answer in _answers(db, attempt_id).values())
    assert _attempt(db, attempt_id).status == "open"


def test_a_double_submit_records_one_attempt(trainee, db):
    attempt_id = _start(trainee)
    form = all_right(_questions(db, attempt_id))
    first = _send(trainee, db, attempt_id, form)
    again = _send(trainee, db, attempt_id, all_wrong(_questions(db, attempt_id)))
    assert first.status_code == again.status_code == 303
    assert again.location == first.location
    follow = trainee.get(again.location).get_data(as_text=True)
    assert "already submitted" in follow and "5 of 5 points" in follow
    db.rollback()
    assert db.scalar(select(func.count()).select_from(QuizAttempt)) == 1
    forged = _send(trainee, db, attempt_id, {**form, "token": "nope"})
    assert forged.status_code == 400


def test_a_submission_on_postgresql_is_one_transaction(trainee, db, app):
    """The answers, the grade, the summary and the certificate check commit together; on
    SQLite the request's reads are committed first (the claim must start a writer's
    transaction there), on PostgreSQL the request keeps its one transaction: a BEGIN, a
    COMMIT and a pool check-out fewer."""
    attempt_id = _start(trainee)
    attempt = _attempt(db, attempt_id)
    payload = {
        "token": attempt.token,
        "csrf_token": csrf_token(trainee, "/"),
        **all_right(_questions(db, attempt_id)),
    }
    engine_ = app.extensions["courseware.core.db"].engine
    begun: list[object] = []

    def note(connection: object) -> None:
        begun.append(connection)

    event.listen(engine_, "begin", note)
    try:
        answer = trainee.post(f"/quiz/alpha/attempts/{attempt_id}/submit", data=payload)
    finally:
        event.remove(engine_, "begin", note)
    assert answer.status_code == 303
    assert _attempt(db, attempt_id).passed
    assert len(begun) == (1 if engine_.dialect.name == "postgresql" else 2)


def test_submitting_after_the_time_limit_is_refused(trainee, db):
    attempt_id = _start(trainee, "beta")  # five minutes
    questions = _questions(db, attempt_id)
    page = trainee.get(f"/quiz/beta/attempts/{attempt_id}").get_data(as_text=True)
    assert "Submit by" in page and "data-deadline=" in page
    clock.advance(timedelta(minutes=5, seconds=engine.GRACE_SECONDS + 1))
    late = _send(trainee, db, attempt_id, all_right(questions), module="beta")
    assert late.status_code == 409
    assert "came too late and were not recorded" in late.get_data(as_text=True)
    assert all(answer is None for answer in _answers(db, attempt_id).values())
    assert _attempt(db, attempt_id).status == "expired"
    review = trainee.get(f"/quiz/beta/attempts/{attempt_id}/review").get_data(as_text=True)
    assert "Time ran out" in review and "0 of 2 points" in review


def test_an_expired_attempt_opens_on_its_review(trainee, db):
    attempt_id = _start(trainee, "beta")
    clock.advance(timedelta(minutes=6))
    response = trainee.get(f"/quiz/beta/attempts/{attempt_id}")
    assert response.status_code == 302 and response.location.endswith("/review")


def test_quiz_forms_need_csrf(trainee, db):
    attempt_id = _start(trainee)
    token = _attempt(db, attempt_id).token
    response = trainee.post(f"/quiz/alpha/attempts/{attempt_id}/submit", data={"token": token})
    assert response.status_code == 400
    assert trainee.post("/quiz/alpha/start").status_code == 400


def test_unknown_quiz_is_404_and_a_broken_bank_leaves_the_others_working(trainee, db):
    assert trainee.get("/quiz/nope").status_code == 404
    document = db.scalar(
        select(ContentDocument).where(ContentDocument.path == "quizzes/alpha.yaml")
    )
    add_revision(db, document, "module: alpha\ntitle: [broken\n", origin="editor")
    db.commit()
    html = trainee.get("/quiz/alpha").get_data(as_text=True)
    assert "not available right now" in html and "Start the quiz" not in html
    assert post(trainee, "/quiz/alpha/start", token_from="/quiz/beta").status_code == 404
    assert "Start the quiz" in trainee.get("/quiz/beta").get_data(as_text=True)
    _start(trainee, "beta")
    module_page = trainee.get("/modules/alpha").get_data(as_text=True)
    assert "The quiz for this module is not available right now." in module_page


def test_dashboard_links_each_module_quiz(trainee):
    html = trainee.get("/").get_data(as_text=True)
    assert 'href="/quiz/alpha"' in html and 'href="/quiz/beta"' in html
    assert html.count("Quiz not taken") == 2
