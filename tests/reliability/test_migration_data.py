"""Every migration keeps the data already in the database, on SQLite and PostgreSQL.

The schema is built one migration at a time; after each step a row goes into every
table that has none yet (values made from the reflected column types, foreign keys
pointing at the parents' rows), and every row inserted so far is read back intact.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    select,
    text,
)
from sqlalchemy.engine import Engine, make_url

from courseware.core.db import make_engine
from courseware.ops import migrate
from tests.conftest import BACKENDS, PG_URL

SCHEMA = "migration_check"
MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
    else:
        assert PG_URL
        admin = make_engine(PG_URL)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        admin.dispose()
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
        engine = make_engine(url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    if request.param != "sqlite":  # leave the database as the test found it
        admin = make_engine(PG_URL)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


def _value(table: str, column: Any) -> Any:
    kind = column.type
    if column.foreign_keys or (isinstance(kind, Integer) and column.primary_key):
        return 1
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 7
    if isinstance(kind, Float | Numeric):
        return 1.5
    if isinstance(kind, DateTime):
        return MOMENT if kind.timezone else MOMENT.replace(tzinfo=None)
    if isinstance(kind, Date):
        return date(2026, 1, 2)
    if isinstance(kind, JSON):
        return {"kept": [1, "二"]}
    if isinstance(kind, String | Text):
        length = getattr(kind, "length", None) or 200
        return f"{table}.{column.name}·資料"[:length]
    raise AssertionError(f"no sample value for {table}.{column.name} ({kind!r})")


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return value


def test_every_migration_keeps_existing_rows(empty_engine: Engine):
    script = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert len(revisions) >= 2
    inserted: dict[str, dict[str, Any]] = {}
    for revision in revisions:
        migrate.upgrade(empty_engine, revision)
        metadata = MetaData()
        metadata.reflect(empty_engine)
        with empty_engine.begin() as connection:
            for table in metadata.sorted_tables:
                if table.name == "alembic_version" or table.name in inserted:
                    continue
                filled = connection.execute(select(table)).mappings().all()
                if filled:  # its migration filled it from the rows above (a backfill)
                    inserted[table.name] = dict(filled[0])
                    continue
                row = {c.name: _value(table.name, c) for c in table.columns}
                connection.execute(table.insert().values(**row))
                inserted[table.name] = row
        with empty_engine.connect() as connection:
            for name, row in inserted.items():
                table = metadata.tables[name]
                stored = connection.execute(select(table)).mappings().all()
                assert len(stored) == 1, (revision, name)
                for key, value in row.items():
                    assert _normal(stored[0][key]) == _normal(value), (revision, name, key)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    assert set(inserted) >= {"users", "content_documents", "quiz_attempts", "certificates"}


def test_decisions_made_before_loan_cases_v2_are_marked_as_v1(empty_engine: Engine):
    """0008: a decision already recorded keeps its score and is marked as made on a v1 case."""
    migrate.upgrade(empty_engine, "0007")
    metadata = MetaData()
    metadata.reflect(empty_engine)
    with empty_engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            row = {c.name: _value(table.name, c) for c in table.columns}
            connection.execute(table.insert().values(**row))
    migrate.upgrade(empty_engine, "0008")
    metadata = MetaData()
    metadata.reflect(empty_engine)
    decisions = metadata.tables["case_decisions"]
    with empty_engine.connect() as connection:
        row = connection.execute(select(decisions)).mappings().one()
    assert row["case_model"] == 1
    assert row["score_total"] == 1.5  # the score it had, untouched
