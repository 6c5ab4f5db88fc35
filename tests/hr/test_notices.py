"""`courseware reminders run`: what is due, once per learner and reason, in the app and by email."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import select

from courseware import cli
from courseware.certification.policy import Policy, ReminderRules
from courseware.core import clock
from courseware.core.models import AuditEvent, LearnerContact, Notice, Reminder
from courseware.hr.notices import due_for
from tests.conftest import free_port, login
from tests.hr.test_reports import AT, DAY, NOW, add_certificate, add_cohort, add_learner, join
from tests.test_cli import _env


def run(app, smtp_url: str | None = None):
    env = _env(app)
    if smtp_url:
        env["COURSEWARE_SMTP_URL"] = smtp_url
    result = CliRunner().invoke(cli.main, ["reminders", "run"], env=env)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def seed(db) -> dict[str, int]:
    ids = {name: add_learner(db, name) for name in ("soon", "late", "renew", "fine", "idle")}
    join(db, ids["soon"], add_cohort(db, "spring", AT.today + 7 * DAY))
    join(db, ids["late"], add_cohort(db, "winter", AT.today - 3 * DAY))
    add_certificate(db, ids["renew"], NOW + 30 * DAY)
    add_certificate(db, ids["fine"], NOW + 200 * DAY)
    for name in ("late", "renew", "fine"):
        db.add(LearnerContact(user_id=ids[name], email=f"{name}@bank.example", updated_at=NOW))
    db.commit()
    return ids


def notices(db) -> list[tuple[int, str, str, str]]:
    db.rollback()  # see what the command committed
    rows = db.scalars(select(Notice).order_by(Notice.id))
    return [(n.user_id, n.kind, n.key.split(":")[1], n.email_status) for n in rows]


def test_reminders_run_twice_tells_each_learner_once_in_app_and_by_email(app, db, smtp_server):
    url, inbox = smtp_server
    ids = seed(db)
    clock.set_time(NOW)
    first = run(app, url)
    assert first.startswith("reminders: 3 new notices (due_soon 1, overdue 1, expiring 1")
    assert "emailed 2, failed 0, no address 1" in first
    expected = [
        (ids["soon"], "due_soon", "due_soon_7", "no_address"),
        (ids["late"], "overdue", "overdue", "sent"),
        (ids["renew"], "expiring", "expiring_30", "sent"),
    ]
    assert sorted(notices(db)) == sorted(expected)
    received = {
        m.rcpt_tos[0]: message_from_bytes(m.content, policy=policy.default) for m in inbox.messages
    }
    assert set(received) == {"late@bank.example", "renew@bank.example"}
    assert received["late@bank.example"]["Subject"] == "您的訓練已逾期"
    assert "late 姓名" in received["late@bank.example"].get_content()

    # The same day again (a second cron run, a retry): nothing new, no email.
    clock.set_time(NOW + DAY / 4)
    second = run(app, url)
    assert second.startswith("reminders: 0 new notices") and "3 already sent" in second
    assert len(inbox.messages) == 2 and len(notices(db)) == 3
    sent = db.execute(select(Reminder.user_id, Reminder.kind, Reminder.sent_by, Reminder.status))
    assert sorted(sent) == [
        (ids["late"], "overdue", None, "sent"),
        (ids["renew"], "renewal", None, "sent"),
    ]

    # Six days on, the cohort is due tomorrow: the one-day reminder, once.
    clock.set_time(NOW + 6 * DAY)
    assert run(app, url).startswith("reminders: 1 new notices (due_soon 1")
    assert run(app, url).startswith("reminders: 0 new notices")
    assert notices(db)[-1] == (ids["soon"], "due_soon", "due_soon_1", "no_address")
    actions = db.scalars(select(AuditEvent.action)).all()
    assert actions.count("reminder.run") == 2


def test_without_mail_the_notices_still_reach_the_app(app, db):
    ids = seed(db)
    clock.set_time(NOW)
    try:
        line = run(app)
    finally:
        clock.set_time(None)
    assert line.endswith("email not configured.")
    assert {n[0] for n in notices(db)} == {ids["soon"], ids["late"], ids["renew"]}
    assert {n[3] for n in notices(db)} == {"none"}
    assert db.scalar(select(Reminder.id)) is None


@pytest.mark.parametrize(
    ("status", "due", "expires", "expected"),
    [
        ("not_started", date(2026, 3, 9), None, None),  # 8 days: not yet
        ("in_progress", date(2026, 3, 8), None, "due_soon_7"),
        ("in_progress", date(2026, 3, 4), None, "due_soon_7"),  # run missed day 7
        ("in_progress", date(2026, 3, 2), None, "due_soon_1"),
        ("in_progress", date(2026, 3, 1), None, "due_soon_1"),  # due today
        ("overdue", date(2026, 2, 1), None, "overdue"),
        ("certified", None, date(2026, 6, 1), None),
        ("expiring", None, date(2026, 4, 30), "expiring_60"),
        ("expiring", None, date(2026, 3, 5), "expiring_7"),
        ("expired", None, date(2026, 2, 5), "expired"),
        ("revoked", date(2026, 2, 1), date(2026, 4, 5), None),
    ],
)
def test_what_is_due_on_a_day(status, due, expires, expected):
    found = due_for(status, 1, due, expires, date(2026, 3, 1), Policy())
    assert (found.reason if found else None) == expected


def test_reminder_days_are_validated():
    with pytest.raises(ValidationError):
        ReminderRules(due_soon_days=[7, 7])
    with pytest.raises(ValidationError):
        ReminderRules(expiring_days=[-1])
    assert ReminderRules(expiring_days=[7, 60, 30]).expiring_days == [60, 30, 7]


def test_a_certificate_nearing_expiry_opens_the_renewal_path_and_keeps_the_history(
    app, client, db, users, course
):
    trainee = users["trainee"].id
    add_certificate(db, trainee, NOW - 35 * DAY, cycle=1)  # the one renewal replaced
    add_certificate(db, trainee, NOW + 30 * DAY, cycle=2)
    db.commit()
    clock.set_time(NOW)
    try:
        assert run(app).startswith("reminders: 1 new notices (due_soon 0, overdue 0, expiring 1")
        login(client, "trainee")
        en = {"Accept-Language": "en"}
        home = client.get("/", headers=en).get_data(as_text=True)
        assert "Time to renew your certificate." in home and "Unread notices: 1" in home
        page = client.get("/notices", headers=en).get_data(as_text=True)
        assert "Your renewal path is open" in page and 'href="/certificate"' in page
        certificate = client.get("/certificate", headers=en).get_data(as_text=True)
        assert "Start the renewal assessment" in certificate and "/quiz/renewal" in certificate
        transcript = client.get("/transcript", headers=en).get_data(as_text=True)
        assert f"MLA-{trainee:04d}-0001-0000-0000" in transcript
        assert f"MLA-{trainee:04d}-0002-0000-0000" in transcript
    finally:
        clock.set_time(None)


def test_expiring_reminders_fall_inside_the_renewal_window():
    with pytest.raises(ValidationError, match="renewal_window_days"):
        Policy.model_validate(
            {"certification": {"renewal_window_days": 30}, "reminders": {"expiring_days": [60]}}
        )
    # The defaults (60, 30, 7) with a shorter window: the days beyond it are skipped.
    short = Policy.model_validate({"certification": {"renewal_window_days": 30}})
    found = due_for("expiring", 1, None, date(2026, 4, 20), date(2026, 3, 1), short)
    assert found is None  # 50 days: the window is not open yet
    found = due_for("expiring", 1, None, date(2026, 3, 20), date(2026, 3, 1), short)
    assert found is not None and found.reason == "expiring_30"


def test_emails_lost_to_a_mail_outage_are_sent_by_the_next_run(app, db, smtp_server):
    url, inbox = smtp_server
    ids = seed(db)
    down = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    clock.set_time(NOW)
    env = _env(app) | {"COURSEWARE_SMTP_URL": down}
    result = CliRunner().invoke(cli.main, ["reminders", "run"], env=env)
    assert result.exit_code == 0 and "mail server error" in result.output
    assert "emailed 0, failed 2, no address 1" in result.output
    assert {n[3] for n in notices(db) if n[0] != ids["soon"]} == {"failed"}
    clock.set_time(NOW + DAY)
    line = run(app, url)
    assert line.startswith("reminders: 0 new notices") and "emailed 2" in line
    assert "retried 2" in line
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == [
        "late@bank.example",
        "renew@bank.example",
    ]
    assert "emailed 0" in run(app, url) and len(inbox.messages) == 2  # sent once
