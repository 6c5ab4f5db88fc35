"""The learner's notices (what ``courseware reminders run`` wrote) and personal calendar feed."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from courseware.core.clock import utcnow
from courseware.core.models import Notice
from courseware.hr import calendar, compliance, notices
from courseware.web.common.access import public
from courseware.web.common.database import db_session
from courseware.web.common.policy import policy
from courseware.web.common.reporting import timezone
from courseware.web.common.requestlog import secret_path

bp = Blueprint("notices", __name__)


@bp.get("/notices")
def index():
    session = db_session()
    items = notices.notices_of(session, current_user.id)
    token = calendar.feed_token(session, current_user.id)
    session.commit()
    return render_template(
        "learner/notices/index.html",
        items=items,
        titles=notices.NOTICE_TITLES,
        texts=notices.NOTICE_TEXTS,
        unread=sum(1 for n in items if n.read_at is None),
        feed_url=url_for("notices.feed", token=token, _external=True),
    )


@bp.post("/notices/<int:notice_id>/read")
def mark_read(notice_id: int):
    session = db_session()
    changed = notices.mark_read(session, current_user.id, notice_id, utcnow())
    session.commit()
    if not changed and not _own(notice_id):
        abort(404)
    return redirect(url_for("notices.index"), 303)


@bp.post("/notices/read")
def mark_all_read():
    session = db_session()
    notices.mark_read(session, current_user.id, None, utcnow())
    session.commit()
    flash(_("Every notice is marked as read."), "success")
    return redirect(url_for("notices.index"), 303)


def _own(notice_id: int) -> bool:
    notice = db_session().get(Notice, notice_id)
    return notice is not None and notice.user_id == current_user.id


@bp.post("/calendar/new-link")
def new_feed_link():
    session = db_session()
    calendar.feed_token(session, current_user.id, renew=True)
    session.commit()
    flash(_("Your calendar has a new link; the old one no longer works."), "success")
    return redirect(url_for("notices.index") + "#calendar", 303)


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    session = db_session()
    user_id = calendar.feed_owner(session, token)
    if user_id is None:
        abort(404)
    zone = timezone()
    events = calendar.learner_events(
        session,
        user_id,
        policy(),
        lambda moment: compliance.local_date(moment, zone) or moment.date(),
        _,
        request.host.split(":")[0] or "courseware",
    )
    body = calendar.write_calendar(events, utcnow(), _("Microloan Officer Academy"))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="courseware.ics"'
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


public("notices.feed")
secret_path("notices.feed")


def notice_count() -> int:
    """The signed-in trainee's unread notices (nobody else gets any): counted when the
    request loaded the user (``web.common.extensions.load_user``), else once here."""
    if not current_user.is_authenticated or current_user.role != compliance.LEARNER_ROLE:
        return 0
    if g.get("unread_notices") is None:
        g.unread_notices = notices.unread_count(db_session(), current_user.id)
    return int(g.unread_notices)


@bp.app_context_processor
def notice_context() -> dict[str, object]:
    # A function, called only by the template that shows the count: no query elsewhere.
    return {"notice_count": notice_count}
