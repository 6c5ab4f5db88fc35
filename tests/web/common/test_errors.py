"""Health check and error pages: calm pages, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from courseware import create_app
from courseware.core.db import make_engine
from tests.conftest import PG_URL, login, post

OK_CHECKS = {"database": "ok", "schema": "ok", "storage": "ok"}


def test_healthz_answers_json(client: FlaskClient):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": OK_CHECKS}


def test_healthz_says_503_when_the_database_does_not_answer(tmp_path):
    # Nothing listens on port 1: every connection is refused.
    down = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/none?connect_timeout=2",
        }
    )
    client = down.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = {"database": "unreachable", "schema": "unknown", "storage": "ok"}
    assert response.get_json() == {"status": "fail", "checks": checks}
    # Codes only: no address, password, path or error text for an anonymous caller.
    body = response.get_data(as_text=True)
    for secret in ("127.0.0.1", "s3cret", str(tmp_path), "refused", "psycopg"):
        assert secret not in body
    page = client.get("/login")  # a page still renders; sign-in shows the calm error on use
    assert page.status_code == 200


@pytest.fixture
def unmigrated_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database the migrations never ran on: an empty SQLite file, or an empty schema
    of the test database (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    assert PG_URL
    server = make_engine(PG_URL)
    with server.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS healthz_unmigrated CASCADE"))
        connection.execute(text("CREATE SCHEMA healthz_unmigrated"))
    try:
        url = make_url(PG_URL).update_query_dict({"options": "-c search_path=healthz_unmigrated"})
        yield url.render_as_string(hide_password=False)
    finally:
        with server.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS healthz_unmigrated CASCADE"))
        server.dispose()


def test_healthz_names_a_database_not_at_the_schema_head(unmigrated_url, tmp_path):
    behind = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": unmigrated_url,
        }
    )
    try:
        response = behind.test_client().get("/healthz")
    finally:
        behind.extensions["courseware.core.db"].engine.dispose()
    assert response.status_code == 503
    checks = {**OK_CHECKS, "schema": "not_at_head"}
    assert response.get_json() == {"status": "fail", "checks": checks}


def test_database_hiccup_shows_a_calm_503_page(app: Flask, client, users, course, monkeypatch):
    login(client, "trainee")

    def broken(*_a, **_k):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr("courseware.learning.progress.dashboard", broken)
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Traceback" not in html and "database is locked" not in html
    assert 'class="request-id"' in html


def test_unexpected_error_is_a_500_page_with_a_reference(app, client, users, course, monkeypatch):
    login(client, "trainee")
    monkeypatch.setattr("courseware.learning.progress.dashboard", lambda *a, **k: 1 / 0)
    response = client.get("/")
    assert response.status_code == 500
    assert "ZeroDivisionError" not in response.get_data(as_text=True)


def test_404_page_in_site_style(client, users):
    login(client, "trainee")
    response = client.get("/no/such/page")
    assert response.status_code == 404 and 'class="error-page"' in response.get_data(as_text=True)


def test_error_titles_are_in_the_reader_s_language(client, users):
    # The titles were plain English strings, never extracted for translation.
    login(client, "trainee")
    page = client.get("/no/such/page").get_data(as_text=True)
    assert "找不到這個頁面" in page and "Page not found" not in page
    forbidden = client.get("/hr").get_data(as_text=True)
    assert "您沒有權限開啟這個頁面" in forbidden
    post(client, "/language", {"lang": "en", "next": "/"})
    assert "Page not found" in client.get("/no/such/page").get_data(as_text=True)


def test_security_headers(client: FlaskClient):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
