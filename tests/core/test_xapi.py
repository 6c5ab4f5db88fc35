"""xAPI statements queued with the events they record (courseware.core.xapi): off without an
LRS, every step of a trainee's path with stable ids and a pseudonymous actor, and nothing
queued for work that is refused (the statement is in the event's transaction)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from courseware import create_app
from courseware.core import clock
from courseware.core.models import User, XapiOutbox
from courseware.core.xapi import SESSION_KEY, XapiSite, actor_name
from tests.conftest import login, read_lesson
from tests.xapi_path import BASE_URL, LESSONS, QUIZZES, lrs_app, queued, verbs, whole_path

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def lrs_url() -> str | None:
    return "http://127.0.0.1:9/xAPI"  # never contacted: these tests only queue


@pytest.fixture
def app(database_url: str, tmp_path: Path, lrs_url: str | None):
    from tests.conftest import empty_all_tables

    application = lrs_app(database_url, tmp_path, lrs_url)
    engine = application.extensions["courseware.core.db"].engine
    empty_all_tables(engine)
    clock.set_time(START)
    yield application
    clock.set_time(None)
    engine.dispose()


def _count(db) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(XapiOutbox))


@pytest.mark.parametrize("lrs_url", [None])
def test_without_an_lrs_nothing_is_queued(client, db, users, course, lrs_url):
    login(client, "trainee")
    whole_path(client, db)
    assert _count(db) == 0


def test_the_whole_path_queues_each_statement(client, db, users, course):
    login(client, "trainee")
    done = whole_path(client, db)
    statements = queued(db)
    counted = Counter(verbs(statements))
    answered = sum(1 for s in statements if s["verb"]["display"]["en-US"] == "answered")
    assert counted == {
        "experienced": len(LESSONS),
        "completed": len(LESSONS),
        "attempted": len(QUIZZES),
        "answered": answered,
        "passed": len(QUIZZES),
        "responded": 1,
        "earned": 1,
    }
    assert answered >= 2 * len(QUIZZES)
    by_verb = {s["verb"]["display"]["en-US"]: s for s in statements}
    # Stable activity ids: the base URL and the course's slugs.
    lesson_ids = {
        s["object"]["id"] for s in statements if s["verb"]["display"]["en-US"] == "completed"
    }
    assert lesson_ids == {f"{BASE_URL}/modules/{m}/{lesson}" for m, lesson in LESSONS}
    assert by_verb["passed"]["object"]["id"] in {f"{BASE_URL}/quiz/{q}" for q in QUIZZES}
    assert by_verb["passed"]["result"]["success"] is True
    assert by_verb["passed"]["result"]["score"]["scaled"] == 1.0
    answer = by_verb["answered"]
    assert answer["object"]["id"].startswith(
        answer["context"]["contextActivities"]["parent"][0]["id"] + "/questions/"
    )
    assert answer["result"]["success"] is True and "response" in answer["result"]
    # One registration per attempt, on its start, answers and result.
    for module, attempt_id in done["attempts"].items():
        quiz = f"{BASE_URL}/quiz/{module}"
        registrations = {
            s["context"].get("registration")
            for s in statements
            if s["object"]["id"] == quiz
            or s["context"].get("contextActivities", {}).get("parent", [{}])[0].get("id") == quiz
        }
        assert len(registrations) == 1 and None not in registrations, (module, attempt_id)
    case = by_verb["responded"]
    assert case["object"]["id"] == f"{BASE_URL}/cases/grocery-kiosk"
    assert case["result"]["response"] == done["option"]
    assert case["result"]["extensions"][f"{BASE_URL}/xapi/extensions/flags"] == done["flags"]
    assert 0 <= case["result"]["score"]["raw"] <= 100
    earned = by_verb["earned"]
    verification = earned["result"]["extensions"][f"{BASE_URL}/xapi/extensions/verification"]
    assert verification == f"{BASE_URL}/verify/{done['code']}"
    # Every statement: its id is the row's, version 1.0.3, a timestamp with its zone.
    rows = {r.id: r for r in db.scalars(select(XapiOutbox))}
    for statement in statements:
        assert rows[statement["id"]].statement == statement
        assert statement["version"] == "1.0.3"
        assert statement["timestamp"].endswith("+00:00")
        assert rows[statement["id"]].sent_at is None


def test_the_actor_is_a_stable_pseudonym_without_personal_data(client, db, users, course, app):
    login(client, "trainee")
    read_lesson(client, *LESSONS[0])
    trainee = users["trainee"]
    actors = [s["actor"] for s in queued(db)]
    assert actors and all(a == actors[0] for a in actors)
    account = actors[0]["account"]
    assert account["homePage"] == BASE_URL
    assert re.fullmatch(r"[0-9a-f]{32}", account["name"])
    user = db.get(User, trainee.id)
    for personal in (user.username, user.display_name, user.employee_id):
        assert personal not in str(actors[0])
    assert account["name"] != str(user.id) and set(actors[0]) == {"objectType", "account"}
    # The same account gets the same name from another process with the same key ...
    site = XapiSite(BASE_URL, app.config["LRS_ACTOR_KEY"].encode())
    assert actor_name(site, trainee.id) == account["name"]
    # ... another account another, and so does another key (the key keeps it opaque).
    assert actor_name(site, users["trainer"].id) != account["name"]
    assert actor_name(XapiSite(BASE_URL, b"other key"), trainee.id) != account["name"]


def test_the_actor_key_is_kept_in_the_instance_folder(app, tmp_path):
    key_file = tmp_path / "instance" / "lrs_actor_key"
    assert key_file.read_text(encoding="utf-8").strip() == app.config["LRS_ACTOR_KEY"]
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = lrs_app(app.config["DATABASE_URL"], tmp_path, "http://127.0.0.1:9/xAPI")
    assert again.config["LRS_ACTOR_KEY"] == app.config["LRS_ACTOR_KEY"]
    again.extensions["courseware.core.db"].engine.dispose()


def test_a_view_within_the_refresh_window_queues_nothing_more(client, db, users, course):
    login(client, "trainee")
    module, lesson = LESSONS[0]
    client.get(f"/modules/{module}/{lesson}")
    client.get(f"/modules/{module}/{lesson}")
    assert verbs(queued(db)) == ["experienced"]


def test_a_refused_decision_queues_nothing(client, db, users, course):
    """The statement is written in the event's transaction: refused work leaves none."""
    login(client, "trainee")
    html = client.get("/cases/grocery-kiosk").get_data(as_text=True)
    form = {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
        for name in ("token", "seed", "revision", "csrf_token")
    }
    before = _count(db)
    response = client.post("/cases/grocery-kiosk/decide", data={**form, "option": "no-such-option"})
    assert response.status_code in (200, 400, 422)
    assert _count(db) == before


def test_an_lrs_without_a_base_url_is_refused_at_start(tmp_path):
    with pytest.raises(RuntimeError, match="COURSEWARE_BASE_URL"):
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "SECRET_KEY": "k",
                "BASE_URL": None,
                "LRS_URL": "http://127.0.0.1:9/xAPI",
            }
        )


def test_the_web_session_carries_the_site_only_with_an_lrs(app, database_url, tmp_path):
    with app.extensions["courseware.core.db"].sessions() as session:
        assert session.info[SESSION_KEY].base_url == BASE_URL
    plain = lrs_app(database_url, tmp_path / "plain", None)
    with plain.extensions["courseware.core.db"].sessions() as session:
        assert SESSION_KEY not in session.info
    plain.extensions["courseware.core.db"].engine.dispose()
