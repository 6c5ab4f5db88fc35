"""Pages rendered once and kept, with each reader's own parts put in per request.

A page that is the same for every reader but for their CSRF token and name (a lesson) is
rendered once with two markers in their place: ``render_shell`` renders it, ``personal``
swaps the markers for the reader's token and escaped name. The markers are random per
process, so no course text can contain them. Everything else that differs between readers
(the role's navigation, whether the lesson is done) belongs in the cache key, and a
request the shell cannot answer (one with flashed messages or a query string, which the
page echoes) is rendered in full: ``shell_allowed`` says which.

Shells live in a small in-process LRU per worker (``LRU``); the keys carry the course
version, so a publish or an import is seen on the next request and old shells age out.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

V = TypeVar("V")

CSRF_SLOT = f"csrf{secrets.token_hex(16)}"
NAME_SLOT = f"name{secrets.token_hex(16)}"


class LRU(Generic[V]):
    """A thread-safe least-recently-used map of at most ``size`` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class ShellUser:
    """What the page layout reads of the signed-in user, with the name left as a marker."""

    role: str
    display_name: str = NAME_SLOT
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_active: bool = True


def shell_allowed() -> bool:
    """Whether this request's page may come from a shell: no query string (the language
    form echoes the path with it) and no flashed message waiting to be shown."""
    return not request.args and "_flashes" not in session


def shell_context() -> dict[str, Any]:
    """Template variables that put the markers where the reader's own values go."""
    return {"csrf_token": lambda: CSRF_SLOT, "current_user": ShellUser(current_user.role)}


def render_shell(template: str, **context: Any) -> str:
    """``render_template`` with markers for the reader's CSRF token and name."""
    return render_template(template, **shell_context(), **context)


def personal(page: str) -> str:
    """A shell made this reader's: their CSRF token and their (escaped) name."""
    return page.replace(CSRF_SLOT, generate_csrf()).replace(
        NAME_SLOT, str(escape(current_user.display_name))
    )
