"""Practice exercises in a lesson: answered in the page, recorded for the learner's own
review, ungraded, and nobody else's to read or write."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware.core.models import (
    AttemptQuestion,
    Certificate,
    LessonProgress,
    PracticeAnswer,
    QuizAttempt,
)
from tests.conftest import csrf_token, login, make_user, post

LESSON = "/modules/alpha/second"
COMPUTE = f"{LESSON}/practice/installment"
JUDGE = f"{LESSON}/practice/first-look"
RIGHT = "88.85"  # 1,000 at 1% a month over 12 months, declining balance


def _answer(client: FlaskClient, path: str, answer: str, **kw):
    return post(client, path, {"answer": answer}, token_from=LESSON, **kw)


def _section(html: str, exercise: str) -> str:
    match = re.search(
        rf'<section class="practice" id="practice-{exercise}".*?</section>', html, re.S
    )
    assert match, exercise
    return match.group(0)


def _feedback(html: str, exercise: str) -> str:
    section = _section(html, exercise)
    match = re.search(
        r'<div class="practice-feedback"[^>]*>(.*?)</div>\s*</section>', section, re.S
    )
    assert match
    return match.group(1)


def _rows(db: Session) -> list[PracticeAnswer]:
    db.rollback()  # end the read snapshot: see what the app committed since
    return list(db.scalars(select(PracticeAnswer).order_by(PracticeAnswer.id)))


def test_the_lesson_shows_an_accessible_form_per_exercise(as_trainee: FlaskClient):
    html = as_trainee.get(LESSON).get_data(as_text=True)
    compute = _section(html, "installment")
    assert 'aria-labelledby="practice-installment-title"' in compute
    assert '<label for="practice-installment-answer">' in compute
    assert 'inputmode="decimal"' in compute and 'name="csrf_token"' in compute
    assert f'action="{COMPUTE}"' in compute and 'method="post"' in compute
    assert 'role="status" aria-live="polite"' in compute
    assert "1,000" in compute and "12" in compute  # the loan terms, from the same numbers
    judge = _section(html, "first-look")
    assert "<fieldset" in judge and "<legend>" in judge and judge.count('type="radio"') == 2
    assert _feedback(html, "installment").strip() == ""  # no verdict before an answer
    assert RIGHT not in html  # nor the answer


def test_no_script_post_records_the_answer_and_shows_feedback_at_the_exercise(
    as_trainee: FlaskClient, db: Session
):
    response = _answer(as_trainee, COMPUTE, "80")
    assert response.status_code == 302
    assert response.location == f"{LESSON}#practice-installment"
    [row] = _rows(db)
    assert (row.module_slug, row.lesson_slug, row.exercise_id) == ("alpha", "second", "installment")
    assert (row.answer, row.correct) == ("80", False)
    assert row.user_id is not None and row.answered_at is not None
    html = as_trainee.get(response.location).get_data(as_text=True)
    feedback = _feedback(html, "installment")
    assert "is-wrong" in feedback and "80" in feedback
    assert "88.85" in feedback  # the right figure, computed by the platform
    assert "遞減餘額法" in feedback  # the explanation
    assert 'value="80"' in _section(html, "installment")  # their last answer is in the field


def test_a_wrong_then_a_right_answer(as_trainee: FlaskClient, db: Session):
    _answer(as_trainee, COMPUTE, "100")
    _answer(as_trainee, COMPUTE, "88.8")
    assert [(r.answer, r.correct) for r in _rows(db)] == [("100", False), ("88.8", True)]
    feedback = _feedback(as_trainee.get(LESSON).get_data(as_text=True), "installment")
    assert "is-right" in feedback and "is-wrong" not in feedback


def test_a_judgement_shows_the_right_choice_and_why(as_trainee: FlaskClient, db: Session):
    _answer(as_trainee, JUDGE, "a")
    html = as_trainee.get(LESSON).get_data(as_text=True)
    feedback = _feedback(html, "first-look")
    assert "is-wrong" in feedback and "b. 現金流量" in feedback and "裝潢不會還錢" in feedback
    assert re.search(r'value="a" required checked', _section(html, "first-look"))
    _answer(as_trainee, JUDGE, "b")
    assert [r.correct for r in _rows(db)] == [False, True]


def test_the_recorded_answer_is_shown_on_return(app: Flask, as_trainee: FlaskClient, db: Session):
    _answer(as_trainee, COMPUTE, RIGHT)
    as_trainee.get("/logout")
    again = app.test_client()
    login(again, "trainee")
    html = again.get(LESSON).get_data(as_text=True)
    assert f'value="{RIGHT}"' in _section(html, "installment")
    assert "is-right" in _feedback(html, "installment")


def test_script_fetch_gets_the_feedback_as_json(as_trainee: FlaskClient, db: Session):
    response = _answer(as_trainee, COMPUTE, RIGHT, headers={"Accept": "application/json"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["valid"] and data["correct"] and "is-right" in data["feedback"]
    assert len(_rows(db)) == 1


def test_an_answer_that_is_not_a_number_is_not_recorded(as_trainee: FlaskClient, db: Session):
    response = _answer(as_trainee, COMPUTE, "很多")
    assert response.location == f"{LESSON}?invalid=installment#practice-installment"
    html = as_trainee.get(response.location).get_data(as_text=True)
    assert "is-invalid" in _feedback(html, "installment")
    assert 'aria-invalid="true"' in _section(html, "installment")
    as_json = _answer(as_trainee, COMPUTE, "", headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and not as_json.get_json()["valid"]
    assert _answer(as_trainee, JUDGE, "z").location.endswith(
        "?invalid=first-look#practice-first-look"
    )
    assert _rows(db) == []


def test_double_submit_is_harmless(as_trainee: FlaskClient, db: Session):
    token = csrf_token(as_trainee, LESSON)
    for _ in range(3):
        response = as_trainee.post(COMPUTE, data={"answer": RIGHT, "csrf_token": token})
        assert response.status_code == 302
    [row] = _rows(db)
    assert row.correct
    assert "is-right" in _feedback(as_trainee.get(LESSON).get_data(as_text=True), "installment")


def test_practice_is_ungraded(as_trainee: FlaskClient, db: Session):
    as_trainee.get(LESSON)  # viewing the lesson is recorded; answering its practice is not
    db.rollback()
    progress = db.scalar(select(func.count()).select_from(LessonProgress))
    _answer(as_trainee, COMPUTE, RIGHT)
    _answer(as_trainee, JUDGE, "b")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(QuizAttempt)) == 0
    assert db.scalar(select(func.count()).select_from(AttemptQuestion)) == 0
    assert db.scalar(select(func.count()).select_from(Certificate)) == 0
    assert db.scalar(select(func.count()).select_from(LessonProgress)) == progress
    assert all(row.completed_at is None for row in db.scalars(select(LessonProgress)))


def test_another_learner_cannot_see_or_write_someone_elses_answers(
    app: Flask, as_trainee: FlaskClient, db: Session
):
    _answer(as_trainee, COMPUTE, "77.77")
    make_user(db, "other")
    other = app.test_client()
    login(other, "other")
    html = other.get(LESSON).get_data(as_text=True)
    assert "77.77" not in html and _feedback(html, "installment").strip() == ""
    # Their post is theirs: the request names no user, so it cannot reach another's record.
    trainee_id = _rows(db)[0].user_id
    response = other.post(
        COMPUTE,
        data={"answer": RIGHT, "user_id": str(trainee_id), "csrf_token": csrf_token(other, LESSON)},
    )
    assert response.status_code == 302
    rows = _rows(db)
    assert [(r.user_id == trainee_id, r.answer) for r in rows] == [(True, "77.77"), (False, RIGHT)]
    mine = as_trainee.get(LESSON).get_data(as_text=True)
    assert "is-wrong" in _feedback(mine, "installment") and "77.77" in mine
    assert f'value="{RIGHT}"' not in _section(mine, "installment")


def test_no_csrf_token_no_answer(as_trainee: FlaskClient, db: Session):
    response = as_trainee.post(COMPUTE, data={"answer": RIGHT})
    assert response.status_code == 400
    assert _rows(db) == []


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, course: None, db: Session):
    response = client.post(COMPUTE, data={"answer": RIGHT})
    assert response.status_code in (302, 400)
    assert _rows(db) == []


def test_unknown_exercise_is_404(as_trainee: FlaskClient):
    assert _answer(as_trainee, f"{LESSON}/practice/nope", "1").status_code == 404
    assert _answer(as_trainee, "/modules/alpha/first/practice/installment", "1").status_code == 404


def test_hostile_answer_text_is_escaped(as_trainee: FlaskClient, db: Session):
    # Not a number, so not recorded; a number with a script after it is not a number either.
    _answer(as_trainee, COMPUTE, "1<script>alert(1)</script>")
    assert _rows(db) == []
    html = as_trainee.get(LESSON).get_data(as_text=True)
    assert "<script>alert(1)" not in html


def test_my_data_includes_practice_answers(as_trainee: FlaskClient):
    _answer(as_trainee, COMPUTE, RIGHT)
    data = as_trainee.get("/account/my-data.json").get_json(force=True)
    assert data["practice_answers"] == [
        {
            "module": "alpha",
            "lesson": "second",
            "exercise": "installment",
            "answer": RIGHT,
            "correct": True,
            "answered_at": data["practice_answers"][0]["answered_at"],
        }
    ]


def test_the_trainers_preview_shows_the_computed_answer(app: Flask, db: Session, course: None):
    from courseware.web.studio.editor import preview_of

    text = (
        "---\nslug: p\ntitle: 預覽\norder: 9\nminutes: 5\n---\n## 學習目標\n\n"
        "::: 練習\n月付金？\n\nid: x\nanswer: installment\namount: 1000\nrate: 1%\n"
        "type: declining\nterm: 12\nexplain: 公式。\n:::\n"
    )
    with app.test_request_context():
        preview = preview_of("content/01-alpha/09-p.md", text)
    assert "88.85" in preview["html"] and "<form" in preview["html"]
    assert "csrf_token" not in preview["html"] and "action=" not in preview["html"]
