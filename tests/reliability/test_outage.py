"""The database unavailable or locked: a calm 503 page and a log line, no traceback;
/healthz says 503; the site recovers without a restart when the database returns."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from courseware import create_app
from courseware.content.store import import_sources, read_sources
from tests.conftest import DATA, PG_URL, empty_all_tables, login, make_user
from tests.reliability.proxy import Proxy


def _app(url: str, tmp_path: Path, **extra):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "outage",
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "CONTENT_DIR": str(DATA / "content"),
            "QUIZ_DIR": str(DATA / "quizzes"),
            "CASE_DIR": str(DATA / "case_studies"),
            **extra,
        }
    )
    return app


def _seed(app) -> None:
    engine = app.extensions["courseware.core.db"].engine
    empty_all_tables(engine)
    with app.extensions["courseware.core.db"].sessions() as db:
        sources, _ = read_sources(
            {
                "content": DATA / "content",
                "quizzes": DATA / "quizzes",
                "case_studies": DATA / "case_studies",
            }
        )
        import_sources(db, sources)
        make_user(db, "reader")


def _calm_503(response) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Traceback" not in html and "OperationalError" not in html
    assert 'class="request-id"' in html


def _sqlite(path: Path) -> str:
    from courseware.core.db import make_engine
    from courseware.ops import migrate

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def test_sqlite_locked_gives_a_calm_503_then_recovers(tmp_path, caplog):
    database_url = _sqlite(tmp_path / "academy.db")
    app = _app(database_url, tmp_path, DB_BUSY_TIMEOUT_MS=200)
    _seed(app)
    client = app.test_client()
    login(client, "reader")
    assert client.get("/modules/alpha/first").status_code == 200
    blocker = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with caplog.at_level(logging.ERROR, logger="courseware"):
            _calm_503(client.get("/modules/alpha/second"))  # this page records the visit
        assert any("database unavailable" in r.getMessage() for r in caplog.records)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert client.get("/modules/alpha/second").status_code == 200
    app.extensions["courseware.core.db"].engine.dispose()


def test_sqlite_file_unreachable_then_back(tmp_path):
    folder = tmp_path / "data"
    url = _sqlite(folder / "academy.db")
    app = _app(url, tmp_path)
    _seed(app)
    client = app.test_client()
    login(client, "reader")
    assert client.get("/healthz").status_code == 200
    app.extensions["courseware.core.db"].engine.dispose()
    folder.rename(tmp_path / "moved")  # the volume went away
    try:
        assert client.get("/healthz").status_code == 503
        _calm_503(client.get("/modules/alpha"))
    finally:
        (tmp_path / "moved").rename(folder)
    assert client.get("/healthz").status_code == 200
    assert client.get("/modules/alpha").status_code == 200
    app.extensions["courseware.core.db"].engine.dispose()


@pytest.mark.skipif(
    not PG_URL, reason="needs the PostgreSQL server; CI sets COURSEWARE_TEST_DATABASE_URL"
)
def test_postgresql_down_gives_503_and_the_site_recovers_without_restart(tmp_path, caplog):
    assert PG_URL
    target = make_url(PG_URL)
    proxy = Proxy(target.host or "127.0.0.1", target.port or 5432)
    proxy.start()
    url = target.set(port=proxy.port, query={"connect_timeout": "3"})
    app = _app(url.render_as_string(hide_password=False), tmp_path)
    try:
        _seed(app)
        client = app.test_client()
        signed_in = login(client, "reader")
        assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[-3000:]
        assert client.get("/modules/alpha").status_code == 200
        proxy.stop()
        with caplog.at_level(logging.ERROR, logger="courseware"):
            assert client.get("/healthz").status_code == 503
            _calm_503(client.get("/modules/alpha"))
        assert any("database unavailable" in r.getMessage() for r in caplog.records)
        proxy.start()
        assert client.get("/healthz").status_code == 200
        assert client.get("/modules/alpha").status_code == 200
    finally:
        proxy.stop()
        app.extensions["courseware.core.db"].engine.dispose()
