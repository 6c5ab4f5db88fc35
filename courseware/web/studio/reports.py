"""Report a problem: any signed-in learner sends a note from a lesson or quiz review page;
trainers read the notes in the studio's inbox and mark them resolved."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from courseware.studio import problem_reports as reports
from courseware.web.common.access import roles_required
from courseware.web.common.database import db_session
from courseware.web.common.security import safe_next
from courseware.web.studio.editor import TRAINERS, studio_context
from courseware.web.studio.forms import ReportForm, ResolveForm

bp = Blueprint("studio_reports", __name__)
bp.context_processor(studio_context)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


@bp.post("/report-problem")
def report():
    form = ReportForm()
    page = safe_next(form.page.data, url_for("learn.dashboard"))
    if not form.validate():
        flash(
            _(
                "Your note was not sent: write it in at most %(max)s characters.",
                max=reports.MAX_NOTE,
            ),
            "error",
        )
        return redirect(page)
    session = db_session()
    try:
        reports.create_report(
            session,
            current_user.id,
            form.note.data or "",
            revision_id=_int(form.revision.data),
            page_url=page,
            attempt_id=_int(form.attempt.data),
            question_position=_int(form.question.data),
        )
    except reports.ReportInvalid as invalid:
        session.rollback()
        flash(_(invalid.message, **invalid.params), "error")
        return redirect(page)
    session.commit()
    flash(_("Thank you: your note was sent to the trainers."), "success")
    return redirect(page)


@bp.get("/author/reports")
@roles_required(*TRAINERS)
def inbox():
    everything = request.args.get("show") == "all"
    return render_template(
        "studio/reports.html",
        rows=reports.inbox(db_session(), include_resolved=everything),
        everything=everything,
        form=ResolveForm(),
    )


@bp.post("/author/reports/<int:report_id>/resolve")
@roles_required(*TRAINERS)
def resolve(report_id: int):
    form = ResolveForm()
    if not form.validate():
        abort(400)
    session = db_session()
    try:
        reports.set_resolved(session, report_id, form.resolved.data != "0", current_user.id)
    except reports.ReportNotFound:
        abort(404)
    session.commit()
    return redirect(url_for("studio_reports.inbox", show=request.args.get("show")))
