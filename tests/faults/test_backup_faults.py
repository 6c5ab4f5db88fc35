"""Backup and restore under real faults, on SQLite and PostgreSQL.

Each test stages the fault for real (a full tmpfs, a read-only bind mount, a cut or
altered file, a database at an older or unknown schema revision, learners writing
during the backup) and checks what the operator sees and that nothing is lost:
the earlier backup survives, the live database is unchanged by a refused restore,
an older backup comes back migrated with its rows.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import Engine, MetaData, func, insert, select, text, update
from sqlalchemy.engine import make_url

from courseware import cli
from courseware.accounts import users as accounts
from courseware.core.db import begin_write, make_engine
from courseware.core.models import AuditEvent, Base, User
from courseware.ops import backup, migrate
from tests.conftest import PASSWORD, login, make_user
from tests.faults.conftest import fill_disk
from tests.test_cli import _env

# A release whose schema lacks the notices tables (0012) and the learners' due dates (0013).
OLD_REVISION = "0011"


def run(app: Flask, *args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args), env=_env(app))


def engine_of(app: Flask) -> Engine:
    return app.extensions["courseware.core.db"].engine


def usernames(app: Flask) -> set[str]:
    with app.extensions["courseware.core.db"].sessions() as session:
        return set(session.scalars(select(User.username)))


def compact(app: Flask) -> None:
    """SQLite: shrink the test session's database file to this test's rows. Its tables were
    emptied, but the file keeps the pages earlier tests filled, and a backup copies every
    page: after tests/hr the copy no longer fitted the 4 MiB disk (seen with -n 2)."""
    engine = engine_of(app)
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
        finally:
            raw.close()


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("Error")]


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_backup_to_a_full_disk_fails_cleanly_and_keeps_the_earlier_backup(
    app, db, course, tiny_disk: Path
):
    make_user(db, "before")
    compact(app)
    target = tiny_disk / "academy.backup"
    assert run(app, "backup", str(target)).exit_code == 0
    earlier = target.read_bytes()
    make_user(db, "after")
    filler = fill_disk(tiny_disk, leave_bytes=len(earlier) // 4)

    result = run(app, "backup", str(target))

    assert result.exit_code == 1, result.output
    assert len(error_lines(result)) == 1, result.output
    assert "no space left on the device" in result.output
    assert "the earlier backup there is untouched" in result.output
    assert files_in(tiny_disk) == ["academy.backup", "filler.bin"]  # no partial file
    assert target.read_bytes() == earlier
    # Once there is room again, the earlier backup restores.
    filler.unlink()
    assert run(app, "restore", str(target), "--yes").exit_code == 0
    assert usernames(app) == {"before"}


def test_backup_to_a_read_only_folder_fails_cleanly_and_keeps_the_earlier_backup(
    app, db, course, tmp_path: Path, make_read_only
):
    make_user(db, "before")
    folder = tmp_path / "backups"
    target = folder / "academy.backup"
    assert run(app, "backup", str(target)).exit_code == 0
    earlier = target.read_bytes()
    make_read_only(folder)

    result = run(app, "backup", str(target))

    assert result.exit_code == 1, result.output
    assert len(error_lines(result)) == 1, result.output
    assert "the file system is read-only" in result.output
    assert files_in(folder) == ["academy.backup"]
    assert target.read_bytes() == earlier


def _damage(target: Path, how: str) -> None:
    data = bytearray(target.read_bytes())
    if how == "cut short":
        del data[len(data) // 2 :]
    else:
        # Alter a stored value (SQLite keeps it in clear: a silently wrong name,
        # which SQLite's own integrity check cannot see); else a byte mid-payload.
        manifest = backup.read_manifest(target)
        assert manifest is not None
        where = data.find("kept 姓名".encode())
        where = where if 0 <= where < manifest.payload_bytes else manifest.payload_bytes // 2
        data[where] ^= 0x01
    target.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["cut short", "altered"])
def test_restore_refuses_a_damaged_backup_and_changes_nothing(
    app, db, course, tmp_path: Path, how: str
):
    make_user(db, "kept")
    target = tmp_path / "academy.backup"
    assert run(app, "backup", str(target)).exit_code == 0
    make_user(db, "added-after-backup")
    _damage(target, how)

    result = run(app, "restore", str(target), "--yes")

    assert result.exit_code == 1, result.output
    assert len(error_lines(result)) == 1, result.output
    assert "Nothing was changed" in result.output
    expected = (
        "no backup manifest: it is cut short" if how == "cut short" else "checksum does not match"
    )
    assert expected in result.output
    assert usernames(app) == {"kept", "added-after-backup"}
    assert migrate.current_revision(engine_of(app)) == migrate.head_revision()


def test_restore_refuses_a_backup_from_a_newer_schema_and_changes_nothing(app, db, tmp_path: Path):
    make_user(db, "kept")
    engine = engine_of(app)
    target = tmp_path / "future.backup"
    version = MetaData()
    version.reflect(engine, only=["alembic_version"])
    table = version.tables["alembic_version"]
    with engine.begin() as connection:
        connection.execute(update(table).values(version_num="0999"))
    try:
        backup.backup(engine, target)  # as written by a future release
    finally:
        with engine.begin() as connection:
            connection.execute(update(table).values(version_num=migrate.head_revision()))
    make_user(db, "added-after-backup")

    result = run(app, "restore", str(target), "--yes")

    assert result.exit_code == 1, result.output
    assert "schema revision 0999, newer than this version knows" in result.output
    assert "Nothing was changed" in result.output
    assert usernames(app) == {"kept", "added-after-backup"}
    assert migrate.current_revision(engine) == migrate.head_revision()


@pytest.fixture
def old_engine(app: Flask, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, empty database of the app's kind (a second database on PostgreSQL)."""
    url = make_url(app.config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old-release.db'}")
        yield engine
        engine.dispose()
        return
    name = f"{url.database}_old"
    admin = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_restore_of_an_older_release_backup_migrates_forward_and_keeps_its_rows(
    app, db, course, old_engine: Engine, tmp_path: Path
):
    migrate.upgrade(old_engine, OLD_REVISION)
    old = MetaData()
    old.reflect(old_engine)
    assert "cohort_memberships" in old.tables and "notices" not in old.tables
    with old_engine.begin() as connection:
        for name in ("old-1", "old-2"):
            row = {
                "username": name, "display_name": f"{name} 姓名", "role": "trainee",
                "employee_id": f"E-{name}", "branch": "台北分行", "active": True,
                "password_hash": accounts.hash_password(PASSWORD),
                "must_change_password": False, "session_version": 1,
                "created_at": datetime.now(UTC),
            }  # fmt: skip
            columns = old.tables["users"].columns.keys()
            connection.execute(
                insert(old.tables["users"]).values({k: v for k, v in row.items() if k in columns})
            )
    target = tmp_path / "old-release.backup"
    written = backup.backup(old_engine, target)
    assert written.schema_revision == OLD_REVISION
    old_engine.dispose()
    make_user(db, "newer-data")

    result = run(app, "restore", str(target), "--yes")

    assert result.exit_code == 0, result.output
    assert f"{OLD_REVISION} → {migrate.head_revision()}" in result.output
    engine = engine_of(app)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert usernames(app) == {"old-1", "old-2"}
    # The schema is exactly this version's: nothing left over, nothing missing.
    now = MetaData()
    now.reflect(engine)
    assert set(now.tables) - {"alembic_version"} == set(Base.metadata.tables)
    assert "due_date" in now.tables["cohort_memberships"].columns
    client = app.test_client()
    assert login(client, "old-1").status_code == 302


class Learners:
    """Threads creating accounts through the domain function while a backup runs.

    Each account is created with its audit event in one transaction; ``acked``
    holds the accounts whose commit returned.
    """

    def __init__(self, app: Flask, threads: int = 3) -> None:
        self.sessions = app.extensions["courseware.core.db"].sessions
        self.acked: list[str] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)
        ]

    def _run(self, number: int) -> None:
        count = 0
        while not self.stop.is_set():
            name = f"learner-{number}-{count}"
            try:
                with self.sessions() as session:
                    begin_write(session)
                    accounts.create_user(
                        session,
                        accounts.NewAccount(name, f"{name} 姓名", "trainee", employee_id=name),
                        PASSWORD,
                    )
                    session.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(exc)
                return
            with self.lock:
                self.acked.append(name)
            count += 1
            # A learner reads between two submits. Without the pause, three threads that
            # take the write lock back to back starve each other within seconds, with no
            # backup or restore involved: SQLite's busy wait is not fair (it sleeps and
            # polls, and a thread that has just released the lock takes it again first).
            self.stop.wait(random.uniform(0.005, 0.02))

    def snapshot(self) -> set[str]:
        with self.lock:
            return set(self.acked)

    def __enter__(self) -> Learners:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def test_a_backup_taken_while_learners_write_restores_a_consistent_state(
    app, db, course, tmp_path: Path
):
    target = tmp_path / "busy.backup"
    with Learners(app) as learners:
        while len(learners.snapshot()) < 20 and not learners.errors:
            time.sleep(0.01)
        acked_before = learners.snapshot()
        outcome: list[Result] = []
        worker = threading.Thread(target=lambda: outcome.append(run(app, "backup", str(target))))
        started = time.monotonic()
        worker.start()
        worker.join(timeout=60)
        took = time.monotonic() - started
    worker.join(timeout=60)
    assert not learners.errors, learners.errors
    assert took < 60, "the backup did not finish while learners kept writing"
    assert outcome and outcome[0].exit_code == 0, outcome and outcome[0].output
    acked_after = learners.snapshot()
    assert len(acked_after) > len(acked_before), "nobody wrote during the backup"

    assert run(app, "restore", str(target), "--yes").exit_code == 0

    restored = usernames(app)
    assert acked_before <= restored <= acked_after
    with app.extensions["courseware.core.db"].sessions() as session:
        audited = set(
            session.scalars(
                select(AuditEvent.target_id).where(AuditEvent.action == "account.create")
            )
        )
        ids = {str(id_) for id_ in session.scalars(select(User.id))}
        assert audited == ids  # every account with its audit event, none without
        assert session.scalar(select(func.count()).select_from(User)) == len(restored)


def test_a_restore_while_learners_write_leaves_a_consistent_database(
    app, db, course, tmp_path: Path
):
    make_user(db, "kept")
    target = tmp_path / "academy.backup"
    assert run(app, "backup", str(target)).exit_code == 0
    with Learners(app) as learners:
        while len(learners.snapshot()) < 10 and not learners.errors:
            time.sleep(0.01)
        result = run(app, "restore", str(target), "--yes")
        time.sleep(0.5)  # learners keep writing after the restore
    assert result.exit_code == 0, result.output
    assert not learners.errors, learners.errors
    restored = usernames(app)
    assert "kept" in restored
    assert len(restored) > 1, "no learner wrote into the restored database"
    # Accounts created after the swap are there, with their audit events; none half-made.
    with app.extensions["courseware.core.db"].sessions() as session:
        audited = set(
            session.scalars(
                select(AuditEvent.target_id).where(AuditEvent.action == "account.create")
            )
        )
        ids = {str(id_) for id_ in session.scalars(select(User.id))}
        assert audited == ids


def test_restore_on_a_full_database_disk_changes_nothing(tiny_disk: Path, tmp_path: Path):
    """SQLite: the restored copy is built beside the live database; no room, no change."""
    from courseware import create_app
    from tests.conftest import DATA

    database = tiny_disk / "academy.db"
    site = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "test-secret-key",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "CONTENT_DIR": str(DATA / "content"),
            "QUIZ_DIR": str(DATA / "quizzes"),
            "CASE_DIR": str(DATA / "case_studies"),
        }
    )
    engine = engine_of(site)
    try:
        migrate.upgrade(engine)
        with site.extensions["courseware.core.db"].sessions() as session:
            make_user(session, "kept")
            target = tmp_path / "academy.backup"
            assert run(site, "backup", str(target)).exit_code == 0
            make_user(session, "added-after-backup")
        filler = fill_disk(tiny_disk, leave_bytes=database.stat().st_size // 4)

        result = run(site, "restore", str(target), "--yes")

        assert result.exit_code == 1, result.output
        assert len(error_lines(result)) == 1, result.output
        assert "the database is unchanged" in result.output
        assert "no space left on the device" in result.output
        assert usernames(site) == {"kept", "added-after-backup"}
        assert sorted(p.name for p in tiny_disk.iterdir() if p.name.startswith(".")) == []
        # Room again: the same backup restores, no restart needed.
        filler.unlink()
        assert run(site, "restore", str(target), "--yes").exit_code == 0
        assert usernames(site) == {"kept"}
    finally:
        engine.dispose()


CHILD = """
import os, sys, time
from courseware import cli

real_fsync = os.fsync

def stalled_fsync(fd):
    real_fsync(fd)
    open(sys.argv[2], "w").close()  # the copy is written, not yet renamed: kill me now
    time.sleep(600)

os.fsync = stalled_fsync
cli.main(["backup", sys.argv[1]])
"""


def test_a_backup_killed_mid_write_leaves_the_earlier_backup_and_is_cleaned_up(
    app, db, course, tmp_path: Path
):
    make_user(db, "before")
    folder = tmp_path / "backups"
    target = folder / "academy.backup"
    assert run(app, "backup", str(target)).exit_code == 0
    earlier = target.read_bytes()
    make_user(db, "after")
    marker = tmp_path / "written"
    env = {**os.environ, **_env(app), "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(target), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the backup process never reached its fsync"
    finally:
        child.kill()  # SIGKILL: no cleanup runs
        child.wait()

    assert target.read_bytes() == earlier
    leftovers = [name for name in files_in(folder) if name != "academy.backup"]
    assert len(leftovers) == 1 and leftovers[0].endswith(".partial")
    assert backup.read_manifest(target) is not None  # restore still finds the earlier one whole

    assert run(app, "backup", str(target)).exit_code == 0
    assert files_in(folder) == ["academy.backup"]  # the dead process's file is gone
    assert run(app, "restore", str(target), "--yes").exit_code == 0
    assert usernames(app) == {"before", "after"}
