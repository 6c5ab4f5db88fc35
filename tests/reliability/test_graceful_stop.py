"""A worker stopped while a request is in flight finishes it (gunicorn's graceful stop)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from courseware.core.db import make_engine
from courseware.ops import migrate

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'academy.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "COURSEWARE_DATABASE_URL": url,
        "COURSEWARE_SECRET_KEY": "graceful",
        "COURSEWARE_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "--graceful-timeout", "10",
         "-b", f"127.0.0.1:{port}", "tests.reliability.slowapp:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", time.monotonic() + 30)
        result: dict[str, object] = {}

        def slow_request() -> None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/__slow", timeout=20
                ) as response:
                    result["status"] = response.status
                    result["body"] = response.read().decode()
            except OSError as exc:
                result["error"] = exc

        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.7)  # the request is now being served
        server.send_signal(signal.SIGTERM)
        thread.join(timeout=20)
        assert result == {"status": 200, "body": "finished"}
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()
