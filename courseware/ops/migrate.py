"""Schema migrations with Alembic, shipped inside the package.

Alembic is imported when a migration runs; which revision is the newest and which one a
database is at are read without it (``courseware.core.revisions``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from courseware.core import revisions
from courseware.core.revisions import MIGRATIONS_DIR

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str | None:
    return revisions.head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return revisions.current(connection)


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def is_embedded(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def needs_upgrade(engine: Engine) -> bool:
    return current_revision(engine) != head_revision()
