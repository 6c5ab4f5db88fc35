"""Backup and restore of the whole database, safe while the site serves.

SQLite (the embedded default) uses SQLite's online backup API, which copies a
consistent snapshot page by page while other connections keep reading and
writing. PostgreSQL uses pg_dump / pg_restore in custom format; a clear
message says so when those tools are not installed.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    method: str


Progress = Callable[[int, int], None]


def _libpq_url(engine: Engine) -> str:
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client tools "
            f"(Debian: apt-get install postgresql-client) and try again."
        )
    return found


def _check_sqlite_file(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as check:
            status = check.execute("PRAGMA integrity_check").fetchone()[0]
            has_schema = check.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
            ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    if status != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {status}")
    if not has_schema:
        raise BackupError(f"{path} is not a courseware database (no schema version).")


def backup(engine: Engine, target: Path, progress: Progress | None = None) -> BackupResult:
    """Write a consistent copy of the database to ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        if target.exists():
            target.unlink()
        raw = engine.raw_connection()
        try:
            with sqlite3.connect(target) as destination:
                raw.driver_connection.backup(  # type: ignore[union-attr]
                    destination,
                    pages=256,
                    progress=(lambda _s, remaining, total: progress(total - remaining, total))
                    if progress
                    else None,
                )
            destination.close()
        finally:
            raw.close()
        _check_sqlite_file(target)
        return BackupResult(target, target.stat().st_size, "sqlite-online-backup")
    if engine.dialect.name == "postgresql":
        command = [
            _tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}",
            f"--dbname={_libpq_url(engine)}",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return BackupResult(target, target.stat().st_size, "pg_dump")
    raise BackupError(f"backups are not supported for {engine.dialect.name}")


def restore(engine: Engine, source: Path, progress: Progress | None = None) -> None:
    """Replace the database's content with the backup at ``source``."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} does not exist.")
    if engine.dialect.name == "sqlite":
        _check_sqlite_file(source)
        raw = engine.raw_connection()
        try:
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as origin:
                origin.backup(
                    raw.driver_connection,  # type: ignore[arg-type]
                    pages=256,
                    progress=(lambda _s, remaining, total: progress(total - remaining, total))
                    if progress
                    else None,
                )
            origin.close()
        finally:
            raw.close()
        return
    if engine.dialect.name == "postgresql":
        command = [
            _tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
            f"--dbname={_libpq_url(engine)}", str(source),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        return
    raise BackupError(f"restore is not supported for {engine.dialect.name}")
