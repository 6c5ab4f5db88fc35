"""The bench's HR figures: each page's first request timed in a freshly started gunicorn
worker, and in a bare new interpreter for comparison."""

from __future__ import annotations

from courseware.ops import bench
from tests.ops.test_seed import _seed


def test_each_hr_page_is_timed_cold_in_a_fresh_process(app, db, course, database_url, tmp_path):
    _seed(db)
    found = bench.cold_figures(database_url, tmp_path, 1)
    assert set(found) == {
        f"hr_{page}_cold{bare}_ms" for page in bench.HR_PAGES for bare in ("", "_bare")
    }
    assert all(ms > 0 for ms in found.values())
    # One gunicorn; each timed request went to a worker that had served nothing before it:
    # the master forked a new worker for each (three pages, three workers booted).
    log = (tmp_path / "gunicorn.log").read_text()
    assert log.count("Booting worker") == len(bench.HR_PAGES) and log.count("Listening at") == 1


def test_a_target_covers_every_hr_figure_cold_and_warm():
    for page in bench.HR_PAGES:
        for key in (f"hr_{page}_ms_sqlite", f"hr_{page}_cold_ms_postgres_100k"):
            assert bench._verdict(key, 10.0) == "< 150: met", key
            assert bench._verdict(key, 151.0) == "< 150: MISSED", key
        assert bench._verdict(f"hr_{page}_cold_bare_ms_sqlite", 500.0) == "", "no target"
