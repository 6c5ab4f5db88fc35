"""Saving a change the studio's forms made to a course file: what the question editor and
the case-figure form share (the base revision's text, the save with the studio's checks,
the rollback on a refusal, the message after)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, flash, redirect
from flask_login import current_user
from werkzeug.wrappers.response import Response

from courseware.studio import documents as docs
from courseware.web.common.database import catalogue, db_session
from courseware.web.studio.editor import outcome_message, published, review_required


def base_text(document_id: int, base: int) -> str:
    """The text of the revision the trainer started from (400 when it is not this file's)."""
    try:
        return docs.get_revision(db_session(), document_id, base).body
    except docs.DocumentNotFound:
        abort(400)


def save_as_trainer(
    document_id: int,
    text: str,
    base: int,
    *,
    publish: bool,
    note: str = "",
    sources: Mapping[str, str] | None = None,
) -> docs.Saved:
    """Save (or publish) ``text`` over revision ``base`` as the signed-in trainer, checked
    against the published course (or ``sources``) and the review rules. A conflict
    (``docs.EditConflict``) or a refusal (``docs.EditInvalid``) rolls back and is raised
    for the page to show; not committed."""
    session = db_session()
    try:
        return docs.save_text(
            session,
            document_id,
            text,
            base,
            publish=publish,
            author_id=current_user.id,
            sources=published() if sources is None else sources,
            baseline=catalogue(),
            review_required=review_required(),
            note=note,
            exact=True,
        )
    except docs.DocumentNotFound:
        abort(400)
    except (docs.EditConflict, docs.EditInvalid):
        session.rollback()
        raise


def saved_response(saved: docs.Saved, target: str) -> Response:
    """Commit, say what became of the change, and go to ``target``."""
    db_session().commit()
    flash(outcome_message(saved), "success" if saved.outcome != "unchanged" else "info")
    return redirect(target)
