"""The schema revisions read without Alembic agree with Alembic's own reading."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from courseware.core import revisions
from courseware.core.db import make_engine
from courseware.ops import migrate


def test_the_head_and_every_revision_are_alembics():
    script = ScriptDirectory(str(revisions.MIGRATIONS_DIR))
    assert revisions.head() == script.get_current_head()
    assert revisions.revisions() == {
        rev.revision: rev.down_revision for rev in script.walk_revisions()
    }
    assert len(revisions.revisions()) > 20


def _alembic_current(engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_the_databases_revision_is_alembics_new_migrated_and_moved(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        assert migrate.current_revision(engine) is None is _alembic_current(engine)
        migrate.upgrade(engine, "0003")
        assert migrate.current_revision(engine) == "0003" == _alembic_current(engine)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == revisions.head() == _alembic_current(engine)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
        assert migrate.current_revision(engine) is None is _alembic_current(engine)
    finally:
        engine.dispose()


def test_the_session_database_is_read_alike(database_url: str):
    engine = make_engine(database_url)
    try:
        assert migrate.current_revision(engine) == _alembic_current(engine)
    finally:
        engine.dispose()
