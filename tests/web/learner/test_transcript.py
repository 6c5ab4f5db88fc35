"""Transcripts: every lesson, quiz attempt, case decision, certificate, cohort and reminder,
with dates; the trainee's own only; HR's for any learner; exports that match the page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from courseware.core import clock
from courseware.core.models import AuditEvent, LearnerContact, Notice
from tests.certification.test_certification import decide, pass_quiz
from tests.conftest import login, make_user, post
from tests.hr.test_reports import AT, DAY, NOW, add_certificate, add_cohort, join
from tests.web.hr.test_hr import EN, _as_shown, csv_rows, table_rows, xlsx_rows


@pytest.fixture
def record(db, users, course):
    """The trainee with a lesson done, a quiz passed, a case decided, a certificate, a cohort."""
    clock.set_time(NOW - 10 * DAY)
    trainee = users["trainee"]
    from courseware.content.catalogue import build_catalogue
    from courseware.content.store import published_sources
    from courseware.learning import progress

    catalogue = build_catalogue(*published_sources(db))
    module = catalogue.modules[0]
    progress.mark_done(db, trainee.id, module.lessons[0], clock.utcnow())
    db.commit()
    pass_quiz(db, trainee, module.slug, 90)
    decide(db, trainee, "case-one", 82.5)
    add_certificate(db, trainee.id, NOW + 300 * DAY)
    join(db, trainee.id, add_cohort(db, "2026 春季班", AT.today + 30 * DAY))
    db.commit()
    clock.set_time(NOW)
    yield trainee
    clock.set_time(None)


def sections(html: str) -> str:
    return html.split("<h1>", 1)[1]


def test_trainee_sees_their_own_transcript(client, record):
    login(client, "trainee")
    html = client.get("/transcript", headers=EN).get_data(as_text=True)
    for text in (
        "My transcript",
        "Lesson",
        "Quiz attempt",
        "Case decision",
        "Certificate",
        "Cohort",
        "2026 春季班",
        "90%, passed",
        "82.5",
        "Counts",
        "Certified",
        "2/19/26, 10:00",  # in the reader's locale
    ):
        assert text in html, text


def test_trainee_cannot_open_hr_transcripts(client, db, record, users):
    other = make_user(db, "other")
    login(client, "other")
    assert client.get(f"/hr/learners/{record.id}").status_code == 403
    assert client.get(f"/hr/learners/{record.id}/export.csv").status_code == 403
    html = client.get("/transcript", headers=EN).get_data(as_text=True)
    assert "other 姓名" not in html or "trainee 姓名" not in html
    assert "2026 春季班" not in html and other.username in html


def test_hr_transcript_links_to_the_staff_page_and_exports_match(client, record):
    login(client, "hr")
    html = client.get(f"/hr/learners/{record.id}", headers=EN).get_data(as_text=True)
    assert f"/people/{record.id}/certification" in html
    shown = [row for row in table_rows(html, "data")]
    exported = csv_rows(client.get(f"/hr/learners/{record.id}/export.csv", headers=EN).data)
    assert exported[0] == ["Record", "Item", "Started", "Finished", "Result", "Note"]
    assert exported[1][0] == "Learner" and exported[1][4] == "Certified"
    body = [row[1:] for row in exported[2:]]
    page_rows = []
    for chunk in html.split('class="transcript-section"')[1:]:
        page_rows += table_rows('<table class="data">' + chunk.split("<table", 1)[1], "data")
    with client.application.test_request_context(headers=EN):
        assert [[_as_shown(cell) for cell in row] for row in body] == page_rows and shown
    workbook = xlsx_rows(client.get(f"/hr/learners/{record.id}/export.xlsx", headers=EN).data)
    assert workbook == exported


def test_unknown_learner_is_404(client, users):
    login(client, "hr")
    assert client.get("/hr/learners/99999").status_code == 404


def test_hr_sets_the_reminder_address(client, db, record, users):
    login(client, "hr")
    page = f"/hr/learners/{record.id}"
    response = post(client, f"{page}/contact", {"email": "trainee@bank.example"}, token_from=page)
    assert response.status_code == 302
    assert db.get(LearnerContact, record.id).email == "trainee@bank.example"
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.action == "contact.update"))
    bad = post(
        client,
        f"{page}/contact",
        {"email": "nope"},
        token_from=page,
        headers=EN,
        follow_redirects=True,
    )
    assert "does not look like an email address" in bad.get_data(as_text=True)
    html = client.get(page, headers=EN).get_data(as_text=True)
    assert "reminders reach learners in the app only" in html


def test_hr_reminds_one_learner_in_the_app_without_email(client, db, users, course):
    """Without SMTP the button still reminds: the learner finds the notice at /notices."""
    late = users["trainee"]
    join(db, late.id, add_cohort(db, "winter", AT.today - 3 * DAY))
    db.commit()
    clock.set_time(NOW)
    login(client, "hr")
    page = f"/hr/learners/{late.id}"
    assert "Send a reminder now" in client.get(page, headers=EN).get_data(as_text=True)
    sent = post(client, f"{page}/remind", token_from=page, headers=EN, follow_redirects=True)
    assert "reminded in the app (email is not configured)" in sent.get_data(as_text=True)
    assert db.scalars(select(Notice.kind).where(Notice.user_id == late.id)).all() == ["overdue"]
    again = post(client, f"{page}/remind", token_from=page, headers=EN, follow_redirects=True)
    assert "This learner was reminded in the last day." in again.get_data(as_text=True)
    assert len(db.scalars(select(Notice).where(Notice.user_id == late.id)).all()) == 1


def test_hr_reminds_one_learner_in_the_app_and_by_email_once_a_day(
    app, client, db, users, course, smtp_server
):
    url, inbox = smtp_server
    app.config["SMTP_URL"] = url
    late = users["trainee"]
    join(db, late.id, add_cohort(db, "winter", AT.today - 3 * DAY))
    db.add(LearnerContact(user_id=late.id, email="trainee@bank.example", updated_at=NOW))
    db.commit()
    clock.set_time(NOW)
    login(client, "hr")
    page = f"/hr/learners/{late.id}"
    first = post(client, f"{page}/remind", token_from=page, headers=EN, follow_redirects=True)
    assert "Reminder sent." in first.get_data(as_text=True)
    assert [m.rcpt_tos for m in inbox.messages] == [["trainee@bank.example"]]
    assert db.scalars(select(Notice.kind).where(Notice.user_id == late.id)).all() == ["overdue"]
    again = post(client, f"{page}/remind", token_from=page, headers=EN, follow_redirects=True)
    assert "This learner was reminded in the last day." in again.get_data(as_text=True)
    assert len(inbox.messages) == 1
