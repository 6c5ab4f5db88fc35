"""Staging real faults for the fault tests: a small tmpfs that fills up, a read-only
remount, a truncated database file, and an app whose database and instance folder live
there.

A fault that cannot be staged here (not root, no tmpfs) skips the test with the reason,
except when COURSEWARE_REQUIRE_FAULTS=1 (CI sets it): then the test fails.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, NullPool, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from courseware import create_app
from courseware.certification.policy import Policy
from courseware.core.db import make_engine
from courseware.ops import migrate
from courseware.web.common.policy import KEY as POLICY_KEY
from tests.conftest import DATA

REQUIRED = os.environ.get("COURSEWARE_REQUIRE_FAULTS") == "1"


def cannot_stage(reason: str) -> None:
    """Skip with the reason on a developer's machine; fail where faults are required."""
    if REQUIRED:
        pytest.fail(f"COURSEWARE_REQUIRE_FAULTS=1, yet this fault cannot be staged: {reason}")
    pytest.skip(reason)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def mount_tmpfs(target: Path, size: str) -> None:
    """A tmpfs of ``size`` at ``target``, or skip (fail in CI) with the reason."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        cannot_stage("mounting a size-limited tmpfs needs root")
    done = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target))
    if done.returncode != 0:
        cannot_stage(f"mount -t tmpfs failed: {done.stderr.strip()}")


def unmount(target: Path) -> None:
    _run("umount", "-l", str(target))


def bind_read_only(target: Path) -> None:
    """Make the folder ``target`` read-only, as a bind mount onto itself remounted ro
    (chmod does not stop root). Nothing may hold a file there open for writing."""
    done = _run("mount", "--bind", str(target), str(target))
    if done.returncode != 0:
        cannot_stage(f"mount --bind failed: {done.stderr.strip()}")
    remount(target, "ro,bind")


def remount(target: Path, mode: str) -> None:
    """Remount ``target`` (a mount point) read-only ("ro") or read-write ("rw")."""
    done = _run("mount", "-o", f"remount,{mode}", str(target))
    if done.returncode != 0:
        cannot_stage(f"mount -o remount,{mode} failed: {done.stderr.strip()}")


@contextlib.contextmanager
def small_disk(tmp_path: Path, size: str = "8m") -> Iterator[Path]:
    """A size-limited filesystem for the database and the instance folder."""
    mount = tmp_path / "disk"
    mount_tmpfs(mount, size)
    try:
        yield mount
    finally:
        unmount(mount)


def fill(folder: Path) -> Path:
    """Fill the filesystem of ``folder`` to the last byte; the file that did it."""
    ballast = folder / "ballast.bin"
    with ballast.open("wb", buffering=0) as out:
        # Large writes first, then the last partial block byte by byte: not a page is left.
        for size in (1 << 16, 1):
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * size)
    return ballast


def migrated_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def fault_app(database_url: str, instance: Path, **extra: Any) -> Flask:
    """The site on the given database, with its instance folder at ``instance``."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "faults",
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance),
            "CONTENT_DIR": str(DATA / "content"),
            "QUIZ_DIR": str(DATA / "quizzes"),
            "CASE_DIR": str(DATA / "case_studies"),
            **extra,
        }
    )


def one_case_certifies(app: Flask) -> Policy:
    """The shipped policy, with one decided case (any score) enough for certification."""
    holder = app.extensions[POLICY_KEY]
    rules = holder.policy.certification.model_copy(
        update={"cases_required": 1, "case_average_min": 0}
    )
    policy = holder.policy.model_copy(update={"certification": rules})
    app.extensions[POLICY_KEY] = type(holder)(policy, [])
    return policy


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", None, ""}


def _autocommit(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


@dataclass(frozen=True)
class ScratchDatabase:
    """A database of its own on the test server, its tables on a tablespace in ``disk``."""

    url: str  # the scratch database
    server_url: str  # the test database, for what is done to the scratch one from outside
    name: str
    disk: Path


@contextlib.contextmanager
def postgresql_on_small_disk(
    server_url: str | None, size: str = "48m"
) -> Iterator[ScratchDatabase]:
    """A scratch database ``<test database>_faults`` whose tablespace is a tmpfs of ``size``
    owned by the ``postgres`` user, migrated to head; dropped, with its tablespace, and the
    tmpfs unmounted afterwards. Needs the server on this machine and root to mount."""
    if not server_url:
        cannot_stage("COURSEWARE_TEST_DATABASE_URL is not set: no PostgreSQL server")
    parsed = make_url(server_url)
    if parsed.get_backend_name() != "postgresql" or parsed.host not in LOCAL_HOSTS:
        cannot_stage(f"the PostgreSQL server must run on this machine, not {parsed.host}")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        cannot_stage("no postgres user owns the server's files here")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{parsed.database}_faults_{worker}"
    space = f"{name}_space"
    server = _autocommit(server_url)
    try:
        with server.connect() as connection:  # left behind by a run that was killed
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'DROP TABLESPACE IF EXISTS "{space}"'))
    except SQLAlchemyError as exc:
        server.dispose()
        cannot_stage(f"cannot manage databases on {parsed.host}: {exc.orig or exc}")
    # /tmp, not pytest's tmp_path: the server's user must reach the folder.
    mount = Path(tempfile.mkdtemp(prefix="courseware-pgfault-"))
    try:
        mount_tmpfs(mount, size)
        os.chown(mount, owner.pw_uid, owner.pw_gid)
        location = mount / "tablespace"
        location.mkdir()
        os.chown(location, owner.pw_uid, owner.pw_gid)
        with server.connect() as connection:
            connection.execute(text(f"CREATE TABLESPACE \"{space}\" LOCATION '{location}'"))
            connection.execute(text(f'CREATE DATABASE "{name}" TABLESPACE "{space}"'))
        url = parsed.set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield ScratchDatabase(url, server_url, name, mount)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'DROP TABLESPACE IF EXISTS "{space}"'))
        server.dispose()
        unmount(mount)
        with contextlib.suppress(OSError):
            mount.rmdir()
