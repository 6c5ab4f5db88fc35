"""``python -m courseware.loadtest``: the load test lives in ``courseware.ops.loadtest``."""

from courseware.ops.loadtest import main

if __name__ == "__main__":
    raise SystemExit(main())
