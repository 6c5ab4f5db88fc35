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
