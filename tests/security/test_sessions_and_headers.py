"""Sessions, throttling, headers, CSRF on JSON, size limits, and templates free of
inline script (the Content-Security-Policy forbids it)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import redis

from courseware import create_app
from courseware.web.common.extensions import limiter
from tests.conftest import DATA, csrf_token, login, post

TEMPLATES = Path(__file__).resolve().parents[2] / "courseware" / "templates"


def test_sign_in_starts_a_new_session(client, users):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["lang"] = "en"
    login(client, "trainee")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("lang") == "en"  # the language choice survives


def test_remember_me_cookie_copied_before_sign_out_stops_working(app, client, users, course):
    response = login(client, "trainee", remember="y")
    assert response.status_code == 302
    remember = client.get_cookie("remember_token")
    assert remember is not None
    post(client, "/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", remember.value)
    assert thief.get("/").status_code == 302


def test_lock_out_page_gives_no_hint_whether_the_account_exists(app, users):
    app.config["LOGIN_LIMIT"] = "2 per minute"
    pages = []
    for name in ("trainee", "nobody-here"):
        client = app.test_client()
        for _ in range(2):
            login(client, name, password="wrong password!")
        response = login(client, name, password="wrong password!")
        assert response.status_code == 429
        page = response.get_data(as_text=True)
        page = re.sub(r'(request-id">).*?<', r"\1<", page)
        pages.append(re.sub(r'name="csrf_token" value="[^"]+"', "", page))
        limiter.reset()
    assert pages[0] == pages[1]


def _redis_or_skip(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (CI has it)")


def test_throttling_is_shared_through_redis_between_workers(database_url, tmp_path):
    url = f"redis://127.0.0.1:6379/{15}"
    _redis_or_skip(url)
    prefix = f"test-{uuid.uuid4().hex}"
    settings = {
        "TESTING": True,
        "SECRET_KEY": "shared",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path),
        "CONTENT_DIR": str(DATA / "content"),
        "REDIS_URL": url,
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_LIMIT": "3 per minute",
    }
    first, second = create_app(dict(settings)), create_app(dict(settings))
    try:
        for _ in range(3):
            login(first.test_client(), "somebody", password="wrong password!")
        assert (
            login(second.test_client(), "somebody", password="wrong password!").status_code == 429
        )
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        for app in (first, second):
            app.extensions["courseware.core.db"].engine.dispose()


def test_hsts_only_when_https_is_configured(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["HTTPS"] = True
    assert "max-age=31536000" in client.get("/login").headers["Strict-Transport-Security"]


def test_json_posts_need_a_csrf_token_too(as_trainee):
    response = as_trainee.post("/modules/alpha/first/time", json={"seconds": 5})
    assert response.status_code == 400
    token = csrf_token(as_trainee, "/")
    ok = as_trainee.post(
        "/modules/alpha/first/time", data={"seconds": "5"}, headers={"X-CSRFToken": token}
    )
    assert ok.status_code == 200


def test_an_oversized_request_is_refused_calmly(as_trainee):
    token = csrf_token(as_trainee, "/")
    response = as_trainee.post(
        "/modules/alpha/first/time", data={"csrf_token": token, "seconds": "1" * (5 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert 'class="error-page"' in response.get_data(as_text=True)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script_or_style(template: Path):
    text = template.read_text(encoding="utf-8")
    for pattern, what in INLINE:
        assert not pattern.search(text), f"{template.relative_to(TEMPLATES)}: {what}"
