"""What the HR pages and the transcripts share: the reader's scope, today's moment in the
site's time zone, the course keys, exports as responses and HR's reminders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Response, current_app, stream_with_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from courseware.core.clock import utcnow
from courseware.core.mail import Mailer, Message
from courseware.hr import compliance, exports, notices
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


def compose(item: notices.Due, address: str) -> Message:
    """A reminder's email in the site's default language (the learner's choice is not known)."""
    link = url_for("notices.index", _external=True)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hant")):
        return notices.compose_email(item, address, _, link)


def remind(session: Session, rows: Iterable[LearnerRow]) -> notices.Outcome:
    """The signed-in reader reminds ``rows``: in the app, and by email when mail is
    configured (``notices.remind``, the same path as ``courseware reminders run``).

    Commits: the notices (with what the request wrote before), then, with no transaction
    open while the mail server is talked to, the emails' outcomes and the audit record;
    on SQLite the request's write lock is not held while the emails go out."""
    config = current_app.config
    if not mail_configured():
        return notices.remind(session, rows, timezone(), current_user.id, now=utcnow())
    with Mailer(config["SMTP_URL"], config.get("MAIL_FROM") or "academy@localhost") as mailer:
        return notices.remind(session, rows, timezone(), current_user.id, mailer, compose, utcnow())
