"""Sign-in, sign-out and the user's own account page."""

from __future__ import annotations

import json
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from courseware.accounts import password_reset, privacy, throttle
from courseware.accounts import users as accounts
from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.mail import Mailer, MailError, Message
from courseware.web.common import sso
from courseware.web.common.access import public
from courseware.web.common.database import db_session
from courseware.web.common.extensions import limiter
from courseware.web.common.forms import (
    ForgotPasswordForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
)
from courseware.web.common.navigation import home_url
from courseware.web.common.policy import policy
from courseware.web.common.requestlog import secret_path
from courseware.web.common.security import safe_next

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = N_("That user name and password do not match an active account.")
BREAK_GLASS_FAILED = N_(
    "Passwords are switched off here: only an administrator may sign in with one, while the "
    "institution's sign-in service is unavailable. That user name and password do not match "
    "an active administrator's account."
)


def _local_passwords() -> bool:
    """COURSEWARE_LOCAL_PASSWORDS: 0 switches password sign-in off, except administrators'
    (break-glass: the form at /login?local=1, for when the provider is down)."""
    return bool(current_app.config.get("LOCAL_PASSWORDS", True))


def _page(form: LoginForm, status: int = 200, **extra):
    local = _local_passwords()
    shown = local or request.args.get("local") == "1" or request.method == "POST"
    page = render_template(
        "common/auth/login.html",
        form=form,
        can_reset=_mail() and local,
        sso=sso.enabled(),
        show_password=shown,
        break_glass=not local,
        **extra,
    )
    return page, status


def _login_limit() -> str:
    """Failed sign-ins allowed per address: COURSEWARE_LOGIN_LIMIT, else settings.yaml."""
    return current_app.config.get("LOGIN_LIMIT") or policy().sign_in.address_limit()


def _failed(response) -> bool:
    # Only failed sign-ins count towards the address's limit: a user signing in normally
    # a few times a minute is never held back, and the answers to a locked account
    # (429, no password checked) do not use up what the rest of the branch may try.
    return response.status_code in (200, 400)


def _locked(form: LoginForm, lock: throttle.Lock, now) -> tuple[str, int, dict[str, str]]:
    minutes = lock.minutes_left(now)
    message = _(
        "Too many failed sign-ins for this user name: it is locked for %(minutes)s more "
        "minutes. Wait, or ask your administrator to unlock it.",
        minutes=minutes,
    )
    page, status = _page(form, 429, locked=message)
    return page, status, {"Retry-After": str(lock.seconds_left(now))}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), home_url(current_user.role)))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        session_db = db_session()
        name, now = form.username.data.strip(), utcnow()
        # A locked name is refused before its password is looked at, known or not.
        lock = throttle.lock_of(session_db, name, now)
        if lock is not None:
            return _locked(form, lock, now)
        user = accounts.authenticate(session_db, name, form.password.data)
        break_glass = not _local_passwords()
        if break_glass and user is not None and user.role != "admin":
            user = None  # refused like a wrong password: the answer tells nothing more
        if user is not None:
            if break_glass:
                record(session_db, user.id, "account.sign_in_break_glass", "user", user.id)
            throttle.forget(session_db, name)
            session_db.commit()
            language = session.get("lang")
            session.clear()  # a new session at sign-in; only the language choice carries over
            if language:
                session["lang"] = language
            login_user(user, remember=bool(form.remember.data))
            session.permanent = True
            session["seen"] = int(time.time())
            # A new form token with the new session, in the sign-in's own cookie: the first
            # page then rewrites no cookie, and the lesson page's fast path can answer it.
            g.pop("csrf_token", None)
            generate_csrf()
            target = safe_next(form.next.data, home_url(user.role))
            if user.must_change_password:
                target = url_for("auth.account")
            return redirect(target)
        throttle.record_failure(session_db, name, policy().sign_in, now)
        session_db.commit()
        flash(_(BREAK_GLASS_FAILED if break_glass else SIGN_IN_FAILED), "error")
        return _page(form)
    return _page(form, 400 if request.method == "POST" else 200)


# ------------------------------------------------------------ password reset by email

RESET_LIMIT = "5 per 15 minutes"


def _mail() -> bool:
    return bool(current_app.config.get("SMTP_URL"))


def _reset_key() -> str:
    name = (request.form.get("username") or "").strip().lower()[:254]
    return f"reset:{name}"


def _send_link(link: password_reset.ResetLink, minutes: int) -> None:
    url = url_for("auth.reset_password", token=link.token, _external=True)
    body = "\n\n".join(
        [
            _("Dear %(name)s,", name=link.user.display_name),
            _(
                "Someone (we hope you) asked to reset the password of the account "
                "%(username)s. Choose a new password here within %(minutes)s minutes:",
                username=link.user.username,
                minutes=minutes,
            ),
            url,
            _("If you did not ask for this, ignore this email: your password stays as it is."),
            _("Microloan Officer Academy"),
        ]
    )
    config = current_app.config
    with Mailer(config["SMTP_URL"], config.get("MAIL_FROM") or "academy@localhost") as mailer:
        mailer.send(Message(link.address, _("Reset your password"), body + "\n"))


@bp.route("/login/forgot", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT, methods=["POST"])
@limiter.limit(RESET_LIMIT, methods=["POST"], key_func=_reset_key)
def forgot_password():
    if not _mail() or not _local_passwords():
        abort(404)  # without mail, the sign-in page says to ask an administrator
    form = ForgotPasswordForm()
    minutes = policy().reminders.reset_link_minutes
    if form.validate_on_submit():
        session_db = db_session()
        link = password_reset.request_reset(session_db, form.username.data, minutes)
        session_db.commit()
        if link is not None:
            try:
                _send_link(link, minutes)
            except MailError:
                current_app.logger.exception("password reset email not sent")
        # The same answer whether or not the account exists: no enumeration.
        flash(
            _(
                "If that account has an email address here, a link to choose a new password "
                "is on its way. It works once, for %(minutes)s minutes.",
                minutes=minutes,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("common/auth/forgot.html", form=form), status


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
@limiter.limit(RESET_LIMIT, methods=["POST"])
def reset_password(token: str):
    session_db = db_session()
    user = password_reset.link_user(session_db, token)
    if user is None:
        return render_template("common/auth/reset.html", form=None), 404
    form = PasswordResetForm()
    if form.validate_on_submit():
        if form.new_password.data != form.confirm.data:
            form.confirm.errors.append(_("The two new passwords differ."))
        else:
            try:
                password_reset.reset_with_link(session_db, token, form.new_password.data)
            except accounts.AccountError as exc:
                form.new_password.errors.append(_(exc.message))
            else:
                session_db.commit()
                flash(_("Your password is changed. Sign in with it."), "success")
                return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("common/auth/reset.html", form=form, user=user), status


for _endpoint in ("auth.forgot_password", "auth.reset_password"):
    public(_endpoint)
secret_path("auth.reset_password")


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        session_db = db_session()
        user = session_db.merge(current_user._get_current_object())
        accounts.end_all_sessions(user)
        session_db.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    response = redirect(url_for("auth.login"))
    # The course saved for offline and the outbox are this user's: the device forgets them.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.get("/account/my-data.json")
def my_data():
    """The learner's own copy of everything the platform holds about them."""
    data = privacy.personal_data(db_session(), current_user._get_current_object())
    body = json.dumps(data, ensure_ascii=False, indent=2)
    filename = f"my-data-{current_user.username}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/account", methods=["GET", "POST"])
def account():
    form = PasswordChangeForm()
    # Passwords switched off: only an administrator (break-glass) keeps one to change.
    passwords = _local_passwords() or current_user.role == "admin"
    if request.method == "POST" and not passwords:
        abort(403)
    if form.validate_on_submit():
        session_db = db_session()
        user = session_db.merge(current_user._get_current_object())
        if form.new_password.data != form.confirm.data:
            form.confirm.errors.append(_("The two new passwords differ."))
        else:
            try:
                accounts.change_password(
                    session_db, user, form.current_password.data, form.new_password.data
                )
            except accounts.AccountError as exc:
                getattr(form, exc.field).errors.append(_(exc.message))
            else:
                session_db.commit()
                login_user(user)  # the cookie now carries the new session version
                flash(_("Your password is changed."), "success")
                return redirect(home_url(user.role))
    status = 400 if form.errors else 200
    return render_template("common/auth/account.html", form=form, passwords=passwords), status
