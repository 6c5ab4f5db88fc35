"""Single sign-on's pages without a provider: switched off, the provider down, and
COURSEWARE_LOCAL_PASSWORDS=0 (only administrators' break-glass password sign-in). The
sign-in through a real provider is tests/interop/oidc."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware import create_app
from courseware.core import clock
from courseware.core.models import AuditEvent, User
from courseware.web.common import sso
from tests.conftest import app_config, csrf_token, empty_all_tables, free_port, login
from tests.web.common.test_no_english import english_words, visible_text


@pytest.fixture
def down_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app whose provider does not answer (nothing listens on its port)."""
    application = create_app(
        app_config(
            database_url,
            tmp_path,
            OIDC_ISSUER=f"http://127.0.0.1:{free_port()}",
            OIDC_CLIENT_ID="courseware",
        )
    )
    engine = application.extensions["courseware.core.db"].engine
    empty_all_tables(engine)
    yield application
    clock.set_time(None)
    engine.dispose()


def test_without_an_issuer_there_is_no_single_sign_on(client: FlaskClient):
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404
    assert "使用機構帳號登入" not in client.get("/login").get_data(as_text=True)


def test_a_provider_that_does_not_answer_ends_on_a_calm_page(down_app: Flask):
    client = down_app.test_client()
    assert "使用機構帳號登入" in client.get("/login").get_data(as_text=True)
    response = client.get("/login/sso")
    page = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "機構的登入服務沒有回應" in page
    assert not english_words(visible_text(page)), english_words(visible_text(page))


def test_a_callback_nobody_started_is_refused_in_chinese(down_app: Flask):
    response = down_app.test_client().get("/login/sso/callback?code=x&state=y")
    page = response.get_data(as_text=True)
    assert response.status_code in (400, 502)
    assert "Traceback" not in page
    assert not english_words(visible_text(page)), english_words(visible_text(page))


@pytest.fixture
def no_passwords(app: Flask) -> Flask:
    app.config["LOCAL_PASSWORDS"] = False
    return app


def test_without_local_passwords_the_form_is_gone(no_passwords: Flask, client: FlaskClient):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' not in page
    break_glass = client.get("/login?local=1").get_data(as_text=True)
    assert 'name="password"' in break_glass and "僅限系統管理員" in break_glass


def test_without_local_passwords_a_trainee_password_is_refused(
    no_passwords: Flask, client: FlaskClient, users: dict[str, User], db: Session
):
    response = login(client, "trainee")
    assert response.status_code == 200
    assert "本站已停用密碼登入" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # still signed out


def test_without_local_passwords_an_administrator_may_break_glass(
    no_passwords: Flask, client: FlaskClient, users: dict[str, User], db: Session
):
    assert login(client, "admin").status_code == 302
    assert client.get("/account").status_code == 200
    actions = db.scalars(select(AuditEvent.action))
    assert "account.sign_in_break_glass" in set(actions)


def test_without_local_passwords_no_reset_link_is_sent(no_passwords: Flask, client: FlaskClient):
    no_passwords.config["SMTP_URL"] = "smtp://127.0.0.1:1"
    assert client.get("/login/forgot").status_code == 404
    no_passwords.config["LOCAL_PASSWORDS"] = True
    assert client.get("/login/forgot").status_code == 200  # the guard, not the mail
    assert csrf_token(client)


def test_without_local_passwords_only_an_administrator_changes_a_password(
    app: Flask, users: dict[str, User]
):
    trainee, admin = app.test_client(), app.test_client()
    assert login(trainee, "trainee").status_code == 302
    token = csrf_token(trainee, "/account")
    assert login(admin, "admin").status_code == 302
    app.config["LOCAL_PASSWORDS"] = False
    page = trainee.get("/account").get_data(as_text=True)
    assert 'name="new_password"' not in page and "機構帳號" in page
    data = {"csrf_token": token, "current_password": "x", "new_password": "y", "confirm": "y"}
    assert trainee.post("/account", data=data).status_code == 403
    assert 'name="new_password"' in admin.get("/account").get_data(as_text=True)


def test_starting_again_does_not_grow_the_session(down_app: Flask, monkeypatch):
    client = down_app.test_client()
    idp = down_app.extensions[sso.KEY].idp
    metadata = {"issuer": down_app.config["OIDC_ISSUER"], "authorization_endpoint": "http://x/auth"}
    monkeypatch.setattr(idp, "load_server_metadata", lambda: metadata)
    for _ in range(3):
        assert client.get("/login/sso").status_code == 302
    with client.session_transaction() as session:
        assert len([k for k in session if k.startswith(sso.STATE_PREFIX)]) == 1
