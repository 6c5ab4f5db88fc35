"""Earning a certificate is one transaction with the work that earns it.

The process is killed (os._exit, no cleanup, no rollback) after the certificate row is
written and before the request commits: the database must then hold neither the earning
work nor the certificate, never a learner whose recorded work earns a certificate they do
not have. The same request sent again then records both.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware import certification
from courseware.assessment import attempts as engine
from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core.models import CaseDecision, Certificate, QuizAttempt, User
from tests.assessment.helpers import all_right
from tests.certification.test_certification import decide, finish_lessons, pass_quiz
from tests.conftest import csrf_token, login, post
from tests.faults.staging import fault_app, one_case_certifies

ROOT = Path(__file__).resolve().parents[2]
KILLED = 71
CASE = "grocery-kiosk"


def _submit_quiz(client: FlaskClient, app_sessions, module: str = "alpha"):
    started = post(client, f"/quiz/{module}/start", token_from=f"/quiz/{module}")
    assert started.status_code == 302, started.get_data(as_text=True)[-2000:]
    attempt_id = int(re.fullmatch(rf"/quiz/{module}/attempts/(\d+)", started.location).group(1))
    with app_sessions() as session:
        attempt = session.get(QuizAttempt, attempt_id)
        payload = {"token": attempt.token, **all_right(engine.questions_of(session, attempt_id))}
    payload["csrf_token"] = csrf_token(client, "/")
    return client.post(f"/quiz/{module}/attempts/{attempt_id}/submit", data=payload)


def _decide_case(client: FlaskClient, _app_sessions=None):
    html = client.get(f"/cases/{CASE}").get_data(as_text=True)
    form = {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
        for name in ("token", "seed", "revision", "csrf_token")
    }
    form["option"] = "approve-as-requested"
    return client.post(f"/cases/{CASE}/decide", data=form)


def child(database_url: str, instance: str, work: str) -> None:
    """In a subprocess: send the earning request and die right after the certificate is
    written, before anything commits."""
    from courseware.certification import issuing

    app = fault_app(database_url, Path(instance))
    one_case_certifies(app)
    client = app.test_client()
    assert login(client, "trainee").status_code == 302
    original = issuing._issue

    def issue_then_die(*args, **kwargs):
        original(*args, **kwargs)
        os._exit(KILLED)

    issuing._issue = issue_then_die
    sessions = app.extensions["courseware.core.db"].sessions
    response = _submit_quiz(client, sessions) if work == "quiz" else _decide_case(client)
    print(response.status_code, file=sys.stderr)
    os._exit(0)  # the certificate step was never reached


def _arrange(db: Session, user: User, work: str) -> None:
    catalogue = build_catalogue(*published_sources(db))
    finish_lessons(db, user, catalogue)
    for slug in catalogue.quizzes:
        if work != "quiz" or slug != "alpha":
            pass_quiz(db, user, slug)
    if work == "quiz":
        decide(db, user, CASE, 80)
    db.commit()


def _earning_rows(db: Session, user: User, work: str) -> int:
    db.rollback()
    if work == "quiz":
        query = select(func.count()).where(
            QuizAttempt.user_id == user.id,
            QuizAttempt.module_slug == "alpha",
            QuizAttempt.passed.is_(True),
        )
    else:
        query = select(func.count()).where(CaseDecision.user_id == user.id)
    return db.scalar(query) or 0


@pytest.mark.parametrize("work", ["quiz", "case"])
def test_a_crash_between_the_work_and_its_certificate_leaves_neither(
    app, db, users, course, tmp_path, database_url, work
):
    trainee = users["trainee"]
    _arrange(db, trainee, work)
    policy = one_case_certifies(app)
    catalogue = build_catalogue(*published_sources(db))
    assert not certification.learner_standing(db, trainee.id, catalogue, policy).complete
    already = _earning_rows(db, trainee, work)
    db.commit()

    code = (
        "import sys; from tests.faults.test_certificate_atomic import child; "
        "child(sys.argv[1], sys.argv[2], sys.argv[3])"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, database_url, str(tmp_path / "child"), work],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == KILLED, run.stderr[-3000:]

    db.rollback()
    certificates = db.scalar(select(func.count()).select_from(Certificate))
    standing = certification.learner_standing(db, trainee.id, catalogue, policy)
    # Never certified-without-certificate: the earning work went with the certificate.
    assert certificates == 0
    assert not standing.complete
    assert _earning_rows(db, trainee, work) == already

    # The learner sends the work again: both are recorded, together.
    client = app.test_client()
    assert login(client, "trainee").status_code == 302
    sessions = app.extensions["courseware.core.db"].sessions
    response = _submit_quiz(client, sessions) if work == "quiz" else _decide_case(client)
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    db.rollback()
    assert _earning_rows(db, trainee, work) == already + 1
    assert db.scalar(select(func.count()).select_from(Certificate)) == 1
