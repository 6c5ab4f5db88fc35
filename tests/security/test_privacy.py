"""A learner downloads their own data; an admin anonymises someone who has left,
keeping the training records under a pseudonym; the act is audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from courseware import certification
from courseware.certification.policy import Policy
from courseware.core.models import AuditEvent, Certificate, LessonProgress, QuizAttempt, User
from tests.conftest import login, make_user, post
from tests.security.objects import arrange_objects


@pytest.fixture
def objects(app, db, course):
    return arrange_objects(app, db)


def test_a_learner_downloads_their_own_data_and_nobody_elses(app, db, objects):
    make_user(db, "other")
    client = app.test_client()
    login(client, "target")
    response = client.get("/account/my-data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["username"] == "target"
    assert {c["code"] for c in data["certificates"]} == {objects.code}
    assert data["lessons"] and data["quiz_attempts"] and data["case_decisions"]
    assert any(a["answers"] for a in data["quiz_attempts"])
    other = app.test_client()
    login(other, "other")
    theirs = json.loads(other.get("/account/my-data.json").get_data(as_text=True))
    assert theirs["certificates"] == [] and theirs["account"]["username"] == "other"


def test_admin_anonymises_a_departed_learner_and_keeps_the_records(app, db, objects, users):
    learner_id = objects.learner.id
    counts = {
        model.__name__: db.scalar(
            select(func.count()).select_from(model).where(model.user_id == learner_id)
        )
        for model in (LessonProgress, QuizAttempt, Certificate)
    }
    client = app.test_client()
    login(client, "admin")
    page = f"/admin/users/{learner_id}"
    refused = post(
        client,
        f"{page}/anonymise",
        {"reason": "Left the bank in May", "confirm": "wrong"},
        token_from=page,
    )
    assert refused.status_code == 302
    db.rollback()  # end this session's read so it sees what the requests committed
    assert db.get(User, learner_id).username == "target"
    done = post(
        client,
        f"{page}/anonymise",
        {"reason": "Left the bank in May", "confirm": "target"},
        token_from=page,
    )
    assert done.status_code == 302
    db.rollback()  # end this session's read so it sees what the requests committed
    user = db.get(User, learner_id)
    assert user.username == f"departed-{learner_id}" and not user.active
    assert user.employee_id == "" and "target" not in user.display_name
    for model in (LessonProgress, QuizAttempt, Certificate):
        kept = db.scalar(select(func.count()).select_from(model).where(model.user_id == learner_id))
        assert kept == counts[model.__name__]
    verification = certification.verify(db, objects.code, Policy())
    assert verification.holder == user.display_name
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "account.anonymise"))
    assert event.actor_id == users["admin"].id and event.reason == "Left the bank in May"
    history = db.scalars(
        select(AuditEvent).where(
            AuditEvent.target_type == "user", AuditEvent.target_id == str(learner_id)
        )
    )
    assert all(
        "target" not in json.dumps(e.before or {}) + json.dumps(e.after or {}) for e in history
    )
    assert login(app.test_client(), "target").status_code == 200  # the old name no longer signs in


def test_an_admin_cannot_anonymise_themselves(app, db, users):
    client = app.test_client()
    login(client, "admin")
    me = users["admin"]
    post(
        client,
        f"/admin/users/{me.id}/anonymise",
        {"reason": "testing it", "confirm": "admin"},
        token_from=f"/admin/users/{me.id}",
    )
    db.rollback()  # end this session's read so it sees what the requests committed
    assert db.get(User, me.id).username == "admin"
