"""The bench's HR figures: each page's first request timed in a freshly started process."""

from __future__ import annotations

from courseware.ops import bench
from tests.ops.test_seed import _seed


def test_each_hr_page_is_timed_cold_in_a_fresh_process(app, db, course, database_url, tmp_path):
    _seed(db)
    found = bench.cold_figures(database_url, tmp_path, 1)
    assert set(found) == {f"hr_{page}_cold_ms" for page in bench.HR_PAGES}
    assert all(ms > 0 for ms in found.values())


def test_a_target_covers_every_hr_figure_cold_and_warm():
    for page in bench.HR_PAGES:
        for key in (f"hr_{page}_ms_sqlite", f"hr_{page}_cold_ms_postgres_100k"):
            assert bench._verdict(key, 10.0) == "< 150: met", key
            assert bench._verdict(key, 151.0) == "< 150: MISSED", key
