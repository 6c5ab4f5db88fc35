"""Sign-in throttling a branch office survives: failures counted per account name, a much
higher limit per address, Retry-After on every 429, and an administrator's audited unlock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.core import clock
from courseware.core.models import AuditEvent, User
from tests.conftest import csrf_token, login, make_user, post

OFFICE = {"REMOTE_ADDR": "203.0.113.7"}  # one branch's office router
WRONG = "not my password at all"


def _client(app: Flask):
    client = app.test_client()
    client.environ_base.update(OFFICE)
    return client


def _fail(app: Flask, name: str, times: int) -> list[int]:
    return [login(_client(app), name, password=WRONG).status_code for _ in range(times)]


def _seconds(response) -> int:
    value = response.headers.get("Retry-After")
    assert value is not None and value.isdigit(), f"no Retry-After on a {response.status_code}"
    return int(value)


def test_a_branch_of_30_signs_in_while_one_of_them_fails_ten_times(app: Flask, db: Session):
    clock.set_time(datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    names = [f"branch-{n:02}" for n in range(30)]
    for name in names:
        make_user(db, name)
    careless, others = names[0], names[1:]
    for name in others:  # a morning's typos: everyone mistypes once
        assert _fail(app, name, 1) == [200]
    assert _fail(app, careless, 10) == [200] * 10
    for name in others:
        assert login(_client(app), name).status_code == 302, f"{name} was locked out"
    locked = login(_client(app), careless)  # even with the right password
    assert locked.status_code == 429
    assert 14 * 60 < _seconds(locked) <= 15 * 60
    page = locked.get_data(as_text=True)
    assert "15" in page and "分鐘" in page and "管理員" in page
    # The lock ends by itself after lock_minutes.
    clock.advance(timedelta(minutes=15, seconds=1))
    assert login(_client(app), careless).status_code == 302


def test_failures_spread_over_longer_than_the_window_do_not_lock(app: Flask, db: Session):
    clock.set_time(datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    make_user(db, "slow-typist")
    for _ in range(3):
        assert _fail(app, "slow-typist", 9) == [200] * 9
        clock.advance(timedelta(minutes=16))
    assert login(_client(app), "slow-typist").status_code == 302


def test_a_successful_sign_in_clears_the_count(app: Flask, db: Session):
    make_user(db, "forgetful")
    assert _fail(app, "forgetful", 9) == [200] * 9
    assert login(_client(app), "forgetful").status_code == 302
    assert _fail(app, "forgetful", 9) == [200] * 9
    assert login(_client(app), "forgetful").status_code == 302


def _normalised(response) -> str:
    page = response.get_data(as_text=True)
    page = re.sub(r'(request-id">).*?<', r"\1<", page)
    page = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", page)
    return re.sub(r'name="username"[^>]*value="[^"]*"', "", page)


def test_an_unknown_name_is_counted_and_locked_exactly_like_a_known_one(app: Flask, db: Session):
    clock.set_time(datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    make_user(db, "known-person")
    answers = {}
    for name in ("known-person", "nobody-by-this-name"):
        statuses = _fail(app, name, 11)
        response = login(_client(app), name)
        answers[name] = (statuses, response.status_code, _seconds(response), _normalised(response))
    assert answers["known-person"] == answers["nobody-by-this-name"]
    assert answers["known-person"][0] == [200] * 10 + [429]


def test_every_address_limit_answer_carries_retry_after(app: Flask, db: Session):
    app.config["LOGIN_LIMIT"] = "3 per minute"
    statuses = [login(_client(app), f"someone-{n}", password=WRONG) for n in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert 1 <= _seconds(statuses[-1]) <= 60
    assert "Retry-After" not in statuses[0].headers


def test_the_address_limit_comes_from_settings_yaml(app: Flask, tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text("sign_in:\n  address_failures: 12\n  address_window_minutes: 2\n")
    app.config["SETTINGS_FILE"] = str(settings)
    app.config["LOGIN_LIMIT"] = None
    from courseware.web.common.policy import init_policy

    init_policy(app)
    statuses = [login(_client(app), f"visitor-{n}", password=WRONG) for n in range(13)]
    assert [r.status_code for r in statuses] == [200] * 12 + [429]
    assert 100 <= _seconds(statuses[-1]) <= 120  # the 2-minute window, not a guess


def _admin_client(app: Flask, db: Session):
    make_user(db, "the-admin", role="admin")
    client = app.test_client()
    assert login(client, "the-admin").status_code == 302
    return client


def test_an_administrator_unlocks_a_locked_account_and_the_unlock_is_audited(
    app: Flask, db: Session
):
    clock.set_time(datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    trainee = make_user(db, "locked-out")
    admin = _admin_client(app, db)
    assert _fail(app, "Locked-Out ", 10) == [200] * 10  # any case and spacing is the same name
    assert login(_client(app), "locked-out").status_code == 429
    page = admin.get(f"/admin/users/{trainee.id}").get_data(as_text=True)
    assert f'action="/admin/users/{trainee.id}/unlock"' in page
    response = post(admin, f"/admin/users/{trainee.id}/unlock", token_from="/admin/")
    assert response.status_code == 302
    assert login(_client(app), "locked-out").status_code == 302
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "account.unlock")).one()
    assert event.target_id == str(trainee.id)
    assert event.before is not None and event.before["failures"] == 10
    actor = db.get(User, event.actor_id)
    assert actor is not None and actor.username == "the-admin"
    trail = admin.get("/hr/audit").get_data(as_text=True)
    assert "解除" in trail


def test_the_unlock_form_shows_only_for_a_locked_account(app: Flask, db: Session):
    trainee = make_user(db, "fine-person")
    admin = _admin_client(app, db)
    page = admin.get(f"/admin/users/{trainee.id}").get_data(as_text=True)
    assert "/unlock" not in page
    response = post(admin, f"/admin/users/{trainee.id}/unlock", token_from="/admin/")
    assert response.status_code == 302
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "account.unlock")).all() == []


def test_unlock_needs_an_administrator_and_a_csrf_token(app: Flask, db: Session):
    trainee = make_user(db, "someone-locked")
    _fail(app, "someone-locked", 10)
    hr = app.test_client()
    make_user(db, "hr-person", role="hr")
    login(hr, "hr-person")
    assert post(hr, f"/admin/users/{trainee.id}/unlock").status_code == 403
    admin = _admin_client(app, db)
    csrf_token(admin, "/admin/")
    assert admin.post(f"/admin/users/{trainee.id}/unlock").status_code == 400
    assert login(_client(app), "someone-locked").status_code == 429
