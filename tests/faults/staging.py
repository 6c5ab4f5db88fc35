"""Staging real faults for the fault tests: a small tmpfs that fills up, a read-only
remount, a truncated database file, and an app whose database and instance folder live
there.

A fault that cannot be staged here (not root, no tmpfs) skips the test with the reason,
except when COURSEWARE_REQUIRE_FAULTS=1 (CI sets it): then the test fails.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

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
