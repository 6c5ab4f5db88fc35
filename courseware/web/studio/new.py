"""Add a lesson, or a whole module with its first lesson, from the browser.

The new files are documents like any other: kept as drafts, or published at once (for
a module that needs review, sent for review). Every worker serves a publish on its next
request.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from courseware.studio import documents as docs
from courseware.studio.creation import (
    NewLesson,
    NewModule,
    module_choices,
    new_lesson_texts,
    new_module_texts,
)
from courseware.web.common.access import roles_required
from courseware.web.common.database import catalogue, db_session
from courseware.web.studio.editor import TRAINERS, published, review_required, studio_context
from courseware.web.studio.forms import NewLessonForm, NewModuleForm

bp = Blueprint("studio_new", __name__, url_prefix="/author/content/new")
bp.context_processor(studio_context)


def _create(
    texts: dict[str, str],
    publish: bool,
    template: str,
    form,
    drafts: Mapping[str, str] | None = None,
):
    """Create the documents; ``drafts`` are unpublished files they are checked beside."""
    session = db_session()
    try:
        created = docs.create_documents(
            session,
            texts,
            publish=publish,
            author_id=current_user.id,
            sources={**published(), **(drafts or {})},
            baseline=catalogue(),
            review_required=review_required(),
        )
    except docs.EditInvalid as invalid:
        session.rollback()
        return render_template(template, form=form, errors=invalid.errors), 400
    session.commit()
    outcomes = {saved.outcome for _doc, saved in created}
    if "published" in outcomes:
        flash(_("Published: learners see it on their next page."), "success")
    elif "pending" in outcomes:
        flash(
            _("Sent for review: another trainer must approve it before learners see it."), "success"
        )
    else:
        flash(_("Saved as a draft. Learners do not see it until it is published."), "success")
    lesson_document = created[0][0]  # a lesson's path sorts before its module.md
    return redirect(url_for("studio.editor", document_id=lesson_document.id))


@bp.route("/lesson", methods=["GET", "POST"])
@roles_required(*TRAINERS)
def lesson():
    drafts = docs.unpublished_module_texts(db_session())
    choices = {c.slug: c for c in module_choices(catalogue(), drafts)}
    form = NewLessonForm()
    form.module.choices = [
        SelectChoice(c.slug, _("%(title)s (draft)", title=c.title) if c.draft else c.title)
        for c in choices.values()
    ]
    if not form.is_submitted():
        return render_template("studio/new_lesson.html", form=form)
    if not form.validate():
        return render_template("studio/new_lesson.html", form=form), 400
    module = choices[form.module.data]
    new = NewLesson(form.slug.data, form.title.data.strip(), form.order.data, form.minutes.data)
    texts = new_lesson_texts(module, new)
    if not module.draft:
        return _create(texts, bool(form.publish.data), "studio/new_lesson.html", form)
    # A lesson cannot go live before its module: it waits as a draft beside the module.
    if form.publish.data:
        flash(
            _(
                "The module %(title)s is not published yet, so this lesson is kept as a "
                "draft beside it. The module's editor publishes the module with its draft "
                "lessons at once.",
                title=module.title,
            ),
            "warning",
        )
    module_path = f"{module.folder}/module.md"
    return _create(texts, False, "studio/new_lesson.html", form, {module_path: drafts[module_path]})


@bp.route("/module", methods=["GET", "POST"])
@roles_required(*TRAINERS)
def module():
    form = NewModuleForm()
    if not form.is_submitted():
        return render_template("studio/new_module.html", form=form)
    if not form.validate():
        return render_template("studio/new_module.html", form=form), 400
    objectives = [line.strip() for line in form.objectives.data.splitlines() if line.strip()]
    first = NewLesson(form.lesson_slug.data, form.lesson_title.data.strip(), 1, 15)
    new = NewModule(
        form.slug.data,
        form.title.data.strip(),
        form.order.data,
        form.summary.data.strip(),
        objectives,
        form.estimated_minutes.data,
        first,
    )
    return _create(new_module_texts(new), bool(form.publish.data), "studio/new_module.html", form)
