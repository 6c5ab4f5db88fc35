"""Review before publishing: the queue of pending revisions, approve or send back."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from courseware.core.models import ContentDocument, ContentRevision
from courseware.studio import documents as docs
from courseware.studio import review as reviewing
from courseware.studio.diff import diff_lines
from courseware.studio.validation import lesson_paths
from courseware.web.common.access import roles_required
from courseware.web.common.database import catalogue, db_session
from courseware.web.studio.editor import TRAINERS, preview_of, published, studio_context, titles
from courseware.web.studio.forms import ReviewForm

bp = Blueprint("studio_review", __name__, url_prefix="/author/reviews")
bp.context_processor(studio_context)


@bp.get("")
@roles_required(*TRAINERS)
def queue():
    return render_template(
        "studio/reviews.html",
        pending=reviewing.pending_revisions(db_session()),
        names=titles(catalogue()),
    )


def _revision_or_404(revision_id: int) -> tuple[ContentDocument, ContentRevision]:
    revision = db_session().get(ContentRevision, revision_id)
    if revision is None:
        abort(404)
    return db_session().get(ContentDocument, revision.document_id), revision


def _page(revision_id: int, form: ReviewForm, status: int = 200, **extra):
    document, revision = _revision_or_404(revision_id)
    copy = docs.working_copy(db_session(), document.id)
    before = ""
    if copy.published is not None:
        before = docs.get_revision(db_session(), document.id, copy.published.id).body
    title = titles(catalogue()).get(document.path, document.path)
    author = next(r for r in docs.revisions(db_session(), document.id) if r.id == revision.id)
    return (
        render_template(
            "studio/review.html",
            document=document,
            revision=author,
            copy=copy,
            title=title,
            form=form,
            lines=diff_lines(
                before, revision.body, _("Published"), _("Revision %(n)s", n=revision.number)
            ),
            preview=preview_of(document.path, revision.body),
            own=revision.author_id == current_user.id,
            waiting=revision.status == docs.PENDING
            and (copy.published is None or revision.id > copy.published.id),
            is_lesson=document.path in lesson_paths(catalogue()),
            reviews=reviewing.reviews_of(db_session(), [revision.id]).get(revision.id, []),
            **extra,
        ),
        status,
    )


@bp.get("/<int:revision_id>")
@roles_required(*TRAINERS)
def revision(revision_id: int):
    return _page(revision_id, ReviewForm())


@bp.post("/<int:revision_id>/approve")
@roles_required(*TRAINERS)
def approve(revision_id: int):
    form = ReviewForm()
    if not form.validate():
        return _page(revision_id, form, 400)
    session = db_session()
    try:
        reviewing.approve(
            session,
            revision_id,
            current_user.id,
            sources=published(),
            baseline=catalogue(),
            comment=form.comment.data or "",
        )
    except docs.DocumentNotFound:
        abort(404)
    except reviewing.ReviewRefused as refused:
        session.rollback()
        status = 403 if isinstance(refused, reviewing.OwnChange) else 409
        return _page(revision_id, form, status, refusal=_(refused.message))
    except docs.EditInvalid as invalid:
        session.rollback()
        return _page(revision_id, form, 400, errors=invalid.errors)
    session.commit()
    flash(_("Approved and published: learners see it on their next page."), "success")
    return redirect(url_for("studio_review.queue"))


@bp.post("/<int:revision_id>/return")
@roles_required(*TRAINERS)
def send_back(revision_id: int):
    form = ReviewForm()
    if not form.validate():
        return _page(revision_id, form, 400)
    session = db_session()
    try:
        reviewing.send_back(session, revision_id, current_user.id, form.comment.data or "")
    except docs.DocumentNotFound:
        abort(404)
    except reviewing.ReviewRefused as refused:
        session.rollback()
        return _page(revision_id, form, 409, refusal=_(refused.message))
    session.commit()
    flash(_("Sent back to the author with your comment."), "success")
    return redirect(url_for("studio_review.queue"))
