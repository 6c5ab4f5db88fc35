"""Who may open what: the public endpoints and the role check for views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])

# Role groups the views check.
STAFF = ("trainer", "hr", "admin")  # acts on a learner's certification, case pages unlocked
READERS = ("hr", "manager", "admin")  # reads HR pages (a manager only their branch)
EDITORS = ("hr", "admin")  # changes HR records (due dates, cohorts, reminders)

# Endpoints an anonymous visitor may reach; everything else redirects to sign-in.
PUBLIC_ENDPOINTS = {
    "auth.login",
    "main.healthz",
    "main.set_language",
    "static",
}


def public(endpoint: str) -> None:
    """Declare another endpoint public (used by blueprints such as verification)."""
    PUBLIC_ENDPOINTS.add(endpoint)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only the given roles; anyone else signed in gets 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def has_role(*roles: str) -> bool:
    return bool(current_user.is_authenticated and current_user.role in roles)
