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
    Flask,
    Response,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from courseware.content.catalogue import Catalogue
from courseware.core.clock import utcnow
from courseware.hr import bulk, compliance, exports, notices
from courseware.hr.cohorts import cohort_choices
from courseware.hr.compliance import Scope
from courseware.hr.exports import Cell
from courseware.hr.learner_table import (
    LEARNER_COLUMNS,
    PER_PAGE_CHOICES,
    SORTS,
    LearnerQuery,
    compile_statements,
    filter_choices,
    iter_learners,
    learner_cells,
    learner_page,
)
from courseware.hr.reports import (
    CourseKeys,
    FunnelCache,
    Recount,
    completion,
    course_keys,
    dashboard,
    shared_course_keys,
)
from courseware.hr.transcripts import standing_of
from courseware.web.common.access import EDITORS, READERS, roles_required
from courseware.web.common.database import (
    catalogue,
    current_content_version,
    database,
    db_session,
)
from courseware.web.common.policy import policy
from courseware.web.common.reporting import (
    export_response,
    label,
    mail_configured,
    moment,
    remind,
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


def keys() -> CourseKeys:
    """What counts as done in the published course, for HR's counts.

    Kept by content version in the worker; a worker that has not parsed the catalogue
    (seconds: every case file is read) takes the keys another worker shared, so a freshly
    started worker's first HR page does not wait for the whole course to be parsed.
    """
    if "catalogue" in g:
        return course_keys(g.catalogue, policy())
    session = db_session()
    version = current_content_version()
    cache = current_app.extensions.setdefault(COURSE_KEYS, {})
    found = cache.get(version)
    if found is None:

        def build() -> tuple[CourseKeys, int]:
            parsed = catalogue()
            return course_keys(parsed, policy()), parsed.version

        found = shared_course_keys(
            session, version, policy().certification.cases_required, build, utcnow()
        )
        cache.clear()
        cache[version] = found
    return found


COURSE_KEYS = "courseware.hr_course_keys"


def prepare_workers(app: Flask, published: Catalogue) -> None:
    """Before gunicorn forks its workers: keep the course keys of the catalogue the master
    has built, so that no worker's first HR page reads them (``keys``); and have the
    learner table's statements compiled (``learner_table.compile_statements``). A database
    that cannot answer leaves the statements to the first page."""
    with app.app_context():
        app.extensions[COURSE_KEYS] = {published.version: course_keys(published, policy())}
        sessions = database().sessions
        try:
            with sessions() as session:
                compile_statements(session, moment())
                cohort_choices(session, Scope())
                session.rollback()
        except SQLAlchemyError:
            current_app.logger.warning("HR statements not compiled before the fork", exc_info=True)
        finally:
            database().engine.dispose()


def after_response(task: Recount) -> None:
    """Run ``task`` with a session of its own once this response has been sent (a recount
    nobody waits for); a failure is logged, the page was already served."""
    sessions, logger = database().sessions, current_app.logger  # no app context by then

    @after_this_request
    def schedule(response: Response) -> Response:
        def run() -> None:
            try:
                with sessions() as session:
                    task(session, utcnow())
            except Exception:  # after the response there is no one to tell but the log
                logger.exception("HR recount after the response failed")

        response.call_on_close(run)
        return response


COHORTS_ON_DASHBOARD = 5
COHORTS_PER_PAGE = 25


@bp.get("", endpoint="dashboard")
@roles_required(*READERS)
def dashboard_page():
    at = moment()
    data = dashboard(db_session(), at, scope(), keys(), funnel_cache(), after_response)
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
        # Translated once for the page, not once a row (a gettext call costs a context lookup).
        column_labels=[label(title) for _key, title in LEARNER_COLUMNS],
        status_texts={s: label(text) for s, text in compliance.STATUS_LABELS.items()},
        branches=branches,
        cohorts=cohorts,
        statuses=compliance.STATUSES,
        status_labels=compliance.STATUS_LABELS,
        per_page_choices=PER_PAGE_CHOICES,
        sorts=SORTS,
        scope=scope(),
        mail_configured=mail_configured(),
        can_remind=current_user.role in EDITORS,
        bulk_actions=bulk.ACTIONS,
        target_cohorts=cohort_choices(session, scope()),
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
    session = db_session()
    rows = list(iter_learners(session, moment(), scope(), query, keys()))
    _remind(session, rows)  # commits: the notices, then each batch of emails
    return redirect(url_for("hr.learners", **query.args()))


def _remind(session, rows: list) -> notices.Outcome:
    """Remind ``rows`` in the app and by email (``reporting.remind``: it commits the notices
    before the emails go out, and their outcomes after); say how it went."""
    outcome = remind(session, rows)
    flash(
        _(
            "Reminders: %(notices)s learners told in the app. Already reminded today: "
            "%(already)s. Not needed: %(unneeded)s.",
            notices=outcome.notices,
            already=outcome.already,
            unneeded=outcome.not_needed,
        ),
        "success",
    )
    if not mail_configured():
        flash(_("Email is not configured, so the reminders are in the app only."), "info")
    elif outcome.error:
        flash(_("The mail server could not be reached: %(error)s", error=outcome.error), "error")
    else:
        flash(
            _(
                "Emails sent: %(sent)s. Failed: %(failed)s. No email address: %(missing)s.",
                sent=outcome.emailed,
                failed=outcome.email_failed,
                missing=outcome.no_address,
            ),
            "error" if outcome.email_failed else "success",
        )
    return outcome


@bp.post("/learners/bulk")
@roles_required(*READERS)
def bulk_action():
    """Act on the ticked learners or all the filter matches: confirm the count, then act.

    Long because it checks each part of the request (action, learners, cohort, mail) in
    turn with its own message before anything is changed.
    """
    selection = bulk.Selection.from_form(request.form)
    action = request.form.get("action", "")
    back = url_for("hr.learners", **selection.query.args())
    if action not in bulk.ACTIONS:
        flash(_("Choose what to do with the learners."), "error")
        return redirect(back)
    session = db_session()
    rows = selection.rows(session, moment(), scope(), keys())
    if selection.outside(rows):
        abort(403)  # an id the reader may not act on (another branch, not a learner)
    if not rows:
        flash(_("No learners are selected: tick some rows or choose all that match."), "error")
        return redirect(back)
    cohort = None
    if action == "enrol":
        target = request.form.get("target_cohort", "")
        try:
            cohort = bulk.cohort_for(session, scope(), int(target) if target.isdigit() else None)
        except bulk.BulkError as exc:
            flash(_(exc.message, **exc.params), "error")
            return redirect(back)
    change = None
    if action in ("due_set", "due_move"):
        try:
            change = bulk.due_value(action, request.form.get("due_" + action[4:], ""))
        except bulk.BulkError as exc:
            flash(_(exc.message, **exc.params), "error")
            return redirect(back)
    if request.form.get("confirmed") != str(len(rows)):  # not confirmed, or the count moved
        return render_template(
            "hr/bulk_confirm.html",
            count=len(rows),
            action=action,
            action_label=bulk.ACTIONS[action],
            cohort=cohort,
            change=change,
            unassigned=sum(1 for r in rows if r.cohort_id is None),
            selection=selection,
            scope=scope(),
        )
    if change is not None:
        changed, skipped = bulk.set_due_dates(session, rows, change, current_user.id)
        details: dict[str, object] = {"change": str(change), "changed": changed, "skipped": skipped}
        flash(
            _(
                "Due dates changed: %(changed)s. In no cohort, so skipped: %(skipped)s.",
                changed=changed,
                skipped=skipped,
            ),
            "success",
        )
    elif action == "remind":
        outcome = _remind(session, rows)  # committed; the bulk record below is a new one
        details = {
            "notices": outcome.notices,
            "emailed": outcome.emailed,
            "already": outcome.already,
        }
    else:
        assert cohort is not None
        try:
            moved = bulk.enrol(session, cohort, rows, current_user.id)
        except bulk.BulkError as exc:
            session.rollback()
            flash(_(exc.message, **exc.params), "error")
            return redirect(back)
        details = {"cohort": cohort.name, "moved": moved}
        flash(
            _("%(n)s learners joined %(name)s.", n=moved, name=cohort.name),
            "success",
        )
    bulk.record_bulk(session, current_user.id, action, selection, len(rows), **details)
    session.commit()
    return redirect(back)


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
