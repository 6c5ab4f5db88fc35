"""Harder cases unlock as a trainee decides easier ones; the list groups cases by module;
staff are never locked out."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from courseware.certification.policy import CaseRules, LoadedPolicy
from courseware.core import clock
from courseware.core.models import CaseDecision, CaseTicket
from tests.conftest import login, post
from tests.web.learner.test_cases import BAD, GOOD, START, _decide_as_expert, _text

HARD = "restructure-illness"  # difficulty 3; the fixture course has no difficulty 2
LOCKED = "This case is still locked."


@pytest.fixture
def trainee(as_trainee: FlaskClient) -> FlaskClient:
    post(as_trainee, "/language", {"lang": "en", "next": "/"})
    clock.set_time(START)
    return as_trainee


def _row(listing: str, title: str) -> str:
    """The list's table row of one case."""
    start = listing.index(title)
    return listing[listing.rindex("<tr", 0, start) : listing.index("</tr>", start)]


def test_a_new_trainee_sees_harder_cases_locked_and_what_opens_them(trainee):
    listing = _text(trainee.get("/cases"))
    assert "You start with the difficulty-1 cases" in listing
    hard = _row(listing, "開刀後逾期的麵攤老闆")
    assert "Locked" in hard and f'href="/cases/{HARD}"' not in hard
    assert "Opens once you have decided 2 of the difficulty-1 cases (0 so far)." in hard
    easy = _row(listing, "巷口雜貨店的第四次貸款")
    assert f'href="/cases/{GOOD}"' in easy and "Locked" not in easy
    # Grouped by course module, in course order, easier first; a case naming none comes last.
    assert (
        listing.index('<h2 id="case-group-1">測試模組一</h2>')
        < listing.index("巷口雜貨店的第四次貸款")
        < listing.index("開刀後逾期的麵攤老闆")
        < listing.index('<h2 id="case-group-2">Other cases</h2>')
        < listing.index("想裝修擴點的小酒館老闆")
    )
    assert "測試模組二</h2>" not in listing  # a module without cases has no heading


def test_a_locked_case_answers_403_and_nothing_is_served_or_stored(trainee, db):
    page = trainee.get(f"/cases/{HARD}")
    assert page.status_code == 403
    assert LOCKED in _text(page)
    assert "decided 2 of the difficulty-1 cases (0 so far)" in _text(page)
    refused = post(trainee, f"/cases/{HARD}/decide", {"option": "restructure-longer-grace"})
    assert refused.status_code == 403 and LOCKED in _text(refused)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CaseTicket)) == 0
    assert db.scalar(select(func.count()).select_from(CaseDecision)) == 0


def test_deciding_two_easy_cases_unlocks_the_harder_one(trainee):
    assert _decide_as_expert(trainee, GOOD).status_code == 303
    page = trainee.get(f"/cases/{HARD}")
    assert page.status_code == 403
    assert "(1 so far)" in _text(page)
    assert _decide_as_expert(trainee, BAD).status_code == 303

    listing = _text(trainee.get("/cases"))
    assert f'href="/cases/{HARD}"' in _row(listing, "開刀後逾期的麵攤老闆")
    assert "Locked" not in listing
    assert _decide_as_expert(trainee, HARD).status_code == 303


@pytest.mark.parametrize("role", ["trainer", "hr", "admin"])
def test_staff_are_never_locked_out(client, users, course, role):
    assert login(client, role).status_code == 302
    assert client.get(f"/cases/{HARD}").status_code == 200
    listing = _text(client.get("/cases"))
    assert f'href="/cases/{HARD}"' in listing and "Locked" not in listing


def test_unlock_after_zero_opens_every_case(app, trainee):
    loaded = app.extensions["courseware.certification.policy"]
    app.extensions["courseware.certification.policy"] = LoadedPolicy(
        loaded.policy.model_copy(update={"cases": CaseRules(unlock_after=0)}), []
    )
    assert trainee.get(f"/cases/{HARD}").status_code == 200
    listing = _text(trainee.get("/cases"))
    assert "Locked" not in listing and "You start with the difficulty-1 cases" not in listing


def test_the_lock_message_is_translated(as_trainee):
    post(as_trainee, "/language", {"lang": "zh_Hant", "next": "/"})
    page = _text(as_trainee.get(f"/cases/{HARD}"))
    assert "尚未開放" in page and LOCKED not in page
    assert "尚未開放" in _text(as_trainee.get("/cases"))
