"""Renewal through the site: the renewal assessment from all banks, fresh case decisions,
and a second certificate; before the window opens the assessment is refused."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from courseware.core import clock
from courseware.core.models import AttemptQuestion, Certificate, QuizAttempt
from tests.assessment.helpers import all_right
from tests.certification.test_certification import decide
from tests.conftest import csrf_token, login, post


def _start_renewal(client) -> int:
    response = post(client, "/quiz/renewal/start", token_from="/quiz/renewal")
    match = re.fullmatch(r"/quiz/renewal/attempts/(\d+)", response.location or "")
    assert match, (response.status_code, response.location)
    return int(match.group(1))


def test_renewal_is_refused_before_the_window(client, certified, users):
    login(client, "trainee")
    html = client.get("/quiz/renewal", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Renewal opens when your certificate is due." in html
    response = post(client, "/quiz/renewal/start", token_from="/quiz/renewal")
    assert response.location == "/quiz/renewal"


def test_renewal_assessment_and_fresh_cases_issue_a_second_certificate(
    client,
    db,
    certified,
    users,
):
    clock.set_time(certified.expires_at - timedelta(days=30))
    login(client, "trainee")
    page = client.get("/certificate", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Time to renew" in page and "/quiz/renewal" in page
    attempt_id = _start_renewal(client)
    db.rollback()
    questions = list(
        db.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id))
    )
    assert {q.bank_module for q in questions} == {"alpha", "beta"}  # drawn from every bank
    attempt = db.get(QuizAttempt, attempt_id)
    assert attempt.kind == "renewal"
    payload = {
        "token": attempt.token,
        "csrf_token": csrf_token(client, "/"),
        **all_right(questions),
    }
    response = client.post(f"/quiz/renewal/attempts/{attempt_id}/submit", data=payload)
    assert response.status_code == 303
    review = client.get(response.location)
    assert review.status_code == 200
    for slug in ("bar-owner", "grocery-kiosk"):  # two fresh decisions (their flow: test_cases)
        decide(db, users["trainee"], slug, 85, kind="renewal")
    html = client.get("/certificate").get_data(as_text=True)
    db.rollback()
    certificates = db.scalars(select(Certificate).order_by(Certificate.cycle)).all()
    assert [c.kind for c in certificates] == ["earned", "renewal"]
    assert certificates[1].code in html


def test_in_the_renewal_window_cases_not_decided_for_a_year_come_first(client, db, certified):
    # The certified trainee decided bar-owner and grocery-kiosk when they were certified.
    clock.set_time(certified.expires_at - timedelta(days=30))
    login(client, "trainee")
    html = client.get("/cases", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your renewal is open" in html
    rows = re.findall(r'<th scope="row"[^>]*><a href="/cases/([a-z-]+)">', html)
    # Within its module (alpha), the fresh cases (never decided) come before the one
    # decided a year ago; bar-owner names no module and is listed last.
    fresh = {"restructure-illness", "kiosk-visits", "lane-book"}
    assert set(rows[:3]) == fresh and rows[3:] == ["grocery-kiosk", "bar-owner"]
    assert html.count("Fresh for renewal") == len(fresh)
