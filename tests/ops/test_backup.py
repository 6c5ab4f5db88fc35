"""Backup and restore round trip, while the site keeps serving requests."""

from __future__ import annotations

import fcntl
import hashlib
import threading
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select, text

from courseware import cli
from courseware.cli import database_engine
from courseware.core.models import User
from courseware.ops import backup, migrate
from tests.conftest import login, make_user
from tests.test_cli import _env


class Traffic:
    """Requests from another thread for as long as the test runs."""

    def __init__(self, app):
        self.app = app
        self.statuses: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        client = self.app.test_client()
        login(client, "reader")
        while not self.stop.is_set():
            for path in ("/", "/modules/alpha", "/healthz"):
                self.statuses.append(client.get(path).status_code)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def test_backup_and_restore_round_trip_while_serving(app, db, course, tmp_path: Path):
    make_user(db, "reader")
    make_user(db, "kept")
    env = _env(app)
    target = tmp_path / "backups" / "academy.backup"
    with Traffic(app) as traffic:
        result = CliRunner().invoke(cli.main, ["backup", str(target)], env=env)
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0
        make_user(db, "added-after-backup")
        result = CliRunner().invoke(cli.main, ["restore", str(target), "--yes"], env=env)
        assert result.exit_code == 0, result.output
    db.expire_all()
    names = set(db.scalars(select(User.username)))
    assert names == {"reader", "kept"}
    assert traffic.statuses, "the site served no requests during the test"
    assert set(traffic.statuses) <= {200}, sorted(set(traffic.statuses))
    # The site still works afterwards.
    client = app.test_client()
    assert login(client, "kept").status_code == 302


def test_another_schema_in_the_database_is_left_out_of_the_backup(app, db, tmp_path: Path):
    """A schema that is not the site's (another tool's, a test's left behind) neither goes
    into the backup nor stops the restore."""
    engine = database_engine(app)
    if engine.dialect.name != "postgresql":
        return  # SQLite has one schema per file: nothing else can be in it
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS not_ours CASCADE"))
        connection.execute(text("CREATE SCHEMA not_ours"))
        connection.execute(text("CREATE TABLE not_ours.notes (id integer)"))
    try:
        make_user(db, "kept")
        env = _env(app)
        target = tmp_path / "academy.backup"
        assert CliRunner().invoke(cli.main, ["backup", str(target)], env=env).exit_code == 0
        restored = CliRunner().invoke(cli.main, ["restore", str(target), "--yes"], env=env)
        assert restored.exit_code == 0, restored.output
        db.expire_all()
        assert set(db.scalars(select(User.username))) == {"kept"}
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS not_ours CASCADE"))


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path: Path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database", encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["restore", str(bogus), "--yes"], env=_env(app))
    assert result.exit_code != 0
    assert "not" in result.output


def test_backup_ends_with_a_manifest_of_revision_and_checksum(app, db, tmp_path: Path):
    make_user(db, "kept")
    target = tmp_path / "academy.backup"
    result = CliRunner().invoke(cli.main, ["backup", str(target)], env=_env(app))
    assert result.exit_code == 0, result.output
    manifest = backup.read_manifest(target)
    assert manifest is not None
    assert manifest.schema_revision == migrate.head_revision()
    assert manifest.dialect == app.config["DATABASE_URL"].split(":")[0].split("+")[0]
    payload = target.read_bytes()[: manifest.payload_bytes]
    assert hashlib.sha256(payload).hexdigest() == manifest.sha256
    assert manifest.sha256 in result.output and manifest.schema_revision in result.output
    assert payload.startswith((b"SQLite format 3\x00", b"PGDMP"))


def test_restore_takes_an_old_format_backup_only_when_asked(app, db, tmp_path: Path):
    """A plain SQLite file or pg_dump archive, as earlier versions wrote them."""
    make_user(db, "kept")
    target = tmp_path / "academy.backup"
    backup.backup(database_engine(app), target)
    manifest = backup.read_manifest(target)
    assert manifest is not None
    plain = tmp_path / "plain.backup"
    plain.write_bytes(target.read_bytes()[: manifest.payload_bytes])
    make_user(db, "added-after-backup")
    env = _env(app)

    refused = CliRunner().invoke(cli.main, ["restore", str(plain), "--yes"], env=env)
    assert refused.exit_code == 1
    assert "--without-manifest" in refused.output
    db.expire_all()
    assert set(db.scalars(select(User.username))) == {"kept", "added-after-backup"}
    db.rollback()

    result = CliRunner().invoke(
        cli.main, ["restore", str(plain), "--yes", "--without-manifest"], env=env
    )
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert set(db.scalars(select(User.username))) == {"kept"}


def test_backup_leaves_the_temporary_file_of_a_backup_still_running(app, tmp_path: Path):
    """Only a dead process's temporary file is removed: a live writer holds its flock."""
    target = tmp_path / "academy.backup"
    running = tmp_path / ".academy.backup.other.partial"
    running.write_bytes(b"being written")
    with running.open("rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        backup.backup(database_engine(app), target)
        assert running.read_bytes() == b"being written"
    backup.backup(database_engine(app), target)
    assert not running.exists()


def test_a_restore_tells_every_worker_to_forget_and_keeps_the_change_triggers(
    app, db, tmp_path: Path
):
    """The lesson page's kept rows (web.learner.lesson_watch) are forgotten by every worker
    when a restore swaps the data in, and the restored schema still announces changes."""
    engine = database_engine(app)
    if engine.dialect.name != "postgresql":
        return  # SQLite keeps no rows and has no notifications
    import psycopg
    from sqlalchemy.engine import make_url

    make_user(db, "kept")
    env = _env(app)
    target = tmp_path / "academy.backup"
    assert CliRunner().invoke(cli.main, ["backup", str(target)], env=env).exit_code == 0
    url = make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN courseware_learner")
        backup.restore(engine, target)  # (the command then also bumps the course version)
        heard = [n.payload for n in listener.notifies(timeout=1.0, stop_after=1)]
        assert heard == ["*"]
        triggers = listener.execute(
            "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND t.tgname LIKE '%\\_notify'"
        ).fetchone()
        assert triggers == (17,)  # 4 tables x (insert, update, delete, truncate) + content_state
