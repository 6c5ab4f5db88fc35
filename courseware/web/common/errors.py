"""Calm error pages in the site's style; database trouble answers 503."""

from __future__ import annotations

import logging
import math
import secrets
import time

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from courseware.core.errors import N_
from courseware.web.common.extensions import limiter

log = logging.getLogger("courseware.errors")

# N_ marks each title for translation; render_error translates it.
TITLES = {
    400: N_("The request could not be processed"),
    401: N_("Please sign in"),
    403: N_("You do not have access to this page"),
    404: N_("Page not found"),
    405: N_("That action is not allowed here"),
    409: N_("This was changed meanwhile"),
    413: N_("The upload is too large"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("The service is briefly unavailable"),
}


DATABASE_DOWN = N_(
    "The database is not answering. Your work so far is saved; try again in a minute."
)


def request_id() -> str:
    if "request_id" not in g:
        incoming = request.headers.get("X-Request-ID", "")
        ok = incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum()
        g.request_id = incoming if ok else secrets.token_hex(8)
    return g.request_id


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(status: int, detail: str | None = None):
    rid = request_id()
    title = _(TITLES.get(status, TITLES[500]))
    if _wants_json():
        response = jsonify(error=title, detail=detail or "", request_id=rid)
    else:
        response = render_template(
            "common/errors/error.html", status=status, title=title, detail=detail, request_id=rid
        )
    return response, status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return render_error(
            400,
            _(
                "The form had expired or was not sent from this site. "
                "Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        detail = None
        if exc.code == 429:
            wait = _retry_after(exc)
            detail = _(
                "Too many attempts. Try again in %(minutes)s minutes.",
                minutes=max(1, math.ceil(wait / 60)),
            )
            response, status = render_error(exc.code, detail)
            response = make_response(response, status)
            response.headers["Retry-After"] = str(wait)
            return response
        return render_error(exc.code, detail)

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def _database(exc: Exception):
        log.error("database unavailable: %s [request %s]", type(exc).__name__, request_id())
        _rollback()
        return render_error(503, _(DATABASE_DOWN))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error [request %s]", request_id())
        _rollback()
        return render_error(500)


def _retry_after(exc: HTTPException) -> int:
    """Seconds until a 429's limit lets the client try again (at least 1)."""
    current = limiter.current_limit if isinstance(exc, RateLimitExceeded) else None
    if current is not None and current.breached:
        expiry = current.limit.get_expiry()
        return min(expiry, max(1, math.ceil(current.window.reset_time - time.time())))
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        return max(1, retry_after)
    return 60


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        try:
            session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone; the page still renders
            log.warning("rollback failed [request %s]", request_id())
