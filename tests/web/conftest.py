"""Fixtures shared by the web tests."""

from __future__ import annotations

import pytest

from courseware import certification
from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core import clock
from tests.certification.test_certification import START, complete_everything


@pytest.fixture
def certified(app, db, users, course):
    """The trainee, certified on 2026-01-10 under the shipped settings."""
    catalogue = build_catalogue(*published_sources(db))
    clock.set_time(START)
    complete_everything(db, users["trainee"], catalogue)
    policy = app.extensions["courseware.certification.policy"].policy
    with_cases_met = policy.model_copy(
        update={"certification": policy.certification.model_copy(update={"cases_required": 2})}
    )
    app.extensions["courseware.certification.policy"] = type(
        app.extensions["courseware.certification.policy"]
    )(with_cases_met, [])
    cert = certification.check_and_issue(db, users["trainee"].id, catalogue, with_cases_met)
    db.commit()
    return cert
