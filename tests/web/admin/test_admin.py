"""Account administration: who may, creating, editing, resetting."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware.core.models import AuditEvent, User
from tests.conftest import login, post


@pytest.mark.parametrize("role", ["trainee", "trainer", "manager", "hr"])
def test_only_admins_reach_admin_pages(client: FlaskClient, users, role):
    login(client, role)
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/users/new").status_code == 403
    assert post(client, f"/admin/users/{users['trainee'].id}/reset-password").status_code == 403


def test_admin_creates_an_account_that_must_change_its_password(client, users, db: Session):
    login(client, "admin")
    response = post(
        client,
        "/admin/users/new",
        {
            "username": "wang.ming",
            "display_name": "王明",
            "employee_id": "A123",
            "branch": "台中分行",
            "role": "trainee",
            "password": "a long first password",
        },
        token_from="/admin/users/new",
    )
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.username == "wang.ming"))
    assert user.must_change_password and user.branch == "台中分行"
    assert user.password_hash != "a long first password"
    actions = db.scalars(select(AuditEvent.action)).all()
    assert "account.create" in actions


def test_form_error_keeps_what_was_typed(client, users):
    login(client, "admin")
    response = post(
        client,
        "/admin/users/new",
        {
            "username": "trainee",
            "display_name": "重複的人",
            "employee_id": "B9",
            "branch": "高雄分行",
            "role": "trainee",
            "password": "a long first password",
        },
        token_from="/admin/users/new",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "That user name is taken." in html
    assert 'value="重複的人"' in html and 'value="高雄分行"' in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html


def test_empty_and_over_long_fields_come_back_with_messages(client, users):
    login(client, "admin")
    response = post(
        client,
        "/admin/users/new",
        {
            "username": "",
            "display_name": "名" * 150,
            "role": "trainee",
            "password": "x",
        },
        token_from="/admin/users/new",
    )
    assert response.status_code == 400
    assert "名" * 150 in response.get_data(as_text=True)


def test_role_change_is_audited_with_before_and_after(client, users, db: Session):
    login(client, "admin")
    target = users["trainee"]
    post(
        client,
        f"/admin/users/{target.id}",
        {
            "display_name": target.display_name,
            "employee_id": "",
            "branch": target.branch,
            "role": "trainer",
            "active": "y",
        },
        token_from=f"/admin/users/{target.id}",
    )
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "account.update"))
    assert event.before["role"] == "trainee" and event.after["role"] == "trainer"


def test_admin_cannot_demote_or_deactivate_themselves(client, users, db: Session):
    login(client, "admin")
    me = users["admin"]
    response = post(
        client,
        f"/admin/users/{me.id}",
        {
            "display_name": "x",
            "employee_id": "",
            "branch": "",
            "role": "trainee",
        },
        token_from=f"/admin/users/{me.id}",
    )
    assert response.status_code == 400
    db.expire_all()
    assert db.get(User, me.id).role == "admin"


def test_reset_password_shows_a_temporary_password_that_works_once(app, client, users):
    login(client, "admin")
    html = post(
        client, f"/admin/users/{users['trainee'].id}/reset-password", token_from="/admin/"
    ).get_data(as_text=True)
    temporary = re.search(r'<p class="secret"><code>([^<]+)</code>', html).group(1)
    other = app.test_client()
    response = login(other, "trainee", password=temporary)
    assert response.location == "/account"


def test_unknown_user_is_404(client, users):
    login(client, "admin")
    assert client.get("/admin/users/99999").status_code == 404


def _listed(page: str) -> list[str]:
    return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', page)


def test_the_accounts_list_comes_a_page_at_a_time_and_searches_every_account(
    client, users, db: Session
):
    """With thousands of accounts the admin's landing page stays one page long (it was every
    account: 3 MB of HTML and seconds at 10,000 learners); a search finds an account on any
    page, in any case, and the page links keep the search."""
    for n in range(70):
        db.add(
            User(
                username=f"officer{n:03d}",
                display_name=f"Officer {n:03d}",
                role="trainee",
                branch="高雄分行" if n == 64 else "台北分行",
                password_hash="x",
            )
        )
    db.commit()
    login(client, "admin")
    first = client.get("/admin/").get_data(as_text=True)
    shown = _listed(first)
    assert len(shown) == 50
    assert 'rel="next"' in first and "/admin/?page=2" in first
    rest = _listed(client.get("/admin/?page=2").get_data(as_text=True))
    every = db.scalar(select(func.count()).select_from(User))
    assert len(rest) == every - 50 and not set(rest) & set(shown)
    assert _listed(client.get("/admin/?page=99").get_data(as_text=True)) == rest  # the last

    assert "officer064" not in shown  # trainees come after the staff's roles
    found = client.get("/admin/?q=OFFICER06").get_data(as_text=True)
    assert sorted(_listed(found)) == [f"officer06{d}" for d in range(10)]
    assert _listed(client.get("/admin/?q=高雄").get_data(as_text=True)) == ["officer064"]
    assert 'rel="next"' not in found
    many = client.get("/admin/?q=officer").get_data(as_text=True)
    assert "/admin/?q=officer&amp;page=2" in many
