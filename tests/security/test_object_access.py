"""Object-level checks: nobody reads another learner's attempts, decisions,
transcript or certificate by guessing an id; managers see only their branch."""

from __future__ import annotations

import pytest

from tests.conftest import login, make_user, post
from tests.security.objects import arrange_objects


@pytest.fixture
def objects(app, db, course):
    return arrange_objects(app, db)


def test_another_trainee_gets_404_for_every_object_of_the_learner(app, db, objects):
    make_user(db, "nosy", branch="台北分行")
    client = app.test_client()
    login(client, "nosy")
    o = objects
    for path in (
        f"/quiz/alpha/attempts/{o.attempt_id}",
        f"/quiz/alpha/attempts/{o.attempt_id}/review",
        f"/cases/restructure-illness/decisions/{o.decision_id}",
        f"/certificate/{o.code}",
        f"/certificate/{o.code}/pdf",
    ):
        assert client.get(path).status_code == 404, path
    for path in (
        f"/quiz/alpha/attempts/{o.attempt_id}/save",
        f"/quiz/alpha/attempts/{o.attempt_id}/submit",
    ):
        assert post(client, path, {"token": "x"}).status_code == 404, path
    for path in (
        f"/hr/learners/{o.learner.id}",
        f"/hr/learners/{o.learner.id}/export.csv",
        f"/people/{o.learner.id}/certification",
    ):
        assert client.get(path).status_code == 403, path
    own = client.get("/transcript").get_data(as_text=True)
    assert o.learner.display_name not in own


def test_the_owner_reaches_their_own_objects(app, objects):
    client = app.test_client()
    login(client, "target")
    assert client.get(f"/quiz/alpha/attempts/{objects.attempt_id}").status_code == 200
    assert client.get(f"/certificate/{objects.code}").status_code == 200


def test_a_manager_of_another_branch_sees_nothing_of_the_learner(app, db, objects):
    make_user(db, "south", role="manager", branch="高雄分行")
    client = app.test_client()
    login(client, "south")
    assert client.get(f"/hr/learners/{objects.learner.id}").status_code == 404
    assert client.get(f"/hr/learners/{objects.learner.id}/export.csv").status_code == 404
    assert client.get(f"/certificate/{objects.code}").status_code == 404
    table = client.get("/hr/learners").get_data(as_text=True)
    assert objects.learner.display_name not in table


def test_a_manager_of_the_same_branch_reads_the_transcript(app, db, objects):
    make_user(db, "north", role="manager", branch="台北分行")
    client = app.test_client()
    login(client, "north")
    assert client.get(f"/hr/learners/{objects.learner.id}").status_code == 200
    assert client.get(f"/certificate/{objects.code}").status_code == 200
