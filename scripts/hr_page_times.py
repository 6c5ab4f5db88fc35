"""Each HR page warm and cold on one database, with its slowest statements: the bench's own
timings (``courseware.ops.bench``) over more pages than its ``HR_PAGES``.

    PYTHONPATH=. python scripts/hr_page_times.py URL [--runs 7] [--cold 3]

Warm: the median of ``--runs`` requests after one warm-up, in one process (the funnel once
more with its cache and snapshot forgotten before each request: the first view of each
minute). Cold: the median of ``--cold`` first requests, each by a freshly started gunicorn
worker (``bench.first_requests_of_new_workers``); "bare": each in a fresh interpreter that only
creates the app (``python -m courseware.ops.bench --first-request``). The statements are
printed to stderr, the figures as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event

from courseware.core.models import HrSnapshot
from courseware.ops import bench

PAGES = {
    **bench.HR_PAGES,
    "table_surname": "/hr/learners?q=%E7%8E%8B",  # 王: one character, no trigram
    "table_name_desc": "/hr/learners?sort=name&dir=desc&page=5",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args()
    directory = Path(os.environ.get("COURSEWARE_BENCH_DIR") or Path.cwd() / "instance" / "bench")
    directory.mkdir(parents=True, exist_ok=True)
    app = bench._app(args.url, directory)
    database = app.extensions["courseware.core.db"]
    with database.sessions() as session:
        client = bench._signed_in(app, bench._user(session, "hr"))
    statements: list[tuple[float, str]] = []

    @event.listens_for(database.engine, "before_cursor_execute")
    def started(conn: Any, _cursor: Any, _statement: str, *_args: Any) -> None:
        conn.info["started"] = time.perf_counter()

    @event.listens_for(database.engine, "after_cursor_execute")
    def ended(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        took = (time.perf_counter() - conn.info["started"]) * 1000
        statements.append((took, " ".join(statement.split())[:100]))

    def forget() -> None:
        app.extensions["courseware.funnel_cache"].clear()
        with database.sessions() as session:
            session.execute(delete(HrSnapshot).where(HrSnapshot.name.like("funnel:%")))
            session.commit()

    found: dict[str, float] = {}
    for page, path, before in [
        *((page, path, None) for page, path in PAGES.items()),
        ("funnel_recount", "/hr", forget),
    ]:
        statements.clear()
        found[page], times = bench._timed(client, path, args.runs, before)
        print(page, round(found[page], 1), [round(t) for t in times], file=sys.stderr)
        last = statements[-len(statements) // (args.runs + 1) :]
        for took, statement in sorted(last, reverse=True)[:4]:
            print(f"   {took:7.1f} {statement}", file=sys.stderr)
    database.engine.dispose()
    firsts = {}
    if args.cold:
        firsts = bench.first_requests_of_new_workers(
            args.url, directory, list(PAGES.values()), args.cold
        )
    for page, path in PAGES.items() if args.cold else ():
        found[f"{page}_cold"] = statistics.median(firsts[path])
        bare = [
            bench.first_request_in_new_process(args.url, directory, path)
            for _run in range(args.cold)
        ]
        found[f"{page}_cold_bare"] = statistics.median(bare)
        print(page, "cold", [round(t) for t in firsts[path]], file=sys.stderr)
        print(page, "bare", [round(t) for t in bare], file=sys.stderr)
    found["load"] = os.getloadavg()[0]
    print(json.dumps({k: round(v, 1) for k, v in found.items()}))


if __name__ == "__main__":
    main()
