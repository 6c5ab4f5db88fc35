"""Sign-in, sign-out, sessions, throttling, redirects, CSRF."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from courseware.core.models import User
from tests.conftest import PASSWORD, csrf_token, login, make_user, post

FAILED = "That user name and password do not match an active account."


def test_sign_in_and_out(client: FlaskClient, users: dict[str, User], course: None):
    response = login(client, "trainee")
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").status_code == 200
    response = post(client, "/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_unknown_user_and_wrong_password_get_the_same_answer(client, users):
    headers = {"Accept-Language": "en"}
    a = client.post(
        "/login",
        data={"username": "nobody", "password": "x" * 12, "csrf_token": csrf_token(client)},
        headers=headers,
    )
    b = client.post(
        "/login",
        data={"username": "trainee", "password": "x" * 12, "csrf_token": csrf_token(client)},
        headers=headers,
    )
    assert a.status_code == b.status_code == 200
    assert FAILED in a.get_data(as_text=True) and FAILED in b.get_data(as_text=True)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/modules/alpha", "/modules/alpha"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil.example", "/"),
    ],
)
def test_next_only_goes_to_paths_on_this_site(client, users, course, target, expected):
    response = login(client, "trainee", next=target)
    assert response.location == expected


def test_anonymous_requests_redirect_to_login_with_next(client, course):
    response = client.get("/modules/alpha")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=/modules/alpha")
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200


def test_session_cookie_is_httponly_and_lax(client, users):
    response = login(client, "trainee")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_deactivated_account_cannot_sign_in_and_open_sessions_end(app, client, users, db, course):
    login(client, "trainee")
    assert client.get("/").status_code == 200
    other = app.test_client()
    login(other, "admin")
    response = post(
        other,
        f"/admin/users/{users['trainee'].id}",
        {
            "display_name": "x",
            "employee_id": "",
            "branch": "",
            "role": "trainee",
        },
        token_from="/admin/",
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, users["trainee"].id).active is False
    assert client.get("/").status_code == 302  # the open session stopped working
    assert login(app.test_client(), "trainee").status_code == 200  # and sign-in is refused


def test_a_cookie_copied_before_sign_out_no_longer_works(app, client, users, course):
    login(client, "trainee")
    copied = client.get_cookie("session").value
    post(client, "/logout")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/").status_code == 302


def test_missing_or_wrong_csrf_token_is_400_and_changes_nothing(client, users, db):
    response = client.post("/login", data={"username": "trainee", "password": PASSWORD})
    assert response.status_code == 400
    response = client.post(
        "/login", data={"username": "trainee", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert db.get(User, users["trainee"].id).last_login_at is None


def test_repeated_failures_are_throttled_without_revealing_the_account(app, client, users):
    app.config["LOGIN_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert login(client, "trainee", password="wrong password 1").status_code == 200
    assert login(client, "trainee").status_code == 429
    assert login(client, "no-such-user", password="x" * 12).status_code in (200, 429)


def test_successful_sign_ins_do_not_count_towards_the_limit(app, users):
    app.config["LOGIN_LIMIT"] = "3 per minute"
    for _ in range(6):
        c = app.test_client()
        assert login(c, "trainee").status_code == 302


def test_over_long_field_keeps_what_was_typed(client, users):
    response = client.post(
        "/login", data={"username": "u" * 80, "password": "p", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 400
    assert 'value="' + "u" * 80 + '"' in response.get_data(as_text=True)


def test_admin_created_account_must_change_password_first(app, client, db: Session, users, course):
    make_user(db, "newbie", must_change_password=True)
    response = login(client, "newbie")
    assert response.location == "/account"
    assert client.get("/").location == "/account"
    response = post(
        client,
        "/account",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
        token_from="/account",
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        ("short", "at least 10"),
        ("password123", "too common"),
        ("trainee-and-more", "too common"),
        ("aaaaaaaaaaaa", "repeats"),
    ],
)
def test_weak_new_passwords_are_refused_with_the_reason(client, users, course, new, problem):
    login(client, "trainee")
    response = post(
        client,
        "/account",
        {"current_password": PASSWORD, "new_password": new, "confirm": new},
        token_from="/account",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)


def test_password_change_ends_other_sessions(app, client, users, course):
    login(client, "trainee")
    other = app.test_client()
    login(other, "trainee")
    post(
        client,
        "/account",
        {
            "current_password": PASSWORD,
            "new_password": "another long phrase",
            "confirm": "another long phrase",
        },
        token_from="/account",
    )
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_idle_session_times_out(app, client, users, course):
    app.config["SESSION_IDLE_MINUTES"] = 1
    login(client, "trainee")
    with client.session_transaction() as session:
        session["seen"] = session["seen"] - 120
    assert client.get("/").status_code == 302
