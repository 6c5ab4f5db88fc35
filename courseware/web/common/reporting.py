"""What the HR pages and the transcripts share: the reader's scope, today's moment in the
site's time zone, the course keys, exports as responses and the reminder message."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Response, current_app, stream_with_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from courseware.core.clock import utcnow
from courseware.core.mail import Message
from courseware.hr import compliance, exports
from courseware.hr.compliance import Moment, Scope
from courseware.hr.exports import Cell
from courseware.hr.learner_table import LearnerRow
from courseware.hr.reports import CourseKeys, course_keys
from courseware.web.common.database import catalogue
from courseware.web.common.policy import policy


def timezone() -> str:
    return current_app.config.get("TIMEZONE") or "Asia/Taipei"


def moment() -> Moment:
    return compliance.moment(utcnow(), timezone(), policy())


def scope() -> Scope:
    return Scope.for_reader(current_user.role, current_user.branch or "")


def keys() -> CourseKeys:
    return course_keys(catalogue(), policy())


def label(message: str, **params: object) -> str:
    return _(message, **params)


def mail_configured() -> bool:
    return bool(current_app.config.get("SMTP_URL"))


def export_response(rows: Iterable[Sequence[Cell]], fmt: str, name: str) -> Response:
    """CSV streamed row by row, or XLSX from a temporary file; the name gets today's date."""
    filename = f"{name}-{moment().today.isoformat()}.{fmt}"
    if fmt == "csv":
        return Response(
            stream_with_context(exports.csv_stream(rows)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    workbook = exports.xlsx_file(rows, name)
    return Response(
        exports.file_chunks(workbook),
        mimetype=exports.XLSX_MIMETYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(exports.file_size(workbook)),
        },
    )


def compose(row: LearnerRow, kind: str, address: str) -> Message:
    """The reminder in the site's default language (the learner's choice is not known)."""
    expires_on = compliance.local_date(row.expires_at, timezone())
    due = row.due_date.isoformat() if row.due_date else ""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hant")):
        if kind == "overdue":
            subject = _("Your microloan officer training is overdue")
            text = _(
                "Your training was due on %(day)s and is not complete yet. "
                "Please finish it as soon as you can.",
                day=due,
            )
        elif kind == "renewal":
            subject = _("Time to renew your microloan officer certificate")
            text = _(
                "Your certificate is valid until %(day)s. Renew it by passing the renewal "
                "assessment and deciding the renewal loan cases.",
                day=expires_on.isoformat() if expires_on else "",
            )
        else:
            subject = _("Your microloan officer training is due")
            text = _("Please complete your training by %(day)s.", day=due)
        greeting = _("Dear %(name)s,", name=row.display_name)
        signature = _("Microloan Officer Academy")
    link = url_for("learn.dashboard", _external=True)
    return Message(address, subject, f"{greeting}\n\n{text}\n\n{link}\n\n{signature}\n")
