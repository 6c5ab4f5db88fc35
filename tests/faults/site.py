"""The site the fault tests break: a trainee halfway through a quiz and a case, a trainer
with a lesson edit typed, and what the tests assert of it (a calm 503 in zh-Hant, one log
line naming the cause, nothing lost, recovery without a restart)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware.assessment import attempts as engine
from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core.models import CaseDecision, ContentDocument, QuizAttempt
from tests.assessment.helpers import all_right
from tests.certification.test_certification import finish_lessons
from tests.conftest import csrf_token, import_fixture_course, login, make_user
from tests.faults.staging import fault_app, migrated_sqlite
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


def open_site(instance: Path, url: str | None = None) -> Site:
    """The site on ``instance`` (its database a migrated SQLite file there, or ``url``): a
    trainee with a quiz attempt open (answers saved) and a case opened, a trainer with a
    lesson edit typed; nothing sent yet."""
    url = url or migrated_sqlite(instance / "courseware.db")
    app = fault_app(url, instance)
    with app.extensions["courseware.core.db"].sessions() as db:
        import_fixture_course(db)
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


def state(site: Site) -> tuple:
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


def calm(response, message: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[-2000:]
    assert message in html
    assert "Traceback" not in html and "OperationalError" not in html and "Errno" not in html
    assert 'class="request-id"' in html


def one_line_naming(caplog: pytest.LogCaptureFixture, cause: str, requests: int) -> None:
    """One warning-or-worse line a request, each naming the cause."""
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == requests, lines
    assert all(cause in line for line in lines), lines


def refused(site: Site, caplog: pytest.LogCaptureFixture, message: str, cause: str) -> None:
    """The trainee's submit and decision and the trainer's publish each get the calm 503
    with ``message``, and the operator one log line each naming ``cause``."""
    with caplog.at_level(logging.INFO):
        responses = site.send_all()
    for response in responses:
        calm(response, message)
    one_line_naming(caplog, cause, requests=3)


def unchanged(site: Site, before: tuple) -> None:
    """Nothing half-written: the attempt still open with the answers saved before, no
    new decision, the lesson as it was; the attempt's page still reads."""
    assert state(site) == before
    assert site.trainee.get(f"/quiz/alpha/attempts/{site.attempt_id}").status_code == 200


def recovered(site: Site, before: tuple) -> None:
    submitted, decided, published = site.send_all()
    assert submitted.status_code == 303, submitted.get_data(as_text=True)[-2000:]
    assert decided.status_code == 303, decided.get_data(as_text=True)[-2000:]
    assert published.status_code == 302, published.get_data(as_text=True)[-2000:]
    status, answers, decisions, revision = state(site)
    assert status == "submitted" and answers == before[1]
    assert decisions == before[2] + 1 and revision != before[3]


def health(site: Site, expect: dict[str, str] | None = None) -> dict[str, str]:
    """/healthz's checks, asked by an anonymous caller; with ``expect``, the answer is
    "fail" with those codes (the other checks "ok"), else "ok"."""
    response = site.app.test_client().get("/healthz")
    body = response.get_json()
    wanted = {"database": "ok", "schema": "ok", "storage": "ok", **(expect or {})}
    assert body == {"status": "fail" if expect else "ok", "checks": wanted}, body
    assert response.status_code == (503 if expect else 200)
    return body["checks"]
