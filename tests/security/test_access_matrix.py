"""Who may reach what: every route of the app's URL map against every role.

The table below names an access rule for each endpoint. A route without an
entry fails the test, so a new page cannot ship unguarded by accident.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import csrf_token, login, make_user
from tests.security.objects import Objects, arrange_objects

ROLES = ("anonymous", "trainee", "trainer", "manager", "hr", "admin")
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
TRAINERS = {"trainer", "admin"}
STAFF = {"trainer", "hr", "admin"}
HR_READ = {"manager", "hr", "admin"}
HR_WRITE = {"hr", "admin"}
ADMIN = {"admin"}

ACCESS: dict[str, set[str]] = {
    # public
    "auth.login": EVERYONE,
    "main.healthz": EVERYONE,
    "main.set_language": EVERYONE,
    "certificates.verify_form": EVERYONE,
    "certificates.verify": EVERYONE,
    "certificates.verify_credential": EVERYONE,  # POST: checks a pasted credential
    "credentials.credential": EVERYONE,  # the certificate's code is the key, as on /verify
    "credentials.status_list": EVERYONE,
    "credentials.did_document": EVERYONE,  # 404 unless the base URL is https (did:web)
    "notices.feed": EVERYONE,
    "auth.forgot_password": EVERYONE,  # 404 unless mail is configured
    "auth.reset_password": EVERYONE,  # a wrong or spent token is 404  # the secret token is the key; a wrong one is 404
    "static": EVERYONE,
    # single sign-on (404 unless COURSEWARE_OIDC_ISSUER is set; tests/interop/oidc with it)
    "sso.start": EVERYONE,
    "sso.callback": EVERYONE,
    # every signed-in person
    "auth.logout": SIGNED_IN,
    "auth.account": SIGNED_IN,
    "auth.my_data": SIGNED_IN,
    "notices.index": SIGNED_IN,  # each sees only their own notices
    "notices.mark_read": SIGNED_IN,
    "notices.mark_all_read": SIGNED_IN,
    "notices.new_feed_link": SIGNED_IN,
    "learn.dashboard": SIGNED_IN,
    "learn.course": SIGNED_IN,
    "learn.module": SIGNED_IN,
    "learn.lesson": SIGNED_IN,
    "learn.mark_done": SIGNED_IN,
    "learn.reading_time": SIGNED_IN,
    "learn.practice": SIGNED_IN,
    "learn.glossary": SIGNED_IN,
    "learn.search": SIGNED_IN,
    "quiz.overview": SIGNED_IN,
    "quiz.start": SIGNED_IN,
    "quiz.attempt": SIGNED_IN,
    "quiz.save": SIGNED_IN,
    "quiz.submit": SIGNED_IN,
    "quiz.review": SIGNED_IN,
    "cases.index": SIGNED_IN,
    "cases.case": SIGNED_IN,
    "cases.decide": SIGNED_IN,
    "cases.outcome": SIGNED_IN,
    "cases.portfolio": SIGNED_IN,
    "certificates.mine": SIGNED_IN,
    "certificates.show": SIGNED_IN,
    "certificates.pdf": SIGNED_IN,
    "transcript.mine": SIGNED_IN,
    "transcript.export_mine": SIGNED_IN,
    # the course saved for offline: the app's files are public (browsers fetch the manifest
    # without the cookie); the package and the sync are each learner's own
    "offline.manifest": EVERYONE,
    "offline.service_worker": EVERYONE,
    "offline.index": SIGNED_IN,
    "offline.online_only": SIGNED_IN,
    "offline.package": SIGNED_IN,
    "offline.sync": SIGNED_IN,
    # trainers' studio
    "author.index": TRAINERS,
    "author.quiz": TRAINERS,
    "author.guides": TRAINERS,
    "author.guide": TRAINERS,
    "author.guide_pdf": TRAINERS,
    "author_cases.index": TRAINERS,
    "author_cases.case": TRAINERS,
    "author_cases.calibration": TRAINERS,
    "author_cases.figures": TRAINERS,
    "studio.documents": TRAINERS,
    "studio.editor": TRAINERS,
    "studio.save": TRAINERS,
    "studio.live_preview": TRAINERS,
    "studio.history": TRAINERS,
    "studio.diff": TRAINERS,
    "studio.revert": TRAINERS,
    "studio.resolve_import": TRAINERS,
    "studio_new.lesson": TRAINERS,
    "studio_new.module": TRAINERS,
    "studio_questions.bank": TRAINERS,
    "studio_questions.new": TRAINERS,
    "studio_questions.question": TRAINERS,
    "studio_questions.retire": TRAINERS,
    "studio_review.queue": TRAINERS,
    "studio_review.revision": TRAINERS,
    "studio_review.approve": TRAINERS,
    "studio_review.send_back": TRAINERS,
    "studio_reports.inbox": TRAINERS,
    "studio_reports.resolve": TRAINERS,
    "studio_reports.report": SIGNED_IN,
    # acts on a learner's certification
    "people.certification_page": STAFF,
    "people.exempt": STAFF,
    "people.issue": STAFF,
    "people.reset_attempt": STAFF,
    "people.reset_decision": STAFF,
    "people.revoke": HR_WRITE,
    # HR
    "hr.dashboard": HR_READ,
    "hr.learners": HR_READ,
    "hr.export_learners": HR_READ,
    "hr.cohort_completion": HR_READ,
    "hr.send_reminders": HR_WRITE,
    "hr.bulk_action": HR_READ,
    "hr_cohorts.index": HR_READ,
    "hr_cohorts.show": HR_READ,
    "hr_cohorts.add_members": HR_WRITE,
    "hr_cohorts.remove_member": HR_WRITE,
    "hr_audit.index": HR_WRITE,
    "hr_audit.export": HR_WRITE,
    "transcript.learner": HR_READ,
    "transcript.export_learner": HR_READ,
    "transcript.set_contact": HR_WRITE,
    "transcript.remind": HR_WRITE,
    # administration
    "admin.users": ADMIN,
    "admin.new_user": ADMIN,
    "admin.edit_user": ADMIN,
    "admin.reset_password": ADMIN,
    "admin.anonymise": ADMIN,
    "admin.unlock": ADMIN,
    "admin_import.upload": ADMIN,
}
# Routes reached by a role that may not write there answer 403 on POST only
# (managers read cohorts but do not change them).
POST_ACCESS: dict[str, set[str]] = {
    "hr_cohorts.index": HR_WRITE,
    "hr_cohorts.show": HR_WRITE,
}
# Answers to a page's script: a visitor who is not signed in gets 401 in JSON, not a redirect.
JSON_ANSWERS = {"offline.package", "offline.sync"}


def _url(rule, objects: Objects) -> str:
    values = {}
    for name in rule.arguments:
        values[name] = objects.value(rule.endpoint, name)
    return rule.build(values, append_unknown=False)[1]


def _rules(app: Flask) -> list:
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def test_every_route_has_an_access_rule(app: Flask):
    missing = sorted({r.endpoint for r in _rules(app)} - set(ACCESS))
    assert not missing, f"routes with no entry in the access matrix: {missing}"


def _is_sign_in_redirect(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/login")


@pytest.fixture
def clients(app: Flask, db: Session, course: None) -> dict[str, FlaskClient]:
    """One signed-in client per role (all in 台北分行, the target learner's branch)."""
    found = {"anonymous": app.test_client()}
    for role in ROLES[1:]:
        make_user(db, role, role=role, branch="台北分行")
        client = app.test_client()
        assert login(client, role).status_code == 302
        found[role] = client
    return found


def test_every_role_gets_the_expected_answer_on_every_route(app, db, clients):
    objects = arrange_objects(app, db)
    problems: list[str] = []
    for rule in _rules(app):
        url = _url(rule, objects)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            allowed = (POST_ACCESS if method == "POST" else {}).get(rule.endpoint) or ACCESS[
                rule.endpoint
            ]
            for role in ROLES:
                # A fresh session each time: an earlier request (signing out, which ends
                # every session of that account) must not change the next answer.
                client = app.test_client()
                if role != "anonymous":
                    login(client, role)
                if method == "POST":
                    token = csrf_token(client, "/login" if role == "anonymous" else "/account")
                    response = client.post(url, data={"csrf_token": token})
                else:
                    response = client.get(url)
                response.get_data()  # finish streamed responses (exports) before the next request
                response.close()
                status = response.status_code
                where = f"{method} {url} as {role}: {status}"
                signs_out = rule.endpoint == "auth.logout"
                if role in allowed:
                    refused = status in (401, 403) or (
                        role != "anonymous" and _is_sign_in_redirect(response) and not signs_out
                    )
                    if refused:
                        problems.append(f"refused but allowed: {where}")
                    if status >= 500:
                        problems.append(f"server error: {where}")
                elif role == "anonymous" and rule.endpoint in JSON_ANSWERS:
                    if status != 401:
                        problems.append(f"anonymous not answered 401: {where}")
                elif role == "anonymous":
                    if not _is_sign_in_redirect(response):
                        problems.append(f"anonymous not sent to sign-in: {where}")
                elif status not in (403, 404):
                    problems.append(f"not refused: {where}")
    assert not problems, "\n".join(problems)


def test_anonymous_sign_in_redirect_keeps_only_a_local_next(clients, app):
    response = clients["anonymous"].get("/hr/learners?branch=台北分行")
    assert re.fullmatch(r"/login\?next=/hr/learners\?branch%3D[%0-9A-F]+", response.location)
