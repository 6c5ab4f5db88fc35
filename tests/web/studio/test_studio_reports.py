"""Report a problem: from a lesson or a quiz review to the trainers' inbox, with the page
and revision attached; learners can send notes but never read any."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.assessment import attempts as engine
from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core.models import ContentRevision, ProblemReport
from tests.assessment.helpers import all_wrong
from tests.conftest import make_user
from tests.studio.helpers import doc_id, hidden, sign_in

LESSON = "content/01-alpha/01-first.md"


@pytest.fixture
def trainee(client: FlaskClient, users, course) -> FlaskClient:
    return sign_in(client, "trainee")


def _report_form(page: str) -> dict[str, str]:
    form = page.split('class="report-problem"', 1)[1]
    return {name: hidden(form, name) for name in ("csrf_token", "revision", "attempt", "page")}


def _reports(db: Session) -> list[ProblemReport]:
    db.rollback()
    return list(db.scalars(select(ProblemReport).order_by(ProblemReport.id)))


def test_a_lesson_note_reaches_the_inbox_with_page_and_revision(app, trainee, db: Session, users):
    page = trainee.get("/modules/alpha/first").get_data(as_text=True)
    assert "Report a problem" in page
    form = _report_form(page)
    sent = trainee.post("/report-problem", data={**form, "note": "第二段的利率算錯了"})
    assert sent.status_code == 302 and sent.location == "/modules/alpha/first"
    assert "your note was sent" in trainee.get(sent.location).get_data(as_text=True)
    [report] = _reports(db)
    revision = db.scalar(
        select(ContentRevision.id).where(ContentRevision.document_id == doc_id(db, LESSON))
    )
    assert (report.path, report.revision_id, report.page_url) == (
        LESSON,
        revision,
        "/modules/alpha/first",
    )
    assert report.user_id == users["trainee"].id
    # Learners cannot read the inbox; trainers can, and resolve and reopen.
    assert trainee.get("/author/reports").status_code == 403
    trainer = sign_in(app.test_client(), "trainer")
    inbox = trainer.get("/author/reports").get_data(as_text=True)
    assert (
        "第二段的利率算錯了" in inbox
        and f"<code>{LESSON}</code>" in inbox
        and "revision 1" in inbox
    )
    token = hidden(inbox, "csrf_token")
    trainer.post(
        f"/author/reports/{report.id}/resolve", data={"csrf_token": token, "resolved": "1"}
    )
    assert "第二段的利率算錯了" not in trainer.get("/author/reports").get_data(as_text=True)
    everything = trainer.get("/author/reports?show=all").get_data(as_text=True)
    assert "第二段的利率算錯了" in everything and "✓ Resolved" in everything
    trainer.post(
        f"/author/reports/{report.id}/resolve", data={"csrf_token": token, "resolved": "0"}
    )
    assert _reports(db)[0].resolved_at is None


def test_a_quiz_review_note_names_the_question(trainee, db: Session, users):
    sources, revisions = published_sources(db)
    bank = build_catalogue(sources, revisions).quizzes["alpha"]
    attempt = engine.start_attempt(db, users["trainee"].id, bank)
    db.commit()
    questions = engine.questions_of(db, attempt.id)
    engine.submit_attempt(db, users["trainee"].id, attempt.id, attempt.token, all_wrong(questions))
    db.commit()
    review = trainee.get(f"/quiz/alpha/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Which question? (optional)" in review
    form = _report_form(review)
    trainee.post("/report-problem", data={**form, "question": "2", "note": "答案好像有兩個"})
    [report] = _reports(db)
    assert report.question_id == questions[1].question_id
    assert report.path == "quizzes/alpha.yaml" and report.revision_id == bank.revision_id


def test_another_learners_attempt_is_not_attached(trainee, db: Session, users):
    other = make_user(db, "other")
    sources, revisions = published_sources(db)
    bank = build_catalogue(sources, revisions).quizzes["alpha"]
    attempt = engine.start_attempt(db, other.id, bank)
    db.commit()
    form = _report_form(trainee.get("/modules/alpha/first").get_data(as_text=True))
    trainee.post(
        "/report-problem", data={**form, "attempt": str(attempt.id), "question": "1", "note": "x"}
    )
    [report] = _reports(db)
    assert report.question_id == "" and report.path == LESSON


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"note": "字" * 1001}, "at most 1000 characters"),
        ({"note": "   "}, "was not sent"),
    ],
)
def test_bad_notes_are_refused(trainee, db: Session, change, expected):
    form = _report_form(trainee.get("/modules/alpha/first").get_data(as_text=True))
    sent = trainee.post("/report-problem", data={**form, **change}, follow_redirects=True)
    assert expected in sent.get_data(as_text=True)
    assert _reports(db) == []


def test_the_page_sent_back_to_stays_on_this_site(trainee, db: Session):
    form = _report_form(trainee.get("/modules/alpha/first").get_data(as_text=True))
    sent = trainee.post(
        "/report-problem", data={**form, "page": "https://evil.example/", "note": "x"}
    )
    assert sent.location == "/"
    assert _reports(db)[0].page_url == "/"


def test_a_note_needs_the_csrf_token(trainee, db: Session):
    assert trainee.post("/report-problem", data={"note": "x"}).status_code == 400
    assert _reports(db) == []
