"""One learner with something of every kind, for tests that address objects by id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Flask
from sqlalchemy.orm import Session

from courseware import certification
from courseware.assessment import attempts as engine
from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core.models import User
from courseware.hr.cohorts import assign, create_cohort
from tests.certification.test_certification import POLICY, complete_everything, decide
from tests.conftest import make_user


@dataclass
class Objects:
    learner: User
    attempt_id: int
    decision_id: int
    certificate_id: int
    code: str
    cohort_id: int

    def value(self, endpoint: str, name: str) -> object:
        if name == "user_id":
            return self.learner.id
        if name == "attempt_id":
            return self.attempt_id
        if name == "decision_id":
            return self.decision_id
        if name == "certificate_id":
            return self.certificate_id
        if name == "cohort_id":
            return self.cohort_id
        if name == "code":
            return self.code
        if name == "number":
            return 1  # the status list of verifiable credentials
        if name == "fmt":
            return "csv"
        if name == "filename":
            return "css/site.css"
        if name == "module":
            return "alpha"
        if name == "lesson_slug":
            return "first"
        if name == "slug":
            return "grocery-kiosk" if endpoint.startswith(("cases", "author_cases")) else "alpha"
        if name == "path":
            return "content/01-alpha/01-first.md"
        if name.endswith("_id") or name in {"a", "b"}:
            return 1  # a studio document, revision or report: the first one imported
        return "x"


def arrange_objects(app: Flask, db: Session, username: str = "target") -> Objects:
    """A learner in 台北分行 with a quiz attempt, a case decision, a certificate, a cohort."""
    learner = make_user(db, username, branch="台北分行")
    catalogue = build_catalogue(*published_sources(db))
    attempt = engine.start_attempt(db, learner.id, catalogue.quizzes["alpha"])
    db.commit()
    complete_everything(db, learner, catalogue)
    certificate = certification.check_and_issue(db, learner.id, catalogue, POLICY)
    db.commit()
    decision = decide(db, learner, "restructure-illness", 55)
    actor = make_user(db, f"{username}-hr", role="hr")
    cohort = create_cohort(db, "二〇二六春季班", "台北分行", date(2026, 6, 30), actor.id)
    assign(db, cohort, [learner], actor.id)
    db.commit()
    assert certificate is not None
    return Objects(learner, attempt.id, decision.id, certificate.id, certificate.code, cohort.id)
