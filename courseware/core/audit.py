"""The append-only audit trail: who did what, when, with before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from courseware.core.clock import utcnow
from courseware.core.models import AuditEvent


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    target_type: str = "",
    target_id: Any = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=before,
        after=after,
        reason=reason,
    )
    session.add(event)
    return event
