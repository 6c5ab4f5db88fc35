"""Public verification of a certificate by its code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from courseware.certification.issuing import normalise_code
from courseware.certification.policy import Policy
from courseware.certification.rules import certificate_state
from courseware.core.clock import utcnow
from courseware.core.models import Certificate, User


@dataclass(frozen=True)
class Verification:
    state: str  # certificate_state (valid | expiring | expired | replaced | revoked) | unknown
    holder: str = ""
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


# Looked up for a malformed code, so it costs the same query as an unknown one.
_NO_SUCH_CODE = "MLA-0000-0000-0000-0000"


def verify(
    session: Session, typed: str, policy: Policy, now: datetime | None = None
) -> Verification:
    code = normalise_code(typed) or _NO_SUCH_CODE
    row = session.execute(
        select(Certificate, User.display_name, newest_cycle())
        .join(User, User.id == Certificate.user_id)
        .where(Certificate.code == code)
    ).first()
    if row is None:
        return Verification("unknown")
    certificate, holder, newest = row
    state = certificate_state(certificate, policy, now or utcnow(), newest)
    return Verification(
        state, holder, certificate.issued_at, certificate.expires_at, certificate.revoked_at
    )


def newest_cycle() -> Any:
    """The holder's latest certificate cycle, as a column beside a selected ``Certificate``
    (whether a later certificate replaced it)."""
    other = aliased(Certificate)
    return (
        select(func.max(other.cycle)).where(other.user_id == Certificate.user_id).scalar_subquery()
    )
