"""The load test (``python -m courseware.ops.loadtest``): its form filling on real pages, always;
the short form itself against PostgreSQL, Redis and gunicorn when COURSEWARE_LOADTEST=1
(CI sets it: .ci/run runs this file so)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from courseware.core.models import CaseDecision, QuizAttempt
from courseware.ops.loadtest import form_fields
from tests.conftest import post

ROOT = Path(__file__).resolve().parents[2]


def test_the_simulated_learner_fills_the_quiz_and_the_case_forms(as_trainee, db):
    started = post(as_trainee, "/quiz/alpha/start", token_from="/quiz/alpha")
    attempt = started.location
    page = as_trainee.get(attempt).get_data(as_text=True)
    fields = form_fields(page, f"{attempt}/submit")
    assert fields["token"] and fields["csrf_token"]
    assert any(name.startswith("q-") for name in fields)
    assert as_trainee.post(f"{attempt}/submit", data=fields).status_code == 303
    db.rollback()
    assert db.scalars(select(QuizAttempt.status)).all() == ["submitted"]

    page = as_trainee.get("/cases/grocery-kiosk").get_data(as_text=True)
    fields = form_fields(page, "decision")
    assert {"token", "seed", "option", "csrf_token"} <= set(fields)
    assert as_trainee.post("/cases/grocery-kiosk/decide", data=fields).status_code == 303
    db.rollback()
    assert len(db.scalars(select(CaseDecision.id)).all()) == 1


@pytest.mark.skipif(
    not os.environ.get("COURSEWARE_LOADTEST"),
    reason="needs PostgreSQL, Redis and a minute: set COURSEWARE_LOADTEST=1 (CI does)",
)
def test_the_load_test_short_form_passes():
    result = subprocess.run(
        [sys.executable, "-m", "courseware.ops.loadtest", "--learners", "10", "--seconds", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == 0 and report["problems"] == []
    assert report["attempts_submitted"] > 0 and report["decisions"] > 0
    assert report["throttle_shared"] is True
