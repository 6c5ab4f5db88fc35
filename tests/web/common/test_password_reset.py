"""Self-service password reset by email: one-time expiring link, no enumeration, audited."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from courseware.core import clock
from courseware.core.models import AuditEvent, LearnerContact, PasswordResetToken
from tests.conftest import PASSWORD, csrf_token, login, make_user
from tests.hr.test_reports import NOW

EN = {"Accept-Language": "en"}
NEW = "a brand new sentence"


@pytest.fixture
def mail(app, smtp_server):
    url, inbox = smtp_server
    app.config["SMTP_URL"] = url
    clock.set_time(NOW)
    yield inbox
    clock.set_time(None)


def ask(client, username: str):
    token = csrf_token(client, "/login/forgot")
    return client.post(
        "/login/forgot", data={"username": username, "csrf_token": token}, headers=EN
    )


def link_in(inbox, index: int = -1) -> str:
    message = message_from_bytes(inbox.messages[index].content, policy=policy.default)
    return re.search(r"http://localhost(/login/reset/\S+)", message.get_content()).group(1)


def test_without_mail_the_login_page_says_ask_your_administrator(client):
    page = client.get("/login", headers=EN).get_data(as_text=True)
    assert "Ask your administrator to reset it." in page and "/login/forgot" not in page
    assert client.get("/login/forgot").status_code == 404


def test_reset_by_email_once_and_no_enumeration(app, client, db, mail):
    user = make_user(db, "learner")
    db.add(LearnerContact(user_id=user.id, email="learner@bank.example", updated_at=NOW))
    make_user(db, "nomail")
    db.commit()
    assert "/login/forgot" in client.get("/login").get_data(as_text=True)
    answers = []
    for name in ("learner", "nobody-here", "nomail"):
        response = ask(client, name)
        assert response.status_code == 302 and response.location == "/login"
        answers.append(client.get("/login", headers=EN).get_data(as_text=True))
    said = [re.search(r"If that account[^<]*", a).group(0) for a in answers]
    assert said[0] == said[1] == said[2]  # the same words whoever was named
    assert len(mail.messages) == 1 and mail.messages[0].rcpt_tos == ["learner@bank.example"]
    path = link_in(mail)
    token = path.rsplit("/", 1)[1]
    stored = db.scalar(select(PasswordResetToken.token_hash))
    assert token not in stored and len(stored) == 64  # only the hash is kept
    # CSRF is checked; the password rules are today's.
    assert client.post(path, data={"new_password": NEW, "confirm": NEW}).status_code == 400
    form = csrf_token(client, path)
    weak = client.post(path, data={"new_password": "short", "confirm": "short", "csrf_token": form})
    assert weak.status_code == 400
    done = client.post(path, data={"new_password": NEW, "confirm": NEW, "csrf_token": form})
    assert done.status_code == 302
    assert login(app.test_client(), "learner", NEW).status_code == 302
    assert login(app.test_client(), "learner", PASSWORD).status_code != 302
    # The link works once.
    assert client.get(path).status_code == 404
    again = client.post(
        path, data={"new_password": NEW + "x", "confirm": NEW + "x", "csrf_token": form}
    )
    assert again.status_code == 404
    db.rollback()  # see what the requests committed
    actions = db.scalars(select(AuditEvent.action)).all()
    assert "account.password_reset_request" in actions
    assert "account.password_reset_by_email" in actions


def test_a_link_expires_and_a_newer_one_replaces_it(app, client, db, mail):
    user = make_user(db, "learner")
    db.add(LearnerContact(user_id=user.id, email="learner@bank.example", updated_at=NOW))
    db.commit()
    ask(client, "learner@bank.example")  # the address works as well as the user name
    first = link_in(mail)
    ask(client, "LEARNER")
    second = link_in(mail)
    assert client.get(first).status_code == 404  # replaced by the newer one
    assert client.get(second).status_code == 200
    clock.set_time(NOW + timedelta(minutes=61))
    assert client.get(second).status_code == 404


def test_asking_is_rate_limited(app, client, db, mail):
    for _ in range(5):
        assert ask(client, "someone").status_code == 302
    assert ask(client, "someone").status_code == 429


def test_the_token_stays_out_of_the_request_log(app, client, db, mail, caplog):
    user = make_user(db, "learner")
    db.add(LearnerContact(user_id=user.id, email="learner@bank.example", updated_at=NOW))
    db.commit()
    ask(client, "learner")
    path = link_in(mail)
    with caplog.at_level("INFO", logger="courseware.request"):
        assert client.get(path).status_code == 200
    token = path.rsplit("/", 1)[1]
    lines = [r.getMessage() + str(getattr(r, "fields", "")) for r in caplog.records]
    assert any("/login/reset/<token>" in line for line in lines)
    assert not any(token in line for line in lines)
