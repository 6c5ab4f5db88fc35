"""Transcripts: a learner's own at /transcript; any learner's for HR (and a manager, in
their branch) at /hr/learners/<id>; both exportable as CSV and XLSX for auditors."""

from __future__ import annotations

from collections.abc import Iterator

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from courseware.core.models import User
from courseware.hr import compliance, exports, reminders, transcripts
from courseware.hr.cohorts import CohortError
from courseware.hr.exports import Cell
from courseware.hr.learner_table import LearnerQuery, iter_learners
from courseware.lending.kinds import CASE_KIND_LABELS
from courseware.web.common.access import EDITORS, READERS, roles_required
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.policy import policy
from courseware.web.common.reporting import (
    export_response,
    keys,
    label,
    mail_configured,
    moment,
    scope,
    timezone,
)
from courseware.web.common.reporting import remind as remind_learners

bp = Blueprint("transcript", __name__)


def _learner_or_404(user_id: int) -> User:
    """A learner the reader may see: HR and admins any, a manager their branch's."""
    user = db_session().get(User, user_id)
    if user is None:
        abort(404)
    visible = scope()
    if visible.nobody or (visible.branch is not None and user.branch != visible.branch):
        abort(404)
    if visible.branch is not None and user.role != compliance.LEARNER_ROLE:
        abort(404)
    return user


def _rows(data: transcripts.Transcript) -> Iterator[list[Cell]]:
    yield [label(title) for title in transcripts.TRANSCRIPT_COLUMNS]
    yield from transcripts.transcript_cells(data, timezone(), label)
    mark = policy().certification.case_average_min
    yield from transcripts.kind_cells(transcripts.kind_results(data, mark), mark, label)


def _page(user: User, template: str, **extra: object):
    data = transcripts.transcript(db_session(), user, catalogue(), moment(), policy())
    body = transcripts.transcript_cells(data, timezone(), label)
    next(body)  # the learner line: the page shows it as a heading
    return render_template(
        template,
        data=data,
        learner=user,
        sections=transcripts.sections(body),
        columns=transcripts.TRANSCRIPT_COLUMNS,
        status_labels=compliance.STATUS_LABELS,
        expires_on=compliance.local_date(
            data.standing.expires_at if data.standing else None, timezone()
        ),
        kinds=transcripts.kind_results(data, policy().certification.case_average_min),
        case_pass_mark=policy().certification.case_average_min,
        kind_labels=CASE_KIND_LABELS,
        **extra,
    )


@bp.get("/transcript")
def mine():
    return _page(current_user, "learner/transcript/mine.html")


@bp.get("/transcript/export.<fmt>")
def export_mine(fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    data = transcripts.transcript(db_session(), current_user, catalogue(), moment(), policy())
    return export_response(_rows(data), fmt, f"transcript-{current_user.username}")


@bp.get("/hr/learners/<int:user_id>")
@roles_required(*READERS)
def learner(user_id: int):
    user = _learner_or_404(user_id)
    return _page(
        user,
        "learner/transcript/learner.html",
        can_edit=current_user.role in EDITORS,
        mail_configured=mail_configured(),
    )


@bp.get("/hr/learners/<int:user_id>/export.<fmt>")
@roles_required(*READERS)
def export_learner(user_id: int, fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    user = _learner_or_404(user_id)
    data = transcripts.transcript(db_session(), user, catalogue(), moment(), policy())
    return export_response(_rows(data), fmt, f"transcript-{user.username}")


@bp.post("/hr/learners/<int:user_id>/contact")
@roles_required(*EDITORS)
def set_contact(user_id: int):
    user = _learner_or_404(user_id)
    session = db_session()
    try:
        reminders.set_contact(session, user, request.form.get("email", "")[:300], current_user.id)
    except CohortError as exc:
        session.rollback()
        flash(_(exc.message, **exc.params), "error")
    else:
        session.commit()
        flash(_("Reminder address saved."), "success")
    return redirect(url_for("transcript.learner", user_id=user.id))


@bp.post("/hr/learners/<int:user_id>/remind")
@roles_required(*EDITORS)
def remind(user_id: int):
    user = _learner_or_404(user_id)
    session = db_session()
    rows = [
        row
        for row in iter_learners(session, moment(), scope(), LearnerQuery(q=user.username), keys())
        if row.user_id == user.id
    ]
    outcome = remind_learners(session, rows)  # commits: the notice, then the email's outcome
    if outcome.emailed:
        flash(_("Reminder sent."), "success")
    elif outcome.notices and outcome.email_failed:
        flash(_("The learner is reminded in the app; the email could not be sent."), "warning")
    elif outcome.notices and outcome.no_address:
        flash(_("The learner is reminded in the app; they have no email address yet."), "warning")
    elif outcome.notices:
        flash(_("The learner is reminded in the app (email is not configured)."), "success")
    elif outcome.email_failed:
        flash(_("The reminder could not be sent; the mail server refused it."), "error")
    elif outcome.already:
        flash(_("This learner was reminded in the last day."), "info")
    else:
        flash(_("This learner needs no reminder now."), "info")
    return redirect(url_for("transcript.learner", user_id=user.id))
