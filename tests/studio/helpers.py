"""Reading the studio's pages in tests: hidden fields, the editor's form, document ids."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.core.models import ContentDocument
from tests.conftest import login, post

INPUT_RE = re.compile(r"<input[^>]*>")
TEXTAREA_RE = re.compile(r'<textarea[^>]*name="text"[^>]*>\r?\n?(.*?)</textarea>', re.S)


def doc_id(db: Session, path: str) -> int:
    return db.scalar(select(ContentDocument.id).where(ContentDocument.path == path))


def hidden(page: str, name: str) -> str:
    for tag in INPUT_RE.findall(page):
        if f'name="{name}"' in tag:
            match = re.search(r'value="([^"]*)"', tag)
            return html.unescape(match.group(1)) if match else ""
    raise AssertionError(f"no input {name}")


def editor_text(page: str) -> str:
    match = TEXTAREA_RE.search(page)
    assert match, "no editor text"
    return html.unescape(match.group(1))


def sign_in(client: FlaskClient, username: str) -> FlaskClient:
    assert login(client, username).status_code == 302
    post(client, "/language", {"lang": "en", "next": "/"})
    return client


def editor_form(client: FlaskClient, document_id: int) -> dict[str, str]:
    """The editor's fields as the page gives them (text, base revision, CSRF token)."""
    page = client.get(f"/author/content/{document_id}").get_data(as_text=True)
    return {
        "text": editor_text(page),
        "base": hidden(page, "base"),
        "csrf_token": hidden(page, "csrf_token"),
        "note": "",
    }
