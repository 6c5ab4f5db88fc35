"""A learner's first activity is kept on the account by each service that starts one."""

from __future__ import annotations

from sqlalchemy import select, update

from courseware.assessment import attempts as engine
from courseware.casework import issue_ticket
from courseware.content.catalogue import build_catalogue
from courseware.content.store import published_sources
from courseware.core import clock
from courseware.core.activity import backfill_first_activity
from courseware.core.models import User
from courseware.learning import progress
from tests.certification.test_certification import START
from tests.conftest import make_user


def _first(db, user) -> object:
    db.commit()
    return db.scalar(select(User.first_active_at).where(User.id == user.id))


def test_a_lesson_view_a_quiz_or_a_case_starts_activity_and_the_first_stays(db, course):
    clock.set_time(START)
    catalogue = build_catalogue(*published_sources(db))
    reader, quizzer, decider = (make_user(db, name) for name in ("reader", "quizzer", "decider"))
    assert _first(db, reader) is None
    progress.record_view(db, reader.id, catalogue.modules[0].lessons[0])
    assert _first(db, reader) == START
    clock.set_time(START.replace(hour=9))
    progress.record_view(db, reader.id, catalogue.modules[0].lessons[1])
    assert _first(db, reader) == START  # the first activity, not the latest
    engine.start_attempt(db, quizzer.id, catalogue.quizzes["alpha"])
    assert _first(db, quizzer) == START.replace(hour=9)
    case = catalogue.cases["grocery-kiosk"]
    issue_ticket(db, decider.id, case, catalogue.extras["case_revisions"][case.slug])
    assert _first(db, decider) == START.replace(hour=9)


def test_backfill_finds_the_earliest_activity(db, course):
    clock.set_time(START)
    catalogue = build_catalogue(*published_sources(db))
    learner = make_user(db, "learner")
    progress.record_view(db, learner.id, catalogue.modules[0].lessons[0])
    db.execute(update(User).values(first_active_at=None))
    backfill_first_activity(db)
    assert _first(db, learner) == START
