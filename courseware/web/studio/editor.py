"""The trainer studio: course documents, the editor with preview, history, diff and revert.

Every document is file text (a lesson, module.md, the glossary, a question bank, a case);
the services in courseware.studio check, save, publish and review it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from courseware.content.catalogue import GLOSSARY_PATH, Catalogue
from courseware.content.render import render_markdown
from courseware.content.schemas import split_front_matter
from courseware.content.store import published_sources
from courseware.core.errors import ContentError
from courseware.studio import documents as docs
from courseware.studio.cases import calibrate_text, is_case_file
from courseware.studio.diff import diff_lines
from courseware.studio.review import reviews_of
from courseware.studio.validation import check_texts, lesson_paths, module_of, preview_errors
from courseware.web.common.access import roles_required
from courseware.web.common.case_text import LABELS
from courseware.web.common.database import catalogue, db_session, reading_from_here, reads
from courseware.web.common.lesson_html import preview_html
from courseware.web.common.policy import policy
from courseware.web.studio.forms import MAX_TEXT, TYPE_LABELS, BaseForm, EditForm

T = TypeVar("T")

bp = Blueprint("studio", __name__, url_prefix="/author/content")
TRAINERS = ("trainer", "admin")


STATUS_LABELS = {
    "draft": _l("Draft"),
    "pending": _l("Waiting for review"),
    "returned": _l("Sent back"),
    "published": _l("Published"),
    "held": _l("Course file, not published"),
    "set_aside": _l("Course file, set aside"),
}


def studio_context() -> dict[str, Any]:
    return {**LABELS, "STATUS_LABELS": STATUS_LABELS, "TYPE_LABELS": TYPE_LABELS}


bp.context_processor(studio_context)


def review_required() -> list[str]:
    return list(policy().studio.review_required)


def published() -> dict[str, str]:
    return published_sources(db_session())[0]


def titles(cat: Catalogue) -> dict[str, str]:
    """A readable name for each document path the course serves."""
    names = {m.path: m.title for m in cat.modules}
    names.update({le.path: le.title for m in cat.modules for le in m.lessons})
    names.update({b.path: b.title for b in cat.quizzes.values()})
    names.update({f"case_studies/{slug}.yaml": c.title for slug, c in cat.cases.items()})
    names.update({g.path: g.title for g in cat.guides.values()})
    names["case_studies/model.yaml"] = _("Case model defaults")
    names["case_studies/red_flags.yaml"] = _("Red-flag catalogue")
    if cat.glossary:
        names[cat.glossary.path] = cat.glossary.title
    return names


def copy_or_404(document_id: int) -> docs.WorkingCopy:
    try:
        return docs.working_copy(db_session(), document_id)
    except docs.DocumentNotFound:
        abort(404)


def needs_review(path: str) -> bool:
    slug = module_of(path, catalogue()) or docs.draft_module_slug(db_session(), path)
    return slug in review_required()


@bp.get("")
@roles_required(*TRAINERS)
def documents():
    cat = catalogue()
    groups: dict[str, list[docs.DocumentRow]] = {}
    for row in docs.document_rows(db_session()):
        parts = row.path.split("/")
        key = "/".join(parts[:2]) if parts[0] == "content" and len(parts) == 3 else parts[0]
        groups.setdefault(key, []).append(row)
    rank = {"content": 1, "quizzes": 2, "case_studies": 3}
    ordered = sorted(groups.items(), key=lambda item: (rank.get(item[0], 0), item[0]))
    errors = {e.path for e in cat.errors}
    return render_template(
        "studio/documents.html",
        groups=ordered,
        names=titles(cat),
        broken=errors,
        held=docs.documents_with_held_imports(db_session()),
    )


def preview_of(path: str, text: str, quick: bool = True) -> dict[str, Any]:
    """What the learner would see for this text, and what is wrong with it."""
    if not path.startswith("content/"):
        errors = check_texts(published(), {path: text}, catalogue()).errors
        return {"kind": "data", "errors": errors, "html": "", "toc": (), "meta": {}}
    meta, body, _line, _found = split_front_matter(path, text)
    if quick:
        errors = preview_errors(published(), path, text)
    else:
        errors = check_texts(published(), {path: text}, catalogue()).errors
    terms = catalogue().glossary_terms if path != GLOSSARY_PATH else ()
    rendered = render_markdown(body, terms, str(get_locale()))
    kind = (
        "module"
        if path.endswith("/module.md")
        else "glossary"
        if path == GLOSSARY_PATH
        else "lesson"
    )
    return {
        "kind": kind,
        "errors": errors,
        "html": preview_html(rendered) if rendered.practices else rendered.html,
        "toc": rendered.toc,
        "meta": meta or {},
    }


def held_view(copy: docs.WorkingCopy) -> dict[str, Any] | None:
    """A course file imported beside this draft and not published: the trainer's choice."""
    held = docs.held_import(db_session(), copy.document_id)
    if held is None:
        return None
    return {
        "revision": held.revision,
        "diff": diff_lines(
            copy.text.replace("\r\n", "\n"),
            held.text.replace("\r\n", "\n"),
            _("Your draft (revision %(n)s)", n=copy.latest.number),
            _("The course file (revision %(n)s)", n=held.revision.number),
        ),
        "form": BaseForm(base=str(copy.base_id), formdata=None, prefix="held"),
    }


def render_editor(copy: docs.WorkingCopy, form: EditForm, status: int = 200, **extra: Any):
    return (
        render_template(
            "studio/editor.html",
            copy=copy,
            form=form,
            held=held_view(copy),
            title=titles(catalogue()).get(copy.path, copy.path),
            review=needs_review(copy.path),
            is_lesson=copy.path in lesson_paths(catalogue()),
            is_case=is_case_file(copy.path),
            bank=next((b for b in catalogue().quizzes.values() if b.path == copy.path), None),
            drafts=module_drafts(copy),
            **extra,
        ),
        status,
    )


@bp.get("/<int:document_id>")
@roles_required(*TRAINERS)
def editor(document_id: int):
    copy = copy_or_404(document_id)
    form = EditForm(text=copy.text, base=str(copy.base_id))
    preview = preview_of(copy.path, copy.text) if copy.path.startswith("content/") else None
    return render_editor(copy, form, preview=preview)


def _base(form: BaseForm | EditForm) -> int:
    try:
        return int(form.base.data)
    except (TypeError, ValueError):
        abort(400)


SAVING_ACTIONS = ("draft", "publish", "publish_module")


@bp.post("/<int:document_id>")
@roles_required(*TRAINERS)
def save(document_id: int):
    action = request.form.get("action", "preview")
    if action not in SAVING_ACTIONS:
        # A preview or a calibration: the full check builds the whole course (seconds under
        # load), which must not hold SQLite's write lock (every learner's write would wait).
        reading_from_here()
    copy = copy_or_404(document_id)
    form = EditForm()
    if not form.validate():
        return render_editor(copy, form, 400)
    text = form.text.data or ""
    if action == "calibrate" and is_case_file(copy.path):
        return render_editor(copy, form, calibrated=calibrate_text(published(), copy.path, text))
    if action == "publish_module" and module_drafts(copy):
        return _publish_module(copy, form, text)
    if action not in ("draft", "publish"):
        reading_from_here()  # "publish_module" without module drafts: a preview, as above
        return render_editor(copy, form, preview=preview_of(copy.path, text, quick=False))
    saved, refusal = _try_save(
        copy,
        form,
        text,
        lambda session: docs.save_text(
            session,
            document_id,
            text,
            _base(form),
            publish=action == "publish",
            author_id=current_user.id,
            # A draft is checked beside its unpublished module; a publish, beside what is live.
            sources=(
                docs.sources_for(session, copy.path, published())
                if action == "draft"
                else published()
            ),
            baseline=catalogue(),
            review_required=review_required(),
            note=form.note.data or "",
            material=bool(form.material.data),
        ),
    )
    if refusal is not None:
        return refusal
    flash(outcome_message(saved), "success" if saved.outcome != "unchanged" else "info")
    return redirect(url_for("studio.editor", document_id=document_id))


def module_drafts(copy: docs.WorkingCopy) -> list[docs.DocumentRow]:
    """For a module that was never published: its lessons waiting as drafts."""
    if not copy.path.endswith("/module.md") or copy.published is not None:
        return []
    return docs.draft_lessons(db_session(), copy.path)


def _try_save(copy: docs.WorkingCopy, form: EditForm, text: str, work: Callable[[Any], T]):
    """Run a save in the request's transaction: (its result, None), or, when another
    trainer saved first or the text is refused, (None, the editor with what was typed)."""
    session = db_session()
    try:
        result = work(session)
    except docs.EditConflict as conflict:
        session.rollback()
        form.base.data = str(conflict.latest.id)
        return None, render_editor(copy, form, 409, conflict=conflict_view(conflict, text))
    except docs.EditInvalid as invalid:
        session.rollback()
        return None, render_editor(copy, form, 400, errors=invalid.errors)
    session.commit()
    return result, None


def _publish_module(copy: docs.WorkingCopy, form: EditForm, text: str):
    results, refusal = _try_save(
        copy,
        form,
        text,
        lambda session: docs.publish_module(
            session,
            copy.document_id,
            text,
            _base(form),
            author_id=current_user.id,
            sources=published(),
            baseline=catalogue(),
            review_required=review_required(),
            note=form.note.data or "",
        ),
    )
    if refusal is not None:
        return refusal
    lessons = len(results) - 1
    if any(saved.outcome == "pending" for saved in results):
        message = _(
            "The module and its %(n)s lessons were sent for review: another trainer must "
            "approve them before learners see them.",
            n=lessons,
        )
    else:
        message = _(
            "The module and its %(n)s lessons are published. Learners see them on their next page.",
            n=lessons,
        )
    flash(message, "success")
    return redirect(url_for("studio.editor", document_id=copy.document_id))


def conflict_view(conflict: docs.EditConflict, typed: str) -> dict[str, Any]:
    theirs = _(
        "Revision %(n)s by %(name)s",
        n=conflict.latest.number,
        name=conflict.latest.author_name or "—",
    )
    return {
        "latest": conflict.latest,
        "diff": diff_lines(conflict.text, typed.replace("\r\n", "\n"), theirs, _("Your text")),
    }


def outcome_message(saved: docs.Saved) -> str:
    return {
        "draft": _("Draft saved (revision %(n)s). Learners do not see it yet."),
        "pending": _(
            "Sent for review (revision %(n)s): another trainer must approve it "
            "before learners see it."
        ),
        "published": _("Published (revision %(n)s). Learners see it on their next page."),
        "unchanged": _("Nothing changed, so nothing was saved."),
    }[saved.outcome] % {"n": saved.revision.number}


@bp.post("/<int:document_id>/preview")
@roles_required(*TRAINERS)
@reads
def live_preview(document_id: int):
    """The sanitized preview for the editor's script (JSON with the preview's HTML)."""
    copy = copy_or_404(document_id)
    text = request.form.get("text", "")[:MAX_TEXT]
    preview = preview_of(copy.path, text)
    return jsonify(html=render_template("studio/_preview.html", preview=preview))


@bp.get("/<int:document_id>/history")
@roles_required(*TRAINERS)
def history(document_id: int):
    copy = copy_or_404(document_id)
    revisions = docs.revisions(db_session(), document_id)
    return render_template(
        "studio/history.html",
        copy=copy,
        revisions=revisions,
        reviews=reviews_of(db_session(), [r.id for r in revisions]),
        title=titles(catalogue()).get(copy.path, copy.path),
        form=BaseForm(base=str(copy.base_id)),
        review=needs_review(copy.path),
    )


@bp.get("/<int:document_id>/diff")
@roles_required(*TRAINERS)
def diff(document_id: int):
    copy = copy_or_404(document_id)
    try:
        old = docs.get_revision(db_session(), document_id, request.args.get("a", type=int) or 0)
        new = docs.get_revision(db_session(), document_id, request.args.get("b", type=int) or 0)
    except docs.DocumentNotFound:
        abort(404)
    if old.number > new.number:
        old, new = new, old
    lines = diff_lines(
        old.body, new.body, _("Revision %(n)s", n=old.number), _("Revision %(n)s", n=new.number)
    )
    return render_template(
        "studio/diff.html",
        copy=copy,
        old=old,
        new=new,
        lines=lines,
        title=titles(catalogue()).get(copy.path, copy.path),
    )


@bp.post("/<int:document_id>/file-version/<int:revision_id>")
@roles_required(*TRAINERS)
def resolve_import(document_id: int, revision_id: int):
    """Keep the draft over a changed course file, or take the file's text as the draft."""
    copy = copy_or_404(document_id)
    form = BaseForm(prefix="held")
    if not form.validate():
        abort(400)
    take = request.form.get("choice") == "take"
    _saved, refusal = _try_save(
        copy,
        EditForm(text=copy.text, base=str(copy.base_id), formdata=None),
        copy.text,
        lambda session: docs.resolve_import(
            session,
            document_id,
            revision_id,
            _base(form),
            take=take,
            author_id=current_user.id,
            sources=docs.sources_for(session, copy.path, published()),
            baseline=catalogue(),
        ),
    )
    if refusal is not None:
        return refusal
    if take:
        flash(_("The course file's text is now your draft. Check it, then publish."), "success")
    else:
        flash(_("Your draft is kept; the course file's version is set aside."), "success")
    return redirect(url_for("studio.editor", document_id=document_id))


@bp.post("/<int:document_id>/revert/<int:revision_id>")
@roles_required(*TRAINERS)
def revert(document_id: int, revision_id: int):
    copy = copy_or_404(document_id)
    form = BaseForm()
    if not form.validate():
        abort(400)
    session = db_session()
    try:
        old = docs.get_revision(session, document_id, revision_id)
        note = form.note.data or _("Reverted to revision %(n)s", n=old.number)
        saved = docs.revert(
            session,
            document_id,
            revision_id,
            _base(form),
            author_id=current_user.id,
            sources=published(),
            baseline=catalogue(),
            review_required=review_required(),
            note=note,
        )
    except docs.DocumentNotFound:
        abort(404)
    except docs.EditConflict as conflict:
        session.rollback()
        message = _(
            "Revision %(n)s was saved meanwhile by %(name)s: "
            "look at the history again before reverting.",
            n=conflict.latest.number,
            name=conflict.latest.author_name or "—",
        )
        return _history_refusal(copy, message, [], 409)
    except docs.EditInvalid as invalid:
        session.rollback()
        return _history_refusal(
            copy, _("That revision no longer fits the course:"), invalid.errors, 400
        )
    session.commit()
    flash(outcome_message(saved), "success" if saved.outcome != "unchanged" else "info")
    return redirect(url_for("studio.history", document_id=document_id))


def _history_refusal(copy: docs.WorkingCopy, message: str, errors: list[ContentError], status: int):
    revisions = docs.revisions(db_session(), copy.document_id)
    latest = docs.working_copy(db_session(), copy.document_id)
    return (
        render_template(
            "studio/history.html",
            copy=latest,
            revisions=revisions,
            reviews=reviews_of(db_session(), [r.id for r in revisions]),
            title=titles(catalogue()).get(copy.path, copy.path),
            form=BaseForm(base=str(latest.base_id)),
            review=needs_review(copy.path),
            refusal=message,
            errors=errors,
        ),
        status,
    )
