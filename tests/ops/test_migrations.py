"""Migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

import warnings
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from courseware.core.db import make_engine
from courseware.core.models import Base


def test_migrated_schema_matches_the_models(database_url: str):
    engine = make_engine(database_url)

    def include_object(item: Any, _name: Any, _type: str, _reflected: bool, _other: Any) -> bool:
        # An index built on one database only (the search's trigram indexes: PostgreSQL)
        # is compared there only.
        only_on = getattr(item, "info", {}).get("only_on")
        return only_on is None or only_on == engine.dialect.name

    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            with warnings.catch_warnings():
                # SQLite cannot reflect expression indexes; there are none there to compare.
                warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified")
                differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_the_change_notices_come_and_go_with_their_migration(database_url: str):
    """Migration 0022's triggers and functions (PostgreSQL): removed by its downgrade, back
    with the upgrade; nothing on SQLite."""
    from sqlalchemy import text

    from courseware.ops import migrate

    engine = make_engine(database_url)
    triggers = text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\\_notify'")
    functions = text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'courseware\\_learner\\_%'")

    def counted() -> tuple[int, int]:
        with engine.connect() as connection:
            return connection.scalar(triggers) or 0, connection.scalar(functions) or 0

    try:
        if engine.dialect.name != "postgresql":
            migrate.downgrade(engine, "0021")  # a no-op there, and it must not fail
            migrate.upgrade(engine)
            return
        assert counted() == (17, 3)
        migrate.downgrade(engine, "0021")
        assert counted() == (0, 0)
        migrate.upgrade(engine)
        assert counted() == (17, 3)
    finally:
        migrate.upgrade(engine)
        engine.dispose()
