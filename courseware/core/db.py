"""Database plumbing: the declarative Base, engines, sessions.

Services receive a ``Session`` and never reach for a global; the web layer
opens one session per request (``courseware.web.session``) and closes it at
teardown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone; PostgreSQL does. Either way the application only
    ever sees aware UTC datetimes and converts to the display zone at the edge.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


WRITE_OPTION = "courseware_write"


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (SQLite: BEGIN IMMEDIATE).

    Call before the first statement of a unit of work that reads and then
    writes; on PostgreSQL it changes nothing.
    """
    if not session.in_transaction():
        session.connection(execution_options={WRITE_OPTION: True})


def end_reading(session: Session) -> None:
    """Before a unit of work whose first statement claims a row (``UPDATE ... WHERE`` it is
    still open): on SQLite, commit what the request read so far, so that statement starts a
    transaction of its own (a reader's transaction cannot reliably become a writer's: its
    snapshot may be out of date by then); on PostgreSQL nothing, the transaction goes on (a
    statement sees what was committed before it started, and an UPDATE waits for the row's
    lock, then checks its condition again), which spares a COMMIT, a BEGIN and the pool's
    check-out (with its ping) of the next transaction."""
    if session.get_bind().dialect.name == "sqlite":
        session.commit()


def default_sqlite_url(instance_path: str | Path) -> str:
    return f"sqlite:///{Path(instance_path).resolve() / 'courseware.db'}"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout, foreign keys, and transactions SQLAlchemy controls.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT;
    the documented recipe is to switch it off and emit BEGIN ourselves.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writing transaction takes the write lock at once: two transactions that
        # both read and then write would otherwise fail with "database is locked"
        # instead of waiting (SQLite cannot upgrade a stale read snapshot).
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def make_engine(url: str, busy_timeout_ms: int = 5000, **kwargs: Any) -> Engine:
    """Create an engine with the settings each backend needs.

    SQLite waits up to ``busy_timeout_ms`` for a lock before giving up (the
    request then answers 503); PostgreSQL connections are checked before use,
    so the site recovers by itself when the server comes back.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    # PostgreSQL's JIT compiles the HR reports' plans on every run (30-60 ms each, more
    # than the query itself); this workload is many short queries, so it is off.
    if parsed.get_backend_name() == "postgresql" and "options" not in parsed.query:
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("options", "-c jit=off")
        kwargs["connect_args"] = connect_args
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 5)
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        _renew_read_only_sessions(engine)
    return engine


def _renew_read_only_sessions(engine: Engine) -> None:
    """A pooled session that was read-only when it connected is used once, then renewed.

    A PostgreSQL session takes its read-only state when it connects (a database set
    ``default_transaction_read_only`` for maintenance, a standby) and keeps it. Pooled, it
    would refuse every write after the database is writable again, until a restart. So
    such a session is replaced by a new connection at its next checkout: while the
    database stays read-only that costs a connect per request; once it is writable again,
    the next request writes.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SHOW transaction_read_only")
            row = cursor.fetchone()
        finally:
            cursor.close()
        dbapi_connection.rollback()
        record.info["read_only"] = bool(row and row[0] == "on")
        record.info["fresh"] = True

    @event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop("fresh", False):
            return
        if record.info.get("read_only"):
            raise DisconnectionError("a read-only session: connect again")


def make_session_factory(
    engine: Engine, info: dict[str, Any] | None = None
) -> sessionmaker[Session]:
    """Sessions for ``engine``; ``info`` is copied into every session's ``info`` (the web
    layer puts the xAPI site there, ``courseware.core.xapi.SESSION_KEY``)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info or {})


# The channel migration 0022's triggers notify with the accounts a statement changed
# (PostgreSQL); web.learner.lesson_watch listens, a restore notifies everyone ("*").
LEARNER_CHANGES = "courseware_learner"


def conflict_insert(dialect_name: str, table: Any) -> Any:
    """``INSERT`` into ``table`` with the ``ON CONFLICT`` clauses of ``dialect_name``'s
    construct (PostgreSQL's or SQLite's)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a CursorResult)."""
    return cast("CursorResult[Any]", result).rowcount
