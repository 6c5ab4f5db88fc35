"""Backup and restore of the whole database, safe while the site serves.

A backup is one file: the database copy (the payload) followed by a manifest
and a 16-byte footer::

    payload | manifest (JSON, UTF-8) | manifest length (8 bytes, big-endian) | b"CWBACKUP"

The payload is a SQLite database written with SQLite's online backup API (a
consistent snapshot taken while other connections keep reading and writing),
or a ``pg_dump --format=custom`` archive on PostgreSQL (one snapshot too). The
manifest records the format, the database kind, the schema revision (the
Alembic revision of the copied database), the payload's length and its
SHA-256. ``head -c <payload_bytes>`` gives back the plain SQLite file or
pg_dump archive.

Writing never leaves a partial file under the backup's name: the backup is
written to a hidden temporary file in the same folder, fsynced, then renamed
over the target (and the folder fsynced); any failure removes the temporary
file and leaves an earlier backup of the same name untouched. A backup process
killed mid-write leaves its hidden temporary file behind; the next backup to
the same name removes it (the writer holds a flock on it while it lives).

Restoring checks the manifest and the checksum first, refuses a backup whose
schema revision this version does not know (a newer one), then builds the
restored database beside the live one, migrates it forward to this version's
head, and only then swaps it in, so the live database is unchanged on any
failure:

- SQLite: the payload is copied to a scratch file in the database's folder,
  checked (``PRAGMA integrity_check``) and migrated there, then copied into the
  live database with the online backup API in one write transaction.
- PostgreSQL: ``pg_restore`` output runs through ``psql`` in one transaction
  that sets the live ``public`` schema aside, restores into a new, empty
  ``public`` and renames the result to a scratch schema before putting the
  live schema back, so nothing older (or newer) than the backup is left among
  the restored tables, unlike ``pg_restore --clean --if-exists``. The scratch
  schema is migrated to head, then swapped with ``public`` in one transaction,
  and the replaced schema is dropped.

The PostgreSQL client tools (pg_dump, pg_restore, psql) are needed on
PostgreSQL; a clear message says so when they are missing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from courseware.core.db import LEARNER_CHANGES, make_engine
from courseware.ops import migrate

FORMAT = 1
MAGIC = b"CWBACKUP"
FOOTER = struct.Struct(">Q8s")
MAX_MANIFEST_BYTES = 64 * 1024
LOCK_TIMEOUT = "60s"
# How long a PostgreSQL restore tries to find public's tables unused for its swap.
SWAP_WAIT_SECONDS = 60
EXTENSION_SCHEMA = "courseware_ext"  # where migration 0021 puts pg_trgm, outside public
RESTORE_FAILED = "還原失敗，資料庫未變更 (restore failed, the database is unchanged)"
CHUNK = 1024 * 1024
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    """What a backup file says about itself (stored as JSON after the payload)."""

    format: int
    dialect: str
    method: str
    schema_revision: str | None
    payload_bytes: int
    sha256: str
    created_at: str


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    method: str
    schema_revision: str | None = None
    sha256: str = ""


@dataclass(frozen=True)
class RestoreResult:
    from_revision: str | None
    to_revision: str | None
    checked: bool
    notes: list[str]


Progress = Callable[[int, int], None]


def _libpq_url(engine: Engine) -> str:
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"找不到 {name} (the {name} command is not installed). Install the PostgreSQL "
            f"client tools (Debian: apt-get install postgresql-client) and try again."
        )
    return found


def _os_problem(exc: OSError) -> str:
    """The cause of a file-system failure, in words an operator acts on."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return "磁碟空間不足 (no space left on the device)"
    if exc.errno == errno.EROFS:
        return "檔案系統為唯讀 (the file system is read-only)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "沒有寫入權限 (permission denied)"
    return f"{exc.strerror or exc} ({exc.__class__.__name__})"


def _sqlite_problem(exc: sqlite3.Error) -> str:
    message = str(exc)
    if "full" in message:
        return "磁碟空間不足 (no space left on the device)"
    if "readonly" in message or "read-only" in message:
        return "檔案系統為唯讀 (the file system is read-only)"
    return message


def _remove(path: Path) -> None:
    for leftover in (path, *(Path(f"{path}{end}") for end in ("-journal", "-wal", "-shm"))):
        with suppress(OSError):
            leftover.unlink()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_prefix(path: Path, length: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        left = length
        while left > 0:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def _copy_prefix(source: Path, length: int, target: Path) -> None:
    with source.open("rb") as origin, target.open("wb") as out:
        left = length
        while left > 0:
            chunk = origin.read(min(CHUNK, left))
            if not chunk:
                raise BackupError(f"{source} 不完整 (the file is shorter than its manifest says).")
            out.write(chunk)
            left -= len(chunk)
        out.flush()
        os.fsync(out.fileno())


def known_revision(revision: str | None) -> bool:
    """True when this version's migrations include ``revision``."""
    if revision is None:
        return False
    script = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def _refuse_unknown_revision(revision: str | None, source: Path) -> None:
    if revision is None:
        raise BackupError(
            f"{source} 沒有資料庫結構版本 (the backup records no schema revision: it is not "
            f"a courseware database). Nothing was changed."
        )
    if not known_revision(revision):
        raise BackupError(
            f"{source} 來自較新的版本 (the backup is at schema revision {revision}, newer than "
            f"this version knows; its newest is {migrate.head_revision()}). Install the "
            f"courseware version that wrote it, then restore. Nothing was changed."
        )


# -- backup -----------------------------------------------------------------------


def _sqlite_payload(engine: Engine, tmp: Path, progress: Progress | None) -> str | None:
    """Copy the live SQLite database into ``tmp``; return the copy's schema revision."""
    raw = engine.raw_connection()
    try:
        destination = sqlite3.connect(tmp, isolation_level=None)
        try:
            # All pages in one step, i.e. one read transaction (WAL: writers go on):
            # a step-wise copy starts over whenever another connection writes
            # between two steps, which learners submitting do all the time.
            raw.driver_connection.backup(destination, pages=-1)  # type: ignore[union-attr]
            if progress:
                progress(1, 1)
            # The copy stands alone: no -wal/-shm files beside it.
            destination.execute("PRAGMA journal_mode=DELETE")
            status = destination.execute("PRAGMA quick_check").fetchone()[0]
            if status != "ok":
                raise BackupError(f"備份檢查失敗 (the copy failed SQLite's check: {status})")
            row = destination.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            destination.close()
    finally:
        raw.close()
    return row[0] if row else None


def _postgresql_payload(engine: Engine, tmp: Path) -> str | None:
    before = migrate.current_revision(engine)
    command = [
        _tool("pg_dump"), "--format=custom", "--no-owner", f"--file={tmp}",
        f"--dbname={_libpq_url(engine)}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        stderr = result.stderr.strip()
        if "No space left" in stderr:
            raise OSError(errno.ENOSPC, "No space left on device")
        if "Read-only file system" in stderr:
            raise OSError(errno.EROFS, "Read-only file system")
        raise BackupError(f"pg_dump 失敗 (pg_dump failed): {stderr}")
    if migrate.current_revision(engine) != before:
        raise BackupError("備份期間資料庫結構改變了 (the schema changed during the backup); retry.")
    return before


def backup(engine: Engine, target: Path, progress: Progress | None = None) -> BackupResult:
    """Write a consistent copy of the database to ``target``, all or nothing.

    The copy goes to a temporary file beside ``target``, gets its manifest,
    is fsynced and renamed over ``target``; on any failure the temporary file
    is removed and an earlier file at ``target`` is left as it was.
    """
    target = Path(target)
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups are not supported for {engine.dialect.name}")
    tmp: Path | None = None
    fd: int | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(target)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until we finish or die: marks the file as live
        tmp = Path(name)
        if engine.dialect.name == "sqlite":
            method, revision = "sqlite-online-backup", _sqlite_payload(engine, tmp, progress)
        else:
            method, revision = "pg_dump", _postgresql_payload(engine, tmp)
        size = tmp.stat().st_size
        manifest = Manifest(
            format=FORMAT,
            dialect=engine.dialect.name,
            method=method,
            schema_revision=revision,
            payload_bytes=size,
            sha256=_hash_prefix(tmp, size),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        encoded = json.dumps(asdict(manifest), sort_keys=True).encode()
        with tmp.open("ab") as out:
            out.write(encoded)
            out.write(FOOTER.pack(len(encoded), MAGIC))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        tmp = None
        _fsync_dir(target.parent)
    except OSError as exc:
        raise BackupError(_failed(target, _os_problem(exc))) from exc
    except sqlite3.Error as exc:
        raise BackupError(_failed(target, _sqlite_problem(exc))) from exc
    finally:
        if tmp is not None:
            _remove(tmp)
        if fd is not None:
            os.close(fd)
    return BackupResult(target, target.stat().st_size, method, revision, manifest.sha256)


def _remove_stale_partials(target: Path) -> None:
    """Remove temporary files of backups to ``target`` that were killed mid-write.

    A running backup holds an exclusive flock on its temporary file; one that
    nobody holds was left by a process that died.
    """
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.partial"):
        try:
            fd = os.open(leftover, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # another backup is writing it
        else:
            _remove(leftover)
        finally:
            os.close(fd)


def _failed(target: Path, cause: str) -> str:
    earlier = (
        "之前的備份未被更動 (the earlier backup there is untouched)" if target.exists() else ""
    )
    return (
        f"備份失敗，未寫入任何檔案 (backup failed, nothing written to {target}): {cause}. "
        f"{earlier}".strip()
    )


# -- reading a backup -------------------------------------------------------------


def read_manifest(source: Path) -> Manifest | None:
    """The manifest of the backup at ``source``; None when it has none (raises when damaged)."""
    size = source.stat().st_size
    with source.open("rb") as stream:
        if size < FOOTER.size:
            return None
        stream.seek(size - FOOTER.size)
        length, magic = FOOTER.unpack(stream.read(FOOTER.size))
        if magic != MAGIC:
            return None
        if length > MAX_MANIFEST_BYTES or length > size - FOOTER.size:
            raise BackupError(_damaged(source, "the manifest's length is impossible"))
        stream.seek(size - FOOTER.size - length)
        encoded = stream.read(length)
    try:
        manifest = Manifest(**json.loads(encoded))
    except (ValueError, TypeError) as exc:
        raise BackupError(_damaged(source, f"the manifest cannot be read ({exc})")) from exc
    if manifest.payload_bytes + length + FOOTER.size != size:
        raise BackupError(_damaged(source, "its length does not match the manifest"))
    return manifest


def _damaged(source: Path, why: str) -> str:
    return (
        f"{source} 已損壞，未還原 (the backup is damaged: {why}). Nothing was changed; "
        f"restore another backup."
    )


def _checked_manifest(engine: Engine, source: Path, without_manifest: bool) -> Manifest | None:
    manifest = read_manifest(source)
    if manifest is None:
        with source.open("rb") as stream:
            start = stream.read(len(SQLITE_MAGIC))
        plain = start.startswith(SQLITE_MAGIC if engine.dialect.name == "sqlite" else PGDUMP_MAGIC)
        if without_manifest and plain:
            return None
        raise BackupError(
            f"{source} 不是完整的備份 (the file has no backup manifest: it is cut short, damaged, "
            f"or not a courseware backup). Nothing was changed. A backup written by an earlier "
            f"courseware version has no manifest either: restore it with --without-manifest "
            f"(no checksum to check)."
        )
    if manifest.format != FORMAT:
        raise BackupError(
            f"{source}: backup format {manifest.format} is not known to this version."
        )
    if manifest.dialect != engine.dialect.name:
        raise BackupError(
            f"{source} 是 {manifest.dialect} 的備份 (this is a {manifest.dialect} backup; the site "
            f"uses {engine.dialect.name}). Nothing was changed."
        )
    if _hash_prefix(source, manifest.payload_bytes) != manifest.sha256:
        raise BackupError(_damaged(source, "its SHA-256 checksum does not match"))
    _refuse_unknown_revision(manifest.schema_revision, source)
    return manifest


@contextmanager
def _payload_file(source: Path, manifest: Manifest | None, folder: Path) -> Iterator[Path]:
    """The plain database file or dump inside ``source`` (a scratch copy when it has a manifest)."""
    if manifest is None:
        yield source
        return
    fd, name = tempfile.mkstemp(prefix=".restore-", suffix=".payload", dir=folder)
    os.close(fd)
    scratch = Path(name)
    try:
        _copy_prefix(source, manifest.payload_bytes, scratch)
        yield scratch
    finally:
        _remove(scratch)


# -- restore ----------------------------------------------------------------------


def restore(
    engine: Engine,
    source: Path,
    progress: Progress | None = None,
    *,
    without_manifest: bool = False,
) -> RestoreResult:
    """Replace the database's content with the backup at ``source``, migrated to head.

    Checks the manifest and checksum, refuses an unknown (newer) schema
    revision, and leaves the database unchanged when anything fails.
    ``without_manifest`` accepts a plain SQLite file or pg_dump archive as
    written by earlier versions (nothing to check it against).
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} 不存在 (the file does not exist).")
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise BackupError(f"restore is not supported for {engine.dialect.name}")
    notes: list[str] = []
    try:
        manifest = _checked_manifest(engine, source, without_manifest)
        if engine.dialect.name == "sqlite":
            before = _restore_sqlite(engine, source, manifest, progress)
        else:
            before = _restore_postgresql(engine, source, manifest, notes)
    except OSError as exc:
        raise BackupError(f"{RESTORE_FAILED}: {_os_problem(exc)}") from exc
    except sqlite3.Error as exc:
        raise BackupError(f"{RESTORE_FAILED}: {_sqlite_problem(exc)}") from exc
    except SQLAlchemyError as exc:
        raise BackupError(f"{RESTORE_FAILED}: {exc}") from exc
    return RestoreResult(before, migrate.current_revision(engine), manifest is not None, notes)


def _sqlite_scratch_folder(engine: Engine) -> Path:
    database = engine.url.database
    if database and database != ":memory:":
        return Path(database).resolve().parent
    return Path(tempfile.gettempdir())


def _restore_sqlite(
    engine: Engine, source: Path, manifest: Manifest | None, progress: Progress | None
) -> str | None:
    folder = _sqlite_scratch_folder(engine)
    fd, name = tempfile.mkstemp(prefix=".restore-", suffix=".db", dir=folder)
    os.close(fd)
    scratch = Path(name)
    try:
        if manifest is None:
            shutil.copyfile(source, scratch)
        else:
            _copy_prefix(source, manifest.payload_bytes, scratch)
        revision = _check_sqlite_scratch(scratch, source, manifest)
        scratch_engine = make_engine(f"sqlite:///{scratch}")
        try:
            migrate.upgrade(scratch_engine)
        finally:
            scratch_engine.dispose()
        raw = engine.raw_connection()
        try:
            with sqlite3.connect(scratch) as origin:
                # One write transaction on the live database: rolled back on failure.
                origin.backup(
                    raw.driver_connection,  # type: ignore[arg-type]
                    pages=-1,
                    progress=(lambda _s, remaining, total: progress(total - remaining, total))
                    if progress
                    else None,
                )
            origin.close()
        finally:
            raw.close()
    finally:
        _remove(scratch)
    return revision


def _check_sqlite_scratch(scratch: Path, source: Path, manifest: Manifest | None) -> str | None:
    try:
        with sqlite3.connect(scratch) as check:
            status = check.execute("PRAGMA integrity_check").fetchone()[0]
            row = check.execute(
                "SELECT version_num FROM alembic_version"
                if check.execute(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
                ).fetchone()[0]
                else "SELECT NULL"
            ).fetchone()
        check.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(_damaged(source, f"not a readable SQLite database: {exc}")) from exc
    if status != "ok":
        raise BackupError(_damaged(source, f"SQLite's integrity check says {status}"))
    revision = row[0] if row else None
    _refuse_unknown_revision(revision, source)
    if manifest is not None and revision != manifest.schema_revision:
        raise BackupError(_damaged(source, "its schema revision differs from its manifest"))
    return revision


def _restore_postgresql(
    engine: Engine, source: Path, manifest: Manifest | None, notes: list[str]
) -> str | None:
    suffix = secrets.token_hex(4)
    scratch, aside = f"courseware_restore_{suffix}", f"courseware_replaced_{suffix}"
    try:
        with _payload_file(source, manifest, Path(tempfile.gettempdir())) as payload:
            _pg_restore_into_schema(engine, payload, scratch, aside)
        with engine.connect() as connection:
            revision = connection.execute(
                text(f"SELECT version_num FROM {scratch}.alembic_version")  # noqa: S608 - our name
            ).scalar()
        _refuse_unknown_revision(revision, source)
        if manifest is not None and revision != manifest.schema_revision:
            raise BackupError(_damaged(source, "its schema revision differs from its manifest"))
        url = engine.url.update_query_dict({"options": f"-csearch_path={scratch}"})
        scratch_engine = make_engine(url.render_as_string(hide_password=False))
        try:
            migrate.upgrade(scratch_engine)
        finally:
            scratch_engine.dispose()
        _swap_schemas(engine, scratch, aside)
    except BaseException:
        with suppress(SQLAlchemyError), engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {scratch} CASCADE"))
        raise
    try:
        with engine.begin() as connection:
            connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            connection.execute(text(f"DROP SCHEMA IF EXISTS {aside} CASCADE"))
    except SQLAlchemyError:
        notes.append(
            f"舊資料保留在 schema {aside} (the replaced data is kept in schema {aside}: a "
            f"transaction held its tables); drop it later with DROP SCHEMA {aside} CASCADE."
        )
    return revision


def _swap_schemas(engine: Engine, scratch: str, aside: str) -> None:
    """Put ``scratch`` in place of ``public`` once no transaction is using public's tables.

    A schema rename takes no lock on the tables in it, so a learner's transaction running
    across the swap would write its first rows into the old tables and the rest into the
    new ones (an audit event of an account that is not there: seen in CI). The swap first
    locks every table of public, without waiting (NOWAIT, so it never holds some locks while
    waiting for others, which could deadlock with a learner), and tries again shortly while
    any is in use. A statement that meets the locks waits, then finds the new tables.
    """
    deadline = time.monotonic() + SWAP_WAIT_SECONDS
    while True:
        try:
            with engine.begin() as connection:
                connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                tables = connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
                names = ", ".join(f'public."{name}"' for name in tables)
                if names:
                    connection.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT"))
                connection.execute(text(f"ALTER SCHEMA public RENAME TO {aside}"))
                connection.execute(text(f"ALTER SCHEMA {scratch} RENAME TO public"))
                # Every row a web worker keeps may have changed (web.learner.lesson_watch):
                # they forget them all when this commits.
                connection.execute(text(f"SELECT pg_notify('{LEARNER_CHANGES}', '*')"))
            return
        except OperationalError as exc:
            busy = getattr(exc.orig, "sqlstate", None) == "55P03"  # lock_not_available
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _pg_restore_into_schema(engine: Engine, payload: Path, scratch: str, aside: str) -> None:
    """Restore the archive into a new schema ``scratch``; public stays as it was.

    pg_restore writes objects into ``public``; inside one psql transaction the
    live public schema is renamed aside, the archive restored into an empty
    public, that renamed to ``scratch`` and the live schema renamed back. A
    failure rolls the whole transaction back.
    """
    # Only the site's own schema: another schema in the archive (another tool's, a test's left
    # behind when the backup was taken) is neither the site's data nor restored over.
    restore_cmd = [
        _tool("pg_restore"), "--no-owner", "--no-acl", "--schema=public", "--file=-", str(payload),
    ]  # fmt: skip
    psql_cmd = [
        _tool("psql"), "--quiet", "--no-psqlrc", "--set=ON_ERROR_STOP=1",
        f"--dbname={_libpq_url(engine)}",
    ]  # fmt: skip
    # The extensions the schema's indexes use live outside public (migration 0021) and are
    # not in the archive: a new database gets them before the tables are restored.
    prologue = (
        f"BEGIN;\nCREATE SCHEMA IF NOT EXISTS {EXTENSION_SCHEMA};\n"
        f"CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA {EXTENSION_SCHEMA};\n"
        f"ALTER SCHEMA public RENAME TO {aside};\nCREATE SCHEMA public;\n"
    )
    epilogue = (
        f"\nALTER SCHEMA public RENAME TO {scratch};\nALTER SCHEMA {aside} RENAME TO public;\n"
        "COMMIT;\n"
    )
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        psql = subprocess.Popen(  # noqa: S603
            psql_cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err
        )
        reader = subprocess.Popen(restore_cmd, stdout=subprocess.PIPE, stderr=restore_err)  # noqa: S603
        assert psql.stdin is not None and reader.stdout is not None
        try:
            psql.stdin.write(prologue.encode())
            shutil.copyfileobj(reader.stdout, psql.stdin, CHUNK)
            if reader.wait() == 0:
                psql.stdin.write(epilogue.encode())
            psql.stdin.close()
        except BrokenPipeError:
            pass
        finally:
            # psql stops at the first error: its input is then a broken pipe, closed here
            # all the same (flushing it may fail again), so no file is left open.
            with contextlib.suppress(BrokenPipeError):
                psql.stdin.close()
            reader.stdout.close()
            reader.wait()
            psql.wait()
        if reader.returncode != 0 or psql.returncode != 0:
            restore_err.seek(0)
            psql_err.seek(0)
            details = (restore_err.read() + psql_err.read()).decode(errors="replace").strip()
            raise BackupError(
                f"pg_restore 失敗，資料庫未變更 (pg_restore failed, the database is unchanged): "
                f"{details[-2000:]}"
            )
