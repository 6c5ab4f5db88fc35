"""Review before publishing, and material changes flagged for learners who had finished."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core.models import AuditEvent, RevisionReview
from courseware.learning import progress
from courseware.studio import documents as docs
from courseware.studio import review
from tests.conftest import make_user
from tests.studio.conftest import BANK, LESSON, MODULE, course_state, doc_id, save

REVIEWED = ["alpha"]


def _published(db: Session, path: str) -> str:
    return published_sources(db)[0][path]


def _submit(db: Session, author, path: str = LESSON, words: str = "微貸金額小") -> docs.Saved:
    text = _published(db, path).replace("微貸很小", words)
    return save(db, path, text, author, review_required=REVIEWED)


def test_a_reviewed_module_waits_for_a_second_trainer(db: Session, trainers):
    author, reviewer = trainers
    before = _published(db, LESSON)
    pending = _submit(db, author)
    assert pending.outcome == "pending"
    assert _published(db, LESSON) == before
    assert [p.revision_id for p in review.pending_revisions(db)] == [pending.revision.id]
    with pytest.raises(review.OwnChange):
        review.approve(db, pending.revision.id, author.id, **course_state(db))
    db.rollback()
    review.approve(db, pending.revision.id, reviewer.id, comment="好", **course_state(db))
    db.commit()
    assert "微貸金額小" in _published(db, LESSON)
    assert review.pending_revisions(db) == []
    decision = db.scalar(select(RevisionReview))
    assert (decision.reviewer_id, decision.decision, decision.comment) == (
        reviewer.id,
        "approved",
        "好",
    )
    audit = db.scalar(select(AuditEvent).where(AuditEvent.action == "content.publish"))
    assert audit.actor_id == reviewer.id and audit.after["approved_by"] == reviewer.id
    assert audit.after["author_id"] == author.id and audit.after["revision"] == 2


def test_quizzes_of_a_reviewed_module_wait_too_and_other_modules_do_not(db: Session, trainers):
    author, _reviewer = trainers
    bank = _published(db, BANK).replace("哪一位最適合微貸？", "誰最適合微貸？")
    assert save(db, BANK, bank, author, review_required=REVIEWED).outcome == "pending"
    beta = "content/02-beta/01-only.md"
    text = _published(db, beta) + "\n補充。\n"
    assert save(db, beta, text, author, review_required=REVIEWED).outcome == "published"
    assert (
        save(db, MODULE, _published(db, MODULE) + "\n", author, review_required=REVIEWED).outcome
        == "pending"
    )


def test_send_back_and_overtaken_revisions_leave_the_queue(db: Session, trainers):
    author, reviewer = trainers
    first = _submit(db, author)
    review.send_back(db, first.revision.id, reviewer.id, "請補充來源")
    db.commit()
    assert review.pending_revisions(db) == []
    copy = docs.working_copy(db, doc_id(db, LESSON))
    assert copy.state == "returned"
    with pytest.raises(review.ReviewRefused):
        review.approve(db, first.revision.id, reviewer.id, **course_state(db))
    db.rollback()
    # Two pending revisions: approving the newer one overtakes the older one.
    older = save(db, LESSON, copy.text + "\n一\n", author, review_required=REVIEWED)
    newer = save(db, LESSON, copy.text + "\n一\n二\n", author, review_required=REVIEWED)
    review.approve(db, newer.revision.id, reviewer.id, **course_state(db))
    db.commit()
    assert review.pending_revisions(db) == []
    with pytest.raises(review.ReviewRefused):
        review.approve(db, older.revision.id, reviewer.id, **course_state(db))


def test_a_material_change_marks_the_lesson_for_those_who_finished_it(db: Session, trainers):
    author, _other = trainers
    learner, fresh = make_user(db, "learner"), make_user(db, "fresh")
    sources, revisions = published_sources(db)
    catalogue = build_catalogue(sources, revisions)
    alpha = catalogue.module("alpha")
    progress.mark_done(db, learner.id, alpha.lessons[0])
    progress.mark_done(db, learner.id, alpha.lessons[1])
    db.commit()
    save(db, LESSON, _published(db, LESSON) + "\n錯字修正。\n", author)  # not material
    save(db, LESSON, _published(db, LESSON) + "\n新規定。\n", author, material=True)
    sources, revisions = published_sources(db)
    catalogue = build_catalogue(sources, revisions)
    alpha = catalogue.module("alpha")
    updates = progress.material_updates(db, catalogue)
    statuses = progress.lesson_statuses(db, learner.id, alpha, updates)
    assert [s.updated_since_done for s in statuses] == [True, False]
    dashboard = progress.dashboard(db, learner.id, catalogue)
    assert dashboard.lessons_updated == 1
    assert next(m for m in dashboard.modules if m.slug == "alpha").lessons_updated == 1
    # Finishing it again (or finishing it for the first time now) clears the mark.
    progress.mark_done(db, learner.id, alpha.lessons[0])
    progress.mark_done(db, fresh.id, alpha.lessons[0])
    db.commit()
    assert not progress.lesson_statuses(db, learner.id, alpha, updates)[0].updated_since_done
    assert progress.dashboard(db, fresh.id, catalogue).lessons_updated == 0


def test_the_dashboard_asks_one_more_query_at_most(app, db: Session, trainers):
    author, _other = trainers
    learner = make_user(db, "learner")
    save(db, LESSON, _published(db, LESSON) + "\n新規定。\n", author, material=True)
    sources, revisions = published_sources(db)
    catalogue = build_catalogue(sources, revisions)
    engine = app.extensions["courseware.core.db"].engine
    statements: list[str] = []

    def count(*args):
        if args[2].strip().upper() != "BEGIN":
            statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        with app.extensions["courseware.core.db"].sessions() as session:
            progress.dashboard(session, learner.id, catalogue)
            first = len(statements)
            progress.dashboard(session, learner.id, catalogue)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert first == 3  # progress rows, quiz standings, and the material updates
    assert len(statements) - first == 2  # which are then kept with the catalogue
