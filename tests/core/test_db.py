"""The connection settings each backend needs, as the application opens them."""

from __future__ import annotations

from sqlalchemy import text

from courseware.core.db import make_engine


def test_connections_are_configured_for_this_workload(database_url: str):
    engine = make_engine(database_url, busy_timeout_ms=1234)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 1234
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            else:
                # JIT compiles the report plans on every run, costing more than it saves.
                assert connection.execute(text("SHOW jit")).scalar() == "off"
    finally:
        engine.dispose()


def test_the_embedded_database_keeps_its_file_name(tmp_path) -> None:
    # An existing install upgrades onto the same file: instance/courseware.db, whatever
    # the module that builds the URL is called.
    from courseware.core.db import default_sqlite_url

    assert default_sqlite_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'courseware.db'}"
