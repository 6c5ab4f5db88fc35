"""Attempts: start or resume, save, submit exactly once, limits, cool-down, time limit."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from courseware.assessment import attempts as engine
from courseware.assessment.services import quiz_standings
from courseware.core import clock
from courseware.core.learner_marks import pending
from courseware.core.models import AttemptQuestion, QuizAttempt
from tests.assessment.helpers import all_right, all_wrong, form_for
from tests.concurrency import in_threads
from tests.conftest import make_user


@pytest.fixture
def learner(db: Session):
    return make_user(db, "learner")


def _start(db, user, bank, seed=1):
    attempt = engine.start_attempt(db, user.id, bank, rng=random.Random(seed))
    db.commit()
    return attempt, engine.questions_of(db, attempt.id)


def test_start_stores_what_was_served_and_the_revision(db, banks, learner, fixed_clock):
    bank = banks["alpha"]
    attempt, questions = _start(db, learner, bank)
    assert attempt.status == "open" and attempt.bank_revision_id == bank.revision_id
    assert attempt.max_score == bank.draw == len(questions)
    assert {q.question_id for q in questions} == {q.id for q in bank.active}
    single = next(q for q in questions if q.qtype == "single")
    assert sorted(k for k, _text in single.served["choices"]) == ["a", "b", "c"]
    assert single.definition["answer"] == "b" and single.bank_revision_id == bank.revision_id
    again = engine.start_attempt(db, learner.id, bank)
    assert again.id == attempt.id  # resumed, not drawn again
    assert db.scalar(select(func.count()).select_from(QuizAttempt)) == 1


def test_answers_are_saved_as_you_go_and_survive_a_resume(db, banks, learner, fixed_clock):
    attempt, questions = _start(db, learner, banks["alpha"])
    form = form_for(questions, {"alpha-single": "b", "alpha-numeric": 113.33}, token=attempt.token)
    outcome = engine.save_answers(db, learner.id, attempt.id, attempt.token, form)
    db.commit()
    assert outcome.result == "saved" and outcome.saved == 2
    resumed = engine.start_attempt(db, learner.id, banks["alpha"])
    saved = {q.question_id: q.answer for q in engine.questions_of(db, resumed.id)}
    assert saved["alpha-single"] == "b" and saved["alpha-numeric"] == 113.33
    assert saved["alpha-multiple"] is None


@pytest.mark.parametrize(
    ("fields", "field_error"),
    [
        ({"q-99": ["0"]}, None),  # a question that was not served
        ({"q-1-7": ["1"]}, "any"),  # a sub-field no question has
    ],
)
def test_answers_to_questions_not_served_change_nothing(
    db, banks, learner, fixed_clock, fields, field_error
):
    attempt, questions = _start(db, learner, banks["alpha"])
    form = {**form_for(questions, {"alpha-single": "b"}), **fields}
    with pytest.raises(engine.AnswersInvalid):
        engine.save_answers(db, learner.id, attempt.id, attempt.token, form)
    db.rollback()
    with pytest.raises(engine.AnswersInvalid):
        engine.submit_attempt(db, learner.id, attempt.id, attempt.token, form)
    db.rollback()
    assert all(q.answer is None for q in engine.questions_of(db, attempt.id))
    assert db.get(QuizAttempt, attempt.id).status == "open"


def test_bad_choices_and_numbers_are_refused_by_question(db, banks, learner, fixed_clock):
    attempt, questions = _start(db, learner, banks["alpha"])
    by_id = {q.question_id: q for q in questions}
    form = form_for(questions, {"alpha-true-false": True})
    form[f"q-{by_id['alpha-single'].position}"] = ["17"]
    form[f"q-{by_id['alpha-numeric'].position}"] = ["about a hundred"]
    with pytest.raises(engine.AnswersInvalid) as raised:
        engine.submit_attempt(db, learner.id, attempt.id, attempt.token, form)
    db.rollback()
    errors = raised.value.errors
    assert set(errors) == {by_id["alpha-single"].position, by_id["alpha-numeric"].position}
    assert "not one of the choices" in errors[by_id["alpha-single"].position].message
    assert all(q.answer is None for q in engine.questions_of(db, attempt.id))


def test_another_users_attempt_is_not_found(db, banks, learner, fixed_clock):
    other = make_user(db, "other")
    attempt, questions = _start(db, learner, banks["alpha"])
    with pytest.raises(engine.AttemptNotFound):
        engine.submit_attempt(db, other.id, attempt.id, attempt.token, all_right(questions))
    db.rollback()
    with pytest.raises(engine.AttemptNotFound):
        engine.get_attempt(db, other.id, attempt.id)
    assert db.get(QuizAttempt, attempt.id).status == "open"


def test_a_wrong_token_is_refused(db, banks, learner, fixed_clock):
    attempt, questions = _start(db, learner, banks["alpha"])
    with pytest.raises(engine.BadToken):
        engine.submit_attempt(db, learner.id, attempt.id, "forged", all_right(questions))
    db.rollback()
    assert db.get(QuizAttempt, attempt.id).status == "open"


def test_submitting_twice_records_one_submission(db, banks, learner, fixed_clock):
    attempt, questions = _start(db, learner, banks["alpha"])
    first = engine.submit_attempt(db, learner.id, attempt.id, attempt.token, all_right(questions))
    db.commit()
    assert first.result == "submitted" and first.attempt.passed and first.attempt.score == 5
    clock.advance(timedelta(seconds=2))
    second = engine.submit_attempt(db, learner.id, attempt.id, attempt.token, all_wrong(questions))
    db.commit()
    assert second.result == "already_closed"
    stored = db.get(QuizAttempt, attempt.id)
    db.refresh(stored)
    assert stored.score == 5 and stored.submitted_at == fixed_clock
    saved = engine.save_answers(db, learner.id, attempt.id, attempt.token, all_wrong(questions))
    assert saved.result == "already_closed"
    db.rollback()
    assert all(q.correct for q in engine.questions_of(db, attempt.id))


def test_fail_wait_retake_pass_and_limits(db, banks, learner, fixed_clock):
    bank = banks["alpha"]  # pass mark 0.8, three attempts, ten minutes' cool-down
    attempt, questions = _start(db, learner, bank)
    outcome = engine.submit_attempt(db, learner.id, attempt.id, attempt.token, all_wrong(questions))
    db.commit()
    assert outcome.result == "submitted" and not outcome.attempt.passed
    assert outcome.attempt.score == 0
    with pytest.raises(engine.QuizUnavailable) as raised:
        engine.start_attempt(db, learner.id, bank)
    assert raised.value.message == "You can try again from %(time)s."
    allowed = engine.eligibility(bank, engine.attempts_of(db, learner.id, "alpha"))
    assert allowed.next_at == fixed_clock + timedelta(minutes=10)
    clock.advance(timedelta(minutes=10))
    attempt, questions = _start(db, learner, bank, seed=2)
    # four right and the ordering reversed: 4 of 5 points is exactly the pass mark
    answers = {q.question_id: None for q in questions}
    form = all_right([q for q in questions if q.qtype != "ordering"])
    form.update(all_wrong([q for q in questions if q.qtype == "ordering"]))
    outcome = engine.submit_attempt(db, learner.id, attempt.id, attempt.token, form)
    db.commit()
    assert answers and outcome.attempt.score == 4 and outcome.attempt.passed
    with pytest.raises(engine.QuizUnavailable, match="passed"):
        engine.start_attempt(db, learner.id, bank)
    standing = quiz_standings(db, learner.id)["alpha"]
    assert standing.passed and standing.attempts == 2 and standing.best_percent == 80


def test_the_attempt_limit_comes_from_the_bank(db, banks, learner, fixed_clock):
    bank = banks["alpha"]
    for _ in range(bank.max_attempts):
        attempt, questions = _start(db, learner, bank)
        engine.submit_attempt(db, learner.id, attempt.id, attempt.token, all_wrong(questions))
        db.commit()
        clock.advance(timedelta(minutes=bank.cooldown_minutes))
    with pytest.raises(engine.QuizUnavailable) as raised:
        engine.start_attempt(db, learner.id, bank)
    assert raised.value.params == {"max": 3}


def test_the_time_limit_is_enforced_on_the_server(db, banks, learner, fixed_clock):
    bank = banks["beta"]  # five minutes, pass mark 0.5, two questions
    attempt, questions = _start(db, learner, bank)
    assert attempt.deadline == fixed_clock + timedelta(minutes=5)
    first, second = questions
    early = form_for(
        questions, {first.question_id: (all_right_answer := first.definition["answer"])}
    )
    engine.save_answers(db, learner.id, attempt.id, attempt.token, early)
    db.commit()
    clock.advance(timedelta(minutes=5, seconds=engine.GRACE_SECONDS - 1))
    assert engine.save_answers(db, learner.id, attempt.id, attempt.token, early).result == "saved"
    db.commit()
    clock.advance(timedelta(seconds=2))
    late = engine.submit_attempt(db, learner.id, attempt.id, attempt.token, all_right(questions))
    db.commit()
    assert late.result == "time_up"
    stored = {q.question_id: q.answer for q in engine.questions_of(db, attempt.id)}
    assert stored == {first.question_id: all_right_answer, second.question_id: None}
    closed = db.get(QuizAttempt, attempt.id)
    db.refresh(closed)
    assert closed.status == "expired" and closed.score == 1 and closed.passed
    assert closed.submitted_at == attempt.deadline


def test_an_expired_attempt_is_closed_when_next_seen(db, banks, learner, fixed_clock):
    attempt, _questions = _start(db, learner, banks["beta"])
    clock.advance(timedelta(minutes=6))
    fresh = engine.start_attempt(db, learner.id, banks["beta"])  # no cool-down on beta
    db.commit()
    assert fresh.id != attempt.id
    old = db.get(QuizAttempt, attempt.id)
    db.refresh(old)
    assert old.status == "expired" and old.score == 0 and not old.passed


def test_closing_an_attempt_marks_its_learner_without_looking_the_owner_up(
    db, banks, learner, fixed_clock
):
    """A submission and an expiry mark the learner for the HR summary's recount at commit
    themselves: no statement looks up the attempt's owner (one round trip each on
    PostgreSQL, twice per submission)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(" ".join(statement.split()))

    attempt, questions = _start(db, learner, banks["alpha"])
    expiring, _questions = _start(db, learner, banks["beta"])
    engine_ = db.get_bind()
    event.listen(engine_, "before_cursor_execute", note)
    try:
        outcome = engine.submit_attempt(
            db, learner.id, attempt.id, attempt.token, all_right(questions)
        )
        assert outcome.result == "submitted"
        assert pending(db)[0] == {learner.id}
        db.commit()
        clock.advance(timedelta(minutes=6))
        assert engine.close_if_expired(db, db.get(QuizAttempt, expiring.id))
        assert pending(db)[0] == {learner.id}
        db.commit()
    finally:
        event.remove(engine_, "before_cursor_execute", note)
    assert not [s for s in seen if s.startswith("SELECT quiz_attempts.user_id FROM")]


def test_twenty_threads_submitting_one_attempt_record_one_submission(
    app, db, banks, learner, fixed_clock
):
    attempt, questions = _start(db, learner, banks["alpha"])
    form = all_right(questions)
    sessions = app.extensions["courseware.core.db"].sessions

    def submit():
        with sessions() as session:
            outcome = engine.submit_attempt(session, learner.id, attempt.id, attempt.token, form)
            session.commit()
            return outcome.result

    results = in_threads(20, submit)
    assert sorted(results) == ["already_closed"] * 19 + ["submitted"]
    db.rollback()  # a fresh snapshot
    graded = db.scalar(
        select(func.count()).select_from(AttemptQuestion).where(AttemptQuestion.points.is_not(None))
    )
    assert graded == len(questions)
    db.expire_all()
    assert db.get(QuizAttempt, attempt.id).score == 5


def test_ten_threads_starting_at_once_open_one_attempt(app, db, banks, learner, fixed_clock):
    sessions = app.extensions["courseware.core.db"].sessions

    def start():
        with sessions() as session:
            attempt = engine.start_attempt(session, learner.id, banks["alpha"])
            session.commit()
            return attempt.id

    ids = in_threads(10, start)
    assert len(set(ids)) == 1
    assert db.scalar(select(func.count()).select_from(QuizAttempt)) == 1


def test_a_reset_attempt_counts_for_nothing(db, banks, learner, fixed_clock):
    bank = banks["alpha"]
    attempt, questions = _start(db, learner, bank)
    engine.submit_attempt(db, learner.id, attempt.id, attempt.token, all_right(questions))
    db.commit()
    assert quiz_standings(db, learner.id)["alpha"].passed
    stored = db.get(QuizAttempt, attempt.id)
    stored.reset_at = fixed_clock  # a trainer's audited reset (courseware.certification)
    db.commit()
    assert "alpha" not in quiz_standings(db, learner.id)
    assert engine.eligibility(bank, engine.attempts_of(db, learner.id, "alpha")).can_start
    fresh = engine.start_attempt(db, learner.id, bank)
    assert fresh.id != attempt.id


def test_a_part_field_on_a_question_of_one_input_is_refused_whatever_its_type(
    db, banks, learner, fixed_clock
):
    attempt, questions = _start(db, learner, banks["alpha"])
    for question in questions:
        if question.qtype == "ordering":
            continue
        form = {**form_for(questions, {}), f"q-{question.position}-0": ["1"]}
        with pytest.raises(engine.AnswersInvalid) as raised:
            engine.save_answers(db, learner.id, attempt.id, attempt.token, form)
        db.rollback()
        assert raised.value.unknown == [f"q-{question.position}-0"], question.qtype
