"""xAPI statements in a real LRS: a trainee's whole path reaches Ralph through
`courseware outbox run --once`, also when Ralph is down in the middle of it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from courseware import cli
from courseware.core import clock
from courseware.core.models import XapiOutbox
from tests.conftest import DATA, empty_all_tables, login
from tests.interop.ralph.conftest import PASSWORD, USER, Ralph
from tests.xapi_path import (
    BASE_URL,
    CASE,
    LESSONS,
    QUIZZES,
    decide_case,
    lrs_app,
    pass_quiz,
    queued,
    read_every_lesson,
    whole_path,
)

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def app(database_url: str, tmp_path: Path, ralph: Ralph):
    application = lrs_app(database_url, tmp_path, ralph.url, LRS_USER=USER, LRS_PASSWORD=PASSWORD)
    engine = application.extensions["courseware.core.db"].engine
    empty_all_tables(engine)
    clock.set_time(START)
    yield application
    clock.set_time(None)
    engine.dispose()


def _outbox_run(app, ralph: Ralph):
    env = {
        "COURSEWARE_DATABASE_URL": app.config["DATABASE_URL"],
        "COURSEWARE_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "COURSEWARE_SECRET_KEY": "cli-test",
        "COURSEWARE_CONTENT_DIR": str(DATA / "content"),
        "COURSEWARE_QUIZ_DIR": str(DATA / "quizzes"),
        "COURSEWARE_CASE_DIR": str(DATA / "case_studies"),
        "COURSEWARE_BASE_URL": BASE_URL,
        "COURSEWARE_LRS_URL": ralph.url,
        "COURSEWARE_LRS_USER": USER,
        "COURSEWARE_LRS_PASSWORD": PASSWORD,
    }
    return CliRunner().invoke(cli.main, ["outbox", "run", "--once"], env=env)


def _verbs(statements) -> Counter:
    return Counter(s["verb"]["id"].rsplit("/", 1)[1] for s in statements)


def test_a_trainees_whole_path_arrives_in_ralph(app, client, db, users, course, ralph):
    login(client, "trainee")
    done = whole_path(client, db)
    ours = {s["id"]: s for s in queued(db)}
    result = _outbox_run(app, ralph)
    assert result.exit_code == 0, result.output + ralph.log()
    assert f"{len(ours)} sent, 0 to retry; 0 waiting." in result.output

    stored = ralph.statements()
    assert sorted(s["id"] for s in stored) == sorted(ours)  # each once, none missing
    verbs = _verbs(stored)
    assert verbs["experienced"] == verbs["completed"] == len(LESSONS)
    assert verbs["attempted"] == verbs["passed"] == len(QUIZZES)
    assert verbs["answered"] >= 2 * len(QUIZZES)
    assert verbs["responded"] == verbs["earned"] == 1
    by_id = {s["id"]: s for s in stored}
    for statement_id, statement in ours.items():
        theirs = by_id[statement_id]
        for part in ("actor", "verb", "object"):
            assert theirs[part] == statement[part], (part, statement_id)
        assert theirs.get("result") == statement.get("result")
        assert datetime.fromisoformat(theirs["timestamp"]) == datetime.fromisoformat(
            statement["timestamp"]
        )
        assert theirs["authority"]["account"]["name"] == USER  # stored by our account
    objects = {s["object"]["id"] for s in stored}
    assert {f"{BASE_URL}/modules/{m}/{lesson}" for m, lesson in LESSONS} <= objects
    assert {f"{BASE_URL}/quiz/{q}" for q in QUIZZES} <= objects
    decided = next(s for s in stored if s["object"]["id"] == f"{BASE_URL}/cases/{CASE}")
    assert decided["result"]["response"] == done["option"]
    assert decided["result"]["extensions"][f"{BASE_URL}/xapi/extensions/flags"] == done["flags"]
    assert {s["actor"]["account"]["homePage"] for s in stored} == {BASE_URL}
    assert len({s["actor"]["account"]["name"] for s in stored}) == 1


def test_an_outage_in_the_middle_loses_nothing(app, client, db, users, course, ralph):
    login(client, "trainee")
    read_every_lesson(client)
    first = _outbox_run(app, ralph)
    assert first.exit_code == 0, first.output + ralph.log()
    before = len(ralph.statements())
    assert before == 2 * len(LESSONS)

    ralph.stop()  # the LRS goes down; the trainee goes on, and no page fails
    for module in QUIZZES:
        pass_quiz(client, db, module)
    decide_case(client)
    down = _outbox_run(app, ralph)
    assert down.exit_code == 1 and "0 sent" in down.output
    db.rollback()
    waiting = db.scalars(select(XapiOutbox).where(XapiOutbox.sent_at.is_(None))).all()
    assert waiting and all(r.attempts == 1 and r.last_error for r in waiting)

    ralph.start()  # back, with what it had stored
    clock.advance(timedelta(minutes=1))  # past the first back-off
    again = _outbox_run(app, ralph)
    assert again.exit_code == 0, again.output + ralph.log()
    stored = ralph.statements()
    ours = queued(db)
    assert sorted(s["id"] for s in stored) == sorted(s["id"] for s in ours)
    assert len(stored) == len(ours) > before
    verbs = _verbs(stored)
    assert verbs["passed"] == len(QUIZZES) and verbs["responded"] == verbs["earned"] == 1
    # Nothing is sent a second time: a third pass has nothing to do.
    assert "0 sent, 0 to retry; 0 waiting." in _outbox_run(app, ralph).output
    assert len(ralph.statements()) == len(ours)
