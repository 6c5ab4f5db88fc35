"""The lesson fast path's kept rows (``web.learner.lesson_watch``): on PostgreSQL a steady
reload reads nothing from the database, and any change to what the page shows, made by this
process or another, is seen on the reader's next request."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from courseware.web.learner import lesson_watch
from courseware.web.learner.lesson_fast import fast_path
from courseware.web.learner.lesson_watch import CHANNEL, StateWatch
from tests.conftest import read_lesson

LESSON = "/modules/alpha/first"


def _pg(app: Flask) -> str:
    """The app's database as a libpq URL (a connection outside SQLAlchemy: another process's
    write, which no commit event of this process announces); skips on SQLite."""
    engine = app.extensions["courseware.core.db"].engine
    if engine.dialect.name != "postgresql":
        pytest.skip("notifications are PostgreSQL's: SQLite reads the row on every request")
    return make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def other_process(app: Flask) -> Iterator[Callable[[str], None]]:
    """Run SQL on a connection of its own, committed at once."""
    connection = psycopg.connect(_pg(app), autocommit=True)
    yield lambda sql: connection.execute(sql)  # type: ignore[arg-type]
    connection.close()


def _steady(app: Flask, client: FlaskClient) -> None:
    assert client.get(LESSON).status_code == 200  # the view written (full path)
    assert client.get(LESSON).status_code == 200  # read and kept


def _statements(app: Flask) -> int:
    return fast_path(app).statements


def _until(check: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.005)
    return False


def test_a_steady_reload_reads_nothing_on_postgresql(app, as_trainee):
    _pg(app)
    _steady(app, as_trainee)
    watch = fast_path(app)._reader.watch
    served, before, hits = fast_path(app).served, _statements(app), watch.kept_hits
    for _ in range(5):
        assert "trainee 姓名" in as_trainee.get(LESSON).get_data(as_text=True)
    assert fast_path(app).served == served + 5
    assert _statements(app) == before
    assert watch.kept_hits == hits + 5


def test_sqlite_reads_the_row_on_every_request(app, as_trainee):
    engine = app.extensions["courseware.core.db"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's behaviour")
    _steady(app, as_trainee)
    before = _statements(app)
    as_trainee.get(LESSON)
    as_trainee.get(LESSON)
    assert _statements(app) == before + 2


def test_another_process_renaming_the_reader_shows_on_a_next_request(
    app, as_trainee, other_process
):
    _steady(app, as_trainee)
    other_process("UPDATE users SET display_name = '改名 之後' WHERE username = 'trainee'")
    assert _until(lambda: "改名 之後" in as_trainee.get(LESSON).get_data(as_text=True))


def test_another_process_disabling_the_account_is_refused_at_once(app, as_trainee, other_process):
    _steady(app, as_trainee)
    other_process("UPDATE users SET active = false WHERE username = 'trainee'")

    def refused() -> bool:
        response = as_trainee.get(LESSON)
        return response.status_code == 302 and "/login" in response.headers["Location"]

    assert _until(refused)


def test_a_notice_sent_by_another_process_shows_in_the_header(app, as_trainee, other_process):
    _steady(app, as_trainee)
    page = as_trainee.get(LESSON).get_data(as_text=True)
    other_process(
        "INSERT INTO notices (user_id, kind, day, key, created_at, email_status)"
        " SELECT id, 'overdue', current_date, 'test-notice', now(), 'none'"
        " FROM users WHERE username = 'trainee'"
    )
    assert _until(lambda: as_trainee.get(LESSON).get_data(as_text=True) != page)


def test_the_lesson_done_on_another_worker_shows_done(app, as_trainee):
    """Marked done through the app (another worker would be the same statement): the next
    reload is the done page, not the kept one."""
    _pg(app)
    _steady(app, as_trainee)
    before = as_trainee.get(LESSON).get_data(as_text=True)
    assert read_lesson(as_trainee, "alpha", "first").status_code == 302
    as_trainee.get(LESSON)  # the flashed message, on the full path
    after = as_trainee.get(LESSON).get_data(as_text=True)
    assert after != before


def test_a_lost_listener_forgets_and_reads_again(app, as_trainee, other_process, monkeypatch):
    _steady(app, as_trainee)
    watch = fast_path(app)._reader.watch
    pid = watch._listener.info.backend_pid
    monkeypatch.setattr(lesson_watch, "RETRY", 0.0)
    other_process(f"SELECT pg_terminate_backend({pid})")
    # The watch's thread sees the connection end, and everything kept is forgotten.
    assert _until(lambda: watch._listener is None)
    before = _statements(app)
    assert "trainee 姓名" in as_trainee.get(LESSON).get_data(as_text=True)
    assert _statements(app) == before + 1  # read again, by a new listener's worker
    assert watch._listener is not None and watch._listener.info.backend_pid != pid
    assert "trainee 姓名" in as_trainee.get(LESSON).get_data(as_text=True)
    assert _statements(app) == before + 1  # and kept again
    other_process("UPDATE users SET display_name = '又 改名' WHERE username = 'trainee'")
    assert _until(lambda: "又 改名" in as_trainee.get(LESSON).get_data(as_text=True))


def test_a_read_older_than_a_change_is_not_kept(app):
    _pg(app)
    watch = StateWatch(app.extensions["courseware.core.db"].engine)
    try:
        row, generation = watch.lookup(1, "alpha", "first")
        assert row is None and generation is not None
        watch.forget([1])  # a change arrives while the row is being read
        watch.keep(1, "alpha", "first", ("stale",), generation)
        assert watch.lookup(1, "alpha", "first")[0] is None
        generation = watch.lookup(1, "alpha", "first")[1]
        watch.keep(1, "alpha", "first", ("fresh",), generation)  # type: ignore[arg-type]
        assert watch.lookup(1, "alpha", "first")[0] == ("fresh",)
        watch.forget([2])  # another account's change leaves this account's row kept
        assert watch.lookup(1, "alpha", "first")[0] == ("fresh",)
    finally:
        watch.close()


def _payloads(connection: psycopg.Connection, run: Callable[[], None]) -> list[str]:
    run()
    return [n.payload for n in connection.notifies(timeout=0.5, stop_after=50)]


def test_the_tables_announce_the_accounts_they_changed(app, users, other_process):
    """Migration 0022's triggers: one notification per statement, with the distinct
    accounts touched; many accounts, a truncate or a new course version: everyone."""
    listener = psycopg.connect(_pg(app), autocommit=True)
    try:
        listener.execute(f"LISTEN {CHANNEL}")
        ids = sorted(user.id for user in users.values())
        listed = ",".join(str(i) for i in ids)
        in_list = ", ".join(str(i) for i in ids)
        assert _payloads(
            listener,
            lambda: other_process(
                f"UPDATE users SET branch = branch WHERE id IN ({in_list})"  # noqa: S608
            ),
        ) == [listed]
        assert _payloads(
            listener, lambda: other_process("UPDATE content_state SET version = version")
        ) == ["*"]
        many = (
            "INSERT INTO users (username, display_name, employee_id, branch, role,"
            " password_hash, active, must_change_password, session_version, created_at)"
            " SELECT 'bulk' || n, 'b', 'E' || n, 'x', 'trainee', 'x', true, false, 1, now()"
            " FROM generate_series(1, 201) AS n"
        )
        assert _payloads(listener, lambda: other_process(many)) == ["*"]
        assert _payloads(listener, lambda: other_process("TRUNCATE practice_answers")) == ["*"]
        assert (
            _payloads(
                listener, lambda: other_process("DELETE FROM users WHERE username LIKE 'nobody%'")
            )
            == []
        )
    finally:
        listener.close()


def test_sqlite_has_no_triggers(app):
    engine = app.extensions["courseware.core.db"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's schema")
    with engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        assert [n for (n,) in names if n.endswith("_notify")] == []


def test_keeping_rows_can_be_turned_off(database_url, tmp_path):
    """COURSEWARE_LESSON_KEEP_ROWS=false (behind a pooler that does not carry LISTEN): every
    reload reads its row, and no listener is opened."""
    from courseware import create_app
    from tests.conftest import app_config, empty_all_tables, import_fixture_course, login, make_user

    app = create_app(app_config(database_url, tmp_path, LESSON_KEEP_ROWS=False))
    engine = app.extensions["courseware.core.db"].engine
    empty_all_tables(engine)
    try:
        with app.extensions["courseware.core.db"].sessions() as session:
            make_user(session, "trainee")
            import_fixture_course(session)
        client = app.test_client()
        assert login(client, "trainee").status_code == 302
        _steady(app, client)
        before = _statements(app)
        client.get(LESSON)
        client.get(LESSON)
        assert _statements(app) == before + 2
        assert fast_path(app)._reader.watch._listener is None
    finally:
        engine.dispose()
