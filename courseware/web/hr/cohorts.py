"""Cohorts: HR creates them, sets and changes due dates, assigns and removes learners.

Managers see their branch's cohorts read-only; every change is audited.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from courseware.core.errors import N_
from courseware.core.models import Cohort, User
from courseware.hr import cohorts
from courseware.web.common.access import EDITORS, READERS, roles_required
from courseware.web.common.database import db_session
from courseware.web.common.reporting import scope

bp = Blueprint("hr_cohorts", __name__, url_prefix="/hr/cohorts")


class CohortForm(FlaskForm):
    name = StringField(_l("Cohort name"), validators=[DataRequired(), Length(max=100)])
    branch = StringField(_l("Branch (empty: any branch)"), validators=[Optional(), Length(max=64)])
    due_date = DateField(_l("Due date"), validators=[DataRequired()])
    reason = StringField(_l("Reason for a change (kept in the audit log)"), [Length(max=500)])


class MembersForm(FlaskForm):
    learners = TextAreaField(
        _l("User names or employee ids, one per line or separated by commas"),
        validators=[DataRequired(), Length(max=20000)],
    )


def _cohort_or_404(cohort_id: int) -> Cohort:
    cohort = db_session().get(Cohort, cohort_id)
    visible = scope()
    if cohort is None or visible.nobody:
        abort(404)
    if visible.branch is not None and cohort.branch != visible.branch:
        abort(404)
    return cohort


def _apply_error(form: FlaskForm, exc: cohorts.CohortError) -> None:
    target = getattr(form, exc.field, None) or next(iter(form))
    target.errors = [*target.errors, _(exc.message, **exc.params)]


@bp.route("", methods=["GET", "POST"])
@roles_required(*READERS)
def index():
    if request.method == "POST" and current_user.role not in EDITORS:
        abort(403)
    form = CohortForm()
    del form.reason
    session = db_session()
    if form.validate_on_submit():
        try:
            cohort = cohorts.create_cohort(
                session, form.name.data, form.branch.data or "", form.due_date.data, current_user.id
            )
        except cohorts.CohortError as exc:
            session.rollback()
            _apply_error(form, exc)
        else:
            session.commit()
            flash(_("Cohort %(name)s created.", name=cohort.name), "success")
            return redirect(url_for("hr_cohorts.show", cohort_id=cohort.id))
    status = 400 if form.errors else 200
    return render_template(
        "hr/cohorts.html",
        cohorts=cohorts.list_cohorts(session, scope()),
        form=form,
        scope=scope(),
        can_edit=current_user.role in EDITORS,
    ), status


def _show(cohort: Cohort, form: CohortForm, members_form: MembersForm, status: int = 200):
    return render_template(
        "hr/cohort.html",
        cohort=cohort,
        members=cohorts.members(db_session(), cohort),
        form=form,
        members_form=members_form,
        scope=scope(),
        can_edit=current_user.role in EDITORS,
    ), status


@bp.route("/<int:cohort_id>", methods=["GET", "POST"])
@roles_required(*READERS)
def show(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    if request.method == "POST" and current_user.role not in EDITORS:
        abort(403)
    form = CohortForm(obj=cohort)
    if form.validate_on_submit():
        session = db_session()
        try:
            cohorts.update_cohort(
                session,
                cohort,
                current_user.id,
                name=form.name.data,
                branch=form.branch.data or "",
                due_date=form.due_date.data,
                reason=form.reason.data or "",
            )
        except cohorts.CohortError as exc:
            session.rollback()
            _apply_error(form, exc)
        else:
            session.commit()
            flash(_("Cohort %(name)s saved.", name=cohort.name), "success")
            return redirect(url_for("hr_cohorts.show", cohort_id=cohort.id))
    return _show(cohort, form, MembersForm(), 400 if form.errors else 200)


@bp.post("/<int:cohort_id>/members")
@roles_required(*EDITORS)
def add_members(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    form = MembersForm()
    if form.validate_on_submit():
        session = db_session()
        wanted = form.learners.data.replace(",", "\n").splitlines()
        learners, unknown = cohorts.find_learners(session, wanted)
        try:
            if unknown:
                raise cohorts.CohortError(
                    "learners",
                    N_("No learner has the user name or employee id %(names)s."),
                    {"names": ", ".join(unknown[:20])},
                )
            moved = cohorts.assign(session, cohort, learners, current_user.id)
        except cohorts.CohortError as exc:
            session.rollback()
            _apply_error(form, exc)
        else:
            session.commit()
            flash(_("%(n)s learners joined %(name)s.", n=moved, name=cohort.name), "success")
            return redirect(url_for("hr_cohorts.show", cohort_id=cohort.id))
    return _show(cohort, CohortForm(obj=cohort), form, 400)


@bp.post("/<int:cohort_id>/members/<int:user_id>/remove")
@roles_required(*EDITORS)
def remove_member(cohort_id: int, user_id: int):
    cohort = _cohort_or_404(cohort_id)
    session = db_session()
    user = session.get(User, user_id)
    current = cohorts.current_memberships(session, [user_id]).get(user_id)
    if user is None or current is None or current.id != cohort.id:
        abort(404)
    cohorts.remove(session, user, current_user.id)
    session.commit()
    flash(_("%(name)s left the cohort; the history keeps the membership.", name=user.display_name))
    return redirect(url_for("hr_cohorts.show", cohort_id=cohort.id))
