"""``python -m courseware.bench``: the benchmark lives in ``courseware.ops.bench``."""

from courseware.ops.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
