"""Helpers for the studio's domain tests: the fixture course in the database, and the
arguments every save needs (the published sources and the catalogue built from them)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core.models import ContentDocument, User
from courseware.studio import documents as docs
from tests.conftest import make_user

LESSON = "content/01-alpha/01-first.md"
MODULE = "content/01-alpha/module.md"
BANK = "quizzes/alpha.yaml"
BETA_BANK = "quizzes/beta.yaml"


def course_state(db: Session) -> dict[str, Any]:
    """``sources`` and ``baseline`` as the web layer passes them."""
    sources, revisions = published_sources(db)
    return {"sources": sources, "baseline": build_catalogue(sources, revisions)}


def doc_id(db: Session, path: str) -> int:
    return db.scalar(select(ContentDocument.id).where(ContentDocument.path == path))


def save(
    db: Session,
    path: str,
    text: str,
    author: User,
    *,
    publish: bool = True,
    base: int | None = None,
    **kw: Any,
) -> docs.Saved:
    document = doc_id(db, path)
    if base is None:
        base = docs.working_copy(db, document).base_id
    saved = docs.save_text(
        db, document, text, base, publish=publish, author_id=author.id, **course_state(db), **kw
    )
    db.commit()
    return saved


@pytest.fixture
def trainers(db: Session, course: None) -> tuple[User, User]:
    return make_user(db, "trainer-a", role="trainer"), make_user(db, "trainer-b", role="trainer")
