"""Review before publishing through the browser, and material changes on the learner pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.certification.policy import LoadedPolicy, Policy, StudioRules, load_policy
from courseware.core import clock
from courseware.core.models import ContentRevision
from tests.conftest import make_user, read_lesson
from tests.studio.helpers import doc_id, editor_form, hidden, sign_in

LESSON = "content/01-alpha/01-first.md"


@pytest.fixture
def reviewed(app: Flask, db: Session, users, course) -> Flask:
    app.extensions["courseware.certification.policy"] = LoadedPolicy(
        Policy(studio=StudioRules(review_required=["alpha"])), []
    )
    make_user(db, "reviewer", role="trainer")
    return app


def test_review_is_on_by_default_for_the_law_module():
    assert Policy().studio.review_required == ["law"]
    settings = Path(__file__).resolve().parents[3] / "settings.yaml"
    assert load_policy(settings).policy.studio.review_required == ["law"]


def _pending_id(db: Session, document: int) -> int:
    db.rollback()
    return db.scalar(
        select(ContentRevision.id).where(
            ContentRevision.document_id == document, ContentRevision.status == "pending"
        )
    )


def test_a_second_trainer_approves_before_learners_see_it(reviewed: Flask, db: Session):
    author = sign_in(reviewed.test_client(), "trainer")
    reviewer = sign_in(reviewed.test_client(), "reviewer")
    learner = sign_in(reviewed.test_client(), "trainee")
    lesson = doc_id(db, LESSON)
    form = editor_form(author, lesson)
    assert "Submit for review" in author.get(f"/author/content/{lesson}").get_data(as_text=True)
    form["text"] = form["text"].replace("微貸很小", "微貸金額小")
    sent = author.post(
        f"/author/content/{lesson}", data={**form, "action": "publish"}, follow_redirects=True
    )
    assert "Sent for review" in sent.get_data(as_text=True)
    assert "微貸金額小" not in learner.get("/modules/alpha/first").get_data(as_text=True)
    pending = _pending_id(db, lesson)

    queue = reviewer.get("/author/reviews").get_data(as_text=True)
    assert f'href="/author/reviews/{pending}"' in queue
    own = author.get(f"/author/reviews/{pending}").get_data(as_text=True)
    assert "Approve and publish" not in own and "another trainer must approve it" in own
    refused = author.post(
        f"/author/reviews/{pending}/approve", data={"csrf_token": hidden(own, "csrf_token")}
    )
    assert refused.status_code == 403
    page = reviewer.get(f"/author/reviews/{pending}").get_data(as_text=True)
    assert '<span class="diff-add">+- 微貸金額小</span>' in page
    approved = reviewer.post(
        f"/author/reviews/{pending}/approve",
        data={"csrf_token": hidden(page, "csrf_token"), "comment": "好"},
    )
    assert approved.status_code == 302
    assert "微貸金額小" in learner.get("/modules/alpha/first").get_data(as_text=True)
    history = author.get(f"/author/content/{lesson}/history").get_data(as_text=True)
    assert "Approved by reviewer 姓名: 好" in history


def test_send_back_keeps_learners_on_the_published_text(reviewed: Flask, db: Session):
    author = sign_in(reviewed.test_client(), "trainer")
    reviewer = sign_in(reviewed.test_client(), "reviewer")
    lesson = doc_id(db, LESSON)
    form = editor_form(author, lesson)
    author.post(
        f"/author/content/{lesson}",
        data={**form, "text": form["text"] + "\n補充\n", "action": "publish"},
    )
    pending = _pending_id(db, lesson)
    page = reviewer.get(f"/author/reviews/{pending}").get_data(as_text=True)
    back = reviewer.post(
        f"/author/reviews/{pending}/return",
        data={"csrf_token": hidden(page, "csrf_token"), "comment": "請附來源"},
    )
    assert back.status_code == 302
    assert "Nothing is waiting for review." in reviewer.get("/author/reviews").get_data(
        as_text=True
    )
    editor = author.get(f"/author/content/{lesson}").get_data(as_text=True)
    assert "was sent back by a reviewer" in editor
    again = reviewer.post(
        f"/author/reviews/{pending}/approve", data={"csrf_token": hidden(page, "csrf_token")}
    )
    assert again.status_code == 409


def test_a_material_change_is_marked_for_learners_who_had_finished(
    app: Flask, db: Session, users, course
):
    learner = sign_in(app.test_client(), "trainee")
    read_lesson(learner, "alpha", "first")
    trainer = sign_in(app.test_client(), "trainer")
    lesson = doc_id(db, LESSON)
    form = editor_form(trainer, lesson)
    editor = trainer.get(f"/author/content/{lesson}").get_data(as_text=True)
    assert 'name="material"' in editor
    assert 'name="material"' not in trainer.get(
        f"/author/content/{doc_id(db, 'content/01-alpha/module.md')}"
    ).get_data(as_text=True)
    trainer.post(
        f"/author/content/{lesson}",
        data={**form, "text": form["text"] + "\n錯字\n", "action": "publish"},
    )
    assert "Updated since you finished" not in learner.get("/modules/alpha").get_data(as_text=True)
    form = editor_form(trainer, lesson)
    trainer.post(
        f"/author/content/{lesson}",
        data={**form, "text": form["text"] + "\n新法規\n", "action": "publish", "material": "y"},
    )
    module = learner.get("/modules/alpha").get_data(as_text=True)
    assert module.count("Updated since you finished") == 1
    dashboard = learner.get("/").get_data(as_text=True)
    assert "Updated since you finished: 1" in dashboard
    assert "Lessons you finished that were updated since: 1." in dashboard
    # The learner reads the lesson again and confirms: the mark goes away.
    page = learner.get("/modules/alpha/first").get_data(as_text=True)
    assert 'name="reread"' in page
    clock.advance(timedelta(minutes=20))  # time to read it again
    learner.post(
        "/modules/alpha/first/done",
        data={"csrf_token": hidden(page, "csrf_token"), "reread": "1"},
    )
    assert "Updated since you finished" not in learner.get("/modules/alpha").get_data(as_text=True)
    assert 'name="reread"' not in learner.get("/modules/alpha/first").get_data(as_text=True)
