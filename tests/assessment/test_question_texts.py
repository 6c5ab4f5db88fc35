"""Served questions' JSON is stored once (``question_texts``) and read back with the row."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from courseware.assessment import attempts as engine
from courseware.core.db import begin_write
from courseware.core.models import QuestionText, QuizAttempt
from courseware.core.question_texts import digest_of, intern_texts
from tests.assessment.helpers import all_right
from tests.conftest import make_user, post


def _intern(session, body):
    """One text, stored if new."""
    return intern_texts(session, [body])[0]


def _texts(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(QuestionText))


def test_the_same_json_interned_twice_is_one_row_whatever_its_key_order(db):
    body = {"prompt": "哪一項?", "choices": [["b", "二"], ["a", "一"]], "weight": 1.5}
    first = _intern(db, body)
    db.commit()
    again = _intern(db, {"weight": 1.5, "choices": [["b", "二"], ["a", "一"]], "prompt": "哪一項?"})
    other = _intern(db, {**body, "choices": [["a", "一"], ["b", "二"]]})  # another order
    db.commit()
    assert again.id == first.id and other.id != first.id
    assert _texts(db) == 2
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.digest == digest_of(body) == hashlib.sha256(canonical.encode()).hexdigest()
    db.expire_all()
    assert db.get(QuestionText, first.id).body == body
    # one call with repeats gives each body's row, in order
    many = intern_texts(db, [body, {"x": 1}, body, {"x": 1}])
    assert [t.id for t in many] == [first.id, many[1].id, first.id, many[1].id]
    assert _texts(db) == 3


def test_two_attempts_of_the_same_question_share_one_stored_definition(db, banks, fixed_clock):
    bank = banks["alpha"]
    attempts = []
    for name, seed in (("first", 1), ("second", 2)):
        learner = make_user(db, name)
        attempt = engine.start_attempt(db, learner.id, bank, rng=random.Random(seed))
        db.commit()
        attempts.append({q.question_id: q for q in engine.questions_of(db, attempt.id)})
    first, second = attempts
    assert set(first) == set(second) == {q.id for q in bank.active}
    for qid, question in first.items():
        assert question.definition_id == second[qid].definition_id
        assert question.definition == bank.question(qid).model_dump(mode="json")
        assert question.served["prompt"] == question.definition["prompt"]
    definitions = {q.definition_id for q in first.values()}
    served = {q.served_id for q in (*first.values(), *second.values())}
    assert _texts(db) == len(definitions | served) and not definitions & served


def test_an_attempts_questions_come_with_their_texts_in_one_statement(db, banks, fixed_clock):
    learner = make_user(db, "learner")
    attempt = engine.start_attempt(db, learner.id, banks["alpha"], rng=random.Random(3))
    db.commit()
    db.expunge_all()
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    bind = db.get_bind()
    event.listen(bind, "before_cursor_execute", note)
    try:
        questions = engine.questions_of(db, attempt.id)
        bodies = [(q.served["prompt"], q.definition["lesson"]) for q in questions]
    finally:
        event.remove(bind, "before_cursor_execute", note)
    assert len(bodies) == banks["alpha"].draw and len(seen) == 1


def test_a_quiz_taken_through_the_site_is_graded_reviewed_and_exported(app, db, as_trainee):
    client = as_trainee
    started = post(client, "/quiz/alpha/start", token_from="/quiz/alpha")
    attempt_id = int(started.location.rsplit("/", 1)[1])
    db.rollback()
    questions = engine.questions_of(db, attempt_id)
    form = all_right(questions, token=db.get(QuizAttempt, attempt_id).token)
    sent = post(client, f"/quiz/alpha/attempts/{attempt_id}/submit", form)
    assert sent.status_code == 303
    review = client.get(sent.location).get_data(as_text=True)
    for question in questions:
        assert question.definition["explanation"].strip() in review
    db.rollback()
    assert all(q.correct for q in engine.questions_of(db, attempt_id))
    data = client.get("/account/my-data.json").get_json(force=True)
    (exported,) = [a for a in data["quiz_attempts"] if a["quiz"] == "alpha"]
    assert [a["question"] for a in exported["answers"]] == [q.question_id for q in questions]
    assert all(a["points"] == 1.0 for a in exported["answers"])


def test_two_transactions_adding_the_same_text_at_once_share_one_row(app: Flask, db):
    # The first adds the text and waits; the second looks, finds nothing committed, adds it
    # too (PostgreSQL: its insert waits for the first's, then skips it; SQLite: its writing
    # transaction waits for the first's to end) and gets the first's row.
    sessions = app.extensions["courseware.core.db"].sessions
    body = {"prompt": "同時", "choices": [["a", "1"]]}
    got: dict[str, int] = {}
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with sessions() as other:
                begin_write(other)
                got["second"] = _intern(other, body).id
                other.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    with sessions() as first:
        begin_write(first)
        got["first"] = _intern(first, body).id
        thread = threading.Thread(target=second)
        thread.start()
        _until_waiting(db)
        assert "second" not in got
        first.commit()
    thread.join(10)
    assert not thread.is_alive() and not errors, errors
    assert got["second"] == got["first"]
    assert _texts(db) == 1


def _until_waiting(db: Session) -> None:
    """Until another session waits for a lock (PostgreSQL), or a moment (SQLite)."""
    if db.get_bind().dialect.name != "postgresql":
        time.sleep(0.5)
        return
    for _ in range(100):
        waiting = db.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        db.rollback()
        if waiting:
            return
        time.sleep(0.05)
    pytest.fail("the second transaction never waited for the first")
