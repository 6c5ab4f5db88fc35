"""Request guards and response headers that apply to every page."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from courseware.web.common.access import PUBLIC_ENDPOINTS
from courseware.web.common.errors import DATABASE_DOWN, render_error, request_id

log = logging.getLogger("courseware.errors")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Answers to a page's script: signed out (or the account disabled), they answer 401 in JSON,
# not a redirect to the sign-in page (the device keeps what it was sending).
JSON_ENDPOINTS = {"offline.sync", "offline.package"}
# Pages a user who must change their password may still open.
PASSWORD_CHANGE_ENDPOINTS = {"auth.account", "auth.logout", "static", "main.set_language"}


def safe_next(target: str | None, fallback: str = "/") -> str:
    """A redirect target on this site only: a path, never another host or scheme."""
    if not target:
        return fallback
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if any(ord(ch) < 32 for ch in target):
        return fallback
    return target


def _guard() -> BaseResponse | None:
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if g.get("database_unavailable"):
            log.error("database unavailable while loading the user [request %s]", request_id())
            return render_error(503, _(DATABASE_DOWN))
        if request.endpoint is None:
            return None  # a 404 shows as a 404, not as a sign-in page
        if endpoint in JSON_ENDPOINTS:
            answer = jsonify(error="signed_out")
            answer.status_code = 401
            return answer
        nxt = request.full_path if request.method == "GET" else request.path
        return redirect(url_for("auth.login", next=nxt.rstrip("?")))
    idle = int(current_app.config.get("SESSION_IDLE_MINUTES") or 0) * 60
    now = int(time.time())
    seen = session.get("seen")
    if idle and isinstance(seen, int) and now - seen > idle:
        logout_user()
        session.clear()
        flash(_("You were signed out after a period of inactivity."), "info")
        return redirect(url_for("auth.login", next=request.path))
    if seen is None or now - int(seen) > 30:
        session["seen"] = now
    if current_user.must_change_password and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        flash(_("Please choose a new password before you continue."), "info")
        return redirect(url_for("auth.account"))
    return None


# Every answer's headers (the lesson page's fast path sends the same).
PAGE_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def _headers(response: Response) -> Response:
    headers = response.headers
    for name, value in PAGE_HEADERS:
        headers.setdefault(name, value)
    if current_app.config.get("HTTPS"):
        headers.setdefault(*HSTS)
    if current_user.is_authenticated and "Cache-Control" not in headers:
        headers["Cache-Control"] = "private, no-store"
    return response


def init_app(app: Flask) -> None:
    app.before_request(_guard)
    app.after_request(_headers)
