"""Account administration: create, edit roles, deactivate, reset passwords."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from courseware.accounts import privacy, throttle
from courseware.accounts import users as accounts
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.models import User
from courseware.web.common.access import roles_required
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.forms import AccountForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@dataclass(frozen=True)
class AccountQuery:
    """The accounts list's search and page, as its links carry them."""

    q: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AccountQuery:
        page = args.get("page", "")
        return cls((args.get("q") or "").strip()[:64], int(page) if page.isdigit() else 1)

    def args(self, page: int | None = None) -> dict[str, str | int]:
        found: dict[str, str | int] = {"q": self.q, "page": self.page if page is None else page}
        return {k: v for k, v in found.items() if v not in ("", 1)}


@bp.get("/")
@roles_required("admin")
def users():
    query = AccountQuery.from_args(request.args)
    found = accounts.page_of_users(db_session(), query.q, query.page)
    return render_template(
        "admin/users.html",
        users=found.users,
        found=found,
        query=replace(query, page=found.page),
        q=query.q,
        content_errors=catalogue().errors,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    form = AccountForm()
    if form.validate_on_submit():
        session = db_session()
        password = form.password.data or ""
        try:
            if not password:
                raise accounts.AccountError("password", N_("Give a first password."))
            user = accounts.create_user(
                session,
                accounts.NewAccount(
                    username=form.username.data.strip(),
                    display_name=form.display_name.data,
                    role=form.role.data,
                    employee_id=form.employee_id.data or "",
                    branch=form.branch.data or "",
                ),
                password,
                actor_id=current_user.id,
                must_change_password=True,
            )
        except accounts.AccountError as exc:
            getattr(form, exc.field).errors.append(_(exc.message))
        else:
            session.commit()
            flash(
                _(
                    "Account %(name)s created. It must choose a new password at first sign-in.",
                    name=user.username,
                ),
                "success",
            )
            return redirect(url_for("admin.users"))
    status = 400 if form.errors else 200
    return render_template("admin/user_form.html", form=form, user=None), status


def _user_or_404(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = AccountForm(obj=user)
    del form.password
    del form.username
    if form.validate_on_submit():
        session = db_session()
        try:
            accounts.update_account(
                session,
                user,
                current_user.id,
                role=form.role.data,
                display_name=form.display_name.data,
                employee_id=form.employee_id.data or "",
                branch=form.branch.data or "",
                active=bool(form.active.data),
            )
        except accounts.AccountError as exc:
            getattr(form, exc.field).errors.append(_(exc.message))
        else:
            session.commit()
            flash(_("Account %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.errors else 200
    lock = throttle.lock_of(db_session(), user.username, utcnow())
    page = render_template("admin/user_form.html", form=form, user=user, lock=lock)
    return page, status


@bp.post("/users/<int:user_id>/unlock")
@roles_required("admin")
def unlock(user_id: int):
    """Lift the lock set by too many failed sign-ins (audited)."""
    user = _user_or_404(user_id)
    session = db_session()
    if throttle.unlock(session, user, current_user.id, utcnow()):
        session.commit()
        flash(
            _("Account %(name)s is unlocked: it can sign in again.", name=user.username), "success"
        )
    else:
        flash(_("Account %(name)s was not locked.", name=user.username), "info")
    return redirect(url_for("admin.edit_user", user_id=user_id))


@bp.post("/users/<int:user_id>/anonymise")
@roles_required("admin")
def anonymise(user_id: int):
    """Replace a departed person's personal data; their training records stay."""
    user = _user_or_404(user_id)
    session = db_session()
    confirm = (request.form.get("confirm") or "").strip()
    try:
        if confirm != user.username:
            raise accounts.AccountError("confirm", N_("Type the user name exactly to confirm."))
        privacy.anonymise(session, user, current_user.id, request.form.get("reason", ""))
    except accounts.AccountError as exc:
        session.rollback()
        flash(_(exc.message), "error")
        return redirect(url_for("admin.edit_user", user_id=user_id))
    session.commit()
    flash(
        _(
            "The account is anonymised. Its training records are kept under %(name)s.",
            name=user.display_name,
        ),
        "success",
    )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset-password")
@roles_required("admin")
def reset_password(user_id: int):
    user = _user_or_404(user_id)
    session = db_session()
    temporary = accounts.reset_password(session, user, current_user.id)
    session.commit()
    return render_template("admin/password_reset.html", user=user, temporary=temporary)
