"""Facilitator's guides in the trainer studio: who may read them, the page and the PDF."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from courseware.content.catalogue import GUIDE_SECTIONS
from courseware.content.store import import_sources
from tests.certification.pdf_facts import pdf_fonts, pdf_text
from tests.conftest import login
from tests.content.test_guides import GUIDE, guide_text

TITLE = "講師手冊：甲模組的課堂"


@pytest.fixture
def guide(db: Session, course: None) -> None:
    text = guide_text(title=TITLE).replace(
        "## 課堂活動\n\n內容。", "## 課堂活動\n\n分組算月付金。<script>alert(1)</script>"
    )
    import_sources(db, {GUIDE: text})
    db.commit()


@pytest.mark.parametrize(
    ("role", "status"),
    [("trainer", 200), ("admin", 200), ("trainee", 403), ("manager", 403), ("hr", 403)],
)
def test_only_trainers_and_admins_read_guides(client: FlaskClient, users, guide, role, status):
    login(client, role)
    for url in ("/author/guides", "/author/guides/alpha", "/author/guides/alpha.pdf"):
        assert client.get(url).status_code == status, url


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, guide):
    response = client.get("/author/guides/alpha.pdf")
    assert response.status_code == 302 and "/login" in response.location


def test_the_studio_links_the_list_and_the_list_links_each_guide(client, users, guide):
    login(client, "trainer")
    assert 'href="/author/guides"' in client.get("/author").get_data(as_text=True)
    page = client.get("/author/guides").get_data(as_text=True)
    assert 'href="/author/guides/alpha"' in page and 'href="/author/guides/alpha.pdf"' in page
    assert TITLE in page


def test_the_guide_page_renders_its_sections_sanitized(client, users, guide):
    login(client, "trainer")
    page = client.get("/author/guides/alpha").get_data(as_text=True)
    assert TITLE in page
    for name in GUIDE_SECTIONS:
        assert name in page
    assert "分組算月付金" in page and "<script>alert(1)" not in page
    assert "grocery-kiosk" in page  # the case to run
    assert client.get("/author/guides/beta").status_code == 404  # beta has no guide


def test_the_pdf_is_set_in_the_packaged_font_with_its_title_as_text(client, users, guide):
    login(client, "admin")
    response = client.get("/author/guides/alpha.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "guide-alpha.pdf" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert TITLE in text and "時間安排" in text
    fonts = pdf_fonts(data)
    assert fonts and all(f.is_subset and f.file_key == "/FontFile3" for f in fonts)
