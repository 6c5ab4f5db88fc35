"""One structured log line per request, with a request id a user can quote.

The line carries the request id, the user id, the route, the status and the
duration; never a body, a cookie, a password or a token.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from flask import Flask, Response, g, request
from flask_login import current_user

from courseware.web.common.errors import request_id

log = logging.getLogger("courseware.request")


class JsonFormatter(logging.Formatter):
    """Log records as one JSON object a line (what log collectors expect)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            data.update(extra)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send courseware's logs to stderr as JSON lines, once per process."""
    root = logging.getLogger("courseware")
    if any(getattr(h, "_courseware", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._courseware = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())


# Endpoints whose URL carries a secret (a password-reset or calendar token): their lines
# log the route's rule instead of the path.
SECRET_PATHS: set[str] = set()


def secret_path(endpoint: str) -> None:
    """Keep the path of ``endpoint``'s requests out of the log (it holds a token)."""
    SECRET_PATHS.add(endpoint)


def write_line(
    method: str,
    path: str,
    status: int,
    *,
    request_id: str,
    user_id: int | None,
    route: str | None,
    duration_ms: float | None,
) -> None:
    """The request's log line (also written by pages served outside Flask's hooks)."""
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(
        "%s %s %s",
        method,
        path,
        status,
        extra={
            "fields": {
                "request_id": request_id,
                "user_id": user_id,
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
            }
        },
    )


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    try:
        user_id = current_user.id if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - the user store may be the thing that failed
        user_id = None
    response.headers.setdefault("X-Request-ID", request_id())
    path = request.path
    if request.endpoint in SECRET_PATHS and request.url_rule is not None:
        path = request.url_rule.rule
    write_line(
        request.method,
        path,
        response.status_code,
        request_id=request_id(),
        user_id=user_id,
        route=request.url_rule.rule if request.url_rule else None,
        duration_ms=duration_ms,
    )
    return response


def init_app(app: Flask) -> None:
    configure_logging(app.config.get("LOG_LEVEL") or "INFO")
    app.before_request(_start)
    app.after_request(_finish)
