"""The admin's CSV import page: admins only, errors named by line, passwords shown once."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from courseware.core.models import User
from tests.conftest import login, post

EN = {"Accept-Language": "en"}


def upload(client, text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return post(
        client,
        "/admin/import",
        {"file": (io.BytesIO(data), "people.csv")},
        token_from="/admin/import",
        content_type="multipart/form-data",
        headers=EN,
    )


@pytest.mark.parametrize("role", ["trainee", "trainer", "manager", "hr"])
def test_only_admins_import(client, users, role):
    login(client, role)
    assert client.get("/admin/import").status_code == 403


def test_accounts_page_links_to_the_import(client, users):
    login(client, "admin")
    assert 'href="/admin/import"' in client.get("/admin/").get_data(as_text=True)


def test_page_documents_the_columns(client, users):
    login(client, "admin")
    html = client.get("/admin/import", headers=EN).get_data(as_text=True)
    for name in (
        "user name",
        "使用者名稱",
        "display name",
        "姓名",
        "employee id",
        "員工編號",
        "branch",
        "分行",
        "role",
        "角色",
        "cohort",
        "梯次",
    ):
        assert name in html


def test_a_clean_upload_creates_accounts_and_shows_passwords_once(client, db, users):
    login(client, "admin")
    response = upload(client, "user name,display name\nnew.one,新人\nnew.two,新人二\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "2 accounts created" in html
    assert db.scalar(select(User).where(User.username == "new.two")).must_change_password
    assert html.count("<code>") == 2


def test_a_bad_upload_names_the_lines_and_imports_nothing(client, db, users):
    login(client, "admin")
    response = upload(
        client, "user name,display name,role\nfine,好,trainee\nbad!,壞,trainee\nx2,,boss\n"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported" in html
    assert "Line 3:" in html and "Line 4:" in html and "Line 2:" not in html
    assert db.scalar(select(User).where(User.username == "fine")) is None


def test_big5_upload_is_refused(client, users):
    login(client, "admin")
    response = upload(client, "user name,display name\nwang,王小明\n".encode("big5"))
    assert response.status_code == 400 and "not UTF-8" in response.get_data(as_text=True)


def test_upload_without_a_file(client, users):
    login(client, "admin")
    response = post(client, "/admin/import", {}, token_from="/admin/import")
    assert response.status_code == 400
