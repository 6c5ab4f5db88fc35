"""Calm error pages in the site's style; database and storage trouble answers 503.

Storage faults (a full disk, a read-only disk, a damaged database file) are told apart
from a database that does not answer: the user reads what happened in their language,
the operator gets one log line naming the cause. All answer 503: the fault is the
server's, and the same request succeeds once it is fixed, without a restart.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.engine import make_url
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


DISK_FULL_MESSAGE = N_(
    "The server's disk is full, so this was not saved. What was saved before is safe. "
    "Try again later, and tell the administrator if this lasts."
)
READ_ONLY_MESSAGE = N_(
    "The server cannot write to its storage just now, so this was not saved. What was "
    "saved before is safe. Try again later, and tell the administrator if this lasts."
)
CORRUPT_MESSAGE = N_(
    "The site's database file is damaged, so pages cannot be served. Tell the "
    "administrator: it must be restored from a backup."
)


@dataclass(frozen=True)
class StorageFault:
    """What went wrong with the server's storage: ``cause`` for the operator's log line
    (English), ``message`` (a message id) for the user."""

    cause: str
    message: str


DISK_FULL = StorageFault("disk full", DISK_FULL_MESSAGE)
READ_ONLY = StorageFault("storage read-only", READ_ONLY_MESSAGE)
CORRUPT = StorageFault("database file corrupt", CORRUPT_MESSAGE)

_SQLITE_FAULTS = {
    sqlite3.SQLITE_FULL: DISK_FULL,
    sqlite3.SQLITE_READONLY: READ_ONLY,
    sqlite3.SQLITE_CORRUPT: CORRUPT,
    sqlite3.SQLITE_NOTADB: CORRUPT,
}
_POSTGRESQL_FAULTS = {
    "53100": DISK_FULL,  # disk_full
    "25006": READ_ONLY,  # read_only_sql_transaction
    "XX001": CORRUPT,  # data_corrupted
    "XX002": CORRUPT,  # index_corrupted
}
FULL_BELOW_BYTES = 64 * 1024  # less room than this counts as a full disk
_OS_FAULTS = {errno.ENOSPC: DISK_FULL, errno.EDQUOT: DISK_FULL, errno.EROFS: READ_ONLY}


def sqlite_folder(database_url: str | None) -> Path | None:
    """The folder of a SQLite database file; None for PostgreSQL."""
    if not database_url or not database_url.startswith("sqlite"):
        return None
    return Path(make_url(database_url).database or ".").parent


def folder_fault(folder: Path | None) -> StorageFault | None:
    """DISK_FULL or READ_ONLY when the filesystem of ``folder`` cannot take a write now
    (one statvfs call); None when it can, or the folder is gone (then the database is
    unavailable, not full or read-only)."""
    if folder is None:
        return None
    try:
        found = os.statvfs(folder)
    except OSError:
        return None
    if found.f_flag & os.ST_RDONLY:
        return READ_ONLY
    if found.f_bavail * found.f_frsize < FULL_BELOW_BYTES:
        return DISK_FULL
    return None


def storage_fault(exc: BaseException, database_url: str | None = None) -> StorageFault | None:
    """The storage fault behind ``exc`` (a database error or a file write), if any.

    ``database_url`` tells a WAL database that cannot open its files on a read-only folder
    (SQLite says only "unable to open") from one whose folder is gone.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if isinstance(code, int) and (code & 0xFF) in _SQLITE_FAULTS:
                return _SQLITE_FAULTS[code & 0xFF]
            folder = folder_fault(sqlite_folder(database_url))
            if code == sqlite3.SQLITE_CANTOPEN and folder is READ_ONLY:
                return READ_ONLY
            # A write that fails on a full disk may come back as a plain I/O error (the
            # journal or the shared-memory file could not grow): the folder tells.
            if (
                isinstance(code, int)
                and (code & 0xFF) == sqlite3.SQLITE_IOERR
                and folder is not None
            ):
                return folder
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate in _POSTGRESQL_FAULTS:
            return _POSTGRESQL_FAULTS[sqlstate]
        if isinstance(current, OSError) and current.errno in _OS_FAULTS:
            return _OS_FAULTS[current.errno]
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def _sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE behind ``exc``, if the error came from the server."""
    found = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
    return found if isinstance(found, str) else None


FAULT_MEMORY_SECONDS = 60.0
_RECENT_FAULT = "courseware.recent_storage_fault"


def recent_storage_fault() -> StorageFault | None:
    """The storage fault a request of this process met in the last minute, unless a write
    has succeeded since (``forget_storage_fault``): what /healthz reports of faults it
    cannot see for itself, such as PostgreSQL's full disk."""
    found = current_app.extensions.get(_RECENT_FAULT)
    if found is None or time.monotonic() - found[1] > FAULT_MEMORY_SECONDS:
        return None
    return found[0]


def forget_storage_fault(app: Flask) -> None:
    app.extensions.pop(_RECENT_FAULT, None)


def _storage_fault_response(fault: StorageFault, exc: BaseException):
    current_app.extensions[_RECENT_FAULT] = (fault, time.monotonic())
    sqlstate = _sqlstate(exc)
    log.error(
        "storage fault: %s (%s%s: %s) [request %s]",
        fault.cause,
        f"SQLSTATE {sqlstate}, " if sqlstate else "",
        type(exc).__name__,
        (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0][:200],
        request_id(),
    )
    _rollback()
    return render_error(503, _(fault.message))


def request_id() -> str:
    if "request_id" not in g:
        g.request_id = choose_request_id(request.headers.get("X-Request-ID", ""))
    return g.request_id


def choose_request_id(incoming: str) -> str:
    """The caller's X-Request-ID when it is a plain short id, else a new one."""
    ok = incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum()
    return incoming if ok else secrets.token_hex(8)


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
        fault = storage_fault(exc, current_app.config.get("DATABASE_URL"))
        if fault is not None:
            return _storage_fault_response(fault, exc)
        log.error("database unavailable: %s [request %s]", type(exc).__name__, request_id())
        _rollback()
        return render_error(503, _(DATABASE_DOWN))

    @app.errorhandler(OSError)
    def _file_write(exc: OSError):
        fault = storage_fault(exc, current_app.config.get("DATABASE_URL"))
        if fault is not None:
            return _storage_fault_response(fault, exc)
        return _unexpected(exc)

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
