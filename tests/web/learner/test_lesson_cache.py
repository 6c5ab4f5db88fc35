"""The lesson page is rendered once per lesson, locale and reading state and kept: a publish or
an import shows at once on every worker, and each reader still gets their own token, name and
practice answers."""

from __future__ import annotations

import gc
import re
import runpy
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import create_engine, event
from sqlalchemy.engine.default import CACHE_MISS
from sqlalchemy.orm import Session

from courseware import create_app
from courseware.cli import import_course
from courseware.core.db import make_engine
from courseware.core.models import Notice
from courseware.ops import migrate
from courseware.web.common.page_cache import CSRF_SLOT, NAME_SLOT
from tests.conftest import DATA, csrf_token, login, make_user, post
from tests.studio.helpers import doc_id, editor_form, sign_in

LESSON = "/modules/alpha/first"
LESSON_FILE = "content/01-alpha/01-first.md"
PRACTICE = "/modules/alpha/second"
COMPUTE = f"{PRACTICE}/practice/installment"
FEEDBACK_RE = re.compile(
    r'<section class="practice" id="practice-installment".*?'
    r'<div class="practice-feedback"[^>]*>(.*?)</div>\s*</section>',
    re.S,
)


@pytest.fixture
def second_worker(app: Flask) -> Iterator[Flask]:
    """Another application on the same database, as another gunicorn worker would be."""
    other = create_app(dict(app.config))
    yield other
    other.extensions["courseware.core.db"].engine.dispose()


def _templates(app: Flask, client: FlaskClient, path: str) -> tuple[str, list[str]]:
    names: list[str] = []

    def note(_sender: Flask, template, context, **_extra) -> None:
        names.append(template.name)

    with template_rendered.connected_to(note, app):
        response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True), names


def _feedback(page: str) -> str:
    match = FEEDBACK_RE.search(page)
    assert match, "no installment exercise"
    return match.group(1).strip()


def test_a_lesson_is_rendered_once_and_served_from_then_on(app, as_trainee: FlaskClient):
    first, rendered = _templates(app, as_trainee, LESSON)
    assert "learner/learn/lesson.html" in rendered
    again, rendered = _templates(app, as_trainee, LESSON)
    assert rendered == []
    assert again == first


def test_each_reader_gets_their_own_name_and_a_token_that_works(
    app, as_trainee: FlaskClient, db: Session
):
    as_trainee.get(LESSON)  # the page is kept now
    make_user(db, "other")
    other = app.test_client()
    login(other, "other")
    page = other.get(LESSON).get_data(as_text=True)
    assert "other 姓名" in page and "trainee 姓名" not in page
    assert CSRF_SLOT not in page and NAME_SLOT not in page
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert token == csrf_token(other, LESSON)
    beacon = other.post(f"{LESSON}/time", data={"seconds": "5", "csrf_token": token})
    assert beacon.status_code == 200


def test_each_reader_sees_their_own_count_of_unread_notices(
    app, as_trainee: FlaskClient, db: Session
):
    """The header's notice count is the reader's own, never the one the kept page was made with."""
    unread = re.compile(r'class="nav-notices"[^>]*>(.*?)</a>', re.S)
    before = unread.search(as_trainee.get(LESSON).get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert "badge" not in before  # kept now, with no unread notices
    other = make_user(db, "other")
    db.add_all(
        Notice(user_id=other.id, kind="overdue", day=date(2026, 3, n), key=f"{other.id}:t:{n}")
        for n in (1, 2)
    )
    db.commit()
    reader = app.test_client()
    login(reader, "other")
    theirs = unread.search(reader.get(LESSON).get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert '<span class="badge badge-warn">2</span>' in theirs
    again = unread.search(as_trainee.get(LESSON).get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert "badge" not in again


def test_a_name_with_markup_is_escaped(app, users, course, db: Session):
    make_user(db, "sneaky", display_name="<b>x</b>")
    reader = app.test_client()
    login(reader, "sneaky")
    page = reader.get(LESSON).get_data(as_text=True)
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_practice_answers_never_reach_another_reader_through_the_kept_page(
    app, as_trainee: FlaskClient, db: Session
):
    assert _feedback(as_trainee.get(PRACTICE).get_data(as_text=True)) == ""
    post(as_trainee, COMPUTE, {"answer": "77.77"}, token_from=PRACTICE)
    mine = as_trainee.get(PRACTICE).get_data(as_text=True)
    assert "is-wrong" in _feedback(mine) and "77.77" in mine

    make_user(db, "other")
    other = app.test_client()
    login(other, "other")
    theirs = other.get(PRACTICE).get_data(as_text=True)
    assert "77.77" not in theirs and _feedback(theirs) == ""
    post(other, COMPUTE, {"answer": "88.85"}, token_from=PRACTICE)
    theirs = other.get(PRACTICE).get_data(as_text=True)
    assert "is-right" in _feedback(theirs) and "77.77" not in theirs

    mine = as_trainee.get(PRACTICE).get_data(as_text=True)
    assert "is-wrong" in _feedback(mine) and 'value="88.85"' not in mine


def test_staff_see_their_own_navigation_on_a_kept_lesson(app, as_trainee: FlaskClient):
    assert 'href="/author"' not in as_trainee.get(LESSON).get_data(as_text=True)
    trainer = app.test_client()
    login(trainer, "trainer")  # in the same language as the trainee
    assert 'href="/author"' in trainer.get(LESSON).get_data(as_text=True)
    assert 'href="/author"' not in as_trainee.get(LESSON).get_data(as_text=True)


def test_a_flashed_message_is_shown_on_a_kept_lesson(as_trainee: FlaskClient):
    as_trainee.get(LESSON)
    post(as_trainee, f"{LESSON}/done", {"seconds": "0"}, token_from=LESSON)
    page = as_trainee.get(LESSON).get_data(as_text=True)
    assert 'class="flash flash-warning"' in page
    assert 'class="flash' not in as_trainee.get(LESSON).get_data(as_text=True)


def test_a_publish_in_the_studio_shows_at_once_on_every_worker(
    app, users, course, client: FlaskClient, second_worker: Flask, db: Session
):
    here = sign_in(app.test_client(), "trainee")
    there = sign_in(second_worker.test_client(), "trainee")
    for reader in (here, there):
        assert "新的一段" not in reader.get(LESSON).get_data(as_text=True)  # kept now
    trainer = sign_in(client, "trainer")
    lesson = doc_id(db, LESSON_FILE)
    form = editor_form(trainer, lesson)
    form["text"] = form["text"].replace("## 重點回顧", "## 本課重點\n\n**新的一段**")
    published = trainer.post(f"/author/content/{lesson}", data={**form, "action": "publish"})
    assert published.status_code == 302
    for reader in (here, there):
        assert "<strong>新的一段</strong>" in reader.get(LESSON).get_data(as_text=True)


def test_an_import_of_changed_files_shows_at_once(
    app: Flask, as_trainee: FlaskClient, tmp_path: Path
):
    assert "匯入的新段落" not in as_trainee.get(LESSON).get_data(as_text=True)  # kept now
    content = tmp_path / "content"
    shutil.copytree(DATA / "content", content)
    lesson = content / "01-alpha" / "01-first.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n\n匯入的新段落\n", encoding="utf-8")
    app.config["CONTENT_DIR"] = str(content)
    assert import_course(app, echo=lambda _text: None) == 1
    assert "匯入的新段落" in as_trainee.get(LESSON).get_data(as_text=True)


def test_gunicorn_gets_the_course_ready_before_it_forks(
    app: Flask, course, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    master = create_app(dict(app.config))
    try:
        kept = master.extensions["courseware.core.db"].catalogue._catalogue
        assert kept is not None and kept.module("alpha") is not None
        # Every page template compiled, with what it extends and includes, so a worker's
        # first page of any kind compiles nothing; and each language's messages read.
        names = master.jinja_env.list_templates(extensions=("html",))
        assert len(names) > 50
        cached = {name for (_loader, name) in master.jinja_env.cache}
        assert cached >= set(names)
        with master.test_request_context(), force_locale("zh_Hant"):
            from flask_babel import get_domain

            assert get_domain().cache, "the message catalogues were not read before the fork"
    finally:
        master.extensions["courseware.core.db"].engine.dispose()


def test_a_workers_first_hr_page_does_not_read_the_course_keys(
    app: Flask, course, db: Session, monkeypatch: pytest.MonkeyPatch
):
    """The master keeps HR's course keys of the course it built: no worker's first HR page
    reads them from the shared snapshot (``tests/ops/test_worker_imports.py`` checks the
    master's locale data, which needs a new interpreter)."""
    make_user(db, "hr-first", role="hr")
    db.commit()
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    master = create_app(dict(app.config))
    try:
        kept = master.extensions["courseware.core.db"].catalogue._catalogue
        assert set(master.extensions["courseware.hr_course_keys"]) == {kept.version}
        client = master.test_client()
        assert login(client, "hr-first").status_code == 302
        statements: list[str] = []
        engine = master.extensions["courseware.core.db"].engine
        with _statements_of(engine, statements):
            assert client.get("/hr/learners").status_code == 200
        assert statements and not [s for s in statements if "hr_snapshots.body" in s]
    finally:
        master.extensions["courseware.core.db"].engine.dispose()


def test_a_workers_first_hr_table_pages_compile_no_statement(
    app: Flask, course, db: Session, monkeypatch: pytest.MonkeyPatch
):
    """The master compiled the statements of HR's first table pages (whole organisation,
    and a search) and the signed-in user's: a worker's first such pages find them all in
    the engine's cache."""
    make_user(db, "hr-compiled", role="hr")
    db.commit()
    counted = app.test_client()  # a first HR page counts the summary for the course
    assert login(counted, "hr-compiled").status_code == 302
    assert counted.get("/hr/learners").status_code == 200
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    master = create_app(dict(app.config))
    engine = master.extensions["courseware.core.db"].engine
    try:
        client = master.test_client()
        assert login(client, "hr-compiled").status_code == 302
        missed: list[str] = []

        def note(_conn, _cursor, statement, _params, context, _many) -> None:
            if context.compiled is not None and context.cache_hit == CACHE_MISS:
                missed.append(" ".join(statement.split())[:120])

        for path in ("/hr/learners", "/hr/learners?q=Learner&page=2"):
            event.listen(engine, "before_cursor_execute", note)
            try:
                assert client.get(path).status_code == 200
            finally:
                event.remove(engine, "before_cursor_execute", note)
            assert missed == [], path
    finally:
        engine.dispose()


def test_the_site_starts_when_the_master_cannot_compile_the_hr_statements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """A database the statements fail on (here: without the HR summary table) costs the
    workers their compiled statements, not the start."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE learner_summary")
    engine.dispose()
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    master = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})
    master.extensions["courseware.core.db"].engine.dispose()
    assert "HR statements not compiled before the fork" in caplog.text


@contextmanager
def _statements_of(engine, into: list[str]) -> Iterator[None]:
    def note(_conn, _cursor, statement: str, *_args) -> None:
        into.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _gunicorn_settings() -> dict:
    return runpy.run_path(str(Path(__file__).resolve().parents[3] / "gunicorn.conf.py"))


class _Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, *args: object) -> None:
        self.warnings.append(message % args)


def _worker_of(app: Flask) -> SimpleNamespace:
    return SimpleNamespace(pid=4242, app=SimpleNamespace(wsgi=lambda: app))


def test_a_new_worker_connects_to_the_database_before_its_first_request(app: Flask):
    engine = app.extensions["courseware.core.db"].engine
    engine.dispose()
    server = SimpleNamespace(log=_Log())
    _gunicorn_settings()["post_fork"](server, _worker_of(app))
    assert engine.pool.checkedin() == 1 and engine.pool.checkedout() == 0
    assert server.log.warnings == []


def test_a_worker_starts_while_the_database_does_not_answer(app: Flask):
    """No connection at start: a warning in the log, and the worker still starts."""
    down = create_app({**app.config, "DATABASE_URL": f"sqlite:///{app.instance_path}/no/such/x"})
    database = down.extensions["courseware.core.db"]
    database.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    server = SimpleNamespace(log=_Log())
    _gunicorn_settings()["post_fork"](server, _worker_of(down))
    assert len(server.log.warnings) == 1 and "no database connection yet" in server.log.warnings[0]
    database.engine.dispose()


def test_gunicorn_master_freezes_its_objects_before_each_fork():
    """gunicorn.conf.py's pre_fork: the master's objects are out of the collector's reach in
    the workers (their first collections do not walk the application)."""
    settings = _gunicorn_settings()
    gc.unfreeze()
    made_before: list[list[int]] = [[]]  # a list is always tracked by the collector
    try:
        settings["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
        assert not any(obj is made_before for obj in gc.get_objects())  # the collector skips it
    finally:
        gc.unfreeze()
    assert any(obj is made_before for obj in gc.get_objects())
