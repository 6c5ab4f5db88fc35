"""The lesson page against the floor only: bench.py's measurement on a small database.

    PYTHONPATH=. python scripts/lesson_bench.py [--postgres URL] [--seconds 5] [--rounds 2]

Seeds (once, then reused) a database with a few learners and the shipped course, then runs
``courseware.ops.bench.http_figures``: the floor app and the signed-in lesson page under the
same gunicorn (2 sync workers) and the same load, back to back. Prints both requests per
second and their ratio per database, and the figures as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from courseware.ops.bench import http_figures, prepare
from courseware.ops.harness import ensure_postgres_database

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL to measure too")
    parser.add_argument("--seconds", type=float, default=5.0, help="load per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    parser.add_argument("--only-postgres", action="store_true", help="skip SQLite")
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


if __name__ == "__main__":
    sys.exit(main())
