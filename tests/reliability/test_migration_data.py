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
    func,
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


# Columns a migration moved into another table: (table, column) -> the column that now
# points at the moved value's row, in ``question_texts`` (0023).
MOVED = {
    ("attempt_questions", "served"): "served_id",
    ("attempt_questions", "definition"): "definition_id",
}


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
                    if key not in stored[0] and (name, key) in MOVED:
                        texts = metadata.tables["question_texts"]
                        value_id = stored[0][MOVED[(name, key)]]
                        moved = connection.execute(
                            select(texts.c.body).where(texts.c.id == value_id)
                        ).scalar_one()
                        assert moved == value, (revision, name, key)
                        continue
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


SHOWN = {"prompt": "哪一項正確?", "choices": [["b", "二"], ["a", "一"]], "note": None}
SHOWN_AGAIN = {"note": None, "choices": [["b", "二"], ["a", "一"]], "prompt": "哪一項正確?"}
SHOWN_OTHER = {"prompt": "哪一項正確?", "choices": [["a", "一"], ["b", "二"]], "note": None}
DEFINITION = {
    "answer": "b",
    "explanation": "因為「二」才對。\n",
    "lesson": "first",
    "tolerance": 0.25,
    "steps": {"z": [1, 2.5, True], "a": {}},
}
OTHER_DEFINITION = {"answer": ["a", "c"], "explanation": "", "lesson": "second"}


def test_served_questions_json_comes_through_0023_both_ways(empty_engine: Engine):
    """0023: the served and definition JSON of existing rows moves into question_texts,
    each distinct document once, and comes back unchanged on a downgrade."""
    migrate.upgrade(empty_engine, "0022")
    metadata = MetaData()
    metadata.reflect(empty_engine)
    rows = [  # (served, definition) by position
        (SHOWN, DEFINITION),
        (SHOWN_AGAIN, DEFINITION),  # the same document, its keys in another order
        (SHOWN_OTHER, OTHER_DEFINITION),
    ]
    with empty_engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            row = {c.name: _value(table.name, c) for c in table.columns}
            if table.name != "attempt_questions":
                connection.execute(table.insert().values(**row))
                continue
            for position, (served, definition) in enumerate(rows, 1):
                connection.execute(
                    table.insert().values(
                        {
                            **row,
                            "id": position,
                            "position": position,
                            "question_id": f"q{position}",
                            "served": served,
                            "definition": definition,
                        }
                    )
                )
    migrate.upgrade(empty_engine, "0023")
    metadata = MetaData()
    metadata.reflect(empty_engine)
    questions, texts = metadata.tables["attempt_questions"], metadata.tables["question_texts"]
    assert "served" not in questions.c and "definition" not in questions.c
    served, definition = texts.alias("served"), texts.alias("definition")
    with empty_engine.connect() as connection:
        stored = connection.execute(
            select(questions.c.position, served.c.body, definition.c.body)
            .join(served, served.c.id == questions.c.served_id)
            .join(definition, definition.c.id == questions.c.definition_id)
            .order_by(questions.c.position)
        ).all()
        count = connection.execute(select(func.count()).select_from(texts)).scalar()
    assert [tuple(r[1:]) for r in stored] == rows
    assert count == 4  # two shown (one in two key orders), two definitions
    migrate.downgrade(empty_engine, "0022")
    metadata = MetaData()
    metadata.reflect(empty_engine)
    assert "question_texts" not in metadata.tables
    questions = metadata.tables["attempt_questions"]
    assert "served_id" not in questions.c
    with empty_engine.connect() as connection:
        back = connection.execute(
            select(questions.c.served, questions.c.definition).order_by(questions.c.position)
        ).all()
    # the documents as they were (the second's keys in the first's order: the same JSON)
    assert [tuple(r) for r in back] == rows
