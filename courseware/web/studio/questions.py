"""The question editor: one question of a bank at a time, previewed as the trainee sees it.

The change is written into the bank's YAML text (the rest of the file kept as written)
and saved or published like any edit of the bank, with the same checks as
``courseware validate``. Questions are retired, never deleted.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from courseware.assessment.pages import attempt_page, review_page
from courseware.core.errors import ContentError
from courseware.studio import documents as docs
from courseware.studio import question_rows as qrows
from courseware.studio import questions as qedit
from courseware.web.common.access import roles_required
from courseware.web.common.database import catalogue, reading_from_here
from courseware.web.common.extensions import error_message
from courseware.web.studio.editor import (
    TRAINERS,
    conflict_view,
    copy_or_404,
    needs_review,
    studio_context,
    titles,
)
from courseware.web.studio.forms import BaseForm, QuestionEditForm
from courseware.web.studio.saving import base_text, save_as_trainer, saved_response

bp = Blueprint("studio_questions", __name__, url_prefix="/author/banks")
bp.context_processor(studio_context)


def _bank(document_id: int) -> tuple[docs.WorkingCopy, dict[str, Any], list[tuple[str, str]]]:
    copy = copy_or_404(document_id)
    if not copy.path.startswith("quizzes/"):
        abort(404)
    settings, _rows = qedit.bank_rows(copy.text)
    module = catalogue().module(str(settings.get("module", "")))
    lessons = [(le.slug, le.title) for le in module.lessons] if module else []
    return copy, settings, lessons


@bp.get("/<int:document_id>")
@roles_required(*TRAINERS)
def bank(document_id: int):
    copy, settings, lessons = _bank(document_id)
    return _bank_page(copy, settings, lessons)


def _bank_page(copy, settings, lessons, status: int = 200, **extra: Any):
    _settings, rows = qedit.bank_rows(copy.text)
    return (
        render_template(
            "studio/questions.html",
            copy=copy,
            settings=settings,
            rows=rows,
            lessons=dict(lessons),
            title=titles(catalogue()).get(copy.path, copy.path),
            form=BaseForm(base=str(copy.base_id)),
            review=needs_review(copy.path),
            **extra,
        ),
        status,
    )


MAX_ROWS = 12
FIELD_OF_TYPE = {  # where the form shows a problem with the question's answer, by type
    "single": "choices",
    "multiple": "choices",
    "true_false": "truth",
    "numeric": "answer",
}


def _form(lessons: list[tuple[str, str]], current: str = "") -> QuestionEditForm:
    form = QuestionEditForm()
    choices = [SelectChoice(slug, title) for slug, title in lessons]
    if current and current not in dict(lessons):
        choices.append(SelectChoice(current, current))
    form.lesson.choices = choices
    form.choice_errors = []
    return form


def _posted_rows() -> list[dict[str, Any]]:
    """The choice rows as posted: each with the id its "right" box names."""
    ids = request.form.getlist("choice_id")
    keys = request.form.getlist("choice_key")
    texts = request.form.getlist("choice_text")
    right = set(request.form.getlist("choice_right"))
    return [
        {"id": rid[:16], "key": key[:16], "text": text[:300], "right": rid in right}
        for rid, key, text in list(zip(ids, keys, texts, strict=False))[:MAX_ROWS]
    ]


def _rows_of(rows: list[qrows.ChoiceRow]) -> list[dict[str, Any]]:
    return [
        {"id": f"c{i}", "key": r.key, "text": r.text, "right": r.right} for i, r in enumerate(rows)
    ]


def _next_key(rows: list[dict[str, Any]]) -> str:
    used = {r["key"] for r in rows}
    return next((k for k in "abcdefghijkl" if k not in used), "")


def _new_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    taken = {r["id"] for r in rows}
    rid = next(f"c{i}" for i in range(len(rows) + 1) if f"c{i}" not in taken)
    return {"id": rid, "key": _next_key(rows), "text": "", "right": False}


def _values(form: QuestionEditForm, question_id: str | None, rows: list[dict[str, Any]]):
    names = [n for n in qedit.QuestionForm.names() if n not in ("choices", "retired")]
    values = {name: getattr(form, name).data or "" for name in names}
    values["retired"] = bool(form.retired.data)
    values["id"] = question_id if question_id is not None else values["id"]
    if values["type"] == "true_false":
        values["answer"] = form.truth.data or ""
    edited = qedit.QuestionForm(**values)
    problems = qrows.apply_rows(
        edited, [qrows.ChoiceRow(r["key"], r["text"], r["right"]) for r in rows]
    )
    return edited, problems


def _attach(form: QuestionEditForm, field: str, message: str) -> None:
    """Show a problem beside the form field it is about (the choices' group for the
    answer of a choice question)."""
    if field == "answer":
        field = FIELD_OF_TYPE.get(form.type.data or "", "answer")
    if field == "choices":
        form.choice_errors.append(message)
        return
    target = getattr(form, field, None) if field else None
    if target is not None and field in (*qedit.QuestionForm.names(), "truth"):
        target.errors = [*list(target.errors), message]


def _question_page(document_id: int, question_id: str | None, status: int = 200, **extra: Any):
    copy, settings, _lessons = _bank(document_id)
    return (
        render_template(
            "studio/question.html",
            copy=copy,
            settings=settings,
            question_id=question_id,
            title=titles(catalogue()).get(copy.path, copy.path),
            review=needs_review(copy.path),
            max_rows=MAX_ROWS,
            **extra,
        ),
        status,
    )


@bp.route("/<int:document_id>/new", methods=["GET", "POST"], endpoint="new")
@bp.route("/<int:document_id>/questions/<question_id>", methods=["GET", "POST"])
@roles_required(*TRAINERS)
def question(document_id: int, question_id: str | None = None):
    copy, settings, lessons = _bank(document_id)
    if request.method == "GET":
        values = (
            qedit.question_form(copy.text, question_id) if question_id else qedit.QuestionForm()
        )
        if values is None:
            abort(404)
        form = _form(lessons, values.lesson)
        truth = values.answer if values.type == "true_false" else ""
        form.process(data={**values.__dict__, "truth": truth, "base": str(copy.base_id)})
        if values.type != "numeric":
            form.answer.data = ""
        rows = _rows_of(qrows.choice_rows(values))
        while len(rows) < 2:
            rows.append(_new_row(rows))
        return _question_page(document_id, question_id, form=form, rows=rows)
    if request.form.get("action", "") not in ("draft", "publish"):
        reading_from_here()  # a preview or a row added: no write lock while the page is built
    form = _form(lessons, request.form.get("lesson", ""))
    rows = _posted_rows()
    if not form.validate():
        return _question_page(document_id, question_id, 400, form=form, rows=rows)
    action = request.form.get("action", "")
    if action == "add_choice" or action.startswith("remove_choice:"):
        if action == "add_choice" and len(rows) < MAX_ROWS:
            rows.append(_new_row(rows))
        rows = [r for r in rows if action != f"remove_choice:{r['id']}"]
        return _question_page(document_id, question_id, form=form, rows=rows)
    edited, problems = _values(form, question_id, rows)
    data, more = qedit.question_data(edited)
    for field, message, params in [*problems, *more]:
        _attach(form, field, _(message, **params))
    if problems or more:
        return _question_page(document_id, question_id, 400, form=form, rows=rows)
    if action not in ("draft", "publish"):
        return _preview(document_id, question_id, form, rows, copy.path, settings, data, lessons)
    return _save(document_id, question_id, form, rows, data)


def _preview(document_id, question_id, form, rows, path, settings, data, lessons):
    served, errors = qedit.preview(
        path, str(settings.get("module", "")), data, {s for s, _t in lessons}
    )
    for error in errors:
        _attach(form, qedit.form_field(error, 0) or "", error_message(error))
    page = attempt_page([served]) if served else []
    review = review_page([served]) if served else []
    status = 200 if served else 400
    return _question_page(
        document_id,
        question_id,
        status,
        form=form,
        rows=rows,
        page=page,
        reviewed=review,
        errors=[_relocate(e, data) for e in errors],
    )


def _relocate(error: ContentError, data: dict[str, Any]) -> ContentError:
    """A preview error names the question by its id, not by a position in a list of one."""
    field = qedit.form_field(error, 0)
    where = f"{data.get('id') or '?'}" + (f".{field}" if field else "")
    return ContentError(error.path, where, error.message, error.params)


def _save(
    document_id: int,
    question_id: str | None,
    form: QuestionEditForm,
    rows: list[dict[str, Any]],
    data: dict[str, Any],
):
    base = int(form.base.data) if (form.base.data or "").isdigit() else 0
    try:
        text, index = qedit.put_question(base_text(document_id, base), question_id, data)
    except qedit.QuestionEditError as refused:
        return _question_page(
            document_id,
            question_id,
            400,
            form=form,
            rows=rows,
            refusal=_(refused.message, **refused.params),
        )
    publish = request.form.get("action") == "publish"
    try:
        saved = save_as_trainer(document_id, text, base, publish=publish, note=form.note.data or "")
    except docs.EditConflict as conflict:
        form.base.data = str(conflict.latest.id)
        return _question_page(
            document_id,
            question_id,
            409,
            form=form,
            rows=rows,
            conflict=conflict_view(conflict, text),
        )
    except docs.EditInvalid as invalid:
        for error in invalid.errors:
            field = qedit.form_field(error, index)
            if field is not None:
                _attach(form, field, error_message(error))
        return _question_page(
            document_id, question_id, 400, form=form, rows=rows, errors=invalid.errors
        )
    return saved_response(saved, url_for("studio_questions.bank", document_id=document_id))


@bp.post("/<int:document_id>/questions/<question_id>/retire")
@roles_required(*TRAINERS)
def retire(document_id: int, question_id: str):
    copy, settings, lessons = _bank(document_id)
    form = BaseForm()
    if not form.validate() or not (form.base.data or "").isdigit():
        abort(400)
    retired = request.form.get("retired", "1") == "1"
    base = int(form.base.data)
    note = _("Retired %(id)s", id=question_id) if retired else _("Restored %(id)s", id=question_id)
    try:
        text, _index = qedit.set_retired(base_text(document_id, base), question_id, retired)
    except qedit.QuestionEditError as refused:
        return _bank_page(
            copy, settings, lessons, 400, refusal=_(refused.message, **refused.params)
        )
    try:
        saved = save_as_trainer(document_id, text, base, publish=True, note=note)
    except docs.EditConflict as conflict:
        message = _(
            "Revision %(n)s was saved meanwhile by %(name)s: nothing was changed. "
            "Look at the questions again.",
            n=conflict.latest.number,
            name=conflict.latest.author_name or "—",
        )
        return _bank_page(copy_or_404(document_id), settings, lessons, 409, refusal=message)
    except docs.EditInvalid as invalid:
        return _bank_page(copy, settings, lessons, 400, errors=invalid.errors)
    return saved_response(saved, url_for("studio_questions.bank", document_id=document_id))
