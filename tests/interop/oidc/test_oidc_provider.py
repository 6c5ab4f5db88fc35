"""Single sign-on against a real OpenID Connect provider (npm oidc-provider, provider.js).

The test starts the provider (node) on a free port; our app is the Flask test client,
which makes its real HTTP calls to the provider (discovery, keys, token exchange); a
``requests`` session plays the person's browser at the provider (its sign-in form).
Without node or ``npm ci --prefix tests/interop/oidc`` these tests skip with the reason;
with COURSEWARE_REQUIRE_INTEROP=1 (CI) they fail instead.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware import create_app
from courseware.core import clock
from courseware.core.models import AuditEvent, ExternalIdentity, LearnerContact, User
from tests.conftest import app_config, empty_all_tables, make_user, post

HERE = Path(__file__).resolve().parent
REDIRECT_URI = "http://localhost/login/sso/callback"


def _unavailable() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        return "npm ci --prefix tests/interop/oidc has not been run"
    return None


@contextmanager
def running_provider(**env: str) -> Iterator[str]:
    """The provider in its own process while the block runs; its issuer URL."""
    reason = _unavailable()
    if reason:
        if os.environ.get("COURSEWARE_REQUIRE_INTEROP") == "1":
            pytest.fail(f"COURSEWARE_REQUIRE_INTEROP=1 but {reason}")
        pytest.skip(reason)
    process = subprocess.Popen(
        ["node", str(HERE / "provider.js"), REDIRECT_URI],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening "), f"the provider did not start: {line!r}"
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with running_provider() as url:
        yield url


def make_app(database_url: str, tmp_path: Path, issuer: str) -> Flask:
    return create_app(
        app_config(
            database_url,
            tmp_path,
            OIDC_ISSUER=issuer,
            OIDC_CLIENT_ID="courseware",
            OIDC_CLIENT_SECRET="courseware-secret",
            OIDC_SCOPES="openid email profile roles",
            OIDC_ROLE_CLAIM="roles",
        )
    )


@pytest.fixture
def app(database_url: str, tmp_path: Path, issuer: str) -> Iterator[Flask]:
    application = make_app(database_url, tmp_path, issuer)
    engine = application.extensions["courseware.core.db"].engine
    empty_all_tables(engine)
    yield application
    clock.set_time(None)
    engine.dispose()


FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def at_provider(browser: requests.Session, url: str, issuer: str, account: str) -> str:
    """The person's browser at the provider, from the authorization URL until the provider
    sends it away: signs in as ``account`` on the way; the URL it is sent to."""
    response = browser.get(url, allow_redirects=False, timeout=10)
    for _ in range(12):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if not target.startswith(issuer):
                return target
            response = browser.get(target, allow_redirects=False, timeout=10)
        elif response.status_code == 200 and 'name="prompt"' in response.text:
            action = urljoin(response.url, FORM_ACTION.search(response.text).group(1))
            form = {"prompt": "login", "login": account, "password": "any"}
            response = browser.post(action, data=form, allow_redirects=False, timeout=10)
        else:
            raise AssertionError(f"unexpected answer at the provider: {response.status_code}")
    raise AssertionError("the provider never sent the browser back")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def provider_round_trip(
    client: FlaskClient, issuer: str, account: str, start_at: str = "/login/sso"
) -> str:
    """Start at our sign-in button; the path of our callback the provider sends back."""
    start = client.get(start_at)
    assert start.status_code == 302, start.get_data(as_text=True)
    assert start.location.startswith(issuer)
    back = at_provider(requests.Session(), start.location, issuer, account)
    assert back.startswith(REDIRECT_URI), back
    return _path(back)


def sso_sign_in(client: FlaskClient, issuer: str, account: str):
    return client.get(provider_round_trip(client, issuer, account))


OTHER_APP = ("other-app", "other-secret", "http://other.example/callback")
COURSEWARE = ("courseware", "courseware-secret", REDIRECT_URI)


def other_client_id_token(issuer: str, account: str, client=OTHER_APP) -> str:
    """A real id token the provider issued, by default to another of its clients
    (other-app); with ``client=COURSEWARE`` one issued to us, for a sign-in of its own."""
    client_id, secret, redirect_uri = client
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid email profile roles",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    back = at_provider(requests.Session(), f"{issuer}/auth?{urlencode(query)}", issuer, account)
    code = re.search(r"[?&]code=([^&]+)", back).group(1)
    answer = requests.post(
        f"{issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["id_token"]


def next_token(issuer: str, **change: object) -> None:
    requests.post(f"{issuer}/__test__/next-token", json=change, timeout=10).raise_for_status()


def signed_in_as(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200  # else sent to the sign-in page


def _actions(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_sign_in_page_offers_the_institution_account(client: FlaskClient):
    page = client.get("/login").get_data(as_text=True)
    assert "使用機構帳號登入" in page
    assert 'href="/login/sso"' in page


def test_a_staff_member_signs_in_and_gets_the_mapped_role(client, db, issuer):
    response = sso_sign_in(client, issuer, "mei.trainer")
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db.scalar(select(User).where(User.username == "mei.lin"))
    assert user is not None and user.role == "trainer"  # academy-trainers -> trainer
    assert user.display_name == "林美"
    contact = db.get(LearnerContact, user.id)
    assert contact is not None and contact.email == "mei.lin@bank.example"
    identity = db.scalar(select(ExternalIdentity).where(ExternalIdentity.user_id == user.id))
    assert (identity.issuer, identity.subject) == (issuer, "mei.trainer")
    assert signed_in_as(client)
    assert {"account.create", "account.sso_create", "account.sso_sign_in"} <= set(_actions(db))
    # Signing in again finds the same account by its (issuer, sub), creates no other.
    client.post("/logout", data={"csrf_token": _token(client)})
    assert sso_sign_in(client, issuer, "mei.trainer").status_code == 302
    assert db.scalar(select(func.count()).select_from(User)) == 1


def _token(client: FlaskClient) -> str:
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_an_existing_account_is_matched_by_its_email(client, db, issuer):
    officer = make_user(db, "chen.hao", role="trainee")
    db.add(LearnerContact(user_id=officer.id, email="Hao.Chen@bank.example"))
    db.commit()
    # Sent to sign in on the way to a page: back on that page (never another site's).
    callback = provider_round_trip(client, issuer, "hao.officer", "/login/sso?next=/transcript")
    response = client.get(callback)
    assert response.status_code == 302 and response.location == "/transcript"
    assert db.scalar(select(func.count()).select_from(User)) == 1  # no new account
    db.expire_all()
    identity = db.scalar(select(ExternalIdentity))
    assert identity.user_id == officer.id and identity.subject == "hao.officer"
    assert "account.sso_link" in _actions(db)
    assert signed_in_as(client)


def test_a_disabled_account_is_refused(client, db, issuer):
    gone = make_user(db, "disabled", active=False)
    db.add(LearnerContact(user_id=gone.id, email="disabled@bank.example"))
    db.commit()
    response = sso_sign_in(client, issuer, "disabled.user")
    assert response.status_code == 403
    assert "停用" in response.get_data(as_text=True)
    assert not signed_in_as(client)
    assert "account.sso_refused" in _actions(db)


def test_an_id_token_issued_to_another_client_is_refused(client, db, issuer):
    foreign = other_client_id_token(issuer, "mei.trainer")
    next_token(issuer, id_token=foreign)
    response = sso_sign_in(client, issuer, "mei.trainer")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "發給其他應用程式" in page, page
    assert "Traceback" not in page
    assert not signed_in_as(client)
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_a_tampered_id_token_is_refused(client, db, issuer):
    header, payload, signature = other_client_id_token(issuer, "mei.trainer").split(".")
    forged = ".".join(
        [header, payload, signature[:-6] + ("A" * 6 if signature[-1] != "A" else "B" * 6)]
    )
    next_token(issuer, id_token=forged)
    response = sso_sign_in(client, issuer, "mei.trainer")
    assert response.status_code == 400
    assert "簽章" in response.get_data(as_text=True)
    assert not signed_in_as(client)


def test_an_expired_id_token_is_refused(client, db, issuer):
    next_token(issuer, skew=-2 * 3600)  # the provider's clock two hours back: exp has passed
    response = sso_sign_in(client, issuer, "mei.trainer")
    assert response.status_code == 400
    assert "已過期" in response.get_data(as_text=True)
    assert not signed_in_as(client)
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_a_replayed_state_is_refused(app, client, db, issuer):
    callback = provider_round_trip(client, issuer, "mei.trainer")
    assert client.get(callback).status_code == 302
    post(client, "/logout", {}, token_from="/account")
    assert not signed_in_as(client)
    # The same answer again, in the same browser and in another one.
    for browser in (client, app.test_client()):
        response = browser.get(callback)
        assert response.status_code == 400
        assert "已完成或已過期" in response.get_data(as_text=True)
        assert not signed_in_as(browser)


def test_a_callback_without_state_is_refused(client, issuer):
    response = client.get("/login/sso/callback?code=abc")
    assert response.status_code == 400
    assert "已完成或已過期" in response.get_data(as_text=True)


def test_an_id_token_of_another_sign_in_is_refused(client, db, issuer):
    # Issued to us, signed and current, but for another sign-in: its nonce is not ours.
    next_token(issuer, id_token=other_client_id_token(issuer, "mei.trainer", COURSEWARE))
    response = sso_sign_in(client, issuer, "mei.trainer")
    assert response.status_code == 400
    assert "屬於另一次登入" in response.get_data(as_text=True)
    assert not signed_in_as(client)


def test_claims_only_the_userinfo_endpoint_gives_are_read_there(database_url, tmp_path, db):
    # Many providers put email, name and groups in userinfo, not in the id token.
    with running_provider(CONFORM_ID_TOKEN_CLAIMS="1") as conforming:
        application = make_app(database_url, tmp_path, conforming)
        try:
            client = application.test_client()
            assert sso_sign_in(client, conforming, "mei.trainer").status_code == 302
        finally:
            application.extensions["courseware.core.db"].engine.dispose()
    db.expire_all()
    user = db.scalar(select(User))
    assert (user.username, user.role, user.display_name) == ("mei.lin", "trainer", "林美")


def test_a_next_address_on_another_site_is_not_followed(client, issuer):
    callback = provider_round_trip(
        client, issuer, "mei.trainer", "/login/sso?next=https://evil.example/"
    )
    response = client.get(callback)
    assert response.status_code == 302 and "evil" not in response.location
