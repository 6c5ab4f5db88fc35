"""Shared fixtures: an app per database backend, a client, accounts, the CLI.

Every test that uses ``app`` runs on SQLite and, when
COURSEWARE_TEST_DATABASE_URL is set (CI sets it), again on PostgreSQL. The
schema is migrated once per backend and every table is emptied before each
test, so tests may commit freely (threads included).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from courseware import create_app
from courseware.accounts import users as accounts
from courseware.content.store import import_sources, read_sources
from courseware.core import clock
from courseware.core.db import make_engine
from courseware.core.models import Base, User
from courseware.ops import migrate

DATA = Path(__file__).resolve().parent / "data"


def _worker_database(url: str | None) -> str | None:
    """The PostgreSQL database of this pytest-xdist worker (``pytest -n 2``).

    Each worker recreates its schema, so two workers cannot share one database: the
    first worker (and a run without xdist) uses ``url`` itself, every other worker
    ``<database>_<worker>``, created on the same server when missing.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if not url or worker == "gw0":
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    server = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("COURSEWARE_TEST_DATABASE_URL"))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct horse battery"

# Hashing cost is not what these tests are about: a cheap method keeps the
# suite quick. Production keeps werkzeug's default (scrypt).
accounts.HASH_METHOD = "pbkdf2:sha256:1000"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, scope="session")


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        assert PG_URL
        url = PG_URL
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url


def empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our table names


def app_config(database_url: str, folder: Path, **extra: Any) -> dict[str, Any]:
    """The tests' app settings (the small course in tests/data), with ``extra`` on top."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(folder / "instance"),
        "CONTENT_DIR": str(DATA / "content"),
        "QUIZ_DIR": str(DATA / "quizzes"),
        "CASE_DIR": str(DATA / "case_studies"),
        **extra,
    }


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = create_app(app_config(database_url, tmp_path))
    engine = application.extensions["courseware.core.db"].engine
    empty_all_tables(engine)
    yield application
    clock.set_time(None)
    engine.dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the app's database for arranging and checking data."""
    with app.extensions["courseware.core.db"].sessions() as session:
        yield session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def import_fixture_course(db: Session) -> None:
    """Import the fixture course (tests/data) into ``db``'s database and commit."""
    sources, errors = read_sources(
        {
            "content": DATA / "content",
            "quizzes": DATA / "quizzes",
            "case_studies": DATA / "case_studies",
        }
    )
    assert not errors
    import_sources(db, sources)
    db.commit()


@pytest.fixture
def course(app: Flask, db: Session) -> None:
    """The fixture course (tests/data) imported into the database."""
    import_fixture_course(db)


def make_user(
    db: Session,
    username: str,
    role: str = "trainee",
    branch: str = "台北分行",
    password: str = PASSWORD,
    **extra: object,
) -> User:
    user = accounts.create_user(
        db,
        accounts.NewAccount(
            username, f"{username} 姓名", role, employee_id=f"E-{username}", branch=branch
        ),
        password,
    )
    for key, value in extra.items():
        setattr(user, key, value)
    db.commit()
    return user


@pytest.fixture
def users(db: Session) -> dict[str, User]:
    """One account per role, named after the role."""
    return {
        role: make_user(db, role, role=role)
        for role in ("trainee", "trainer", "manager", "hr", "admin")
    }


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path, follow_redirects=True).get_data(as_text=True)  # "/" is a staff home
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD, **extra: str):
    token = csrf_token(client, "/login")
    data = {"username": username, "password": password, "csrf_token": token, **extra}
    return client.post("/login", data=data)


def post(client: FlaskClient, path: str, data: dict | None = None, token_from: str = "/", **kw):
    """POST a form with a valid CSRF token taken from a page of this session."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(path, data=payload, **kw)


def read_lesson(client: FlaskClient, module: str, lesson: str, data: dict | None = None, **kw):
    """Open a lesson, stay on it long enough, reach its end and mark it done: the form a
    browser without scripts sends (with scripts, the page reports time and end itself)."""
    path = f"/modules/{module}/{lesson}"
    token = csrf_token(client, path)  # opening the page records the view
    clock.advance(timedelta(minutes=20))
    payload = {"csrf_token": token, "end": "1", **(data or {})}
    return client.post(f"{path}/done", data=payload, **kw)


@pytest.fixture
def as_trainee(client: FlaskClient, users: dict[str, User], course: None) -> FlaskClient:
    assert login(client, "trainee").status_code == 302
    return client


class Inbox:
    """A test mail server's handler: every message it accepts, in order."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    """A local port nothing listens on (for a test server, or a mail server that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def mail_server() -> Iterator[tuple[str, Inbox]]:
    """A mail server on a free local port while the block runs: its ``smtp://`` URL and
    its inbox."""
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    """A test mail server for one test (see ``mail_server``)."""
    try:
        with mail_server() as found:
            yield found
    finally:
        clock.set_time(None)
