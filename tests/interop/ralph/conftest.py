"""A real LRS for the xAPI tests: Ralph (PyPI ralph-malph) with its filesystem backend, in
its own virtual environment, started on a free port with a basic-auth account.

The venv is ``.ralph-venv`` at the repository's root, or ``COURSEWARE_RALPH_VENV``; .ci/run
builds it from requirements.txt beside this file. Without it these tests skip with the
reason; with ``COURSEWARE_REQUIRE_INTEROP=1`` (CI's interop step) they fail instead."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from courseware.core.config import REPO_ROOT
from tests.conftest import free_port

VENV = Path(os.environ.get("COURSEWARE_RALPH_VENV") or REPO_ROOT / ".ralph-venv")
REQUIRE = os.environ.get("COURSEWARE_REQUIRE_INTEROP", "").strip() not in ("", "0")
USER, PASSWORD = "academy", "lrs-password"
START_SECONDS = 60


def _missing() -> str | None:
    if not (VENV / "bin" / "ralph").exists():
        return (
            f"Ralph is not installed in {VENV}: python3 -m venv .ralph-venv && "
            ".ralph-venv/bin/pip install -r tests/interop/ralph/requirements.txt"
        )
    return None


class Ralph:
    """One Ralph LRS process on ``port``, storing in ``folder``; stop and start keep the data."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_AUTH_FILE": str(folder / "auth.json"),
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder / "data"),
            "RALPH_APP_DIR": str(folder / "app"),
            "HOME": str(folder),
        }
        (folder / "data").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                str(VENV / "bin" / "ralph"),
                "auth",
                "--username", USER,
                "--password", PASSWORD,
                "--scope", "all",
                "--agent-ifi-account", USER, "https://lrs.example",
                "--write-to-disk",
            ],
            env=self.env,
            check=True,
            capture_output=True,
            cwd=folder,
        )  # fmt: skip

    @property
    def url(self) -> str:
        """The xAPI endpoint (COURSEWARE_LRS_URL)."""
        return f"http://127.0.0.1:{self.port}/xAPI"

    def start(self) -> None:
        log = (self.folder / "ralph.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(VENV / "bin" / "python"),
                str(Path(__file__).with_name("serve.py")),
                "127.0.0.1", str(self.port),
            ],
            env=self.env,
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Ralph stopped at start: {self.log()}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=2
                ) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"Ralph did not answer within {START_SECONDS} s: {self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        path = self.folder / "ralph.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def statements(self) -> list[dict[str, Any]]:
        """Every statement Ralph holds, following its ``more`` links."""
        found: list[dict[str, Any]] = []
        path = "/xAPI/statements?limit=100"
        token = b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        while path:
            request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
            request.add_header("X-Experience-API-Version", "1.0.3")
            request.add_header("Authorization", f"Basic {token}")
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                page = json.loads(answer.read())
            found.extend(page["statements"])
            path = page.get("more") or ""
        return found


@pytest.fixture
def ralph(tmp_path: Path) -> Iterator[Ralph]:
    reason = _missing()
    if reason:
        if REQUIRE:
            pytest.fail(f"COURSEWARE_REQUIRE_INTEROP=1, yet Ralph is missing: {reason}")
        pytest.skip(reason)
    server = Ralph(tmp_path / "ralph")
    server.start()
    try:
        yield server
    finally:
        server.stop()
