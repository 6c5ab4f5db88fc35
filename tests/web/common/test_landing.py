"""Each role lands on its own home page after signing in and at "/"; staff keep the
learner's view of the course at /course."""

from __future__ import annotations

import pytest

from tests.conftest import login

HOMES = {
    "trainee": "/",
    "trainer": "/author",
    "manager": "/hr",
    "hr": "/hr",
    "admin": "/admin/",
}


@pytest.mark.parametrize("role", sorted(HOMES))
def test_each_role_lands_on_its_home_page(client, users, course, role):
    response = login(client, role)
    assert response.status_code == 302 and response.location == HOMES[role]
    root = client.get("/")
    if role == "trainee":
        assert root.status_code == 200 and 'id="overall-title"' in root.get_data(as_text=True)
    else:
        assert root.status_code == 302 and root.location == HOMES[role]
    assert client.get(HOMES[role]).status_code == 200


@pytest.mark.parametrize("role", ["trainer", "manager", "hr", "admin"])
def test_staff_keep_a_link_to_the_learner_view(client, users, course, role):
    login(client, role)
    home = client.get(HOMES[role]).get_data(as_text=True)
    assert 'href="/course"' in home
    course_page = client.get("/course")
    assert course_page.status_code == 200
    assert 'id="overall-title"' in course_page.get_data(as_text=True)


def test_a_next_page_still_wins_over_the_home_page(client, users, course):
    response = login(client, "hr", next="/hr/learners")
    assert response.location == "/hr/learners"
