"""What /healthz tells a load balancer or a monitor: whether the site can serve and save,
and if not, the cause as a short code.

``{"status": "ok" | "fail", "checks": {"database": ..., "schema": ..., "storage": ...}}``
with these codes, "ok" where all is well:

- database: ``unreachable`` (no answer), ``read_only`` (the session may not write: a
  database set read-only, a standby), ``disk_full``, ``corrupt`` (the SQLite file);
- schema: ``not_at_head`` (the database is not at this version's migration head),
  ``unknown`` (the database did not answer);
- storage: ``disk_full`` or ``read_only`` for the SQLite database's folder or the instance
  folder (one statvfs each), or for a fault a request of this process met in the last
  minute with no successful write since (PostgreSQL's disk is not visible from here).

Anyone may ask, so the answer holds codes only: no paths, addresses, revision ids or error
texts (the operator's log line and ``courseware check`` have those). Each call costs two
short queries and two statvfs calls: nothing is scanned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from courseware.core import revisions
from courseware.web.common.database import db_session
from courseware.web.common.errors import (
    CORRUPT,
    DISK_FULL,
    READ_ONLY,
    StorageFault,
    folder_fault,
    forget_storage_fault,
    recent_storage_fault,
    sqlite_folder,
    storage_fault,
)

OK = "ok"
CODES = {DISK_FULL: "disk_full", READ_ONLY: "read_only", CORRUPT: "corrupt"}
_WROTE = "courseware.health.wrote"


def _code(fault: StorageFault | None) -> str:
    return CODES[fault] if fault is not None else OK


def checks() -> dict[str, str]:
    """The checks of /healthz for the current app, each "ok" or a cause's code."""
    url = current_app.config.get("DATABASE_URL")
    found = {"database": OK, "schema": OK, "storage": OK}
    try:
        connection = db_session().connection()
        if connection.dialect.name == "postgresql":
            read_only = connection.scalar(text("SELECT current_setting('transaction_read_only')"))
            if read_only == "on":
                found["database"] = "read_only"
        else:
            connection.execute(text("SELECT 1"))
        current = revisions.current(connection)
        if current != revisions.head():  # read once per process
            found["schema"] = "not_at_head"
    except SQLAlchemyError as exc:
        fault = storage_fault(exc, url)
        found["database"] = _code(fault) if fault is not None else "unreachable"
        found["schema"] = "unknown"
    for folder in (sqlite_folder(url), Path(current_app.instance_path)):
        if found["storage"] == OK:
            found["storage"] = _code(folder_fault(folder))
    if found["storage"] == OK:
        found["storage"] = _code(recent_storage_fault())
    return found


def init_app(app: Flask) -> None:
    """A write that is committed clears the storage fault a request met before: the
    fault is gone."""
    sessions = app.extensions["courseware.core.db"].sessions

    @event.listens_for(sessions, "after_flush")
    def _wrote(session: Session, _context: Any) -> None:
        session.info[_WROTE] = True

    @event.listens_for(sessions, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop(_WROTE, False):
            forget_storage_fault(app)

    @event.listens_for(sessions, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(_WROTE, None)
