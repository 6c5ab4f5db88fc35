"""One structured line per request; error pages quote the request id; no secrets in logs."""

from __future__ import annotations

import json
import logging

import pytest

from courseware.web.common.requestlog import JsonFormatter
from tests.conftest import PASSWORD, login


def _request_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [r.fields for r in caplog.records if r.name == "courseware.request"]


def test_each_request_logs_id_user_route_status_duration(client, users, course, caplog):
    caplog.set_level(logging.INFO, logger="courseware")
    login(client, "trainee")
    caplog.clear()
    response = client.get("/modules/alpha/first")
    [line] = _request_lines(caplog)
    assert line["user_id"] == users["trainee"].id
    assert line["route"] == "/modules/<slug>/<lesson_slug>"
    assert line["status"] == 200 and line["duration_ms"] >= 0
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_error_page_shows_the_logged_request_id(client, users, course, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="courseware")
    login(client, "trainee")
    monkeypatch.setattr("courseware.learning.progress.dashboard", lambda *a, **k: 1 / 0)
    response = client.get("/")
    rid = response.headers["X-Request-ID"]
    assert rid in response.get_data(as_text=True)
    error = next(r for r in caplog.records if r.name == "courseware.errors")
    assert rid in error.getMessage() and error.exc_info


def test_passwords_sessions_and_csrf_tokens_never_reach_the_log(client, users, course, caplog):
    caplog.set_level(logging.DEBUG)
    login(client, "trainee")
    client.get("/account")
    token = client.get_cookie("session").value
    text = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert PASSWORD not in text
    assert token not in text
    assert "csrf" not in text.lower()


def test_formatter_writes_one_json_object_a_line():
    record = logging.LogRecord(
        "courseware.request", logging.INFO, __file__, 1, "GET / 200", (), None
    )
    record.fields = {"status": 200}
    line = JsonFormatter().format(record)
    assert "\n" not in line and json.loads(line)["status"] == 200
