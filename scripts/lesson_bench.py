"""The lesson page against the floor only: bench.py's measurement on a small database.

    PYTHONPATH=. python scripts/lesson_bench.py [--postgres URL] [--seconds 5] [--rounds 2]
    PYTHONPATH=. python scripts/lesson_bench.py --in-process [--postgres URL] [--requests 3000]

Seeds (once, then reused) a database with a few learners and the shipped course, then runs
``courseware.ops.bench.http_figures``: the floor app and the signed-in lesson page under the
same gunicorn (2 sync workers) and the same load, back to back. Prints both requests per
second and their ratio per database, and the figures as one JSON line.

``--in-process`` measures without gunicorn or a load driver: the CPU milliseconds of one
signed-in lesson GET through the application's WSGI callable (what gunicorn calls), beside
the floor app's, best of three runs; CPU time, so other processes on a busy machine count
less than in the requests per second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from courseware.content.store import CatalogueCache
from courseware.core.models import User
from courseware.ops.bench import PASSWORD, _app, floor_app, http_figures, prepare
from courseware.ops.harness import CSRF_RE, ensure_postgres_database

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL to measure too")
    parser.add_argument("--seconds", type=float, default=5.0, help="load per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    parser.add_argument("--only-postgres", action="store_true", help="skip SQLite")
    parser.add_argument("--in-process", action="store_true", help="CPU ms per request, no server")
    parser.add_argument("--requests", type=int, default=3000, help="per in-process run")
    args = parser.parse_args(argv)
    directory = Path(os.environ.get("COURSEWARE_BENCH_DIR") or ROOT / "instance" / "lesson-bench")
    directory.mkdir(parents=True, exist_ok=True)
    urls = {} if args.only_postgres else {"sqlite": f"sqlite:///{directory / 'lesson.db'}"}
    if args.postgres:
        ensure_postgres_database(args.postgres)
        urls["postgres"] = args.postgres
    result: dict[str, float | str] = {"load_at_start": round(os.getloadavg()[0], 1)}
    for name, url in urls.items():
        prepare(url, directory, name, LEARNERS, quick=True)
        if args.in_process:
            lesson_ms, floor_ms = in_process(url, directory, args.requests)
            print(f"{name}: lesson {lesson_ms:.3f} ms, floor {floor_ms:.3f} ms", file=sys.stderr)
            result[f"lesson_cpu_ms_{name}"] = round(lesson_ms, 3)
            result[f"floor_cpu_ms_{name}"] = round(floor_ms, 3)
            continue
        found = http_figures(url, directory, args.seconds, args.rounds)
        print(
            f"{name}: floor {found['floor_rps']:.0f} rps, lesson {found['lesson_rps']:.0f} rps, "
            f"ratio {found['lesson_rps_ratio']:.3f} ({found['driver']})",
            file=sys.stderr,
        )
        result[f"floor_rps_{name}"] = round(found["floor_rps"])
        result[f"lesson_rps_{name}"] = round(found["lesson_rps"])
        result[f"lesson_rps_ratio_{name}"] = round(found["lesson_rps_ratio"], 3)
    result["load_at_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result, sort_keys=True))
    return 0


def in_process(url: str, directory: Path, requests: int) -> tuple[float, float]:
    """CPU milliseconds per signed-in lesson GET and per floor GET, best of three runs."""
    app = _app(url, directory)
    sessions = app.extensions["courseware.core.db"].sessions
    with sessions() as session:
        trainee = session.scalar(
            select(User.username).where(User.role == "trainee", User.active).order_by(User.id)
        )
        catalogue = CatalogueCache().get(session)
    module = catalogue.modules[0]
    lesson = f"/modules/{module.slug}/{module.lessons[0].slug}"
    client = app.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    headers = {"User-Agent": "bench", "Accept-Language": "zh-TW"}
    form = {"csrf_token": token, "username": trainee, "password": PASSWORD}
    assert client.post("/login", data=form, headers=headers).status_code == 302
    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    environ = EnvironBuilder(
        path=lesson,
        headers={**headers, "Cookie": cookie},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    ).get_environ()
    _run(app, environ, 50)  # the view written, the page kept
    floor, floor_environ = floor_app(), EnvironBuilder(path="/").get_environ()
    lesson_ms = min(_run(app, environ, requests) for _ in range(3))
    floor_ms = min(_run(floor, floor_environ, requests) for _ in range(3))
    app.extensions["courseware.core.db"].engine.dispose()
    return lesson_ms, floor_ms


def _run(app: Any, environ: dict, requests: int) -> float:
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc: Any = None) -> None:
        statuses.append(status)

    started = time.process_time()
    for _ in range(requests):
        body = app(dict(environ), start_response)
        for _chunk in body:
            pass
        getattr(body, "close", lambda: None)()
    took = time.process_time() - started
    assert all(status.startswith("200") for status in statuses), set(statuses)
    return took / requests * 1000


if __name__ == "__main__":
    sys.exit(main())
