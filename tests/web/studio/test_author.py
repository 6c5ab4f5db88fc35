"""The trainers' area: who may enter, bank overview, item statistics in a few queries."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from courseware.assessment import attempts as engine
from courseware.content.catalogue import build_catalogue
from courseware.content.store import add_revision, published_sources
from courseware.core.models import ContentDocument
from tests.assessment.helpers import all_right, all_wrong
from tests.conftest import login, make_user, post


@pytest.mark.parametrize(
    ("role", "status"),
    [("trainer", 200), ("admin", 200), ("trainee", 403), ("manager", 403), ("hr", 403)],
)
def test_only_trainers_and_admins_enter_the_studio(client, users, course, role, status):
    login(client, role)
    assert client.get("/author").status_code == status
    assert client.get("/author/quizzes/alpha").status_code == status
    nav = client.get("/course").get_data(as_text=True)
    assert ('href="/author"' in nav) == (status == 200)


def test_anonymous_visitors_are_sent_to_sign_in(client, course):
    response = client.get("/author")
    assert response.status_code == 302 and "/login" in response.location


def _fill(db: Session, learners: int, right: bool = True) -> None:
    sources, revisions = published_sources(db)
    bank = build_catalogue(sources, revisions).quizzes["alpha"]
    for n in range(learners):
        user = make_user(db, f"learner{right}{n}")
        attempt = engine.start_attempt(db, user.id, bank)
        questions = engine.questions_of(db, attempt.id)
        db.commit()
        form = all_right(questions) if right and n % 2 == 0 else all_wrong(questions)
        engine.submit_attempt(db, user.id, attempt.id, attempt.token, form)
        db.commit()


@pytest.fixture
def trainer(client: FlaskClient, users, course) -> FlaskClient:
    login(client, "trainer")
    post(client, "/language", {"lang": "en", "next": "/"})
    return client


def test_the_studio_lists_banks_and_shows_statistics(trainer, db):
    _fill(db, 4)
    index = trainer.get("/author").get_data(as_text=True)
    assert 'href="/author/quizzes/alpha"' in index and 'href="/author/quizzes/beta"' in index
    assert "50%" in index  # alpha: two of four attempts passed
    page = trainer.get("/author/quizzes/alpha").get_data(as_text=True)
    assert "Finished attempts" in page and "Score distribution" in page
    for qid in ("alpha-single", "alpha-multiple", "alpha-true-false", "alpha-numeric"):
        assert f'id="item-{qid}"' in page
    assert "0.50" in page  # facility of every question: half right
    assert "Retired" in page
    assert trainer.get("/author/quizzes/nope").status_code == 404


def test_a_broken_bank_shows_in_the_studio(trainer, db):
    document = db.scalar(select(ContentDocument).where(ContentDocument.path == "quizzes/beta.yaml"))
    add_revision(
        db,
        document,
        "module: beta\ntitle: x\npass_mark: 2\ndraw: 1\nquestions: [1]\n",
        origin="editor",
    )
    db.commit()
    html = trainer.get("/author").get_data(as_text=True)
    assert "Question bank problems" in html and "quizzes/beta.yaml" in html
    assert "No bank serving" in html
    assert trainer.get("/author/quizzes/alpha").status_code == 200


def test_the_statistics_page_issues_the_same_queries_for_more_attempts(trainer, db, app):
    engine_ = app.extensions["courseware.core.db"].engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    def page_queries() -> int:
        seen.clear()
        event.listen(engine_, "before_cursor_execute", count)
        try:
            assert trainer.get("/author/quizzes/alpha").status_code == 200
        finally:
            event.remove(engine_, "before_cursor_execute", count)
        return len(seen)

    _fill(db, 2)
    page_queries()  # warm the catalogue cache
    few = page_queries()
    _fill(db, 12, right=False)
    assert page_queries() == few
    assert few <= 8


def test_items_are_not_flagged_on_a_handful_of_responses(trainer, db):
    # One all-wrong attempt made every question "too hard" after a single response.
    _fill(db, 1, right=False)
    page = trainer.get("/author/quizzes/alpha").get_data(as_text=True)
    assert "too hard" not in page
    assert "Too few responses (1 of 30) to judge" in page
    assert "Single choice" in page and ">single ·" not in page  # the type's name, not its code
    post(trainer, "/language", {"lang": "zh_Hant", "next": "/"})
    page = trainer.get("/author/quizzes/alpha").get_data(as_text=True)
    assert "作答次數不足，尚無法判斷（1 / 30 次）" in page
