"""PostgreSQL's disk fills up or its database turns read-only, staged for real on the test
server: a scratch database of its own whose tablespace is a small tmpfs (see
``postgresql_on_small_disk``), filled to the last byte, or set read-only.

As on SQLite (test_disk.py): the user gets a calm 503 page in zh-Hant saying what happened,
nothing acknowledged before is lost, nothing half-written is kept, the operator gets one log
line naming the cause and its SQLSTATE, and once the fault is gone the same requests succeed
without a restart.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import NullPool, create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from courseware import cli
from courseware.core.db import make_engine
from courseware.core.models import ContentDocument
from tests.conftest import DATA, PG_URL
from tests.faults.site import (
    DISK_FULL_ZH,
    READ_ONLY_ZH,
    Site,
    health,
    open_site,
    recovered,
    refused,
    state,
    unchanged,
)
from tests.faults.staging import ScratchDatabase, fill, postgresql_on_small_disk

DISK_FULL_SQLSTATE = "53100"


@pytest.fixture
def scratch() -> Iterator[ScratchDatabase]:
    with postgresql_on_small_disk(PG_URL) as found:
        yield found


@pytest.fixture
def site(scratch: ScratchDatabase) -> Iterator[Site]:
    with tempfile.TemporaryDirectory(prefix="courseware-faults-") as instance:
        opened = open_site(Path(instance), scratch.url)
        yield opened
        opened.app.extensions["courseware.core.db"].engine.dispose()


@contextlib.contextmanager
def no_room_left_in(url: str, rows: list[tuple[str, int]]) -> Iterator[None]:
    """The pages holding ``rows`` (table, id) have no room left, so that changing them
    needs a new page: call with the disk already full.

    PostgreSQL writes a changed row into room left in its page before it takes a new
    one, so a full disk refuses only a write that needs a new page. On a busy site the
    pages are full; here a reader keeps an old snapshot open (so a row's former versions
    stay) while the row is rewritten unchanged until its page is full.
    """
    reader = create_engine(url, poolclass=NullPool)
    writer = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with reader.connect() as snapshot, writer.connect() as connection:
            snapshot.execution_options(isolation_level="REPEATABLE READ")
            snapshot.execute(text("SELECT 1"))  # the snapshot is taken here and kept
            for table, row_id in rows:
                for _ in range(2000):
                    try:
                        connection.execute(
                            text(f"UPDATE {table} SET id = id WHERE id = :id"),  # noqa: S608
                            {"id": row_id},
                        )
                    except DBAPIError as exc:
                        assert getattr(exc.orig, "sqlstate", None) == DISK_FULL_SQLSTATE, exc
                        break
                else:
                    pytest.fail(f"the page of {table} {row_id} never filled up")
            yield
    finally:
        reader.dispose()
        writer.dispose()


def test_a_full_postgresql_disk_refuses_calmly_loses_nothing_and_recovers(
    scratch: ScratchDatabase, site: Site, caplog: pytest.LogCaptureFixture
):
    before = state(site)
    ballast = fill(scratch.disk)
    # The submit rewrites the attempt, the publish the lesson's document: both pages are
    # full; the first decision needs the decisions table's first page.
    rows = [("quiz_attempts", site.attempt_id), ("content_documents", site.document_id)]
    with no_room_left_in(scratch.url, rows):
        refused(site, caplog, DISK_FULL_ZH, f"disk full (SQLSTATE {DISK_FULL_SQLSTATE}")
        unchanged(site, before)
        # The server's disk is not visible from the site: /healthz tells the fault the
        # writes met, until a write succeeds.
        health(site, {"storage": "disk_full"})
        ballast.unlink()
        recovered(site, before)
        health(site)


def test_a_read_only_postgresql_database_refuses_calmly_and_recovers(
    scratch: ScratchDatabase, site: Site, caplog: pytest.LogCaptureFixture
):
    before = state(site)
    server = create_engine(scratch.server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            # Read-only for every new session; the site's open ones are cut, as a
            # switch-over to a standby would.
            connection.execute(
                text(f'ALTER DATABASE "{scratch.name}" SET default_transaction_read_only = on')
            )
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": scratch.name},
            )
        refused(site, caplog, READ_ONLY_ZH, "storage read-only (SQLSTATE 25006")
        assert state(site) == before  # read on a read-only session, now in the pool
        health(site, {"database": "read_only", "storage": "read_only"})
        with server.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{scratch.name}" RESET default_transaction_read_only')
            )
    finally:
        server.dispose()
    # Without a restart: the pooled read-only sessions are not used for the writes.
    recovered(site, before)
    health(site)


def test_a_course_import_on_a_full_postgresql_disk_stops_with_one_clear_line(
    scratch: ScratchDatabase, tmp_path: Path
):
    """`courseware import` says what stopped it (no traceback), changes nothing, and the
    same command succeeds once there is room."""
    env = {
        "COURSEWARE_INSTANCE_PATH": str(tmp_path / "instance"),
        "COURSEWARE_DATABASE_URL": scratch.url,
        "COURSEWARE_SECRET_KEY": "faults",
        "COURSEWARE_CONTENT_DIR": str(DATA / "content"),
        "COURSEWARE_QUIZ_DIR": str(DATA / "quizzes"),
        "COURSEWARE_CASE_DIR": str(DATA / "case_studies"),
    }
    ballast = fill(scratch.disk)
    stopped = CliRunner().invoke(cli.main, ["import"], env=env)
    assert stopped.exit_code == 1, stopped.output
    assert "磁碟已滿" in stopped.output and "nothing was changed" in stopped.output
    assert "Traceback" not in stopped.output
    ballast.unlink()
    engine = make_engine(scratch.url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(ContentDocument)) == 0
    engine.dispose()
    done = CliRunner().invoke(cli.main, ["import"], env=env)
    assert done.exit_code == 0, done.output
