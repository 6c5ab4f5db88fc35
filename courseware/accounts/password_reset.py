"""Self-service password reset by email: a one-time, expiring link.

Only the SHA-256 of a token is stored. Asking for a link reveals nothing: the
caller answers the same whether or not the account exists or has an address.
Accounts carry no email address; a learner's contact address (set by HR or the
CSV import) is where the link goes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from courseware.accounts.users import AccountError, hash_password, password_problem
from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.models import LearnerContact, PasswordResetToken, User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ResetLink:
    user: User
    address: str
    token: str


def request_reset(
    session: Session, identifier: str, minutes: int, now: datetime | None = None
) -> ResetLink | None:
    """A fresh link for the active account named (user name or contact email), or None.

    Earlier unused links of that account stop working. The caller sends the email and
    answers the same either way.
    """
    now = now or utcnow()
    identifier = identifier.strip()[:254]
    if not identifier:
        return None
    found = session.execute(
        select(User, LearnerContact.email)
        .join(LearnerContact, LearnerContact.user_id == User.id)
        .where(
            User.active.is_(True),
            (func.lower(User.username) == identifier.lower())
            | (func.lower(LearnerContact.email) == identifier.lower()),
        )
        .limit(2)
    ).all()
    if len(found) != 1:
        return None
    user, address = found[0]
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    record(session, None, "account.password_reset_request", "user", user.id)
    return ResetLink(user, address, token)


def _live(session: Session, token: str, now: datetime) -> PasswordResetToken | None:
    if not token or len(token) > 100:
        return None
    row = session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _digest(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return row if user is not None and user.active else None


def link_user(session: Session, token: str, now: datetime | None = None) -> User | None:
    """The account a link may reset, or None when it is unknown, used or expired."""
    row = _live(session, token, now or utcnow())
    return session.get(User, row.user_id) if row else None


def reset_with_link(
    session: Session, token: str, new_password: str, now: datetime | None = None
) -> User:
    """Set the new password and spend the link; every open session of the account ends."""
    now = now or utcnow()
    row = _live(session, token, now)
    if row is None:
        raise AccountError(
            "new_password", N_("This link is not valid any more. Ask for a new one.")
        )
    user = session.get(User, row.user_id)
    if user is None:  # _live checked it; for the type checker
        raise AccountError(
            "new_password", N_("This link is not valid any more. Ask for a new one.")
        )
    if problem := password_problem(new_password, user.username):
        raise AccountError("new_password", problem)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.session_version += 1
    row.used_at = now
    record(session, user.id, "account.password_reset_by_email", "user", user.id)
    return user
