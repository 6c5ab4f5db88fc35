"""The HR view: figures, bars and funnel; the learner table with its exports; reminders.

HR and administrators see every branch; a branch manager sees their own branch only
(``compliance.Scope``). Cohorts are in ``hr_cohorts``, the audit trail in ``hr_audit``,
transcripts in ``transcript``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from courseware.core.clock import utcnow
from courseware.core.mail import Mailer
from courseware.hr import compliance, exports, reminders
from courseware.hr.exports import Cell
from courseware.hr.learner_table import (
    LEARNER_COLUMNS,
    PER_PAGE_CHOICES,
    SORTS,
    LearnerQuery,
    filter_choices,
    iter_learners,
    learner_cells,
    learner_page,
)
from courseware.hr.reports import FunnelCache, completion, dashboard
from courseware.hr.transcripts import standing_of
from courseware.web.common.access import EDITORS, READERS, roles_required
from courseware.web.common.database import db_session
from courseware.web.common.policy import policy
from courseware.web.common.reporting import (
    compose,
    export_response,
    keys,
    label,
    mail_configured,
    moment,
    scope,
    timezone,
)

bp = Blueprint("hr", __name__, url_prefix="/hr")


# ------------------------------------------------------------ pages


def funnel_cache() -> FunnelCache:
    """This worker's funnel cache (see courseware.hr.reports.FunnelCache)."""
    cache = current_app.extensions.get("courseware.funnel_cache")
    if cache is None:
        seconds = policy().compliance.funnel_cache_seconds
        cache = current_app.extensions.setdefault(
            "courseware.funnel_cache", FunnelCache(timedelta(seconds=seconds))
        )
    return cache


COHORTS_ON_DASHBOARD = 5
COHORTS_PER_PAGE = 25


@bp.get("", endpoint="dashboard")
@roles_required(*READERS)
def dashboard_page():
    at = moment()
    data = dashboard(db_session(), at, scope(), keys(), funnel_cache())
    return render_template(
        "hr/dashboard.html",
        data=data,
        cohorts_shown=data.worst_cohorts(COHORTS_ON_DASHBOARD),
        at=at,
        scope=scope(),
    )


@dataclass(frozen=True)
class CohortPage:
    """A page of the cohort bars, in the shape hr/_pagination.html reads."""

    page: int
    pages: int

    def args(self, page: int) -> dict[str, int]:
        return {"page": page} if page != 1 else {}


@bp.get("/completion/cohorts")
@roles_required(*READERS)
def cohort_completion():
    """Every cohort with learners, worst first, a page at a time."""
    data = completion(db_session(), moment(), scope())
    pages = max(1, -(-len(data.cohorts) // COHORTS_PER_PAGE))
    number = request.args.get("page", "1")
    page = min(pages, max(1, int(number))) if number.isdigit() and len(number) < 6 else 1
    start = (page - 1) * COHORTS_PER_PAGE
    return render_template(
        "hr/cohort_completion.html",
        data=data,
        bars=data.cohorts[start : start + COHORTS_PER_PAGE],
        first=start + 1,
        paging=CohortPage(page, pages),
        scope=scope(),
    )


@bp.get("/learners")
@roles_required(*READERS)
def learners():
    query = LearnerQuery.from_args(request.args)
    session = db_session()
    page = learner_page(session, moment(), scope(), query, keys())
    branches, cohorts = filter_choices(session, scope())
    return render_template(
        "hr/learners.html",
        page=page,
        query=page.query,
        rows=[(row, learner_cells(row, timezone(), label)) for row in page.rows],
        columns=LEARNER_COLUMNS,
        branches=branches,
        cohorts=cohorts,
        statuses=compliance.STATUSES,
        status_labels=compliance.STATUS_LABELS,
        per_page_choices=PER_PAGE_CHOICES,
        sorts=SORTS,
        scope=scope(),
        mail_configured=mail_configured(),
        can_remind=current_user.role in EDITORS,
        cell_text=exports.cell_text,
    )


def learner_rows(query: LearnerQuery) -> Iterator[list[Cell]]:
    yield [label(title) for _key, title in LEARNER_COLUMNS]
    tz = timezone()
    for row in iter_learners(db_session(), moment(), scope(), query, keys()):
        yield learner_cells(row, tz, label)


@bp.get("/learners/export.<fmt>")
@roles_required(*READERS)
def export_learners(fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    return export_response(learner_rows(LearnerQuery.from_args(request.args)), fmt, "learners")


@bp.post("/learners/reminders")
@roles_required(*EDITORS)
def send_reminders():
    query = LearnerQuery.from_args(request.form)
    target = url_for("hr.learners", **query.args())
    if not mail_configured():
        flash(_("Email is not configured (COURSEWARE_SMTP_URL)."), "error")
        return redirect(target)
    session = db_session()
    rows = list(iter_learners(session, moment(), scope(), query, keys()))
    config = current_app.config
    with Mailer(config["SMTP_URL"], config.get("MAIL_FROM") or "academy@localhost") as mailer:
        outcome = reminders.send_reminders(
            session, rows, mailer, compose, current_user.id, utcnow()
        )
    session.commit()
    flash(
        _(
            "Reminders sent: %(sent)s. Failed: %(failed)s. No email address: %(missing)s. "
            "Reminded in the last day: %(recent)s. Not needed: %(unneeded)s.",
            sent=outcome.sent,
            failed=outcome.failed,
            missing=outcome.no_address,
            recent=outcome.recently_reminded,
            unneeded=outcome.not_needed,
        ),
        "error" if outcome.error else "success",
    )
    if outcome.error:
        flash(_("The mail server could not be reached: %(error)s", error=outcome.error), "error")
    return redirect(target)


# ------------------------------------------------------------ the learner's banner


def learner_banner() -> dict[str, object] | None:
    """The signed-in learner's due date and alerts for the dashboard (one query)."""
    if not current_user.is_authenticated or current_user.role != compliance.LEARNER_ROLE:
        return None
    standing = standing_of(db_session(), current_user.id, moment())
    if standing is None:
        return None
    return {
        "standing": standing,
        "expires_on": compliance.local_date(standing.expires_at, timezone()),
    }


@bp.app_context_processor
def banner_context() -> dict[str, object]:
    # A function, called only by the template that shows the banner: no query elsewhere.
    return {"learner_banner": learner_banner}
