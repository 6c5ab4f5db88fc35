"""A new module or lesson added in the browser reaches learners on every worker, without a
restart: two app instances on one database stand for two workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware import create_app
from courseware.core.models import AuditEvent, ContentDocument, ContentRevision
from tests.conftest import make_user
from tests.studio.helpers import doc_id, editor_form, hidden, sign_in

NEW_MODULE = {
    "slug": "ethics",
    "title": "職業倫理",
    "order": "7",
    "summary": "放款人員的職業倫理。",
    "objectives": "說明利益衝突\n拒絕不當餽贈",
    "estimated_minutes": "30",
    "lesson_slug": "conflicts",
    "lesson_title": "利益衝突",
}


@pytest.fixture
def second_worker(app: Flask) -> Iterator[Flask]:
    """Another application on the same database, as another gunicorn worker would be."""
    other = create_app(dict(app.config))
    yield other
    other.extensions["courseware.core.db"].engine.dispose()


@pytest.fixture
def trainer(client: FlaskClient, users, course) -> FlaskClient:
    return sign_in(client, "trainer")


def _token(client: FlaskClient, path: str) -> str:
    from tests.studio.helpers import hidden

    return hidden(client.get(path).get_data(as_text=True), "csrf_token")


def test_a_new_module_shows_on_every_workers_dashboard(trainer, second_worker: Flask, db: Session):
    learner = sign_in(second_worker.test_client(), "trainee")
    assert "職業倫理" not in learner.get("/").get_data(
        as_text=True
    )  # this worker's catalogue is warm
    data = {
        **NEW_MODULE,
        "publish": "y",
        "csrf_token": _token(trainer, "/author/content/new/module"),
    }
    created = trainer.post("/author/content/new/module", data=data)
    assert created.status_code == 302
    dashboard = learner.get("/").get_data(as_text=True)
    assert "職業倫理" in dashboard and 'href="/modules/ethics"' in dashboard
    module = learner.get("/modules/ethics").get_data(as_text=True)
    assert "說明利益衝突" in module and "利益衝突" in module
    lesson = learner.get("/modules/ethics/conflicts")
    assert lesson.status_code == 200 and "<h2" in lesson.get_data(as_text=True)
    db.rollback()
    assert doc_id(db, "content/07-ethics/module.md") and doc_id(
        db, "content/07-ethics/01-conflicts.md"
    )


def test_a_draft_module_waits_until_published(trainer, second_worker: Flask, db: Session):
    learner = sign_in(second_worker.test_client(), "trainee")
    data = {**NEW_MODULE, "csrf_token": _token(trainer, "/author/content/new/module")}
    assert trainer.post("/author/content/new/module", data=data).status_code == 302
    assert "職業倫理" not in learner.get("/").get_data(as_text=True)
    assert learner.get("/modules/ethics").status_code == 404
    db.rollback()
    for path in ("content/07-ethics/module.md", "content/07-ethics/01-conflicts.md"):
        document = doc_id(db, path)
        form = editor_form(trainer, document)
        assert (
            trainer.post(
                f"/author/content/{document}", data={**form, "action": "publish"}
            ).status_code
            == 302
        )
    assert "職業倫理" in learner.get("/").get_data(as_text=True)


def test_a_new_lesson_appears_in_its_module(trainer, second_worker: Flask):
    learner = sign_in(second_worker.test_client(), "trainee")
    learner.get("/modules/alpha")
    data = {
        "module": "alpha",
        "slug": "third",
        "title": "第三課：還款來源",
        "order": "3",
        "minutes": "8",
        "publish": "y",
        "csrf_token": _token(trainer, "/author/content/new/lesson"),
    }
    assert trainer.post("/author/content/new/lesson", data=data).status_code == 302
    page = learner.get("/modules/alpha").get_data(as_text=True)
    assert 'href="/modules/alpha/third"' in page and "第三課：還款來源" in page


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"slug": "Ethics!"}, 400, "Use lower-case letters, digits and hyphens only."),
        ({"slug": "alpha"}, 400, "the slug alpha is already used by"),
        ({"order": "0"}, 400, "Number must be between 1 and 99."),
        ({"order": "1", "slug": "alpha"}, 400, "this file already exists"),
    ],
)
def test_bad_new_modules_are_refused_and_nothing_is_created(trainer, db, change, status, message):
    data = {
        **NEW_MODULE,
        **change,
        "publish": "y",
        "csrf_token": _token(trainer, "/author/content/new/module"),
    }
    refused = trainer.post("/author/content/new/module", data=data)
    assert refused.status_code == status
    assert message in refused.get_data(as_text=True)
    db.rollback()
    assert doc_id(db, "content/07-ethics/module.md") is None


def test_a_reviewed_new_lesson_waits_for_approval(app, trainer, db: Session):
    from courseware.certification.policy import LoadedPolicy, Policy, StudioRules

    app.extensions["courseware.certification.policy"] = LoadedPolicy(
        Policy(studio=StudioRules(review_required=["alpha"])), []
    )
    make_user(db, "reviewer", role="trainer")
    data = {
        "module": "alpha",
        "slug": "third",
        "title": "第三課",
        "order": "3",
        "minutes": "8",
        "publish": "y",
        "csrf_token": _token(trainer, "/author/content/new/lesson"),
    }
    created = trainer.post("/author/content/new/lesson", data=data, follow_redirects=True)
    assert "Sent for review" in created.get_data(as_text=True)
    learner = sign_in(app.test_client(), "trainee")
    assert learner.get("/modules/alpha/third").status_code == 404


def _draft_module_with_two_lessons(trainer: FlaskClient, db: Session) -> int:
    """The new module ethics as a draft with two draft lessons; the second one's document id."""
    data = {**NEW_MODULE, "csrf_token": _token(trainer, "/author/content/new/module")}
    assert trainer.post("/author/content/new/module", data=data).status_code == 302
    second = {
        "module": "ethics",
        "slug": "gifts",
        "title": "拒絕不當餽贈",
        "order": "2",
        "minutes": "10",
        "publish": "y",  # asked for, but the module is not live: kept as a draft
        "csrf_token": _token(trainer, "/author/content/new/lesson"),
    }
    created = trainer.post("/author/content/new/lesson", data=second, follow_redirects=True)
    assert created.status_code == 200
    assert "is not published yet, so this lesson is kept as a draft" in created.get_data(
        as_text=True
    )
    db.rollback()
    return doc_id(db, "content/07-ethics/02-gifts.md")


def _publish_module(trainer: FlaskClient, db: Session):
    db.rollback()
    module = doc_id(db, "content/07-ethics/module.md")
    page = trainer.get(f"/author/content/{module}").get_data(as_text=True)
    assert (
        'value="publish_module"' in page and "Publish the module with its 2 draft lessons" in page
    )
    form = editor_form(trainer, module)
    return trainer.post(f"/author/content/{module}", data={**form, "action": "publish_module"})


def test_a_draft_module_is_written_whole_and_published_with_its_lessons_at_once(
    trainer, second_worker: Flask, db: Session
):
    learner = sign_in(second_worker.test_client(), "trainee")
    _draft_module_with_two_lessons(trainer, db)
    form_page = trainer.get("/author/content/new/lesson").get_data(as_text=True)
    assert '<option value="ethics">職業倫理 (draft)</option>' in form_page
    assert learner.get("/modules/ethics").status_code == 404

    published = _publish_module(trainer, db)
    assert published.status_code == 302
    done = trainer.get(published.location).get_data(as_text=True)
    assert "The module and its 2 lessons are published." in done
    assert 'value="publish_module"' not in done  # nothing left to publish with it
    module = learner.get("/modules/ethics").get_data(as_text=True)
    assert 'href="/modules/ethics/conflicts"' in module
    assert 'href="/modules/ethics/gifts"' in module
    db.rollback()
    published_paths = [
        after["path"]
        for after in db.scalars(
            select(AuditEvent.after).where(AuditEvent.action == "content.publish")
        )
    ]
    assert {
        "content/07-ethics/module.md",
        "content/07-ethics/01-conflicts.md",
        "content/07-ethics/02-gifts.md",
    } <= set(published_paths)


def test_a_lesson_of_a_draft_module_cannot_go_live_alone(
    trainer, second_worker: Flask, db: Session
):
    learner = sign_in(second_worker.test_client(), "trainee")
    gifts = _draft_module_with_two_lessons(trainer, db)
    form = editor_form(trainer, gifts)
    typed = form["text"] + "\n送禮的人想換到什麼？\n"
    refused = trainer.post(
        f"/author/content/{gifts}", data={**form, "text": typed, "action": "publish"}
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "its module is not published yet, so the lesson cannot go live alone" in page
    assert "送禮的人想換到什麼？" in page  # what was typed is kept
    db.rollback()
    db.expire_all()
    assert db.get(ContentDocument, gifts).published_revision_id is None
    assert learner.get("/modules/ethics").status_code == 404


def test_a_broken_draft_lesson_keeps_the_whole_module_unpublished(
    trainer, second_worker: Flask, db: Session
):
    learner = sign_in(second_worker.test_client(), "trainee")
    gifts = _draft_module_with_two_lessons(trainer, db)
    form = editor_form(trainer, gifts)
    broken = form["text"].replace("minutes: 10", "minutes: ten")
    # A draft lesson of a draft module is checked beside its module: a good edit saves ...
    edited = form["text"] + "\n收到禮物時，先想想送禮者想換到什麼。\n"
    saved = trainer.post(
        f"/author/content/{gifts}", data={**form, "text": edited, "action": "draft"}
    )
    assert saved.status_code == 302
    # ... and a broken one is refused, naming the field.
    form = editor_form(trainer, gifts)
    refused = trainer.post(
        f"/author/content/{gifts}", data={**form, "text": broken, "action": "draft"}
    )
    assert refused.status_code == 400 and "minutes" in refused.get_data(as_text=True)
    # Should a draft break anyway (written before a rule changed), the module waits whole.
    db.rollback()
    revision = db.scalars(
        select(ContentRevision)
        .where(ContentRevision.document_id == gifts)
        .order_by(ContentRevision.id.desc())
    ).first()
    revision.body = broken
    db.commit()
    refused = _publish_module(trainer, db)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "content/07-ethics/02-gifts.md" in text and "minutes" in text
    assert learner.get("/modules/ethics").status_code == 404
    db.rollback()
    db.expire_all()
    unpublished = db.scalars(
        select(ContentDocument.path).where(
            ContentDocument.path.like("content/07-ethics/%"),
            ContentDocument.published_revision_id.is_(None),
        )
    ).all()
    assert len(unpublished) == 3


def test_a_reviewed_draft_module_goes_for_review_whole(app, trainer, db: Session):
    from courseware.certification.policy import LoadedPolicy, Policy, StudioRules

    app.extensions["courseware.certification.policy"] = LoadedPolicy(
        Policy(studio=StudioRules(review_required=["ethics"])), []
    )
    _draft_module_with_two_lessons(trainer, db)
    db.rollback()
    module = doc_id(db, "content/07-ethics/module.md")
    page = trainer.get(f"/author/content/{module}").get_data(as_text=True)
    assert "Send the module and its 2 draft lessons for review" in page
    form = editor_form(trainer, module)
    sent = trainer.post(f"/author/content/{module}", data={**form, "action": "publish_module"})
    assert sent.status_code == 302
    assert "were sent for review" in trainer.get(sent.location).get_data(as_text=True)
    db.rollback()
    statuses = db.scalars(
        select(ContentRevision.status)
        .join(ContentDocument, ContentDocument.id == ContentRevision.document_id)
        .where(ContentDocument.path.like("content/07-ethics/%"), ContentRevision.number == 2)
    ).all()
    assert sorted(statuses) == ["pending", "pending", "pending"]

    # A second trainer approves the module: it goes live with the lessons sent with it.
    make_user(db, "reviewer", role="trainer")
    reviewer = sign_in(app.test_client(), "reviewer")
    learner = sign_in(app.test_client(), "trainee")
    assert learner.get("/modules/ethics").status_code == 404
    module_revision = db.scalar(
        select(ContentRevision.id).where(
            ContentRevision.document_id == module, ContentRevision.status == "pending"
        )
    )
    page = reviewer.get(f"/author/reviews/{module_revision}").get_data(as_text=True)
    approved = reviewer.post(
        f"/author/reviews/{module_revision}/approve",
        data={"csrf_token": hidden(page, "csrf_token")},
    )
    assert approved.status_code == 302
    lessons = learner.get("/modules/ethics").get_data(as_text=True)
    assert 'href="/modules/ethics/conflicts"' in lessons
    assert 'href="/modules/ethics/gifts"' in lessons
    assert "content/07-ethics" not in reviewer.get("/author/reviews").get_data(as_text=True)


def test_a_published_module_offers_no_publish_with_drafts(trainer, db: Session):
    module = doc_id(db, "content/01-alpha/module.md")
    assert module is not None
    page = trainer.get(f"/author/content/{module}").get_data(as_text=True)
    assert 'value="publish_module"' not in page
    form = editor_form(trainer, module)
    live = db.get(ContentDocument, module).published_revision_id
    # Asking anyway (with a changed text) is a plain preview: nothing is saved or published.
    changed = {**form, "text": form["text"] + "\n補充一句。\n", "action": "publish_module"}
    answer = trainer.post(f"/author/content/{module}", data=changed)
    assert answer.status_code == 200 and "補充一句。" in answer.get_data(as_text=True)
    db.rollback()
    db.expire_all()
    assert db.get(ContentDocument, module).published_revision_id == live
    assert db.scalar(select(func.count()).where(ContentRevision.document_id == module)) == 1


def test_a_lesson_for_a_module_that_does_not_exist_is_refused(trainer, db: Session):
    data = {
        "module": "no-such-module",
        "slug": "lost",
        "title": "迷路",
        "order": "1",
        "minutes": "5",
        "csrf_token": _token(trainer, "/author/content/new/lesson"),
    }
    refused = trainer.post("/author/content/new/lesson", data=data)
    assert refused.status_code == 400
    db.rollback()
    assert doc_id(db, "content/no-such-module/01-lost.md") is None
