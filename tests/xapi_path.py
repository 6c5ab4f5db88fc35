"""A trainee's whole path through the site, for the xAPI tests (tests/core/test_xapi.py and
the real LRS in tests/interop/ralph): every lesson read, every quiz passed, one case decided,
and so the certificate, all through the test client as a browser sends them.

The app of these tests is made by ``lrs_app``: an LRS configured, and a settings file where
one case decided at any score earns the certificate (the path stays short)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware import casework, create_app
from courseware.assessment import attempts as engine
from courseware.core.config import REPO_ROOT
from courseware.core.models import Certificate, QuizAttempt, XapiOutbox
from courseware.lending.cases import load_case_dir
from courseware.lending.simulation import evaluate_options
from tests.assessment.helpers import all_right
from tests.conftest import DATA, app_config, csrf_token, read_lesson

BASE_URL = "https://academy.example.tw"
LESSONS = [("alpha", "first"), ("alpha", "second"), ("beta", "only")]
QUIZZES = ["alpha", "beta"]
CASE = "grocery-kiosk"


def short_path_settings(folder: Path) -> Path:
    """The repository's settings.yaml with one case enough for the certificate."""
    settings = yaml.safe_load((REPO_ROOT / "settings.yaml").read_text(encoding="utf-8"))
    settings["certification"].update(cases_required=1, case_average_min=0)
    settings["cases"]["unlock_after"] = 0
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return path


def lrs_app(database_url: str, folder: Path, lrs_url: str | None, **extra: Any) -> Flask:
    """The tests' app (as tests/conftest.py makes it) with an LRS at ``lrs_url``."""
    config = app_config(
        database_url,
        folder,
        SETTINGS_FILE=str(short_path_settings(folder)),
        BASE_URL=BASE_URL,
        LRS_URL=lrs_url,
        LRS_USER="academy",
        LRS_PASSWORD="lrs-password",
    )
    return create_app({**config, **extra})


def read_every_lesson(client: FlaskClient) -> None:
    for module, lesson in LESSONS:
        response = read_lesson(client, module, lesson)
        assert response.status_code in (302, 303), response.get_data(as_text=True)


def pass_quiz(client: FlaskClient, db: Session, module: str) -> int:
    """Start the module's quiz, answer every question right, submit; the attempt's id."""
    started = client.post(
        f"/quiz/{module}/start", data={"csrf_token": csrf_token(client, f"/quiz/{module}")}
    )
    assert started.status_code == 302, started.get_data(as_text=True)
    attempt_id = int(started.location.rsplit("/", 1)[1])
    db.rollback()
    attempt = db.get(QuizAttempt, attempt_id)
    assert attempt is not None
    form: dict[str, Any] = all_right(engine.questions_of(db, attempt_id))
    form.update(token=attempt.token, csrf_token=csrf_token(client, "/"))
    submitted = client.post(f"/quiz/{module}/attempts/{attempt_id}/submit", data=form)
    assert submitted.status_code == 303, submitted.get_data(as_text=True)
    return attempt_id


def decide_case(client: FlaskClient, slug: str = CASE) -> tuple[str, list[str]]:
    """Decide the case as the expert would; the option and the red flags marked."""
    html = client.get(f"/cases/{slug}").get_data(as_text=True)
    form = {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]
        for name in ("token", "seed", "revision", "csrf_token")
    }
    cases, errors = load_case_dir(DATA / "case_studies")
    assert not errors
    variant = casework.variant_of(cases[slug], int(form["seed"]))
    option = next(s.option_id for s in evaluate_options(variant, casework.SEEDS) if s.is_best)
    flags = sorted(variant.key_flags)
    reasons = list(variant.spec.key.key_reasons)
    data: dict[str, Any] = {**form, "option": option, "flags": flags, "reasons": reasons}
    response = client.post(f"/cases/{slug}/decide", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return option, flags


def whole_path(client: FlaskClient, db: Session) -> dict[str, Any]:
    """Lessons, quizzes, a case, the certificate: what was done, for the checks."""
    read_every_lesson(client)
    attempts = {module: pass_quiz(client, db, module) for module in QUIZZES}
    option, flags = decide_case(client)
    db.rollback()
    certificate = db.scalar(select(Certificate))
    assert certificate is not None, "the path should earn the certificate"
    return {"attempts": attempts, "option": option, "flags": flags, "code": certificate.code}


def queued(db: Session) -> list[dict[str, Any]]:
    """Every statement in the outbox, in the order written."""
    db.rollback()
    rows = db.scalars(select(XapiOutbox).order_by(XapiOutbox.created_at, XapiOutbox.id))
    return [row.statement for row in rows]


def verbs(statements: list[dict[str, Any]]) -> list[str]:
    return [s["verb"]["display"]["en-US"] for s in statements]
