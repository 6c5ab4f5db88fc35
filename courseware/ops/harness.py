"""What the benchmark and the load test share: the site under gunicorn on a free port, a
signed-in client that keeps cookies and CSRF tokens, and the databases they fill."""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from courseware.content.catalogue import Catalogue
from courseware.content.store import CatalogueCache, import_sources, read_sources
from courseware.core.db import make_engine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(
    app: str, port: int, env: dict[str, str], log: Path, workers: int = 2, probe: bool = True
) -> Iterator[subprocess.Popen]:
    """gunicorn with the repository's gunicorn.conf.py, on 127.0.0.1:port, until the block ends.
    It is up when /healthz answers; with ``probe`` false, when its socket accepts (no request
    has reached a worker: see ``wait_for_workers``)."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        app,
    ]
    with log.open("ab") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
    try:
        wait_up(port, server, seconds=180, probe=probe)  # start checks read a big SQLite file whole
        yield server
    finally:
        stop(server)


def wait_up(port: int, server: subprocess.Popen, seconds: float = 60, probe: bool = True) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        if not probe:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                return
            except OSError:
                time.sleep(0.1)
                continue
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status in (200, 404):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def wait_for_workers(
    master: int, count: int, replacing: int | None = None, seconds: float = 60
) -> list[int]:
    """The process ids of a gunicorn master's workers, once ``count`` exist (none of them
    ``replacing``, a worker told to stop), after half a second for their post_fork and
    set-up (with preload_app the application was made before the fork)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        workers = [pid for pid in _workers(master) if pid != replacing]
        if len(workers) >= count and (replacing is None or replacing not in _workers(master)):
            time.sleep(0.5)
            return workers
        time.sleep(0.05)
    raise RuntimeError("gunicorn's workers did not start")


def _workers(master: int) -> dict[int, dict[str, str]]:
    """A process's children (Linux /proc): their ids and /proc status fields."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master):
            found[int(entry.name)] = fields
    return found


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each worker process of a gunicorn master (Linux /proc)."""
    return [
        int(fields["VmRSS"].split()[0]) / 1024
        for fields in _workers(master).values()
        if "VmRSS" in fields
    ]


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """A signed-in visitor: one cookie jar, the CSRF token of the last page read."""

    def __init__(self, base: str) -> None:
        self.base = base
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, form: Any = None) -> tuple[int, str, str]:
        """(status, body, Location) of one request; cookies kept, CSRF token remembered."""
        headers = {"Cookie": self.cookie_header(), "Accept-Language": "zh-TW"}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            if found := CSRF_RE.search(text):
                self.csrf = found.group(1)
            location = response.getheader("Location") or ""
            return response.status, text, urlsplit(location).path
        finally:
            connection.close()

    def get(self, path: str) -> tuple[int, str, str]:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, Any]) -> tuple[int, str, str]:
        return self.request("POST", path, {"csrf_token": self.csrf, **form})

    def sign_in(self, username: str, password: str) -> None:
        self.get("/login")
        status, _body, _location = self.post("/login", {"username": username, "password": password})
        if status != 302:
            raise RuntimeError(f"sign-in of {username} answered {status}")


def shipped_course(session: Session) -> Catalogue:
    """Import the repository's course files into a fresh database and return the catalogue."""
    folders = ("content", "quizzes", "case_studies")
    sources, _errors = read_sources({folder: ROOT / folder for folder in folders})
    import_sources(session, sources)
    session.commit()
    catalogue = CatalogueCache().get(session)
    session.commit()
    return catalogue


def empty_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    ensure_postgres_database(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def ensure_postgres_database(url: str) -> None:
    """Create the URL's database on its server if it does not exist yet."""
    parsed = make_url(url)
    engine = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            found = connection.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %(name)s", {"name": parsed.database}
            ).first()
            if not found:
                connection.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    finally:
        engine.dispose()


ROOT = Path(__file__).resolve().parents[2]
