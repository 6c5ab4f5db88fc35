"""Accounts: creation, sign-in checks, passwords, roles, deactivation.

Every change an admin makes to an account is written to the audit log.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.config import ROLES
from courseware.core.errors import N_
from courseware.core.models import User

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
_COMMON_FILE = Path(__file__).resolve().parents[1] / "data" / "common_passwords.txt"
# A real hash to check against when the user does not exist, so an unknown
# name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about an account that cannot be done; ``field`` names the input."""

    def __init__(self, field: str, message: str, params: dict[str, Any] | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.params = params or {}


def _common_passwords() -> frozenset[str]:
    try:
        lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    return frozenset(line.strip().lower() for line in lines if line.strip())


COMMON_PASSWORDS = _common_passwords()


def password_problem(password: str, username: str = "") -> str | None:
    """Why a password is refused, or None. Length over composition."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return N_("Use at least 10 characters; a short sentence is easy to remember.")
    if len(password) > MAX_PASSWORD_LENGTH:
        return N_("That password is too long (200 characters at most).")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or (username and username.lower() in lowered):
        return N_("That password is too common or contains your user name; choose another.")
    if len(set(password)) < 4:
        return N_("That password repeats too few characters; choose another.")
    return None


# werkzeug's default (scrypt) in production; the test suite swaps in a cheaper one.
HASH_METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


@dataclass(frozen=True)
class NewAccount:
    username: str
    display_name: str
    role: str = "trainee"
    employee_id: str = ""
    branch: str = ""


def validate_new_account(session: Session, data: NewAccount) -> None:
    if not USERNAME_RE.match(data.username):
        raise AccountError(
            "username", N_("Use 2-64 letters, digits, dots, hyphens or underscores.")
        )
    if data.role not in ROLES:
        raise AccountError("role", N_("Unknown role."))
    if not data.display_name.strip() or len(data.display_name) > 100:
        raise AccountError("display_name", N_("Give a display name of at most 100 characters."))
    exists = session.scalar(
        select(func.count())
        .select_from(User)
        .where(func.lower(User.username) == data.username.lower())
    )
    if exists:
        raise AccountError("username", N_("That user name is taken."))


def create_user(
    session: Session,
    data: NewAccount,
    password: str,
    *,
    actor_id: int | None = None,
    must_change_password: bool = False,
    check_password: bool = True,
) -> User:
    validate_new_account(session, data)
    if check_password and (problem := password_problem(password, data.username)):
        raise AccountError("password", problem)
    user = User(
        username=data.username,
        display_name=data.display_name.strip(),
        role=data.role,
        employee_id=data.employee_id.strip(),
        branch=data.branch.strip(),
        password_hash=hash_password(password),
        active=True,
        must_change_password=must_change_password,
        session_version=1,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor_id,
        "account.create",
        "user",
        user.id,
        after={"username": user.username, "role": user.role, "branch": user.branch},
    )
    return user


def authenticate(
    session: Session, username: str, password: str, now: datetime | None = None
) -> User | None:
    """The active user with this name and password, or None (same cost either way)."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = now or utcnow()
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise AccountError("current_password", N_("The current password is not right."))
    if problem := password_problem(new, user.username):
        raise AccountError("new_password", problem)
    if check_password_hash(user.password_hash, new):
        raise AccountError("new_password", N_("Choose a password you have not used here."))
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_version += 1
    record(session, user.id, "account.password_change", "user", user.id)


def reset_password(session: Session, user: User, actor_id: int) -> str:
    """Give the account a fresh temporary password it must change at sign-in."""
    temporary = secrets.token_urlsafe(9)
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.session_version += 1
    record(session, actor_id, "account.password_reset", "user", user.id)
    return temporary


def update_account(
    session: Session,
    user: User,
    actor_id: int,
    *,
    role: str,
    display_name: str,
    employee_id: str,
    branch: str,
    active: bool,
) -> None:
    if role not in ROLES:
        raise AccountError("role", N_("Unknown role."))
    if not display_name.strip() or len(display_name) > 100:
        raise AccountError("display_name", N_("Give a display name of at most 100 characters."))
    if actor_id == user.id and (role != user.role or not active):
        raise AccountError("role", N_("You cannot change your own role or deactivate yourself."))
    fields = ("role", "display_name", "employee_id", "branch", "active")
    before = {f: getattr(user, f) for f in fields}
    user.role = role
    user.display_name = display_name.strip()
    user.employee_id = employee_id.strip()
    user.branch = branch.strip()
    if user.active and not active:
        user.session_version += 1  # ends every open session of this account
    user.active = active
    after = {f: getattr(user, f) for f in fields}
    if before != after:
        changed = [f for f in fields if before[f] != after[f]]
        record(
            session,
            actor_id,
            "account.update",
            "user",
            user.id,
            before={f: before[f] for f in changed},
            after={f: after[f] for f in changed},
        )


def end_all_sessions(user: User) -> None:
    user.session_version += 1


ACCOUNTS_PER_PAGE = 50


@dataclass(frozen=True)
class AccountPage:
    """One page of the accounts list, and how many accounts match in all."""

    users: list[User]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_of_users(
    session: Session, q: str = "", page: int = 1, per_page: int = ACCOUNTS_PER_PAGE
) -> AccountPage:
    """The accounts in role and user-name order, one page of them (a page past the last is
    the last); with ``q``, those whose user name, display name or branch contains it, in
    any case."""
    conditions = []
    if q:
        needle = q.lower()
        conditions.append(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (User.username, User.display_name, User.branch)
                )
            )
        )
    total = session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    page = min(max(page, 1), max(1, -(-total // per_page)))
    found = session.scalars(
        select(User)
        .where(*conditions)
        .order_by(User.role, User.username)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return AccountPage(list(found), total, page, per_page)
