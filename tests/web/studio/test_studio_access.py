"""Every page under /author: trainers and admins get in, everyone else gets 403."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware import create_app
from courseware.core.models import ContentRevision
from courseware.studio.problem_reports import create_report
from tests.conftest import csrf_token, login
from tests.studio.helpers import doc_id


def _author_rules() -> list[tuple[str, str, str]]:
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/author"):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.rule, method, rule.endpoint))
    app.extensions["courseware.core.db"].engine.dispose()
    return sorted(found)


RULES = _author_rules()


def test_the_studio_has_the_pages_this_test_walks():
    endpoints = {endpoint for _rule, _method, endpoint in RULES}
    assert {
        "studio.documents",
        "studio.editor",
        "studio.save",
        "studio.live_preview",
        "studio.history",
        "studio.diff",
        "studio.revert",
        "studio_new.lesson",
        "studio_new.module",
        "studio_review.queue",
        "studio_review.revision",
        "studio_review.approve",
        "studio_review.send_back",
        "studio_questions.bank",
        "studio_questions.new",
        "studio_questions.question",
        "studio_questions.retire",
        "studio_reports.inbox",
        "studio_reports.resolve",
    } <= endpoints


def _url(rule: str, db: Session, users) -> str:
    bank = doc_id(db, "quizzes/alpha.yaml")
    lesson = doc_id(db, "content/01-alpha/01-first.md")
    revision = db.scalar(select(ContentRevision.id).where(ContentRevision.document_id == lesson))
    report = create_report(db, users["trainee"].id, "錯字", revision_id=revision)
    db.commit()
    values = {
        "document_id": bank if rule.startswith("/author/banks") else lesson,
        "revision_id": revision,
        "report_id": report.id,
        "question_id": "alpha-single",
        "module": "alpha",
        "slug": "grocery-kiosk",
    }
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)
    return url + (f"?a={revision}&b={revision}" if url.endswith("/diff") else "")


@pytest.mark.parametrize(
    ("rule", "method", "endpoint"), RULES, ids=[f"{m} {r}" for r, m, _e in RULES]
)
@pytest.mark.parametrize("role", ["trainer", "admin", "trainee", "manager", "hr"])
def test_only_trainers_and_admins_reach_author_pages(
    app: Flask, client: FlaskClient, db: Session, users, course, role, rule, method, endpoint
):
    url = _url(rule, db, users)
    login(client, role)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": csrf_token(client, "/")})
    if role in ("trainer", "admin"):
        if method == "GET":
            assert response.status_code == 200, (url, response.status_code)
        else:
            assert response.status_code not in (401, 403, 404) and response.status_code < 500
    else:
        assert response.status_code == 403, (url, response.status_code)


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, course):
    assert client.get("/author/content").status_code == 302
    assert "/login" in client.get("/author/reports").location
