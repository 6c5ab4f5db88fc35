"""The lesson page's fast path (``web.learner.lesson_fast``): a steady reload is answered
outside Flask's machinery with the very page the full path makes, and every change of state
that must show (a disabled account, a session ended elsewhere, a new role, a message, a
language, the lesson done) is seen on the next request."""

from __future__ import annotations

import gzip
import logging
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from courseware.core.models import User
from courseware.web.learner.lesson_fast import fast_path
from tests.conftest import login, make_user, post, read_lesson

LESSON = "/modules/alpha/first"
TOKEN_RE = re.compile(r'data-csrf="([^"]+)"')


def _served(app: Flask) -> int:
    return fast_path(app).served


def _fast(app: Flask, client: FlaskClient, path: str = LESSON, **kw):
    """GET ``path`` and check the fast path answered it."""
    before = _served(app)
    response = client.get(path, **kw)
    assert response.status_code == 200
    assert _served(app) == before + 1, "the fast path did not answer"
    return response


def _full(app: Flask, client: FlaskClient, path: str = LESSON, **kw):
    """GET ``path`` and check the full path answered it."""
    before = _served(app)
    response = client.get(path, **kw)
    assert _served(app) == before, "the fast path answered"
    return response


def _steady(app: Flask, client: FlaskClient, path: str = LESSON) -> None:
    """Open the lesson (the view is written, the page kept), so the next GET is steady."""
    assert _full(app, client, path).status_code == 200


def _set_user(db: Session, username: str, **values: object) -> None:
    db.execute(update(User).where(User.username == username).values(**values))
    db.commit()


def _without_token(page: str) -> str:
    token = TOKEN_RE.search(page)
    assert token, "no CSRF token on the page"
    return page.replace(token.group(1), "TOKEN")


def _same_page_both_ways(app: Flask, client: FlaskClient) -> str:
    fast = _fast(app, client)
    app.config["LESSON_FAST_PATH"] = False
    try:
        full = _full(app, client)
    finally:
        app.config["LESSON_FAST_PATH"] = True
    assert full.status_code == 200
    assert _without_token(fast.get_data(as_text=True)) == _without_token(
        full.get_data(as_text=True)
    )
    ignore = {"Set-Cookie", "X-Request-ID"}
    assert sorted((k, v) for k, v in fast.headers.items() if k not in ignore) == sorted(
        (k, v) for k, v in full.headers.items() if k not in ignore
    )
    assert "Set-Cookie" not in fast.headers  # the session is unchanged: no cookie re-sent
    return fast.get_data(as_text=True)


def test_a_reload_is_the_full_paths_page_with_a_token_that_works(app, as_trainee):
    _steady(app, as_trainee)
    page = _same_page_both_ways(app, as_trainee)
    assert "trainee 姓名" in page
    token = TOKEN_RE.search(page).group(1)  # type: ignore[union-attr]
    beacon = as_trainee.post(f"{LESSON}/time", data={"seconds": "5", "csrf_token": token})
    assert beacon.status_code in (200, 204)


def test_a_done_lesson_is_shown_done_on_the_next_reload(app, as_trainee, db):
    _steady(app, as_trainee)
    before = _fast(app, as_trainee).get_data(as_text=True)
    assert read_lesson(as_trainee, "alpha", "first").status_code == 302
    as_trainee.get(LESSON)  # the message the form flashed is shown once, on the full path
    after = _same_page_both_ways(app, as_trainee)
    assert after != before


def test_another_reader_gets_their_own_name_and_token(app, as_trainee, db):
    _steady(app, as_trainee)
    mine = _fast(app, as_trainee).get_data(as_text=True)
    make_user(db, "other")
    other = app.test_client()
    login(other, "other")
    _steady(app, other)
    theirs = _fast(app, other).get_data(as_text=True)
    assert "other 姓名" in theirs and "trainee 姓名" not in theirs
    assert TOKEN_RE.search(mine).group(1) != TOKEN_RE.search(theirs).group(1)  # type: ignore[union-attr]


def test_a_disabled_account_is_refused_on_its_next_request(app, as_trainee, db):
    _steady(app, as_trainee)
    _fast(app, as_trainee)
    _set_user(db, "trainee", active=False)
    response = _full(app, as_trainee)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_ended_elsewhere_is_refused_on_its_next_request(app, as_trainee, db):
    _steady(app, as_trainee)
    _fast(app, as_trainee)
    _set_user(db, "trainee", session_version=User.session_version + 1)
    response = _full(app, as_trainee)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_role_change_shows_the_new_roles_page_at_once(app, as_trainee, db):
    _steady(app, as_trainee)
    as_trainee_page = _fast(app, as_trainee).get_data(as_text=True)
    _set_user(db, "trainee", role="trainer")
    # The trainer's shell is not rendered yet: the full path renders it, then it is kept.
    trainer_page = _full(app, as_trainee).get_data(as_text=True)
    assert trainer_page != as_trainee_page
    assert _fast(app, as_trainee).get_data(as_text=True) == trainer_page.replace(
        TOKEN_RE.search(trainer_page).group(1),  # type: ignore[union-attr]
        TOKEN_RE.search(_fast(app, as_trainee).get_data(as_text=True)).group(1),  # type: ignore[union-attr]
    )


def test_a_role_that_must_change_its_password_is_sent_to_do_so(app, as_trainee, db):
    _steady(app, as_trainee)
    _set_user(db, "trainee", must_change_password=True)
    response = _full(app, as_trainee)
    assert response.status_code == 302 and "/account" in response.headers["Location"]


def test_a_flashed_message_goes_to_the_full_path(app, as_trainee):
    _steady(app, as_trainee)
    post(as_trainee, f"{LESSON}/done", {"seconds": "0"}, token_from=LESSON)
    page = _full(app, as_trainee).get_data(as_text=True)
    assert 'class="flash' in page or "flash" in page
    _fast(app, as_trainee)  # shown once: the next reload is steady again


def test_the_chosen_language_is_served(app, as_trainee):
    _steady(app, as_trainee)
    chinese = _fast(app, as_trainee).get_data(as_text=True)
    post(as_trainee, "/language", {"lang": "en", "next": LESSON}, token_from=LESSON)
    as_trainee.get(LESSON)  # the English shell is rendered once
    english = _fast(app, as_trainee).get_data(as_text=True)
    assert english != chinese and 'lang="en"' in english


def test_a_session_due_for_its_seen_renewal_goes_to_the_full_path(app, as_trainee):
    _steady(app, as_trainee)
    with as_trainee.session_transaction() as session:
        session["seen"] = int(time.time()) - 31
    response = _full(app, as_trainee)
    assert response.status_code == 200 and "Set-Cookie" in response.headers
    _fast(app, as_trainee)  # renewed: steady again


@pytest.mark.parametrize(
    "change",
    [
        {"User-Agent": "another browser"},  # session protection: the full path marks it
        {"Cookie": "session=forged.value.here"},
    ],
)
def test_a_changed_browser_or_a_forged_cookie_goes_to_the_full_path(app, as_trainee, change):
    _steady(app, as_trainee)
    if "Cookie" in change:
        anonymous = app.test_client()
        response = _full(app, anonymous, headers=change)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert _full(app, as_trainee, headers=change).status_code == 200


def test_an_unknown_lesson_and_a_query_string_go_to_the_full_path(app, as_trainee):
    _steady(app, as_trainee)
    assert _full(app, as_trainee, "/modules/alpha/no-such-lesson").status_code == 404
    assert _full(app, as_trainee, f"{LESSON}?x=1").status_code == 200


def test_gzip_and_the_log_line(app, as_trainee, caplog):
    _steady(app, as_trainee)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="courseware.request"):
        response = _fast(app, as_trainee, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "trainee 姓名" in gzip.decompress(response.get_data()).decode()
    (line,) = [r for r in caplog.records if r.name == "courseware.request"]
    fields = line.fields  # type: ignore[attr-defined]
    assert fields["path"] == LESSON and fields["status"] == 200 and fields["user_id"]
    assert fields["request_id"] == response.headers["X-Request-ID"]


def test_a_lost_database_connection_costs_one_full_page_then_the_fast_path_is_back(app, as_trainee):
    """The fast path keeps one connection and cursor per thread: when the connection is
    gone (a database restart), that request is answered by the full path, and the next one
    by the fast path on a new connection."""
    _steady(app, as_trainee)
    _fast(app, as_trainee)
    reader = fast_path(app)._reader
    lost = reader._local.connection
    lost.close()
    if reader.watch._listener is not None:  # PostgreSQL: a restart loses the listener too
        reader.watch._listener.close()
    assert _full(app, as_trainee).status_code == 200
    _fast(app, as_trainee)
    assert reader._local.connection is not lost
