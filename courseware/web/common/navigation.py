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
