"""Figures HR counts once and every worker reads: named rows of ``hr_snapshots``.

A worker that starts afresh (a deploy, a restart, a new gunicorn worker) finds what any
worker counted last instead of counting again: the module funnel of each reader scope
(``courseware.hr.reports.FunnelCache``) and the course keys of the published content
version (``courseware.web.hr.dashboard``). Each snapshot carries its ``version`` (what it
was counted over: a snapshot of another version is never used) and ``counted_at`` (shown
beside its figures).

Snapshots are written on a connection of their own, outside the request's transaction, so
a read-only page stays read-only; a snapshot that cannot be written (a lock held too long,
two workers writing at once) is simply not shared.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from courseware.core.db import WRITE_OPTION
from courseware.core.models import HrSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    version: str
    counted_at: datetime
    body: dict[str, Any]


def digest(value: object) -> str:
    """A short stable fingerprint of a JSON-able value (names and versions of snapshots)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read_snapshot(session: Session, name: str, version: str) -> Snapshot | None:
    """The snapshot ``name`` when it was counted over ``version``; else None."""
    found = session.execute(
        select(HrSnapshot.version, HrSnapshot.counted_at, HrSnapshot.body).where(
            HrSnapshot.name == name
        )
    ).first()
    if found is None or found.version != version:
        return None
    return Snapshot(found.version, found.counted_at, found.body)


def write_snapshot(
    session: Session, name: str, version: str, counted_at: datetime, body: dict[str, Any]
) -> bool:
    """Replace the snapshot ``name`` on a connection of its own; False when it could not."""
    engine = session.get_bind()
    try:
        with engine.connect().execution_options(**{WRITE_OPTION: True}) as connection:
            transaction = connection.begin()
            connection.execute(delete(HrSnapshot).where(HrSnapshot.name == name))
            connection.execute(
                insert(HrSnapshot).values(
                    name=name, version=version, counted_at=counted_at, body=body
                )
            )
            transaction.commit()
    except SQLAlchemyError as exc:  # another worker wrote it first, or the lock wait ran out
        log.info("HR snapshot %s not shared: %s", name, exc.__class__.__name__)
        return False
    return True
