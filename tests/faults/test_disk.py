"""The disk fills up, the instance folder turns read-only, the database file is damaged:
staged for real on a small tmpfs (and a read-only bind mount), with the SQLite database
and the instance folder on it.

Each time the user gets a calm 503 page in zh-Hant (no traceback) saying what happened,
nothing acknowledged before is lost, nothing half-written is served, the operator gets one
log line naming the cause, and once the fault is gone the same requests succeed without a
restart.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from courseware.assessment import attempts as engine
from courseware.content.catalogue import build_catalogue
from courseware.content.store import import_sources, published_sources, read_sources
from courseware.core.db import make_engine
from courseware.core.models import CaseDecision, ContentDocument, QuizAttempt, User
from tests.assessment.helpers import all_right
from tests.certification.test_certification import finish_lessons
from tests.conftest import DATA, csrf_token, login, make_user
from tests.faults.staging import (
    bind_read_only,
    fault_app,
    fill,
    migrated_sqlite,
    remount,
    small_disk,
    unmount,
)
from tests.studio.helpers import editor_form

CASE = "grocery-kiosk"
LESSON = "content/01-alpha/01-first.md"
ZH = {"Accept-Language": "zh-TW"}
DISK_FULL_ZH = "伺服器的磁碟已滿"
READ_ONLY_ZH = "伺服器目前無法寫入儲存空間"
CORRUPT_ZH = "網站的資料庫檔案已損壞"


@dataclass
class Site:
    app: Flask
    trainee: FlaskClient
    trainer: FlaskClient
    attempt_id: int
    submit: dict[str, list[str]]
    decide: dict[str, str]
    publish: dict[str, str]
    document_id: int

    def sessions(self) -> Session:
        return self.app.extensions["courseware.core.db"].sessions()

    def send_all(self) -> list:
        """The trainee submits the quiz and decides the case; the trainer publishes."""
        return [
            self.trainee.post(
                f"/quiz/alpha/attempts/{self.attempt_id}/submit", data=self.submit, headers=ZH
            ),
            self.trainee.post(f"/cases/{CASE}/decide", data=self.decide, headers=ZH),
            self.trainer.post(f"/author/content/{self.document_id}", data=self.publish, headers=ZH),
        ]


def _open_site(instance: Path) -> Site:
    """The site on ``instance``: a trainee with a quiz attempt open (answers saved) and a
    case opened, a trainer with a lesson edit typed; nothing sent yet."""
    url = migrated_sqlite(instance / "courseware.db")
    app = fault_app(url, instance)
    with app.extensions["courseware.core.db"].sessions() as db:
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
        trainee = make_user(db, "trainee")
        make_user(db, "trainer", role="trainer")
        finish_lessons(db, trainee, build_catalogue(*published_sources(db)))
        document_id = db.scalar(select(ContentDocument.id).where(ContentDocument.path == LESSON))
    learner = app.test_client()
    assert login(learner, "trainee").status_code == 302
    started = learner.post(
        "/quiz/alpha/start", data={"csrf_token": csrf_token(learner, "/quiz/alpha")}
    )
    assert started.status_code == 302, started.get_data(as_text=True)[-2000:]
    attempt_id = int(re.fullmatch(r"/quiz/alpha/attempts/(\d+)", started.location).group(1))
    with app.extensions["courseware.core.db"].sessions() as db:
        attempt = db.get(QuizAttempt, attempt_id)
        answers = {"token": [attempt.token], **all_right(engine.questions_of(db, attempt_id))}
    answers["csrf_token"] = [csrf_token(learner, "/")]
    saved = learner.post(f"/quiz/alpha/attempts/{attempt_id}/save", data=answers)
    assert saved.status_code == 302  # acknowledged: "Your answers are saved."
    page = learner.get(f"/cases/{CASE}").get_data(as_text=True)
    decide = {
        name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1)
        for name in ("token", "seed", "revision", "csrf_token")
    }
    decide["option"] = "approve-as-requested"
    trainer = app.test_client()
    assert login(trainer, "trainer").status_code == 302
    publish = editor_form(trainer, document_id)
    publish.update(text=publish["text"] + "\n\n新增的一段。\n", action="publish")
    return Site(app, learner, trainer, attempt_id, answers, decide, publish, document_id)


def _state(site: Site) -> tuple:
    """What is recorded: the attempt's status and saved answers, decisions, the lesson's
    published revision."""
    with site.sessions() as db:
        attempt = db.get(QuizAttempt, site.attempt_id)
        answers = sorted(
            (q.position, repr(q.answer)) for q in engine.questions_of(db, site.attempt_id)
        )
        decisions = db.scalar(select(func.count()).select_from(CaseDecision))
        published = db.scalar(
            select(ContentDocument.published_revision_id).where(
                ContentDocument.id == site.document_id
            )
        )
    return attempt.status, answers, decisions, published


def _calm(response, message: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[-2000:]
    assert message in html
    assert "Traceback" not in html and "OperationalError" not in html and "Errno" not in html
    assert 'class="request-id"' in html


def _one_line_naming(caplog: pytest.LogCaptureFixture, cause: str, requests: int) -> None:
    """One warning-or-worse line a request, each naming the cause."""
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == requests, lines
    assert all(cause in line for line in lines), lines


def _recovered(site: Site, before: tuple) -> None:
    submitted, decided, published = site.send_all()
    assert submitted.status_code == 303, submitted.get_data(as_text=True)[-2000:]
    assert decided.status_code == 303, decided.get_data(as_text=True)[-2000:]
    assert published.status_code == 302, published.get_data(as_text=True)[-2000:]
    status, answers, decisions, revision = _state(site)
    assert status == "submitted" and answers == before[1]
    assert decisions == before[2] + 1 and revision != before[3]


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path, "24m") as mount:
        yield mount


def test_a_full_disk_refuses_calmly_loses_nothing_and_recovers(disk, caplog):
    site = _open_site(disk / "instance")
    before = _state(site)
    engine_ = site.app.extensions["courseware.core.db"].engine
    with engine_.connect() as connection:  # start the next write on fresh blocks
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    ballast = fill(disk)

    with caplog.at_level(logging.INFO):
        responses = site.send_all()
    for response in responses:
        _calm(response, DISK_FULL_ZH)
    _one_line_naming(caplog, "disk full", requests=3)
    # Nothing half-written: the attempt is still open with the answers saved before, no
    # decision, the lesson as it was; the pages still read.
    assert _state(site) == before
    assert site.trainee.get(f"/quiz/alpha/attempts/{site.attempt_id}").status_code == 200

    ballast.unlink()
    _recovered(site, before)


def test_a_read_only_instance_folder_refuses_calmly_and_recovers(disk, caplog):
    instance = disk / "instance"
    site = _open_site(instance)
    before = _state(site)
    site.app.extensions["courseware.core.db"].engine.dispose()  # nothing open for writing
    bind_read_only(instance)
    try:
        with caplog.at_level(logging.INFO):
            responses = site.send_all()
        for response in responses:
            _calm(response, READ_ONLY_ZH)
        _one_line_naming(caplog, "storage read-only", requests=3)
    finally:
        remount(instance, "rw,bind")
    assert _state(site) == before
    _recovered(site, before)
    site.app.extensions["courseware.core.db"].engine.dispose()
    unmount(instance)


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_database_file_gets_a_calm_503_not_a_traceback(tmp_path, caplog, damage):
    instance = tmp_path / "instance"
    url = migrated_sqlite(instance / "courseware.db")
    database = instance / "courseware.db"
    with database.open("r+b") as handle:
        if damage == "truncated":
            handle.truncate(database.stat().st_size // 3)
        else:
            handle.write(b"not a database, a half-copied file " * 4)
    with caplog.at_level(logging.INFO):
        app = fault_app(url, instance)
        client = app.test_client()
        response = client.post(
            "/login",
            data={"username": "trainee", "password": "x", "csrf_token": csrf_token(client)},
            headers=ZH,
        )
    _calm(response, CORRUPT_ZH)
    _one_line_naming(caplog, "database file corrupt", requests=1)
    app.extensions["courseware.core.db"].engine.dispose()


# Werkzeug leaves the spool file it could not write to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_upload_spooled_to_a_full_disk_gets_the_same_calm_503(disk, caplog, monkeypatch):
    """A large upload is spooled to a temporary file: on a full disk that write fails
    (ENOSPC) before the view runs; the admin reads why, and sends it again once freed."""
    site = _open_site(disk / "instance")
    with site.sessions() as db:
        make_user(db, "admin", role="admin")
    admin = site.app.test_client()
    assert login(admin, "admin").status_code == 302
    spool = disk / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    rows = "".join(f"u{n:05d},{'名' * 40}{n},trainee,E{n},台北分行\n" for n in range(4500))
    payload = ("username,display_name,role,employee_id,branch\n" + rows).encode()
    assert len(payload) > 600_000  # beyond the 500 KB kept in memory

    def upload():
        token = csrf_token(admin, "/admin/import")
        boundary = "faultsboundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                f"{token}\r\n--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="people.csv"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + payload
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return admin.post(
            "/admin/import",
            input_stream=io.BytesIO(body),
            content_length=len(body),
            content_type=f"multipart/form-data; boundary={boundary}",
            headers=ZH,
        )

    ballast = fill(disk)
    with caplog.at_level(logging.INFO):
        _calm(upload(), DISK_FULL_ZH)
    _one_line_naming(caplog, "disk full", requests=1)
    with site.sessions() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 3  # none half-imported
    ballast.unlink()
    again = upload()
    assert again.status_code == 200, again.get_data(as_text=True)[-2000:]
    with site.sessions() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 3 + 4500


def test_a_course_import_on_a_full_disk_stops_with_one_clear_line(disk):
    """`courseware import` says what stopped it (no traceback), changes nothing, and the
    same command succeeds once there is room."""
    from click.testing import CliRunner

    from courseware import cli

    url = migrated_sqlite(disk / "courseware.db")
    env = {
        "COURSEWARE_INSTANCE_PATH": str(disk / "instance"),
        "COURSEWARE_DATABASE_URL": url,
        "COURSEWARE_SECRET_KEY": "faults",
        "COURSEWARE_CONTENT_DIR": str(DATA / "content"),
        "COURSEWARE_QUIZ_DIR": str(DATA / "quizzes"),
        "COURSEWARE_CASE_DIR": str(DATA / "case_studies"),
    }
    (disk / "instance").mkdir()
    ballast = fill(disk)
    stopped = CliRunner().invoke(cli.main, ["import"], env=env)
    assert stopped.exit_code == 1, stopped.output
    assert "磁碟已滿" in stopped.output and "nothing was changed" in stopped.output
    assert "Traceback" not in stopped.output
    ballast.unlink()
    engine_ = make_engine(url)
    with engine_.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(ContentDocument)) == 0
    engine_.dispose()
    done = CliRunner().invoke(cli.main, ["import"], env=env)
    assert done.exit_code == 0, done.output
