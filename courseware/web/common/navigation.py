"""The header's links, by role. An area appears once its blueprint exists."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

ALL = ("trainee", "trainer", "manager", "hr", "admin")

# (endpoint, label, roles, url prefix that marks it current)
NAV = [
    ("cases.index", _l("Loan cases"), ALL, "/cases"),
    ("certificates.mine", _l("Certificate"), ALL, "/certificate"),
    ("learn.search", _l("Search"), ALL, "/search"),
    ("author.index", _l("Trainer studio"), ("trainer", "admin"), "/author"),
    ("hr.dashboard", _l("HR"), ("hr", "manager", "admin"), "/hr"),
    ("admin.users", _l("Accounts"), ("admin",), "/admin"),
]


# Each staff role's home page: where signing in and "/" take them. Trainees (and any role
# not named here) land on the learner dashboard, which staff reach at /course.
HOMES = {
    "hr": "hr.dashboard",
    "manager": "hr.dashboard",
    "trainer": "author.index",
    "admin": "admin.users",
}


def home_endpoint(role: str | None) -> str:
    """The endpoint of a role's home page (the learner dashboard when it has none)."""
    endpoint = HOMES.get(role or "")
    if endpoint is None or endpoint not in current_app.view_functions:
        return "learn.dashboard"
    return endpoint


def home_url(role: str | None) -> str:
    return url_for(home_endpoint(role))


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    current: bool


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    items = []
    for endpoint, label, roles, prefix in NAV:
        if current_user.role in roles and endpoint in current_app.view_functions:
            items.append(NavItem(url_for(endpoint), str(label), request.path.startswith(prefix)))
    return items


def role_label(role: str) -> str:
    from courseware.web.common.forms import ROLE_LABELS

    return str(ROLE_LABELS.get(role, role))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["home_url"] = home_url
