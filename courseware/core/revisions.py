"""The schema's migration revisions, read without Alembic.

A web worker (``/healthz``) and the start checks need only two facts: the newest revision
this version ships and the one the database is at. Alembic answers both, but importing it
(with Mako) costs about 10 MB in every worker and most of a second at start, so they are read
here: each file in ``migrations/versions`` declares ``revision = "…"`` and ``down_revision``,
and the database keeps its revision in ``alembic_version``. Migrating itself stays Alembic's
(``courseware.ops.migrate``); tests hold the two readings equal.
"""

from __future__ import annotations

import functools
import re

from sqlalchemy import Connection, inspect, text

from courseware.core.config import PACKAGE_DIR

MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
_DECLARED = re.compile(
    r"^(revision|down_revision)\s*(?::[^=\n]+)?=\s*(None|\"([^\"]*)\"|'([^']*)')\s*$", re.M
)


@functools.cache
def revisions() -> dict[str, str | None]:
    """Every shipped revision and the one before it (None for the first)."""
    found: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        declared = {
            match[1]: match[3] or match[4] or None
            for match in _DECLARED.finditer(path.read_text(encoding="utf-8"))
        }
        if "revision" not in declared or "down_revision" not in declared:
            raise RuntimeError(f"{path.name}: no revision or down_revision declared")
        found[str(declared["revision"])] = declared["down_revision"]
    return found


def head() -> str | None:
    """The newest revision: the one no other revision follows."""
    known = revisions()
    followed = set(known.values())
    heads = [revision for revision in known if revision not in followed]
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {sorted(heads)}")
    return heads[0] if heads else None


def current(connection: Connection) -> str | None:
    """The database's revision; None when it was never migrated."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(found) > 1:
        raise RuntimeError(f"the database names several revisions: {sorted(found)}")
    return found[0] if found else None
