"""The learner's notices page (own notices only, mark as read) and the calendar feed."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from courseware.accounts import privacy
from courseware.core import clock
from courseware.core.models import CalendarFeed, Notice, User
from courseware.hr.calendar import Event, escape, fold, write_calendar
from tests.conftest import login, make_user, post
from tests.hr.test_reports import AT, DAY, NOW, add_certificate, add_cohort, join

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_time(NOW)
    yield
    clock.set_time(None)


def add_notice(db, user_id: int, kind: str, day: date) -> int:
    notice = Notice(user_id=user_id, kind=kind, day=day, key=f"{user_id}:{kind}:{day}")
    notice.email_status = "none"
    db.add(notice)
    db.commit()
    return notice.id


def test_a_learner_sees_only_their_notices_and_marks_them_read(client, db, users, course):
    mine = add_notice(db, users["trainee"].id, "overdue", date(2026, 2, 20))
    other = make_user(db, "other")
    theirs = add_notice(db, other.id, "expiring", date(2026, 4, 1))
    login(client, "trainee")
    home = client.get("/", headers=EN).get_data(as_text=True)
    assert "Unread notices: 1" in home and 'href="/notices#calendar"' in home
    page = client.get("/notices", headers=EN).get_data(as_text=True)
    assert "Your training is overdue" in page and "Feb 20, 2026" in page
    assert "Time to renew your certificate" not in page  # the other learner's
    # Another's notice: refused, left unread.
    assert post(client, f"/notices/{theirs}/read", token_from="/notices").status_code == 404
    response = post(client, f"/notices/{mine}/read", token_from="/notices")
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Notice, mine).read_at is not None
    assert db.get(Notice, theirs).read_at is None
    assert "Unread notices: 1" not in client.get("/", headers=EN).get_data(as_text=True)
    # Without a CSRF token, nothing changes.
    add_notice(db, users["trainee"].id, "due_soon", date(2026, 3, 8))
    assert client.post("/notices/read").status_code == 400
    assert post(client, "/notices/read", token_from="/notices").status_code == 303
    db.expire_all()
    assert db.scalar(select(Notice.id).where(Notice.read_at.is_(None))) == theirs


def _feed_path(client) -> str:
    page = client.get("/notices").get_data(as_text=True)
    return re.search(r'href="http://localhost(/calendar/[^"]+\.ics)"', page).group(1)


def unfold(body: str) -> list[str]:
    assert "\n" not in body.replace("\r\n", "")  # CRLF only
    return body.replace("\r\n ", "").split("\r\n")[:-1]


def test_calendar_feed_has_due_date_and_expiry_without_a_session(app, client, db, users, course):
    trainee = users["trainee"]
    join(db, trainee.id, add_cohort(db, "春季班, 台北; A\\B", AT.today + 10 * DAY))
    add_certificate(db, trainee.id, NOW + 100 * DAY)
    db.commit()
    login(client, "trainee")
    path = _feed_path(client)
    anonymous = app.test_client()
    response = anonymous.get(path, headers=EN)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.get_data(as_text=True)
    lines = unfold(body)
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "SUMMARY:Training due: 春季班\\, 台北\\; A\\\\B" in lines
    assert "DTSTART;VALUE=DATE:20260311" in lines
    assert "DTSTART;VALUE=DATE:20260609" in lines  # expiry, 100 days on (Taipei day)
    assert sum(line.startswith("UID:") for line in lines) == 3
    assert sum(line.startswith("DTSTAMP:20260301T020000Z") for line in lines) == 3
    # Another learner's feed is theirs alone; a made-up token is 404.
    other = make_user(db, "other")
    other_client = app.test_client()
    login(other_client, "other")
    other_path = _feed_path(other_client)
    assert other_path != path
    assert "BEGIN:VEVENT" not in anonymous.get(other_path).get_data(as_text=True)  # empty
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 404
    # A new link: the old one stops working.
    assert post(client, "/calendar/new-link", token_from="/notices").status_code == 303
    assert anonymous.get(path).status_code == 404
    assert anonymous.get(_feed_path(client)).status_code == 200
    assert db.scalar(select(CalendarFeed.user_id).where(CalendarFeed.user_id == other.id))


def test_ics_folding_and_escaping():
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "微貸" * 40  # 3 octets a character
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in pieces) and len(pieces) > 1
    assert all(p.startswith(" ") for p in pieces[1:])
    assert folded.replace("\r\n ", "") == line
    empty = write_calendar([], NOW, "x")
    assert "BEGIN:VEVENT" not in empty and empty.endswith("END:VCALENDAR\r\n")
    one = write_calendar([Event("u@h", date(2026, 1, 2), "s")], NOW, "x")
    assert "DTEND;VALUE=DATE:20260103\r\n" in one


def test_notices_are_in_my_data_and_anonymising_ends_the_calendar_link(app, client, db, users):
    trainee = users["trainee"]
    add_notice(db, trainee.id, "overdue", date(2026, 2, 20))
    login(client, "trainee")
    path = _feed_path(client)
    data = client.get("/account/my-data.json").get_json()
    assert [n["kind"] for n in data["notices"]] == ["overdue"]
    db.rollback()
    privacy.anonymise(db, db.get(User, trainee.id), users["admin"].id, "Left in May")
    db.commit()
    assert app.test_client().get(path).status_code == 404


def _nav(html: str) -> str:
    return html.split('id="main-nav"', 1)[1].split("</nav>", 1)[0]


def test_the_header_shows_the_unread_count_on_every_trainee_page(client, db, users, course):
    login(client, "trainee")
    assert '<a href="/notices" class="nav-notices" >通知</a>' in _nav(client.get("/cases").text)
    for kind in ("overdue", "expiring"):
        add_notice(db, users["trainee"].id, kind, date(2026, 2, 20))
    for path in ("/cases", "/certificate", "/modules/alpha", "/notices"):
        nav = _nav(client.get(path).get_data(as_text=True))
        assert '<span class="visually-hidden">通知（2 則未讀）</span>' in nav, path
        assert '<span class="badge badge-warn">2</span>' in nav, path
    english = _nav(client.get("/transcript", headers=EN).get_data(as_text=True))
    assert "Notices (2 unread)" in english
    post(client, "/notices/read", token_from="/notices")
    assert "unread" not in _nav(client.get("/cases", headers=EN).get_data(as_text=True))
    staff = client.application.test_client()
    login(staff, "hr")
    assert "/notices" not in _nav(staff.get("/course").get_data(as_text=True))
