"""A freshly started worker's first HR page: it reads what other workers counted and shared
(the course keys, the module funnel) instead of parsing the course and counting again; a
funnel older than its minute is shown with its time and recounted after the response."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from courseware import create_app
from courseware.core import clock
from courseware.core.models import ContentState
from courseware.hr.reports import FunnelCache, course_keys, shared_course_keys
from courseware.web.common.policy import policy
from tests.conftest import login
from tests.hr.test_reports import NOW, add_learner

EN = {"Accept-Language": "en"}


pytestmark = pytest.mark.usefixtures("fixed_clock")


def fresh_worker(app: Flask) -> Flask:
    """Another process's app on the same database: nothing parsed or cached."""
    names = ("TESTING", "DATABASE_URL", "SECRET_KEY", "INSTANCE_PATH", "CONTENT_DIR", "QUIZ_DIR")
    return create_app({name: app.config[name] for name in (*names, "CASE_DIR")})


def parsed(app: Flask) -> bool:
    return app.extensions["courseware.core.db"].catalogue._catalogue is not None


def counted(html: str) -> tuple[str, str]:
    found = re.search(r"Counted at ([^<]*) over (\d+) learners", html)
    assert found, html
    return found.group(1), found.group(2)


def test_a_fresh_worker_serves_hr_pages_without_parsing_the_course(app, client, db, users, course):
    add_learner(db, "first")
    db.commit()
    login(client, "hr")
    first = client.get("/hr", headers=EN).get_data(as_text=True)
    assert parsed(app)  # the first worker parsed the course and shared its keys
    clock.set_time(NOW + timedelta(seconds=30))
    worker = fresh_worker(app)
    try:
        other = worker.test_client()
        login(other, "hr")
        page = other.get("/hr", headers=EN)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert counted(html) == counted(first)  # the first worker's funnel, with its time
        assert "10:00" in counted(html)[0]
        for path in ("/hr/learners", "/hr/learners?q=first", "/hr/learners/export.csv"):
            assert other.get(path, headers=EN).status_code == 200, path
        assert not parsed(worker)
    finally:
        worker.extensions["courseware.core.db"].engine.dispose()


def test_shared_course_keys_are_the_catalogues_until_the_content_moves(app, db, course):
    from courseware.content.store import CatalogueCache, content_version

    with app.app_context():
        cases = policy().certification.cases_required
        catalogue = CatalogueCache().get(db)
        built = course_keys(catalogue, policy())
    builds: list[int] = []

    def build():
        builds.append(1)
        return built, catalogue.version

    version = content_version(db)
    first = shared_course_keys(db, version, cases, build, NOW)
    db.rollback()  # the next request's transaction (SQLite reads from its start)
    again = shared_course_keys(db, version, cases, build, NOW)
    assert first == again == built and len(builds) == 1
    assert list(again.module_titles) == list(built.module_titles)  # the funnel's order
    db.execute(update(ContentState).values(version=ContentState.version + 1))
    db.commit()
    shared_course_keys(db, content_version(db), cases, build, NOW)
    assert len(builds) == 2  # a publish: never the keys of another version


def test_an_old_funnel_is_shown_with_its_time_then_recounted_after_the_response(
    app, client, db, users, course
):
    app.extensions["courseware.funnel_cache"] = FunnelCache(timedelta(seconds=60))
    add_learner(db, "first")
    db.commit()
    login(client, "hr")
    client.get("/hr", headers=EN)
    add_learner(db, "second")
    db.commit()
    clock.set_time(NOW + timedelta(minutes=5))
    response = client.get("/hr", headers=EN)
    html = response.get_data(as_text=True)
    assert "10:00" in counted(html)[0] and counted(html)[1] == "2"  # shown, not waited for
    assert '<span class="figure-number">3</span>' in html  # the figures above are live
    response.close()  # the server closes the response once sent: the recount runs then
    html = client.get("/hr", headers=EN).get_data(as_text=True)
    assert "10:05" in counted(html)[0] and counted(html)[1] == "3"
