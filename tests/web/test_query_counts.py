"""Every main page's number of SQL statements, pinned: at most 12, and the same with 20
learners on record as with 220 (a page whose count grew with the data would show here).
Statements are counted as the database receives them, less BEGIN (SQLite's driver gets it as
a statement, PostgreSQL's sends its own), so the pins hold on both.

A page's count is taken on its second request, as a worker that has loaded the course
serves it. When a change moves a count, update the pin with the reason in the commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from courseware.assessment.attempts import questions_of
from courseware.certification.policy import Policy
from courseware.content.store import CatalogueCache
from courseware.core import clock
from courseware.core.models import LessonProgress, QuizAttempt, User
from courseware.hr.reports import FunnelCache
from courseware.learning.progress import VIEW_REFRESH
from courseware.ops.seed import seed_load
from courseware.web.learner.lesson_fast import fast_path
from tests.assessment.helpers import fields_for, right_answer
from tests.conftest import login, post, read_lesson

MAX_QUERIES = 12
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
# The lesson page when its first view is written: the read, then a writing transaction that
# inserts the row in a savepoint (another request may insert it at the same moment) and
# notes the learner's first activity on the account.
# Plus the HR summary (2) and the fast path's one statement, which finds the view not yet
# written and hands over.
FIRST_VIEW = 11

# role -> {page: pinned statements}; {attempt}, {review} and {decision} are filled in.
# A signed-in page that reads the course gets the course version with the user (one statement).
PINS: dict[str, dict[str, int]] = {
    "trainee": {
        "/": 4,  # the unread notices and the course version come with the user
        "/modules/alpha": 3,
        # The view was written a moment ago: no write now; the fast path's one statement.
        "/modules/alpha/first": 1,
        "/quiz/alpha": 2,
        "/quiz/beta/attempts/{attempt}": 3,
        "/quiz/alpha/attempts/{review}/review": 4,
        "/cases": 4,
        "/cases/grocery-kiosk": 6,  # serving the ticket writes: lock, look, keep
        "/cases/grocery-kiosk/decisions/{decision}": 7,  # the verdict reads the standing
        "/cases/portfolio": 2,
        "/certificate": 6,
        "/transcript": 9,
    },
    "trainer": {"/course": 3, "/author": 2, "/author/cases": 2},
    # /hr: the funnel counts its own learners with it (one count, cached with the funnel);
    # /hr/learners: the cohorts a bulk action may enrol into.
    "manager": {"/hr": 4, "/hr/learners": 6},
    "hr": {
        "/hr": 4,
        "/hr/learners": 6,
        "/hr/learners/{learner}": 10,
        "/hr/completion/cohorts": 2,
    },
    # /admin/: the accounts counted, then one page of them (it was every account at once).
    "admin": {"/admin/": 3, "/hr": 4},
}


def statements(app: Flask, client: FlaskClient, path: str) -> int:
    """The statements one GET of ``path`` runs (a streamed body included)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's; PostgreSQL's driver sends its own
            seen.append(statement)

    engine = app.extensions["courseware.core.db"].engine
    fast = fast_path(app)  # the lesson page's fast path runs its statement outside the events
    before = fast.statements
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        response.get_data()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen) + fast.statements - before


def _seed(app: Flask, db: Session, learners: int) -> None:
    catalogue = CatalogueCache().get(db)
    db.commit()
    seed_load(db, catalogue, Policy(), learners, password_hash="x", seed=learners)


def _trainee_work(client: FlaskClient, db: Session) -> dict[str, int]:
    """A review to read, an open attempt, a decided case: the ids the pages need."""
    read_lesson(client, "alpha", "first")
    ids = {}
    for module in ("alpha", "beta"):
        started = post(client, f"/quiz/{module}/start", token_from=f"/quiz/{module}")
        ids[module] = int(started.location.rsplit("/", 1)[1])
    db.rollback()
    attempt = db.get(QuizAttempt, ids["alpha"])
    form = {"token": attempt.token}
    for question in questions_of(db, attempt.id):
        form.update(fields_for(question, right_answer(question)))
    path = f"/quiz/alpha/attempts/{attempt.id}/submit"
    assert post(client, path, form).status_code == 303
    page = client.get("/cases/grocery-kiosk").get_data(as_text=True)
    found = {
        name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1)
        for name in ("token", "seed", "revision")
    }
    decided = post(
        client, "/cases/grocery-kiosk/decide", {**found, "option": "approve-as-requested"}
    )
    assert decided.status_code == 303, decided.get_data(as_text=True)[:300]
    return {
        "attempt": ids["beta"],
        "review": ids["alpha"],
        "decision": int(decided.location.rsplit("/", 1)[1]),
    }


@pytest.fixture
def counted(app: Flask, db: Session, users, course) -> Iterator[dict[str, dict[str, int]]]:
    """Each role's pages counted with 20 seeded learners, then with 220.

    HR's funnel is normally reused for a minute; here it is counted on every request,
    so the pins are the pages' cold counts.
    """
    app.extensions["courseware.funnel_cache"] = FunnelCache(timedelta(0))
    _seed(app, db, 20)
    learner = db.scalar(select(User.id).where(User.username.like("officer%")).limit(1))
    clients = {}
    ids = {"learner": learner}
    for role in PINS:
        clients[role] = app.test_client()
        assert login(clients[role], role).status_code == 302
    ids.update(_trainee_work(clients["trainee"], db))
    found: dict[str, dict[str, list[int]]] = {role: {} for role in PINS}
    for rounds in range(2):
        if rounds:
            _seed(app, db, 200)
        for role, pages in PINS.items():
            for page in pages:
                path = page.format(**ids)
                clients[role].get(path)  # the first request of a worker loads the course
                found[role].setdefault(page, []).append(statements(app, clients[role], path))
    yield found


# PostgreSQL: the HR dashboard's grouped count gives itself room to hash its groups (``SET
# LOCAL work_mem`` in hr.reports.completion; it sorted 100,000 learners on disk): one more.
POSTGRES_EXTRA = {"/hr": 1, "/hr/completion/cohorts": 1}


def test_query_counts_are_pinned_and_flat(app, counted):
    postgres = app.extensions["courseware.core.db"].engine.dialect.name == "postgresql"
    for role, pages in counted.items():
        for page, (small, large) in pages.items():
            pin = PINS[role][page] + (POSTGRES_EXTRA.get(page, 0) if postgres else 0)
            assert small == large, (role, page, small, large)
            assert small <= MAX_QUERIES, (role, page, small)
            assert small == pin, (role, page, small, pin)


# ---------------------------------------------------------------- the lesson view's write


def _progress(db: Session, lesson: str) -> LessonProgress:
    db.rollback()  # see what the requests committed
    return db.scalars(select(LessonProgress).where(LessonProgress.lesson_slug == lesson)).one()


def test_reloading_the_lesson_viewed_last_writes_nothing(app, as_trainee, db):
    clock.set_time(START)
    first = statements(app, as_trainee, "/modules/alpha/first")
    clock.set_time(START + timedelta(minutes=3))
    again = statements(app, as_trainee, "/modules/alpha/first")
    assert again == PINS["trainee"]["/modules/alpha/first"] < first == FIRST_VIEW
    row = _progress(db, "first")
    assert row.first_viewed_at == row.last_viewed_at == START


def test_a_view_is_written_after_the_refresh_time(app, as_trainee, db):
    clock.set_time(START)
    as_trainee.get("/modules/alpha/first")
    clock.set_time(START + VIEW_REFRESH + timedelta(seconds=1))
    as_trainee.get("/modules/alpha/first")
    row = _progress(db, "first")
    assert row.first_viewed_at == START and row.last_viewed_at == START + VIEW_REFRESH + timedelta(
        seconds=1
    )


def test_coming_back_to_a_lesson_is_written_so_the_continue_point_follows(app, as_trainee, db):
    clock.set_time(START)
    as_trainee.get("/modules/alpha/first")
    clock.set_time(START + timedelta(minutes=1))
    as_trainee.get("/modules/alpha/second")
    clock.set_time(START + timedelta(minutes=2))
    as_trainee.get(
        "/modules/alpha/first"
    )  # within the refresh time, but another lesson came between
    assert _progress(db, "first").last_viewed_at == START + timedelta(minutes=2)
    page = as_trainee.get("/").get_data(as_text=True)
    assert 'href="/modules/alpha/first"' in page  # continue where you left off
