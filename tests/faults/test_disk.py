"""The disk fills up, the instance folder turns read-only, the database file is damaged:
staged for real on a small tmpfs (and a read-only bind mount), with the SQLite database
and the instance folder on it.

Each time the user gets a calm 503 page in zh-Hant (no traceback) saying what happened,
nothing acknowledged before is lost, nothing half-written is served, the operator gets one
log line naming the cause, and once the fault is gone the same requests succeed without a
restart.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from courseware.core.db import make_engine
from courseware.core.models import ContentDocument, User
from tests.conftest import DATA, csrf_token, login, make_user
from tests.faults.site import (
    CORRUPT_ZH,
    DISK_FULL_ZH,
    READ_ONLY_ZH,
    ZH,
    calm,
    health,
    one_line_naming,
    open_site,
    recovered,
    refused,
    state,
    unchanged,
)
from tests.faults.staging import (
    bind_read_only,
    fault_app,
    fill,
    migrated_sqlite,
    remount,
    small_disk,
    unmount,
)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path, "24m") as mount:
        yield mount


def test_a_full_disk_refuses_calmly_loses_nothing_and_recovers(disk, caplog):
    site = open_site(disk / "instance")
    before = state(site)
    engine_ = site.app.extensions["courseware.core.db"].engine
    with engine_.connect() as connection:  # start the next write on fresh blocks
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    ballast = fill(disk)

    refused(site, caplog, DISK_FULL_ZH, "disk full")
    unchanged(site, before)
    health(site, {"storage": "disk_full"})

    ballast.unlink()
    recovered(site, before)
    health(site)


def test_a_read_only_instance_folder_refuses_calmly_and_recovers(disk, caplog):
    instance = disk / "instance"
    site = open_site(instance)
    before = state(site)
    site.app.extensions["courseware.core.db"].engine.dispose()  # nothing open for writing
    bind_read_only(instance)
    try:
        refused(site, caplog, READ_ONLY_ZH, "storage read-only")
        # A WAL database cannot even be read on a read-only folder.
        health(site, {"database": "read_only", "schema": "unknown", "storage": "read_only"})
    finally:
        remount(instance, "rw,bind")
    assert state(site) == before
    recovered(site, before)
    health(site)
    site.app.extensions["courseware.core.db"].engine.dispose()
    unmount(instance)


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_database_file_gets_a_calm_503_not_a_traceback(tmp_path, caplog, damage):
    instance = tmp_path / "instance"
    url = migrated_sqlite(instance / "courseware.db")
    database = instance / "courseware.db"
    with database.open("r+b") as handle:
        if damage == "truncated":
            handle.truncate(database.stat().st_size // 3)
        else:
            handle.write(b"not a database, a half-copied file " * 4)
    with caplog.at_level(logging.INFO):
        app = fault_app(url, instance)
        client = app.test_client()
        response = client.post(
            "/login",
            data={"username": "trainee", "password": "x", "csrf_token": csrf_token(client)},
            headers=ZH,
        )
    calm(response, CORRUPT_ZH)
    one_line_naming(caplog, "database file corrupt", requests=1)
    app.extensions["courseware.core.db"].engine.dispose()


# Werkzeug leaves the spool file it could not write to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_upload_spooled_to_a_full_disk_gets_the_same_calm_503(disk, caplog, monkeypatch):
    """A large upload is spooled to a temporary file: on a full disk that write fails
    (ENOSPC) before the view runs; the admin reads why, and sends it again once freed."""
    site = open_site(disk / "instance")
    with site.sessions() as db:
        make_user(db, "admin", role="admin")
    admin = site.app.test_client()
    assert login(admin, "admin").status_code == 302
    spool = disk / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    rows = "".join(f"u{n:05d},{'名' * 40}{n},trainee,E{n},台北分行\n" for n in range(4500))
    payload = ("username,display_name,role,employee_id,branch\n" + rows).encode()
    assert len(payload) > 600_000  # beyond the 500 KB kept in memory

    def upload():
        token = csrf_token(admin, "/admin/import")
        boundary = "faultsboundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
                f"{token}\r\n--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="people.csv"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + payload
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return admin.post(
            "/admin/import",
            input_stream=io.BytesIO(body),
            content_length=len(body),
            content_type=f"multipart/form-data; boundary={boundary}",
            headers=ZH,
        )

    ballast = fill(disk)
    with caplog.at_level(logging.INFO):
        calm(upload(), DISK_FULL_ZH)
    one_line_naming(caplog, "disk full", requests=1)
    with site.sessions() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 3  # none half-imported
    ballast.unlink()
    again = upload()
    assert again.status_code == 200, again.get_data(as_text=True)[-2000:]
    with site.sessions() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 3 + 4500


def test_a_course_import_on_a_full_disk_stops_with_one_clear_line(disk):
    """`courseware import` says what stopped it (no traceback), changes nothing, and the
    same command succeeds once there is room."""
    from click.testing import CliRunner

    from courseware import cli

    url = migrated_sqlite(disk / "courseware.db")
    env = {
        "COURSEWARE_INSTANCE_PATH": str(disk / "instance"),
        "COURSEWARE_DATABASE_URL": url,
        "COURSEWARE_SECRET_KEY": "faults",
        "COURSEWARE_CONTENT_DIR": str(DATA / "content"),
        "COURSEWARE_QUIZ_DIR": str(DATA / "quizzes"),
        "COURSEWARE_CASE_DIR": str(DATA / "case_studies"),
    }
    (disk / "instance").mkdir()
    ballast = fill(disk)
    stopped = CliRunner().invoke(cli.main, ["import"], env=env)
    assert stopped.exit_code == 1, stopped.output
    assert "磁碟已滿" in stopped.output and "nothing was changed" in stopped.output
    assert "Traceback" not in stopped.output
    ballast.unlink()
    engine_ = make_engine(url)
    with engine_.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(ContentDocument)) == 0
    engine_.dispose()
    done = CliRunner().invoke(cli.main, ["import"], env=env)
    assert done.exit_code == 0, done.output
