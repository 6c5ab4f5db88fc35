"""Drafts, publishing, the concurrent-edit refusal, revert and the checks before saving."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.content.store import content_version, published_sources
from courseware.core.db import begin_write
from courseware.core.models import AuditEvent, ContentDocument, ContentRevision
from courseware.studio import documents as docs
from tests.studio.conftest import BANK, LESSON, MODULE, course_state, doc_id, save


def _published(db: Session, path: str) -> str:
    return published_sources(db)[0][path]


def test_a_draft_is_kept_apart_until_published(db: Session, trainers):
    author, _other = trainers
    original = _published(db, LESSON)
    edited = original.replace("微貸是小額的貸款", "微貸是金額不大的貸款")
    version = content_version(db)
    draft = save(db, LESSON, edited, author, publish=False)
    assert draft.outcome == "draft"
    assert _published(db, LESSON) == original and content_version(db) == version
    copy = docs.working_copy(db, doc_id(db, LESSON))
    assert copy.text == edited and copy.state == "draft" and copy.published.number == 1

    published = save(db, LESSON, edited, author, note="用詞")
    assert published.outcome == "published" and published.revision.number == 3
    assert _published(db, LESSON) == edited and content_version(db) > version
    assert docs.working_copy(db, doc_id(db, LESSON)).state == "published"
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "content.publish"))
    assert event.after == {"path": LESSON, "revision": 3, "previous": 1, "origin": "editor"}
    assert event.actor_id == author.id and event.reason == "用詞"


def test_saving_the_same_text_again_saves_nothing(db: Session, trainers):
    author, _other = trainers
    text = _published(db, LESSON)
    assert save(db, LESSON, text, author).outcome == "unchanged"
    assert save(db, LESSON, text, author, publish=False).outcome == "unchanged"
    count = db.scalar(
        select(ContentRevision.number).order_by(ContentRevision.number.desc()).limit(1)
    )
    assert count == 1


def test_the_second_of_two_editors_is_refused_with_the_other_text(db: Session, trainers):
    first, second = trainers
    document = doc_id(db, LESSON)
    base = docs.working_copy(db, document).base_id
    text = _published(db, LESSON)
    save(db, LESSON, text.replace("微貸很小", "微貸金額小"), first, publish=False, base=base)
    with pytest.raises(docs.EditConflict) as refused:
        save(db, LESSON, text.replace("重點回顧", "本課重點"), second, base=base)
    db.rollback()
    assert refused.value.latest.author_name == first.display_name
    assert "微貸金額小" in refused.value.text
    assert _published(db, LESSON) == text  # nothing overwritten, nothing published


def test_browser_line_breaks_follow_the_file(db: Session, trainers):
    author, _other = trainers
    typed = _published(db, LESSON).replace("\n", "\r\n").replace("微貸很小", "微貸金額小")
    save(db, LESSON, typed, author)
    assert "\r" not in _published(db, LESSON)


@pytest.mark.parametrize(
    ("path", "change", "field", "message"),
    [
        (LESSON, ("slug: first", "slug: renamed"), "slug", "the slug cannot change"),
        (MODULE, ("slug: alpha", "slug: alpha-two"), "slug", "the slug cannot change"),
        (LESSON, ("minutes: 10", "minutes: lots"), "minutes", "must be a whole number"),
        (LESSON, ("---\nslug", "slug"), "front matter", "must start with"),
        (BANK, ("  - id: alpha-retired\n", "  - id: alpha-gone\n"), "questions", "was removed"),
        (BANK, ("module: alpha", "module: beta"), "module", ""),
    ],
)
def test_a_text_that_would_break_the_course_is_refused(db, trainers, path, change, field, message):
    author, _other = trainers
    before = _published(db, path)
    assert change[0] in before
    with pytest.raises(docs.EditInvalid) as refused:
        save(db, path, before.replace(change[0], change[1], 1), author, publish=False)
    db.rollback()
    assert any(e.field == field and message in e.message for e in refused.value.errors), (
        refused.value.errors
    )
    assert _published(db, path) == before
    assert docs.working_copy(db, doc_id(db, path)).latest.number == 1


def test_breaking_another_file_is_refused_too(db, trainers):
    """A lesson a question points to cannot disappear from its module unnoticed."""
    author, _other = trainers
    lesson = "content/01-alpha/02-second.md"
    text = _published(db, lesson)
    with pytest.raises(docs.EditInvalid) as refused:
        save(db, lesson, text.replace("slug: second", "slug: second-b"), author)
    db.rollback()
    paths = {e.path for e in refused.value.errors}
    assert lesson in paths


def test_revert_publishes_an_older_text_as_a_new_revision(db: Session, trainers):
    author, _other = trainers
    document = doc_id(db, LESSON)
    original = _published(db, LESSON)
    save(db, LESSON, original.replace("微貸很小", "微貸金額小"), author)
    first = next(r for r in docs.revisions(db, document) if r.number == 1)
    saved = docs.revert(
        db,
        document,
        first.id,
        docs.working_copy(db, document).base_id,
        author_id=author.id,
        **course_state(db),
    )
    db.commit()
    assert saved.outcome == "published" and saved.revision.number == 3
    assert saved.revision.origin == "revert"
    assert _published(db, LESSON) == original
    assert [r.number for r in docs.revisions(db, document)] == [3, 2, 1]


def test_new_documents_are_created_as_drafts_or_published(db: Session, trainers):
    author, _other = trainers
    text = "---\nslug: third\ntitle: 第三課\norder: 3\nminutes: 5\n---\n## 第三課\n"
    path = "content/01-alpha/03-third.md"
    created = docs.create_documents(
        db, {path: text}, publish=False, author_id=author.id, **course_state(db)
    )
    db.commit()
    assert created[0][1].outcome == "draft" and path not in published_sources(db)[0]
    with pytest.raises(docs.EditInvalid) as again:
        docs.create_documents(
            db, {path: text}, publish=True, author_id=author.id, **course_state(db)
        )
    assert "already exists" in again.value.errors[0].message
    db.rollback()
    save(db, path, text, author)
    assert published_sources(db)[0][path] == text


def test_two_saves_from_the_same_revision_never_both_succeed(app: Flask, db: Session, trainers):
    author, other = trainers
    document = doc_id(db, LESSON)
    base = docs.working_copy(db, document).base_id
    state = course_state(db)
    text = _published(db, LESSON)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def edit(user_id: int, words: str) -> None:
        with app.extensions["courseware.core.db"].sessions() as session:
            barrier.wait()
            begin_write(session)
            try:
                docs.save_text(
                    session,
                    document,
                    text.replace("微貸很小", words),
                    base,
                    publish=False,
                    author_id=user_id,
                    **state,
                )
                session.commit()
                results.append("saved")
            except docs.EditConflict:
                session.rollback()
                results.append("refused")

    threads = [
        threading.Thread(target=edit, args=(author.id, "甲")),
        threading.Thread(target=edit, args=(other.id, "乙")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["refused", "saved"]
    db.rollback()  # a fresh snapshot
    numbers = db.scalars(
        select(ContentRevision.number).join(ContentDocument).where(ContentDocument.path == LESSON)
    ).all()
    assert sorted(numbers) == [1, 2]
