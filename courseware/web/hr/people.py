"""Staff acts on one learner's certification: exemptions, resets, manual issue, revocation.

Each act needs a written reason and is audited (courseware.certification).
"""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from courseware import certification
from courseware.core.clock import utcnow
from courseware.core.models import CaseDecision, Certificate, QuizAttempt, User
from courseware.web.common.access import STAFF, roles_required
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.policy import policy

T = TypeVar("T", Certificate, QuizAttempt, CaseDecision)

bp = Blueprint("people", __name__, url_prefix="/people")


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (kept in the audit log)"), validators=[DataRequired(), Length(min=5, max=1000)]
    )
    requirement = HiddenField()


def _learner_or_404(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _page(user: User, form: ReasonForm | None = None, status: int = 200, action: str = ""):
    session = db_session()
    standing = certification.learner_standing(session, user.id, catalogue(), policy(), utcnow())
    attempts = session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == user.id, QuizAttempt.status != "open")
        .order_by(QuizAttempt.submitted_at.desc())
    ).all()
    decisions = session.scalars(
        select(CaseDecision)
        .where(CaseDecision.user_id == user.id)
        .order_by(CaseDecision.decided_at.desc())
    ).all()
    return render_template(
        "hr/people/certification.html",
        learner=user,
        standing=standing,
        attempts=attempts,
        decisions=decisions,
        modules={m.slug: m for m in catalogue().modules},
        grounds=certification.grounds_of(session, standing.history),
        module_titles={m.slug: m.title for m in catalogue().modules},
        case_titles={slug: getattr(c, "title", slug) for slug, c in catalogue().cases.items()},
        cases=catalogue().cases,
        form=form or ReasonForm(),
        failed_action=action,
        can_revoke=current_user.role in ("hr", "admin"),
        revocable_states=[
            s for s in certification.CERTIFICATE_STATES if certification.revocable(s)
        ],
    ), status


@bp.get("/<int:user_id>/certification")
@roles_required(*STAFF)
def certification_page(user_id: int):
    return _page(_learner_or_404(user_id))


def _act(user: User, action: str, run) -> object:
    form = ReasonForm()
    if not form.validate_on_submit():
        return _page(user, form, 400, action)
    session = db_session()
    try:
        run(form.reason.data, form)
    except certification.CertificationError as exc:
        form.reason.errors.append(_(exc.message))
        session.rollback()
        return _page(user, form, 400, action)
    session.commit()
    flash(_("Done. The act and its reason are in the audit log."), "success")
    return redirect(url_for("people.certification_page", user_id=user.id))


@bp.post("/<int:user_id>/exemptions")
@roles_required(*STAFF)
def exempt(user_id: int):
    user = _learner_or_404(user_id)

    def run(reason: str, form: ReasonForm) -> None:
        certification.grant_exemption(
            db_session(), user, form.requirement.data or "", current_user.id, reason,
            catalogue(), policy(),
        )  # fmt: skip
        certification.check_and_issue(db_session(), user.id, catalogue(), policy())

    return _act(user, "exempt", run)


@bp.post("/<int:user_id>/certificates")
@roles_required(*STAFF)
def issue(user_id: int):
    user = _learner_or_404(user_id)

    def run(reason: str, _form: ReasonForm) -> None:
        certification.issue_by_hand(
            db_session(), user, current_user.id, reason, catalogue(), policy()
        )

    return _act(user, "issue", run)


def _owned_or_404(model: type[T], object_id: int, user: User) -> T:
    """The learner's own certificate, attempt or decision; another's answers 404."""
    found = db_session().get(model, object_id)
    if found is None or found.user_id != user.id:
        abort(404)
    return found


@bp.post("/<int:user_id>/certificates/<int:certificate_id>/revoke")
@roles_required("hr", "admin")
def revoke(user_id: int, certificate_id: int):
    user = _learner_or_404(user_id)
    certificate = _owned_or_404(Certificate, certificate_id, user)
    held = db_session().scalars(select(Certificate).where(Certificate.user_id == user.id))
    state = certification.certificate_states(list(held), policy(), utcnow())[certificate.id]
    if not certification.revocable(state):
        flash(_("Only a valid or expiring current certificate can be revoked."), "error")
        return _page(user, status=400)

    def run(reason: str, _form: ReasonForm) -> None:
        certification.revoke(db_session(), certificate, current_user.id, reason)

    return _act(user, f"revoke-{certificate_id}", run)


@bp.post("/<int:user_id>/quiz-attempts/<int:attempt_id>/reset")
@roles_required(*STAFF)
def reset_attempt(user_id: int, attempt_id: int):
    user = _learner_or_404(user_id)
    attempt = _owned_or_404(QuizAttempt, attempt_id, user)
    return _act(
        user,
        f"attempt-{attempt_id}",
        lambda reason, _form: certification.reset_quiz_attempt(
            db_session(), attempt, current_user.id, reason
        ),
    )


@bp.post("/<int:user_id>/case-decisions/<int:decision_id>/reset")
@roles_required(*STAFF)
def reset_decision(user_id: int, decision_id: int):
    user = _learner_or_404(user_id)
    decision = _owned_or_404(CaseDecision, decision_id, user)
    return _act(
        user,
        f"decision-{decision_id}",
        lambda reason, _form: certification.reset_case_decision(
            db_session(), decision, current_user.id, reason
        ),
    )
