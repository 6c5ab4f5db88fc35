"""Fuzzing every route: generated strings, numbers and structures in every form field,
query parameter and path part (long, empty, unicode, control characters, SQL and
template syntax). Never a 500; a refused request never changes any data.

Runs on its own SQLite database: what is fuzzed is the web layer, not the driver.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from courseware import create_app
from courseware.content.store import import_sources, read_sources
from courseware.core.db import make_engine
from courseware.core.models import Base
from courseware.ops import migrate
from tests.conftest import DATA, csrf_token, login, make_user
from tests.security.objects import Objects, arrange_objects

FIELD_NAMES = [
    "username", "password", "remember", "next", "lang", "q", "page", "per_page", "sort",
    "dir", "branch", "cohort", "status", "seconds", "undo", "reason", "requirement",
    "confirm", "token", "option", "flags", "reasons", "seed", "revision", "amount", "term",
    "rate", "surplus", "display_name", "employee_id", "role", "active", "name", "due_date",
    "identifiers", "email", "note", "body", "base_revision_id", "material", "action", "actor",
    "since", "until", "scope", "kind", "current_password", "new_password", "fmt", "path",
]  # fmt: skip
NASTY = [
    "", " ", "0", "-1", "1e309", "NaN", "999999999999999999999", "' OR '1'='1' --",
    "1; DROP TABLE users;--", "{{ 7*7 }}", "{% raw %}", "${7*7}", "<script>alert(1)</script>",
    "../../etc/passwd", "\x00", "\u202e\u202d", "微貸" * 500, "😀", "\r\n\r\nX-Injected: 1",
    "%s%s%s%n", "[]", "{}", "null", "true", "javascript:alert(1)", "//evil.example",
]  # fmt: skip
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=300),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
fields = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), st.text(min_size=1, max_size=20)),
    st.one_of(values, st.lists(values, max_size=4)),
    max_size=6,
)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Objects]]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'fuzz.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app({
        "TESTING": True, "SECRET_KEY": "fuzz", "DATABASE_URL": url,
        "INSTANCE_PATH": str(folder / "instance"), "CONTENT_DIR": str(DATA / "content"),
        "QUIZ_DIR": str(DATA / "quizzes"), "CASE_DIR": str(DATA / "case_studies"),
        "LOGIN_LIMIT": "100000 per minute",
    })  # fmt: skip
    with app.extensions["courseware.core.db"].sessions() as db:
        sources, _ = read_sources({"content": DATA / "content", "quizzes": DATA / "quizzes",
                                   "case_studies": DATA / "case_studies"})  # fmt: skip
        import_sources(db, sources)
        db.commit()
        make_user(db, "admin", role="admin")
        objects = arrange_objects(app, db)
    yield app, objects
    app.extensions["courseware.core.db"].engine.dispose()


def fingerprint(app: Flask) -> str:
    """A hash of every row of every table: any change to data changes it."""
    digest = hashlib.sha256()
    with app.extensions["courseware.core.db"].engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{rows!r}".encode())
        digest.update(repr(connection.execute(text("SELECT 1")).all()).encode())
    return digest.hexdigest()


def _routes() -> list[tuple[str, str]]:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://",
                      "INSTANCE_PATH": "/tmp/courseware-fuzz-collect"})  # fmt: skip
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "auth.logout"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method))
    app.extensions["courseware.core.db"].engine.dispose()
    return sorted(found)


def _build(app: Flask, endpoint: str, objects: Objects, path_values: dict[str, str]) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    parts = {}
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        if name in path_values and converter != "IntegerConverter":
            parts[name] = path_values[name]
        else:
            parts[name] = objects.value(endpoint, name)
    path = rule.rule
    for name, value in parts.items():
        path = (
            path.replace(f"<{name}>", quote(str(value), safe=""))
            .replace(f"<int:{name}>", str(value))
            .replace(f"<path:{name}>", quote(str(value)))
        )
    return path


@pytest.mark.parametrize(("endpoint", "method"), _routes())
def test_no_route_breaks_or_changes_data_when_it_refuses(fuzz_app, endpoint, method):
    app, objects = fuzz_app
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    token = csrf_token(client, "/account")

    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(
        data=fields, path_text=st.one_of(st.none(), st.sampled_from(NASTY), st.text(max_size=40))
    )
    def check(data: dict, path_text: str | None) -> None:
        path_values = {"slug": path_text, "module": path_text, "lesson_slug": path_text,
                       "code": path_text, "fmt": path_text} if path_text else {}  # fmt: skip
        path = _build(app, endpoint, objects, {k: v for k, v in path_values.items() if v})
        before = fingerprint(app)
        if method == "GET":
            response = client.get(path, query_string=data)
        else:
            response = client.post(path, data={**data, "csrf_token": token})
        response.get_data()
        response.close()
        assert response.status_code < 500, (method, path, data, response.status_code)
        signed_out = response.status_code == 302 and response.location.startswith("/login")
        assert not signed_out or endpoint == "auth.account", (method, path, data)
        if response.status_code >= 400:
            assert fingerprint(app) == before, (method, path, data, response.status_code)

    check()
