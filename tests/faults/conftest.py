"""Faults staged for real: a full disk (a tiny tmpfs), a read-only folder (a read-only
bind mount; chmod does not stop root), damaged files, old backups.

Staging needs root and ``mount``. Where they are missing the test is skipped with
the reason, except when ``COURSEWARE_REQUIRE_FAULTS=1`` (CI sets it): then it fails,
so a fault suite that silently stages nothing cannot pass in CI. Every mount lives
under the test's tmp_path and is unmounted in teardown.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRE = os.environ.get("COURSEWARE_REQUIRE_FAULTS") == "1"


def cannot_stage(reason: str) -> None:
    """Skip the test, or fail it when faults are required (CI)."""
    if REQUIRE:
        pytest.fail(f"fault cannot be staged and COURSEWARE_REQUIRE_FAULTS=1: {reason}")
    pytest.skip(f"fault cannot be staged here: {reason}")


def _mount(*args: str) -> None:
    if os.geteuid() != 0:
        cannot_stage("mounting needs root")
    if shutil.which("mount") is None:
        cannot_stage("no mount command")
    result = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        cannot_stage(f"mount {' '.join(args)} failed: {result.stderr.strip()}")


def _unmount(path: Path) -> None:
    result = subprocess.run(["umount", str(path)], capture_output=True, check=False)
    if result.returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: fill it with ``fill_disk`` to stage a full disk."""
    mountpoint = tmp_path / "tiny-disk"
    mountpoint.mkdir()
    _mount("-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mountpoint))
    try:
        yield mountpoint
    finally:
        _unmount(mountpoint)


def fill_disk(folder: Path, leave_bytes: int) -> Path:
    """Take all but about ``leave_bytes`` of the free space of ``folder``'s file system."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    filler = folder / "filler.bin"
    with filler.open("wb") as out:
        out.write(b"\0" * max(0, free - leave_bytes))
    return filler


@pytest.fixture
def make_read_only(tmp_path: Path) -> Iterator:
    """``make_read_only(folder)`` bind-mounts ``folder`` onto itself, read-only."""
    mounted: list[Path] = []

    def apply(folder: Path) -> None:
        _mount("--bind", str(folder), str(folder))
        mounted.append(folder)
        _mount("-o", "remount,ro,bind", str(folder))
        probe = folder / ".probe"
        try:
            probe.write_bytes(b"x")
        except OSError:
            return
        probe.unlink()
        cannot_stage(f"{folder} is still writable after a read-only remount")

    yield apply
    for folder in reversed(mounted):
        _unmount(folder)
