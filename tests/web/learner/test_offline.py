"""The offline course: the package list, the outbox's sync (once each, in order, the reading
rule kept), the conflict rules, sign-out clearing the device, the installable app's files."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware.content.store import add_revision, touch_content_version
from courseware.core import clock
from courseware.core.models import (
    ContentDocument,
    ContentRevision,
    LessonProgress,
    OfflineAction,
    PracticeAnswer,
    User,
)
from courseware.hr.cohorts import assign, create_cohort
from tests.conftest import csrf_token, login, make_user

LESSON = "alpha/first"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _read(seconds: int, at: datetime, *, lesson: str = LESSON, end: bool = True, **extra) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "lesson_read",
        "lesson": lesson,
        "seconds": seconds,
        "reached_end": end,
        "at": _iso(at),
        **extra,
    }


def _sync(client: FlaskClient, actions: list[dict], token: str | None = None, **kw):
    token = token if token is not None else csrf_token(client, "/offline")
    return client.post(
        "/offline/sync",
        data=json.dumps({"actions": actions}),
        content_type="application/json",
        headers={"X-CSRFToken": token, "Accept": "application/json"},
        **kw,
    )


def _save_package(client: FlaskClient) -> dict:
    answer = client.get("/offline/package.json?save=1")
    assert answer.status_code == 200
    return answer.get_json()


def _progress(db: Session, user: User, lesson: str = LESSON) -> LessonProgress | None:
    db.rollback()  # end the session's snapshot: read what the requests wrote
    module, slug = lesson.split("/")
    return db.scalar(
        select(LessonProgress).where(
            LessonProgress.user_id == user.id,
            LessonProgress.module_slug == module,
            LessonProgress.lesson_slug == slug,
        )
    )


def _revise(db: Session, lesson_file: str, *, material: bool = False, delete: bool = False) -> None:
    doc = db.scalar(select(ContentDocument).where(ContentDocument.path.like(f"%{lesson_file}")))
    assert doc is not None
    if delete:
        doc.deleted = True
    else:
        body = db.get(ContentRevision, doc.published_revision_id).body
        add_revision(db, doc, body + "\n\nA changed rule.\n", origin="studio", material=material)
    touch_content_version(db)
    db.commit()


@pytest.fixture
def trainee(as_trainee: FlaskClient, users: dict[str, User]) -> User:
    clock.set_time(START)
    return users["trainee"]


def test_package_lists_every_address_with_its_size_under_two_megabytes(
    as_trainee: FlaskClient, record_property
) -> None:
    package = as_trainee.get("/offline/package.json").get_json()
    urls = {e["url"]: e for e in package["entries"]}
    assert {
        "/",
        "/glossary",
        "/modules/alpha",
        "/modules/alpha/first",
        "/modules/alpha/second",
    } <= set(urls)
    assert "/offline/online-only" in urls and "/manifest.webmanifest" in urls
    assert any(u.startswith("/static/css/site.css?v=") for u in urls)
    assert not any("/quiz" in u or "/cases" in u for u in urls)  # they stay online
    for url, entry in urls.items():
        assert entry["bytes"] > 0, url
        if entry["kind"] != "static":  # a page's size is what the page weighs now
            assert abs(entry["bytes"] - len(as_trainee.get(url).get_data())) < 200, url
    assert urls["/modules/alpha/first"]["revision"]
    assert package["bytes"] == sum(e["bytes"] for e in package["entries"])
    print(f"offline package of the test course: {package['bytes']} bytes, {len(urls)} files")
    record_property("offline_package_bytes", package["bytes"])
    assert package["bytes"] < 2 * 1024 * 1024


def test_package_follows_revisions_and_drops_what_is_unpublished(
    as_trainee: FlaskClient, db: Session
) -> None:
    before = as_trainee.get("/offline/package.json").get_json()
    first = next(e for e in before["entries"] if e["url"] == "/modules/alpha/first")
    _revise(db, "01-first.md")
    after = as_trainee.get("/offline/package.json").get_json()
    changed = next(e for e in after["entries"] if e["url"] == "/modules/alpha/first")
    assert changed["revision"] != first["revision"]
    assert after["version"] != before["version"]
    _revise(db, "02-second.md", delete=True)
    gone = as_trainee.get("/offline/package.json").get_json()
    assert "/modules/alpha/second" not in {e["url"] for e in gone["entries"]}
    assert gone["version"] != after["version"]


def test_sync_records_each_action_once_and_a_replay_records_nothing(
    as_trainee: FlaskClient, trainee: User, db: Session
) -> None:
    _save_package(as_trainee)
    clock.set_time(START + timedelta(minutes=30))
    actions = [
        _read(200, START + timedelta(minutes=10)),
        {
            "id": str(uuid.uuid4()),
            "type": "practice_answer",
            "lesson": "alpha/second",
            "exercise": "installment",
            "answer": "88.85",
            "at": _iso(START + timedelta(minutes=12)),
        },
        {
            "id": str(uuid.uuid4()),
            "type": "case_read",
            "case": "grocery-kiosk",
            "seconds": 120,
            "at": _iso(START + timedelta(minutes=14)),
        },
    ]
    answer = _sync(as_trainee, actions)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["recorded"] == 3 and answer.get_json()["duplicates"] == 0
    again = _sync(as_trainee, actions)
    assert again.get_json() == {"recorded": 0, "duplicates": 3, "rejected": [], "refresh": False}
    # The same action twice in one sync records once too.
    twice = _sync(
        as_trainee, [actions[0] | {"id": (one := str(uuid.uuid4()))}, actions[0] | {"id": one}]
    )
    assert twice.get_json()["recorded"] == 1 and twice.get_json()["duplicates"] == 1
    db.rollback()
    assert db.scalar(select(func.count()).select_from(OfflineAction)) == 4
    dossier = db.scalar(select(OfflineAction).where(OfflineAction.kind == "case_read"))
    assert dossier is not None and (dossier.target, dossier.seconds) == ("grocery-kiosk", 120)
    answers = db.scalars(select(PracticeAnswer).where(PracticeAnswer.user_id == trainee.id)).all()
    assert [(a.exercise_id, a.correct) for a in answers] == [("installment", True)]
    assert answers[0].answered_at == START + timedelta(minutes=12)
    row = _progress(db, trainee)
    assert row is not None and row.completed_at is not None  # 150 s asked, end reached


def test_offline_reading_never_credits_more_time_than_has_passed(
    as_trainee: FlaskClient, trainee: User, db: Session
) -> None:
    _save_package(as_trainee)
    clock.set_time(START + timedelta(minutes=1))
    # A device claiming half an hour, a minute after saving, at a time still to come.
    answer = _sync(as_trainee, [_read(1800, START + timedelta(hours=5))])
    assert answer.get_json()["recorded"] == 1
    row = _progress(db, trainee)
    assert row is not None and row.seconds_spent == 60
    assert row.completed_at is None  # the rule asks 150 seconds
    # Later, more reading: the total stays within the time since the course was saved.
    clock.set_time(START + timedelta(minutes=3))
    _sync(as_trainee, [_read(1800, START + timedelta(minutes=3))])
    row = _progress(db, trainee)
    assert row is not None and row.seconds_spent == 180 and row.completed_at is not None


def test_without_a_saved_course_no_offline_time_is_credited(
    as_trainee: FlaskClient, trainee: User, db: Session
) -> None:
    clock.set_time(START + timedelta(hours=1))
    assert _sync(as_trainee, [_read(600, START + timedelta(minutes=50))]).status_code == 200
    row = _progress(db, trainee)
    assert row is not None and row.seconds_spent == 0 and row.completed_at is None


def test_end_not_reached_keeps_the_lesson_open(
    as_trainee: FlaskClient, trainee: User, db: Session
) -> None:
    _save_package(as_trainee)
    clock.set_time(START + timedelta(minutes=30))
    _sync(as_trainee, [_read(600, START + timedelta(minutes=20), end=False)])
    row = _progress(db, trainee)
    assert row is not None and row.seconds_spent == 600 and row.completed_at is None
    _sync(as_trainee, [_read(5, START + timedelta(minutes=21), end=True)])
    row = _progress(db, trainee)
    assert row is not None and row.completed_at == START + timedelta(minutes=21)


def test_actions_are_taken_in_the_order_sent(
    as_trainee: FlaskClient, trainee: User, db: Session
) -> None:
    _save_package(as_trainee)
    clock.set_time(START + timedelta(minutes=30))
    first = {
        "id": str(uuid.uuid4()),
        "type": "practice_answer",
        "lesson": "alpha/second",
        "exercise": "installment",
        "answer": "10",
        "at": _iso(START + timedelta(minutes=5)),
    }
    second = first | {"id": str(uuid.uuid4()), "answer": "88.85"}
    assert _sync(as_trainee, [first, second]).get_json()["recorded"] == 2
    db.rollback()
    rows = db.scalars(
        select(PracticeAnswer)
        .order_by(PracticeAnswer.id)
        .where(PracticeAnswer.user_id == trainee.id)
    ).all()
    assert [r.answer for r in rows] == ["10", "88.85"]
    page = as_trainee.get("/modules/alpha/second").get_data(as_text=True)
    assert "88.85" in page  # the latest answer is the one shown back


def test_a_lesson_revised_meanwhile_counts_and_asks_for_the_update(
    as_trainee: FlaskClient, trainee: User, db: Session
) -> None:
    package = _save_package(as_trainee)
    old = next(e for e in package["entries"] if e["url"] == "/modules/alpha/first")["revision"]
    _revise(db, "01-first.md", material=True)
    clock.set_time(START + timedelta(minutes=30))
    answer = _sync(as_trainee, [_read(600, START + timedelta(minutes=20), revision=old)])
    assert answer.get_json()["recorded"] == 1
    row = _progress(db, trainee)
    assert row is not None and row.completed_at is not None
    assert row.completed_revision_id == old
    module = as_trainee.get("/modules/alpha").get_data(as_text=True)
    assert "updated" in module.lower() or "更新" in module


def test_unpublished_lessons_and_bad_answers_are_rejected_and_not_sent_again(
    as_trainee: FlaskClient, trainee: User, db: Session
) -> None:
    _save_package(as_trainee)
    clock.set_time(START + timedelta(minutes=30))
    gone = _read(100, START + timedelta(minutes=3), lesson="alpha/removed")
    bad = {
        "id": str(uuid.uuid4()),
        "type": "practice_answer",
        "lesson": "alpha/second",
        "exercise": "installment",
        "answer": "not a number",
        "at": _iso(START + timedelta(minutes=4)),
    }
    answer = _sync(as_trainee, [gone, bad]).get_json()
    assert answer["recorded"] == 0
    assert answer["rejected"] == [
        {"id": gone["id"], "reason": "unpublished"},
        {"id": bad["id"], "reason": "invalid_answer"},
    ]
    assert _sync(as_trainee, [gone, bad]).get_json()["duplicates"] == 2
    db.rollback()
    assert db.scalar(select(func.count()).select_from(PracticeAnswer)) == 0


def test_a_changed_cohort_records_everything_and_asks_for_a_fresh_package(
    as_trainee: FlaskClient, trainee: User, db: Session, users: dict[str, User]
) -> None:
    _save_package(as_trainee)
    cohort = create_cohort(
        db, "2026 春", "台北分行", START.date() + timedelta(days=60), users["hr"].id
    )
    assign(db, cohort, [db.get(User, trainee.id)], users["hr"].id)
    db.commit()
    clock.set_time(START + timedelta(minutes=30))
    answer = _sync(as_trainee, [_read(300, START + timedelta(minutes=20))]).get_json()
    assert answer["recorded"] == 1 and answer["refresh"] is True
    _save_package(as_trainee)
    assert (
        _sync(as_trainee, [_read(10, START + timedelta(minutes=21))]).get_json()["refresh"] is False
    )


def test_a_disabled_account_records_nothing(
    as_trainee: FlaskClient, trainee: User, db: Session
) -> None:
    _save_package(as_trainee)
    token = csrf_token(as_trainee, "/offline")
    db.get(User, trainee.id).active = False
    db.commit()
    answer = _sync(as_trainee, [_read(300, START)], token=token)
    assert answer.status_code == 401 and answer.get_json() == {"error": "signed_out"}
    db.rollback()
    assert db.scalar(select(func.count()).select_from(OfflineAction)) == 0


def test_sync_needs_the_csrf_header_and_well_formed_actions(
    as_trainee: FlaskClient, trainee: User, db: Session
) -> None:
    assert _sync(as_trainee, [_read(10, START)], token="forged").status_code == 400
    no_id = _read(10, START) | {"id": "42"}
    answer = _sync(as_trainee, [_read(10, START), no_id])
    assert answer.status_code == 400 and answer.get_json()["index"] == 1
    assert _sync(as_trainee, [_read(10, START) | {"type": "quiz_answer"}]).status_code == 400
    db.rollback()
    assert db.scalar(select(func.count()).select_from(OfflineAction)) == 0


def test_each_learner_syncs_only_their_own_actions(
    as_trainee: FlaskClient, trainee: User, db: Session, app: Flask
) -> None:
    _save_package(as_trainee)
    clock.set_time(START + timedelta(minutes=30))
    action = _read(300, START + timedelta(minutes=20))
    assert _sync(as_trainee, [action]).get_json()["recorded"] == 1
    other = make_user(db, "other")
    client = app.test_client()
    login(client, "other")
    # The same id from someone else is their own action (ids are kept per learner).
    assert _sync(client, [action]).get_json()["recorded"] == 1
    assert _progress(db, other) is not None
    mine = db.scalar(
        select(func.count()).select_from(OfflineAction).where(OfflineAction.user_id == trainee.id)
    )
    assert mine == 1


def test_sign_out_tells_the_browser_to_clear_the_device(as_trainee: FlaskClient) -> None:
    token = csrf_token(as_trainee, "/offline")
    answer = as_trainee.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 302
    assert answer.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_the_app_files_and_the_service_worker_scope(client: FlaskClient, course: None) -> None:
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.mimetype == "application/manifest+json"
    icons = manifest.get_json()["icons"]
    assert {i["sizes"] for i in icons} == {"192x192", "512x512"}
    for icon in icons:
        with client.get(icon["src"]) as image:  # a file answer: close it
            assert image.status_code == 200 and image.mimetype == "image/png"
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert "worker-src 'self'" in worker.headers["Content-Security-Policy"]
    assert "/offline/online-only" in worker.get_data(as_text=True)


def test_offline_pages_explain_what_stays_online(as_trainee: FlaskClient) -> None:
    page = as_trainee.get("/offline/online-only").get_data(as_text=True)
    assert "data-online-only" in page
    assert as_trainee.get("/offline").status_code == 200


def test_measuring_the_package_keeps_a_message_for_the_next_page(as_trainee: FlaskClient) -> None:
    as_trainee.get("/modules/alpha/first")
    token = csrf_token(as_trainee, "/modules/alpha/first")
    as_trainee.post("/modules/alpha/first/done", data={"csrf_token": token})  # too early
    assert as_trainee.get("/offline/package.json").status_code == 200
    page = as_trainee.get("/modules/alpha/first").get_data(as_text=True)
    assert "flash-warning" in page
