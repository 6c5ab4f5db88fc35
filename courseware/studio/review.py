"""Review before publishing: a second trainer approves or sends back a pending revision.

A pending revision waits while it is newer than the document's published revision; a
later publish (an approval of a newer revision, or an import) overtakes it. Approving
publishes the revision itself (its author stays its author) and is refused to its
author. The text is checked again on approval: the course may have moved meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from courseware.content.catalogue import Catalogue
from courseware.content.store import touch_content_version
from courseware.core import audit
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.models import ContentDocument, ContentRevision, RevisionReview, User
from courseware.studio.documents import (
    PENDING,
    PUBLISHED,
    RETURNED,
    DocumentNotFound,
    EditInvalid,
    get_document,
    newest_revisions,
    published_number,
)
from courseware.studio.validation import check_texts


class ReviewRefused(Exception):
    """``message`` is an English message id."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class OwnChange(ReviewRefused):
    """The reviewer is the revision's author."""


@dataclass(frozen=True)
class PendingRow:
    revision_id: int
    number: int
    document_id: int
    path: str
    author_id: int | None
    author_name: str
    created_at: datetime
    note: str
    material: bool


@dataclass(frozen=True)
class ReviewInfo:
    reviewer_name: str
    decision: str
    comment: str
    at: datetime


def _waiting():
    return or_(
        ContentDocument.published_revision_id.is_(None),
        ContentRevision.id > ContentDocument.published_revision_id,
    )


def pending_revisions(session: Session) -> list[PendingRow]:
    """Revisions waiting for a second trainer, oldest first."""
    rows = session.execute(
        select(ContentRevision, ContentDocument.path, User.display_name)
        .join(ContentDocument, ContentDocument.id == ContentRevision.document_id)
        .outerjoin(User, User.id == ContentRevision.author_id)
        .where(ContentRevision.status == PENDING, _waiting())
        .order_by(ContentRevision.created_at, ContentRevision.id)
    )
    return [
        PendingRow(
            r.id,
            r.number,
            r.document_id,
            path,
            r.author_id,
            name or "",
            r.created_at,
            r.note,
            r.material,
        )
        for r, path, name in rows
    ]


def reviews_of(session: Session, revision_ids: list[int]) -> dict[int, list[ReviewInfo]]:
    rows = session.execute(
        select(RevisionReview, User.display_name)
        .join(User, User.id == RevisionReview.reviewer_id)
        .where(RevisionReview.revision_id.in_(revision_ids))
        .order_by(RevisionReview.at)
    )
    found: dict[int, list[ReviewInfo]] = {}
    for review, name in rows:
        found.setdefault(review.revision_id, []).append(
            ReviewInfo(name, review.decision, review.comment, review.at)
        )
    return found


def _waiting_revision(
    session: Session, revision_id: int
) -> tuple[ContentDocument, ContentRevision]:
    revision = session.get(ContentRevision, revision_id)
    if revision is None:
        raise DocumentNotFound(revision_id)
    document = get_document(session, revision.document_id, lock=True)
    session.refresh(revision)
    overtaken = (
        document.published_revision_id is not None and revision.id <= document.published_revision_id
    )
    if revision.status != PENDING or overtaken:
        raise ReviewRefused(N_("This revision is no longer waiting for review."))
    return document, revision


def _pending_lessons(
    session: Session, module_path: str
) -> list[tuple[ContentDocument, ContentRevision]]:
    """The never-published lessons beside a never-published module whose newest revision
    waits for review: they were sent with the module, and go live with it."""
    folder = module_path.rsplit("/", 1)[0] + "/"
    newest = newest_revisions()
    rows = session.execute(
        select(ContentDocument, ContentRevision)
        .join(ContentRevision, ContentRevision.document_id == ContentDocument.id)
        .join(newest, newest.c.id == ContentRevision.id)
        .where(
            ContentDocument.path.like(f"{folder}%"),
            ContentDocument.path != module_path,
            ContentDocument.published_revision_id.is_(None),
            ContentDocument.deleted.is_(False),
            ContentRevision.status == PENDING,
        )
        .order_by(ContentDocument.path)
    )
    return [(document, revision) for document, revision in rows]


def approve(
    session: Session,
    revision_id: int,
    reviewer_id: int,
    *,
    sources: Mapping[str, str],
    baseline: Catalogue,
    comment: str = "",
    now: datetime | None = None,
) -> ContentRevision:
    """Publish a pending revision on a second trainer's approval.

    A new module (its module.md never published) is approved with the lessons waiting for
    review beside it, so learners never see it without them; none of them may be the
    reviewer's own.
    """
    document, revision = _waiting_revision(session, revision_id)
    together = [(document, revision)]
    if document.path.endswith("/module.md") and document.published_revision_id is None:
        together += _pending_lessons(session, document.path)
    if any(r.author_id == reviewer_id for _d, r in together):
        raise OwnChange(N_("You cannot approve your own change: another trainer must."))
    checked = check_texts(sources, {d.path: r.body for d, r in together}, baseline)
    if not checked.ok:
        raise EditInvalid(checked.errors)
    now = now or utcnow()
    for each_document, each_revision in together:
        _publish(session, each_document, each_revision, reviewer_id, comment, now)
    touch_content_version(session)
    return revision


def _publish(
    session: Session,
    document: ContentDocument,
    revision: ContentRevision,
    reviewer_id: int,
    comment: str,
    now: datetime,
) -> None:
    previous = published_number(session, document)
    revision.status = PUBLISHED
    revision.published_at = now
    document.published_revision_id = revision.id
    document.deleted = False
    after = {"previous": previous, "author_id": revision.author_id, "approved_by": reviewer_id}
    _record(session, document, revision, reviewer_id, "approved", comment, now, after)


def send_back(
    session: Session,
    revision_id: int,
    reviewer_id: int,
    comment: str = "",
    now: datetime | None = None,
) -> ContentRevision:
    """Return a pending revision to its author (any trainer may, the author to withdraw)."""
    document, revision = _waiting_revision(session, revision_id)
    now = now or utcnow()
    revision.status = RETURNED
    _record(session, document, revision, reviewer_id, "returned", comment, now, {})
    return revision


def _record(
    session: Session,
    document: ContentDocument,
    revision: ContentRevision,
    reviewer_id: int,
    decision: str,
    comment: str,
    now: datetime,
    after: dict[str, object],
) -> None:
    """The review beside the revision, and its line in the audit trail: an approval is a
    publish (its reason the author's note), a return gives the reviewer's comment."""
    session.add(
        RevisionReview(
            revision_id=revision.id,
            reviewer_id=reviewer_id,
            decision=decision,
            comment=comment.strip(),
            at=now,
        )
    )
    approved = decision == "approved"
    audit.record(
        session,
        reviewer_id,
        "content.publish" if approved else "content.return",
        "content_document",
        document.id,
        after={"path": document.path, "revision": revision.number, **after},
        reason=revision.note if approved else comment.strip(),
    )
