"""Cases in several steps through the site: a multi-visit case with a break between
stages, a double-submitted stage, a rejection that ends the case, and a village book
whose outcome shows the shared shock's effect."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware.core import clock
from courseware.core.models import CaseDecision, CaseStageDecision
from tests.conftest import login, post
from tests.web.learner.test_cases import START, _template

VISITS = "kiosk-visits"
BOOK = "lane-book"


@pytest.fixture(autouse=True)
def _seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    from itertools import count

    from courseware.casework import decisions

    sequence = count(start=9001, step=7919)
    monkeypatch.setattr(decisions.secrets, "randbelow", lambda _limit: next(sequence))


@pytest.fixture
def trainee(as_trainee: FlaskClient) -> FlaskClient:
    post(as_trainee, "/language", {"lang": "en", "next": "/"})
    clock.set_time(START)
    return as_trainee


def _form(client: FlaskClient, slug: str) -> tuple[dict[str, str], str]:
    page = client.get(f"/cases/{slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    found = {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
        for name in ("token", "seed", "revision", "stage", "csrf_token")
    }
    return found, html


def _decide(client: FlaskClient, slug: str, form: dict[str, str], option: str, **extra):
    data = dict(form, option=option, flags=[], reasons=[])
    data.update(extra)
    return client.post(f"/cases/{slug}/decide", data=data)


def _count(db: Session, model) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model))


def _options(html: str) -> list[str]:
    return re.findall(r'name="option" value="([^"]+)"', html)


def test_a_multi_visit_case_with_a_break_between_stages(trainee, db, app):
    form, html = _form(trainee, VISITS)
    assert form["stage"] == "0" and "Stage 1 of up to 3" in html
    answer = _decide(trainee, VISITS, form, "approve-as-requested")
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/cases/{VISITS}")
    assert _count(db, CaseStageDecision) == 1 and _count(db, CaseDecision) == 0

    # A break: the trainee signs out and comes back later; the case resumes at stage 2.
    post(trainee, "/logout", {})
    login(trainee, "trainee")
    post(trainee, "/language", {"lang": "en", "next": "/"})
    listing = trainee.get("/cases").get_data(as_text=True)
    assert "In progress: 1 stage decided" in listing
    later, html = _form(trainee, VISITS)
    assert later["stage"] == "1" and later["token"] == form["token"]
    assert "Stage 2 of up to 3" in html and "Stage decided" in html
    assert "第四個月：超市開幕之後" in html  # the visit's own heading and notes
    assert "keep-collecting" in _options(html) and "approve-as-requested" not in _options(html)
    # The visit acts on the loan approved: its installment is in the note.
    template = _template(VISITS)
    from courseware.lending.stages import walk

    visit = walk(template, int(form["seed"]), ["approve-as-requested"]).visits[-1]
    assert f"{visit.installment:,.0f}" in html

    # The first stage's form posted again (a double submit, a stale tab) changes nothing.
    again = _decide(
        trainee, VISITS, dict(form, csrf_token=later["csrf_token"]), "reject-competition"
    )
    assert again.status_code == 303
    assert _count(db, CaseStageDecision) == 1

    done = None
    for _ in range(3):
        current, html = _form(trainee, VISITS)
        option = "restructure-grace" if "restructure-grace" in _options(html) else _options(html)[0]
        done = _decide(trainee, VISITS, current, option)
        if "/decisions/" in done.headers["Location"]:
            break
    assert "/decisions/" in done.headers["Location"]
    assert _count(db, CaseDecision) == 1
    decision = db.scalar(select(CaseDecision))
    rows = list(db.scalars(select(CaseStageDecision).order_by(CaseStageDecision.stage)))
    assert decision.first_key is not None  # it counts toward certification, once
    assert decision.score_total == pytest.approx(sum(r.score_total for r in rows) / len(rows))
    page = trainee.get(done.headers["Location"]).get_data(as_text=True)
    assert "The stages of this case" in page
    for row in rows:
        assert f"{row.score_total:.1f}" in page
    assert page.count("Explanation:") == len(rows)


def test_a_rejection_ends_a_multi_visit_case_at_once(trainee, db):
    form, _html = _form(trainee, VISITS)
    done = _decide(trainee, VISITS, form, "reject-competition")
    assert "/decisions/" in done.headers["Location"]
    assert _count(db, CaseStageDecision) == 1 and _count(db, CaseDecision) == 1


def test_another_trainee_cannot_decide_on_my_stage(trainee, db, app):
    from tests.conftest import make_user

    form, _html = _form(trainee, VISITS)
    make_user(db, "other-trainee")
    other = app.test_client()
    login(other, "other-trainee")
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', other.get("/cases").get_data(as_text=True)
    ).group(1)
    answer = _decide(other, VISITS, dict(form, csrf_token=token), "approve-as-requested")
    assert answer.status_code in (303, 400)
    assert _count(db, CaseStageDecision) == 0


def test_a_village_book_shows_the_shock_with_and_without(trainee, db):
    form, html = _form(trainee, BOOK)
    assert "Application 1 of 5" in html and "The village file" in html
    done = None
    for _ in range(5):
        form, html = _form(trainee, BOOK)
        done = _decide(trainee, BOOK, form, "approve-as-requested")
    assert "/decisions/" in done.headers["Location"]
    decision = db.scalar(select(CaseDecision))
    book = decision.record["book"]
    # Lending the full amount to every household, the exposed ones included: the shock
    # puts more of the book past due than a year without it.
    assert book["with_shock"]["par30"] > book["without_shock"]["par30"]
    assert book["with_shock"]["lent"] == book["without_shock"]["lent"] > 0
    page = trainee.get(done.headers["Location"]).get_data(as_text=True)
    assert "Your village book" in page and "With the shock" in page
    assert "Without the shock" in page and "颱風豪雨，溪水漫進巷尾" in page
