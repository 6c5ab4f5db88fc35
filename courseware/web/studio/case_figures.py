"""A case file's figures as a form: the business, the household budget, the loan request.

The figures are written into the case's YAML (the rest of the file kept as written) and
saved or published like any edit of the file, with the same checks as ``courseware
validate``; a problem with a figure is shown beside its field. The YAML stays editable in
the studio's editor.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _

from courseware.core.errors import ContentError
from courseware.studio import case_figures as cf
from courseware.studio import documents as docs
from courseware.studio.cases import is_case_file
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.extensions import error_message
from courseware.web.studio.editor import (
    copy_or_404,
    needs_review,
    published,
    titles,
)
from courseware.web.studio.forms import BaseForm
from courseware.web.studio.saving import base_text, save_as_trainer, saved_response


def _document(slug: str) -> int:
    path = f"case_studies/{slug}.yaml"
    document_id = docs.document_id_of(db_session(), path) if is_case_file(path) else None
    if document_id is None:
        abort(404)
    return document_id


def _sections(
    found: list[cf.Figure], values: dict[str, str], problems: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """The form's fieldsets: each figure with its label, value and problems."""
    sections: dict[str, dict[str, Any]] = {}
    for figure in found:
        label = (
            _("%(list)s: %(line)s", list=_(figure.legend), line=figure.line)
            if figure.legend
            else _(figure.label)
        )
        section = sections.setdefault(
            figure.group, {"legend": _(cf.GROUP_LABELS[figure.group]), "fields": []}
        )
        section["fields"].append(
            {
                "name": figure.key,
                "id": "fig-" + re.sub(r"[^A-Za-z0-9]+", "-", figure.key).strip("-"),
                "label": label,
                "value": values.get(figure.key, figure.value),
                "errors": problems.get(figure.key, []),
            }
        )
    return list(sections.values())


def _page(copy: docs.WorkingCopy, slug: str, form: BaseForm, status: int = 200, **extra: Any):
    return (
        render_template(
            "studio/author_cases/figures.html",
            copy=copy,
            slug=slug,
            form=form,
            title=titles(catalogue()).get(copy.path, copy.path),
            review=needs_review(copy.path),
            **extra,
        ),
        status,
    )


def figures(slug: str):
    """GET: the case's figures in a form; POST: write them into the file, save or publish."""
    document_id = _document(slug)
    copy = copy_or_404(document_id)
    if request.method == "GET":
        form = BaseForm(base=str(copy.base_id))
        try:
            found = cf.figures(copy.text)
        except cf.FiguresError as refused:
            return _page(copy, slug, form, refusal=_(refused.message), sections=[])
        return _page(copy, slug, form, sections=_sections(found, {}, {}))
    form = BaseForm()
    if not form.validate() or not (form.base.data or "").isdigit():
        abort(400)
    return _save(copy, slug, form)


def _save(copy: docs.WorkingCopy, slug: str, form: BaseForm):
    base = int(form.base.data or 0)
    publish = request.form.get("action") == "publish"
    text = base_text(copy.document_id, base)
    try:
        found = cf.figures(text)
        typed = {f.key: request.form.get(f.key, f.value)[:40] for f in found}
        text, problems = cf.put_figures(text, typed)
    except cf.FiguresError as refused:
        return _page(copy, slug, form, 400, refusal=_(refused.message), sections=[])
    if problems:
        shown = {key: [_(message, **params)] for key, message, params in problems}
        return _page(copy, slug, form, 400, sections=_sections(found, typed, shown))
    sources = None if publish else docs.sources_for(db_session(), copy.path, published())
    try:
        saved = save_as_trainer(
            copy.document_id,
            text,
            base,
            publish=publish,
            note=form.note.data or "",
            sources=sources,
        )
    except docs.EditConflict as conflict:
        message = _(
            "Not saved: %(name)s saved revision %(n)s while you were editing. "
            "Your figures are kept below: save again to apply them to their revision.",
            name=conflict.latest.author_name or "—",
            n=conflict.latest.number,
        )
        form.base.data = str(conflict.latest.id)
        return _page(copy, slug, form, 409, refusal=message, sections=_sections(found, typed, {}))
    except docs.EditInvalid as invalid:
        return _refused(copy, slug, form, found, typed, invalid.errors)
    return saved_response(saved, url_for("author_cases.figures", slug=slug))


def _refused(copy, slug, form, found, typed, errors: list[ContentError]):
    """The form again, each of the loader's errors beside the figure it names; the others
    in the list above the form."""
    by_field = cf.figure_errors(errors, {f.key for f in found})
    shown = {
        key: [error_message(e) for e in found_errors] for key, found_errors in by_field.items()
    }
    return _page(copy, slug, form, 400, errors=errors, sections=_sections(found, typed, shown))
