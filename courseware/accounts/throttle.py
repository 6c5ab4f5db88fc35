"""Failed sign-ins counted per account, and the lock they set.

Failures are counted per user name as typed (stripped, lower-cased), whether or not an
account has that name: a name without an account is counted and locked exactly like one
with, so the lock tells nobody which names exist. The counts live in the database, so every
worker sees the same lock and an administrator can lift it. The per-address limit, which a
whole branch behind one office router shares, is the web layer's (Flask-Limiter) and is set
much higher than this one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware.core.audit import record
from courseware.core.models import SignInFailure, User

# Rows untouched this long are forgotten (a lock never lasts this long).
FORGET_AFTER = timedelta(days=2)


class SignInRules(BaseModel):
    """The ``sign_in:`` section of settings.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # This many failed sign-ins for one user name within account_window_minutes ...
    account_failures: int = Field(default=10, ge=3, le=1000)
    account_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # ... lock that name for this long (an administrator can unlock it sooner).
    lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Failed sign-ins from one address (a branch behind its office router shares one)
    # within address_window_minutes before that address must wait.
    address_failures: int = Field(default=60, ge=10, le=100_000)
    address_window_minutes: int = Field(default=5, ge=1, le=24 * 60)

    def address_limit(self) -> str:
        """The per-address limit in Flask-Limiter's notation."""
        return f"{self.address_failures} per {self.address_window_minutes} minutes"


@dataclass(frozen=True)
class Lock:
    until: datetime
    failures: int

    def seconds_left(self, now: datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds()))

    def minutes_left(self, now: datetime) -> int:
        return max(1, math.ceil(self.seconds_left(now) / 60))


def account_key(username: str) -> str:
    return username.strip().lower()[:64]


def lock_of(session: Session, username: str, now: datetime) -> Lock | None:
    """The lock on this user name, if one is in force at ``now``."""
    row = session.get(SignInFailure, account_key(username))
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return Lock(row.locked_until, row.failures)


def record_failure(
    session: Session, username: str, rules: SignInRules, now: datetime
) -> Lock | None:
    """Count one failed sign-in for this user name; the lock it set, if this was the last
    failure allowed. The caller commits."""
    key = account_key(username)
    session.execute(delete(SignInFailure).where(SignInFailure.last_failed_at < now - FORGET_AFTER))
    row = session.get(SignInFailure, key, with_for_update=True)
    if row is None:
        row = SignInFailure(key=key, failures=0, first_failed_at=now, last_failed_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another worker counted this name's first failure meanwhile
            row = session.get(SignInFailure, key, with_for_update=True, populate_existing=True)
            assert row is not None
    window = timedelta(minutes=rules.account_window_minutes)
    expired_lock = row.locked_until is not None and row.locked_until <= now
    if row.first_failed_at <= now - window or expired_lock:
        row.failures, row.first_failed_at, row.locked_until = 0, now, None
    row.failures += 1
    row.last_failed_at = now
    if row.failures >= rules.account_failures:
        row.locked_until = now + timedelta(minutes=rules.lock_minutes)
        return Lock(row.locked_until, row.failures)
    return None


def forget(session: Session, username: str) -> None:
    """A successful sign-in clears the name's count."""
    session.execute(delete(SignInFailure).where(SignInFailure.key == account_key(username)))


def unlock(session: Session, user: User, actor_id: int, now: datetime) -> bool:
    """Lift the lock on the account (audited); False when it was not locked."""
    lock = lock_of(session, user.username, now)
    if lock is None:
        return False
    forget(session, user.username)
    record(
        session,
        actor_id,
        "account.unlock",
        "user",
        user.id,
        before={"locked_until": lock.until.isoformat(), "failures": lock.failures},
    )
    return True
